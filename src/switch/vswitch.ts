/**
 * The vSwitch: L2 forwarding among a topology's ports (config/ports.ts), per network and VLAN.
 *
 * Segments. A frame entering from an endpoint or host-vNIC port belongs to that port's segment:
 * (its network, its access VLAN). Access ports are untagged: a tagged frame from one is dropped
 * (`vlan-mismatch`). A frame entering from an uplink belongs to the segment of every network bound
 * to that uplink (Transparent, L2Bridge, L2Tunnel, Overlay: `Network.uplink`) whose ports carry the
 * frame's VLAN (the outermost tag's VID, or none). A segment spans its network's endpoints and
 * host vNIC with that VLAN, plus the network's uplink (a trunk: every VLAN). Internal switches
 * (NAT, ICS, Private, Internal) have no uplink: their traffic leaves only through the host vNIC.
 * Frames never cross networks or VLANs here; routing between networks is the host's (NAT issue).
 *
 * Forwarding (`forward`). Unicast: the port that owns the destination MAC, if it is in the
 * segment; else the segment's uplink (unknown unicast goes to the wire, as on an external switch),
 * else `unknown-mac`. A destination in the segment but on another VLAN from an uplink:
 * `vlan-mismatch`. Broadcast and multicast (I/G bit): flood to every port of the segment but the
 * one it came from (`floodPorts`). A frame addressed to its own ingress port is not reflected.
 *
 * The MAC table is static (it is the topology's: HNS knows every MAC, nothing is learned); MACs are
 * unique across ports (config validation). It is an open-addressing table over typed arrays keyed
 * by (hi16, lo32). Tables are built once per policy generation; `forward` allocates nothing.
 */
import type { Topology } from '../config/model.js';
import type { PortInfo } from '../config/ports.js';
import { DropReasonId } from '../base/reasons.js';

export const PORT_KIND_ENDPOINT = 0;
export const PORT_KIND_UPLINK = 1;
export const PORT_KIND_VNIC = 2;

/** `forward` result: flood to `floodPorts(...)`. */
export const FORWARD_FLOOD = -1;
/** `forward` result: dropped, reason in `lastReason`. */
export const FORWARD_DROP = -2;

const REASON_UNKNOWN_MAC = DropReasonId['unknown-mac'];
const REASON_VLAN_MISMATCH = DropReasonId['vlan-mismatch'];

export class VSwitch {
  readonly ports: readonly PortInfo[];
  /** PORT_KIND_* per port. */
  readonly kinds: Uint8Array;
  /** Network index per port (-1 for uplinks). */
  readonly networks: Int32Array;
  /** Access VLAN per port (0 = untagged). */
  readonly vlans: Uint16Array;
  /** For endpoint and vNIC ports: the port id of their network's uplink, or -1 (internal switch). */
  readonly uplinkOf: Int32Array;
  /** Port MACs, as (hi16, lo32). */
  readonly macHi: Uint32Array;
  readonly macLo: Uint32Array;
  /** Per network: the uplink port id it binds, or -1. */
  readonly networkUplink: Int32Array;
  /** Why the last `forward` returned FORWARD_DROP (a DropReasonId). */
  lastReason = 0;

  // MAC table: open addressing, slots hold port id + 1 (0 = empty).
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly floodCache = new Map<number, Int32Array>();

  constructor(t: Topology, ports: readonly PortInfo[]) {
    this.ports = ports;
    const n = ports.length;
    this.kinds = new Uint8Array(n);
    this.networks = new Int32Array(n).fill(-1);
    this.vlans = new Uint16Array(n);
    this.uplinkOf = new Int32Array(n).fill(-1);
    this.macHi = new Uint32Array(n);
    this.macLo = new Uint32Array(n);
    this.networkUplink = new Int32Array(t.networks.length).fill(-1);
    const uplinkPort = new Int32Array(t.host.uplinks.length).fill(-1);
    for (const p of ports) if (p.kind === 'uplink') uplinkPort[p.uplink] = p.id;
    for (const net of t.networks) if (net.uplink !== null) this.networkUplink[net.index] = uplinkPort[net.uplink] ?? -1;
    let size = 16;
    while (size < n * 4) size <<= 1;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (const p of ports) {
      this.kinds[p.id] = p.kind === 'endpoint' ? PORT_KIND_ENDPOINT : p.kind === 'uplink' ? PORT_KIND_UPLINK : PORT_KIND_VNIC;
      this.networks[p.id] = p.network ?? -1;
      this.vlans[p.id] = p.vlan ?? 0;
      this.uplinkOf[p.id] = p.network === null ? -1 : this.networkUplink[p.network]!;
      this.macHi[p.id] = p.mac.hi;
      this.macLo[p.id] = p.mac.lo;
      let s = macSlot(p.mac.hi, p.mac.lo) & this.mask;
      while (this.slots[s] !== 0) s = (s + 1) & this.mask;
      this.slots[s] = p.id + 1;
    }
  }

  /** The port owning a MAC, or -1. */
  portOfMac(hi: number, lo: number): number {
    let s = macSlot(hi, lo) & this.mask;
    for (;;) {
      const e = this.slots[s]!;
      if (e === 0) return -1;
      const p = e - 1;
      if (this.macHi[p] === hi && this.macLo[p] === lo) return p;
      s = (s + 1) & this.mask;
    }
  }

  /**
   * Where a frame entering on `ingress` goes: a port id, FORWARD_FLOOD, or FORWARD_DROP (reason
   * in lastReason). `vid` is the outermost VLAN id of the frame as it arrived (0 = untagged).
   */
  forward(ingress: number, dstHi: number, dstLo: number, vid: number): number {
    const kind = this.kinds[ingress]!;
    if (kind !== PORT_KIND_UPLINK && vid !== 0) {
      this.lastReason = REASON_VLAN_MISMATCH;
      return FORWARD_DROP;
    }
    if ((dstHi & 0x0100) !== 0) return FORWARD_FLOOD; // I/G bit: broadcast or multicast
    const q = this.portOfMac(dstHi, dstLo);
    if (kind === PORT_KIND_UPLINK) {
      if (q < 0 || q === ingress || this.kinds[q] === PORT_KIND_UPLINK) {
        this.lastReason = REASON_UNKNOWN_MAC;
        return FORWARD_DROP;
      }
      const net = this.networks[q]!;
      if (this.networkUplink[net] !== ingress) {
        this.lastReason = REASON_UNKNOWN_MAC;
        return FORWARD_DROP;
      }
      if (this.vlans[q] !== vid) {
        this.lastReason = REASON_VLAN_MISMATCH;
        return FORWARD_DROP;
      }
      return q;
    }
    const up = this.uplinkOf[ingress]!;
    if (q >= 0 && q !== ingress) {
      if (q === up) return q; // the uplink's own MAC: the host's management address on the wire side
      if (this.networks[q] === this.networks[ingress] && this.kinds[q] !== PORT_KIND_UPLINK && this.vlans[q] === this.vlans[ingress]) return q;
    }
    if (up >= 0 && q !== ingress) return up;
    this.lastReason = REASON_UNKNOWN_MAC;
    return FORWARD_DROP;
  }

  /** Every port a broadcast from `ingress` (with outermost VID `vid`) reaches, ingress excluded. Cached per (ingress, vid). */
  floodPorts(ingress: number, vid: number): Int32Array {
    const key = ingress * 4096 + vid;
    let list = this.floodCache.get(key);
    if (list) return list;
    const out: number[] = [];
    const kind = this.kinds[ingress]!;
    for (let q = 0; q < this.ports.length; q++) {
      if (q === ingress) continue;
      const qk = this.kinds[q]!;
      if (kind === PORT_KIND_UPLINK) {
        if (qk === PORT_KIND_UPLINK) continue;
        if (this.networkUplink[this.networks[q]!] === ingress && this.vlans[q] === vid) out.push(q);
      } else if (qk === PORT_KIND_UPLINK) {
        if (this.uplinkOf[ingress] === q) out.push(q);
      } else if (this.networks[q] === this.networks[ingress] && this.vlans[q] === this.vlans[ingress]) {
        out.push(q);
      }
    }
    list = Int32Array.from(out);
    this.floodCache.set(key, list);
    return list;
  }
}

function macSlot(hi: number, lo: number): number {
  let h = Math.imul(lo ^ (hi << 7), 0x9e3779b1);
  h ^= h >>> 15;
  return h;
}
