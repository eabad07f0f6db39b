/**
 * The reference model of one shard: switch + VFP layers + flow table + host vNICs, written from
 * the README's description of the emulator (sections "What the emulator does, and the defaults
 * it chooses", `vfp replay`, `vfp trace`) and the VFP model's documented semantics
 * (src/vfp/model.ts), independently of src/pipeline, src/switch, src/flow, src/parse, src/action
 * and src/vfp/{ir,interp,codegen}.ts. It is slow and plain on purpose: frames are decoded by the
 * little decoder below into an object, rules are matched on that object field by field, flows
 * live in a Map keyed by a readable string, checksums are recomputed from the bytes.
 *
 * Input: the compiled Policy, read only as data: its port list (names, kinds, networks, access
 * VLANs, MACs, addresses), which uplink each network binds (from the normalised topology) and
 * every port's VFP layers as the policy model (`policy.policies`, before lowering to the IR), so
 * the IR's lowering is checked too. Output: for each input frame, every frame the engine's sink
 * must receive (forwarded copies with their exact bytes, or the drop with its reason, then the
 * host's answers), and the counters.
 *
 * Semantics, as the README states them (the engine is checked against these, not the reverse):
 *  - Ingress: the capture interface's port; else the port owning the source MAC; else the first
 *    uplink; else the frame is dropped `unknown-port`.
 *  - A frame the parser refuses is dropped `truncated` (cut short) or `malformed`.
 *  - Cache: unicast IPv4/IPv6 frames use the flow table, keyed by the flow (addresses, protocol,
 *    ports / ICMP type, code and echo id, the innermost VLAN id, EtherType, ingress port) plus the
 *    destination MAC; a live entry of the current policy generation for the same destination
 *    MAC decides (a hit); ARP, other EtherTypes, broadcast and multicast are never cached.
 *  - Slow path: the vSwitch picks the egress port(s) (L2 by destination MAC within (network,
 *    VLAN); broadcast/multicast flooded within the segment; unknown unicast to the network's
 *    uplink, else `unknown-mac`; tagged frames from access ports `vlan-mismatch`; ARP requests to
 *    the port owning the target address). IP frames then cross the ingress port's layers
 *    outbound (first to last) and the egress port's layers inbound (last to first); a
 *    destination-MAC rewrite in the outbound layers sends the frame where the new MAC lives.
 *  - A layer: groups of the packet's direction and family in priority order (ties: definition
 *    order); a group whose own conditions fail is skipped; in a group the matching rule of the
 *    lowest priority number wins (ties: definition order); a later group's winner overrides an
 *    earlier one unless that was terminating; no winner: the layer's default (allow, or drop
 *    with its reason). Conditions: AND over the present lists, OR within one, empty = any; ports
 *    only for TCP/UDP; a prefix only for its family.
 *  - Caching the decision: a stateful rule on the path installs a flow pair (idle timeout: the
 *    smallest flow TTL of the stateful rules that decided) whose reverse entry takes replies back
 *    to the ingress port with every transposition undone; otherwise a single entry (the UFT TTL),
 *    drops included. Installing over an existing key replaces that entry and its peer.
 *  - Expiry on the packet clock (the latest timestamp seen so far: a frame stamped earlier than
 *    one before it is judged at the later time): an entry lives while now <= lastSeen + ttl of it
 *    or of its peer;
 *    a TCP RST cuts the pair to at most now + rstTimeout, after which packets no longer extend it.
 *  - Generations: an entry of an older generation is stale: its packet re-runs the slow path; a
 *    stale reverse entry resimulates the connection's forward direction under the new policy (still
 *    allowed and stateful, and the reply is the new pair's reverse: a new pair; else the old pair
 *    goes and the reply is decided on its own).
 *  - VLANs: an access port's frames leave toward the uplink with its tag pushed; frames from the
 *    uplink have their tag popped.
 *  - Host vNICs answer ARP requests and ICMP echo requests for their gateway addresses; the answer
 *    enters the switch from the vNIC port right after the frame it answers.
 *
 * Where the engine is known to differ from the documented behaviour, a flag in `Quirks` makes the
 * model follow the engine instead (each flag names the disagreement; oracle.test.ts keeps a
 * failing test per flag that shows it with the flag off).
 */
import type { Policy } from '../../src/pipeline/policy.js';
import type { Conditions, Layer, Prefix, Rule } from '../../src/vfp/model.js';
import { COUNTER_NAMES, frameTime, hex } from './outcome.js';
import type { InputFrame, RunResult, SinkEvent, StreamSetup } from './outcome.js';

/** Known engine disagreements the model can be told to follow (see oracle.test.ts). */
export interface Quirks {
  /** The engine hands an `unknown-port` drop to the sink as dropped on port 0 (its FrameSink says -1). */
  unknownPortOnPort0?: boolean;
  /** The engine delivers a VLAN-tagged ARP request from an access port to the owner of the target address (the README: a tagged frame from an access port is dropped). */
  taggedArpFromAccessPort?: boolean;
  /**
   * The engine counts meters by their position in the policy current when the frame is sent and
   * reports them under the names of the last policy's list: after a policy update that changes
   * the list, earlier counts appear under another meter's name, or not at all.
   */
  metersByPosition?: boolean;
  /**
   * The engine reads a later fragment (no L4 header) as if it carried an L4 header of zeros: TCP
   * and UDP ports 0 and 0, which port conditions match (README: a later fragment has no ports, so
   * port-specific rules do not match it), and for ICMP an echo reply of id 0, whose reverse key is
   * an echo request, so the other direction's later fragments miss the flow pair.
   */
  laterFragmentZeroHeader?: boolean;
  /**
   * A rule's port rewrite on a packet without ports (ICMP, GRE ...) leaves the frame alone but the
   * engine writes the ports into the packet's flow words (ICMP: type, code and echo id), so the
   * pair's reverse key is not the reply's and the reply misses its flow.
   */
  portRewriteWithoutPorts?: boolean;
}

/** What the model went through, summed over every run (the test checks the random streams reach each case). */
export const coverage = new Map<string, number>();
function note(what: string): void {
  coverage.set(what, (coverage.get(what) ?? 0) + 1);
}

// ---- bytes ----------------------------------------------------------------------------------------

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}
function macText(b: Uint8Array, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(b[o + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}
function macOf(hi: number, lo: number): string {
  const bytes = [hi >>> 8, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
  return bytes.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
function putMac(b: Uint8Array, o: number, mac: string): void {
  mac.split(':').forEach((x, i) => (b[o + i] = parseInt(x, 16)));
}
/** I/G bit: broadcast or multicast. */
function isGroupMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** One's-complement sum of 16-bit big-endian words (an odd last byte padded with zero), folded to 16 bits. */
function onesSum(parts: Uint8Array[]): number {
  let s = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i += 2) s += (p[i]! << 8) | (i + 1 < p.length ? p[i + 1]! : 0);
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

// ---- decoding --------------------------------------------------------------------------------------

const TAG_TPIDS = [0x8100, 0x88a8, 0x9100];
const MAX_TAGS = 8;

type L4 =
  | { t: 'ports'; sport: number; dport: number }
  | { t: 'icmp'; type: number; code: number; id: number | null }
  | { t: 'igmp'; type: number }
  | { t: 'none' }
  /** Only under Quirks.portRewriteWithoutPorts: the engine's flow word of a packet without ports, overwritten. */
  | { t: 'word'; word: number };

/** A frame as the oracle decodes it. Offsets are into the frame's bytes. */
export interface Decoded {
  error: 'truncated' | 'malformed' | null;
  dstMac: string;
  srcMac: string;
  /** VLAN ids, outermost first. */
  tags: number[];
  etherType: number;
  l3: number;
  kind: 'ipv4' | 'ipv6' | 'arp' | 'other';
  // IP
  src: number[];
  dst: number[];
  proto: number;
  ihl: number;
  /** End of the IP packet within the captured bytes; `complete` when the whole packet was captured. */
  l3end: number;
  complete: boolean;
  fragment: boolean;
  laterFragment: boolean;
  /** Offset of the L4 header, -1 when there is none (a later fragment, another protocol). */
  l4: number;
  l4info: L4;
  tcpFlags: number;
  // ARP
  arpOp: number;
  spa: number;
  tpa: number;
}

function emptyDecoded(): Decoded {
  return {
    error: null,
    dstMac: '',
    srcMac: '',
    tags: [],
    etherType: 0,
    l3: -1,
    kind: 'other',
    src: [0, 0, 0, 0],
    dst: [0, 0, 0, 0],
    proto: 0,
    ihl: 0,
    l3end: -1,
    complete: false,
    fragment: false,
    laterFragment: false,
    l4: -1,
    l4info: { t: 'none' },
    tcpFlags: 0,
    arpOp: 0,
    spa: 0,
    tpa: 0,
  };
}

const T = 'truncated' as const;
const M = 'malformed' as const;

/** Decode Ethernet (+ tags), ARP, IPv4, IPv6 (no extension headers), TCP, UDP, ICMP, ICMPv6, IGMP. */
export function decode(b: Uint8Array): Decoded {
  const d = emptyDecoded();
  const len = b.length;
  if (len < 14) {
    d.error = T;
    return d;
  }
  d.dstMac = macText(b, 0);
  d.srcMac = macText(b, 6);
  let type = u16(b, 12);
  let p = 14; // first byte after the EtherType
  while (TAG_TPIDS.includes(type)) {
    if (d.tags.length === MAX_TAGS) {
      d.error = M;
      return d;
    }
    if (len - p < 4) {
      d.error = T;
      return d;
    }
    d.tags.push(u16(b, p) & 0x0fff);
    type = u16(b, p + 2);
    p += 4;
  }
  d.etherType = type;
  d.l3 = p;
  if (type === 0x0800) {
    d.kind = 'ipv4';
    return ipv4(b, d);
  }
  if (type === 0x86dd) {
    d.kind = 'ipv6';
    return ipv6(b, d);
  }
  if (type === 0x0806) {
    d.kind = 'arp';
    const avail = len - p;
    if (avail < 8) {
      d.error = T;
      return d;
    }
    d.arpOp = u16(b, p + 6);
    const hlen = b[p + 4]!;
    const plen = b[p + 5]!;
    if (avail < 8 + 2 * (hlen + plen)) {
      d.error = T;
      return d;
    }
    if (plen === 4 && u16(b, p + 2) === 0x0800) {
      d.spa = u32(b, p + 8 + hlen);
      d.tpa = u32(b, p + 8 + hlen + 4 + hlen);
    }
  }
  return d;
}

function ipv4(b: Uint8Array, d: Decoded): Decoded {
  const o = d.l3;
  const avail = b.length - o;
  if (avail < 20) return fail(d, T);
  if (b[o]! >>> 4 !== 4) return fail(d, M);
  const ihl = (b[o]! & 15) * 4;
  d.ihl = ihl;
  d.src = [u32(b, o + 12), 0, 0, 0];
  d.dst = [u32(b, o + 16), 0, 0, 0];
  d.proto = b[o + 9]!;
  if (ihl < 20) return fail(d, M);
  if (avail < ihl) return fail(d, T);
  const total = u16(b, o + 2);
  if (total === 0) {
    if (avail <= 65535) return fail(d, M);
    d.l3end = b.length; // a super-frame: the captured bytes are the packet
  } else if (total < ihl) {
    return fail(d, M);
  } else {
    d.l3end = Math.min(o + total, b.length);
  }
  d.complete = total !== 0 && o + total <= b.length;
  const ff = u16(b, o + 6);
  d.fragment = (ff & 0x3fff) !== 0;
  d.laterFragment = (ff & 0x1fff) !== 0;
  if (d.laterFragment) return d;
  return l4(b, d, o + ihl);
}

function ipv6(b: Uint8Array, d: Decoded): Decoded {
  const o = d.l3;
  if (b.length - o < 40) return fail(d, T);
  if (b[o]! >>> 4 !== 6) return fail(d, M);
  for (let w = 0; w < 4; w++) {
    d.src[w] = u32(b, o + 8 + 4 * w);
    d.dst[w] = u32(b, o + 24 + 4 * w);
  }
  d.proto = b[o + 6]!;
  if ([0, 43, 44, 60, 51].includes(d.proto)) throw new Error('the oracle does not model IPv6 extension headers');
  const plen = u16(b, o + 4);
  d.l3end = Math.min(o + 40 + plen, b.length);
  d.complete = o + 40 + plen <= b.length && plen !== 0;
  return l4(b, d, o + 40);
}

function l4(b: Uint8Array, d: Decoded, o: number): Decoded {
  const avail = d.l3end - o;
  if (d.proto === 6 || d.proto === 17) {
    d.l4 = o;
    if (avail < 4) return fail(d, T);
    d.l4info = { t: 'ports', sport: u16(b, o), dport: u16(b, o + 2) };
    if (d.proto === 6) {
      if (avail < 20) return fail(d, T);
      const doff = b[o + 12]! >>> 4;
      if (doff < 5) return fail(d, M);
      if (avail < doff * 4) return fail(d, T);
      d.tcpFlags = b[o + 13]!;
    } else {
      if (avail < 8) return fail(d, T);
      const ulen = u16(b, o + 4);
      if (ulen !== 0 && ulen < 8) return fail(d, M);
    }
    return d;
  }
  if (d.proto === 1 || d.proto === 58) {
    d.l4 = o;
    if (avail < 4) return fail(d, T);
    const type = b[o]!;
    const echo = d.proto === 1 ? type === 8 || type === 0 : type === 128 || type === 129;
    if (echo && avail < 8) return fail(d, T);
    d.l4info = { t: 'icmp', type, code: b[o + 1]!, id: echo ? u16(b, o + 4) : null };
    return d;
  }
  if (d.proto === 2) {
    d.l4 = o;
    if (avail < 1) return fail(d, T);
    d.l4info = { t: 'igmp', type: b[o]! };
    if (avail < 8) return fail(d, T);
    return d;
  }
  return d;
}

function fail(d: Decoded, e: 'truncated' | 'malformed'): Decoded {
  d.error = e;
  return d;
}

/** A one-line description of a frame (for mismatch reports). */
export function describe(b: Uint8Array): string {
  let d: Decoded;
  try {
    d = decode(b);
  } catch (e) {
    return `(${(e as Error).message}) ${hex(b)}`;
  }
  const parts = [`${d.srcMac} > ${d.dstMac}`];
  if (d.tags.length) parts.push(`vlan ${d.tags.join('/')}`);
  if (d.kind === 'arp') parts.push(`ARP op ${d.arpOp} ${addrText([d.spa, 0, 0, 0], 4)} -> ${addrText([d.tpa, 0, 0, 0], 4)}`);
  else if (d.kind === 'ipv4' || d.kind === 'ipv6') {
    const f = d.kind === 'ipv4' ? 4 : 6;
    parts.push(`${addrText(d.src, f)} > ${addrText(d.dst, f)} proto ${d.proto}`);
    const l = d.l4info;
    if (l.t === 'ports') parts.push(`${l.sport} > ${l.dport}${d.proto === 6 ? ` flags 0x${d.tcpFlags.toString(16)}` : ''}`);
    else if (l.t === 'icmp') parts.push(`icmp ${l.type}/${l.code}${l.id !== null ? ` id ${l.id}` : ''}`);
    if (d.fragment) parts.push(d.laterFragment ? 'later fragment' : 'first fragment');
  } else parts.push(`ethertype 0x${d.etherType.toString(16)}`);
  if (d.error) parts.push(`(${d.error})`);
  parts.push(`len ${b.length}`);
  return parts.join(' ');
}

function addrText(w: readonly number[], family: number): string {
  if (family === 4) return [w[0]! >>> 24, (w[0]! >>> 16) & 255, (w[0]! >>> 8) & 255, w[0]! & 255].join('.');
  return w.map((x) => ((x >>> 16).toString(16) + ':' + (x & 0xffff).toString(16))).join(':');
}

// ---- the packet the rules see, and the flow key ---------------------------------------------------

/** What classification reads: the flow's fields and the MACs (rewritten by actions as the slow path goes). */
interface Pkt {
  family: 4 | 6;
  proto: number;
  src: number[];
  dst: number[];
  l4: L4;
  /** The flow key's VLAN id: the innermost tag's (0 untagged). */
  vlan: number;
  etherType: number;
  srcMac: string;
  dstMac: string;
}

function pktOf(d: Decoded, quirks: Quirks): Pkt {
  let l4: L4 = { ...d.l4info };
  if (quirks.laterFragmentZeroHeader === true && d.laterFragment) {
    if (d.proto === 6 || d.proto === 17) l4 = { t: 'ports', sport: 0, dport: 0 };
    else if (d.proto === 1) l4 = { t: 'icmp', type: 0, code: 0, id: 0 };
  }
  return {
    family: d.kind === 'ipv6' ? 6 : 4,
    proto: d.proto,
    src: [...d.src],
    dst: [...d.dst],
    l4,
    vlan: d.tags.length ? d.tags[d.tags.length - 1]! : 0,
    etherType: d.etherType,
    srcMac: d.srcMac,
    dstMac: d.dstMac,
  };
}

function clonePkt(p: Pkt): Pkt {
  return { ...p, src: [...p.src], dst: [...p.dst], l4: { ...p.l4 } };
}

function l4Text(l: L4): string {
  switch (l.t) {
    case 'ports':
      return `${l.sport}>${l.dport}`;
    case 'icmp':
      return `icmp${l.type}/${l.code}/${l.id ?? 0}`;
    case 'igmp':
      return `igmp${l.type}`;
    case 'word':
      return `word${l.word}`;
    default:
      return 'word0';
  }
}

function flowKey(port: number, p: Pkt): string {
  return `port${port} ipv${p.family} proto${p.proto} vlan${p.vlan} ${p.src.join('.')} > ${p.dst.join('.')} ${l4Text(p.l4)} type${p.etherType}`;
}

/** The reply's packet: addresses and ports swapped, echo request <-> reply; `vlan` as it arrives back. */
function reversePkt(p: Pkt, vlan: number): Pkt {
  const r = clonePkt(p);
  r.src = [...p.dst];
  r.dst = [...p.src];
  const l = p.l4;
  if (l.t === 'ports') r.l4 = { t: 'ports', sport: l.dport, dport: l.sport };
  else if (l.t === 'icmp') {
    const pairs: Record<number, number> = p.proto === 1 ? { 8: 0, 0: 8 } : p.proto === 58 ? { 128: 129, 129: 128 } : {};
    r.l4 = { ...l, type: pairs[l.type] ?? l.type };
  }
  r.vlan = vlan;
  r.srcMac = p.dstMac;
  r.dstMac = p.srcMac;
  return r;
}

// ---- the policy, as data ---------------------------------------------------------------------------

interface PortDef {
  id: number;
  name: string;
  kind: 'endpoint' | 'uplink' | 'vnic';
  network: number | null;
  vlan: number;
  mac: string;
  v4: number[];
  v6: number[][];
  layers: readonly Layer[];
}

interface RefPolicy {
  generation: number;
  ports: PortDef[];
  /** Meter names in the order rules first name them (ports, layers, groups, rules). */
  meters: string[];
  /** Per network: the uplink port it binds, or null. */
  uplinkOf: (number | null)[];
}

function refPolicy(policy: Policy): RefPolicy {
  const ports: PortDef[] = policy.ports.map((p, i) => ({
    id: i,
    name: p.name,
    kind: p.kind,
    network: p.network,
    vlan: p.vlan ?? 0,
    mac: p.mac.text.toLowerCase().replace(/-/g, ':'),
    v4: p.ips.filter((ip) => ip.address.family === 4).map((ip) => ip.address.words[0]),
    v6: p.ips.filter((ip) => ip.address.family === 6).map((ip) => [...ip.address.words]),
    layers: policy.policies[i]!.layers,
  }));
  const uplinkOf = policy.topology.networks.map((net) => {
    if (net.uplink === null) return null;
    const port = policy.ports.find((p) => p.kind === 'uplink' && p.uplink === net.uplink);
    return port ? port.id : null;
  });
  const meters: string[] = [];
  for (const p of ports) for (const l of p.layers) for (const g of l.groups) for (const r of g.rules) if (r.action.type === 'meter' && !meters.includes(r.action.meter)) meters.push(r.action.meter);
  return { generation: policy.generation, ports, uplinkOf, meters };
}

// ---- rules --------------------------------------------------------------------------------------------

function bit(words: readonly number[], i: number): number {
  return (words[i >> 5]! >>> (31 - (i & 31))) & 1;
}

function prefixHolds(p: Prefix, family: number, addr: readonly number[]): boolean {
  if (p.family !== family) return false;
  const length = Math.min(p.length, family === 4 ? 32 : 128);
  for (let i = 0; i < length; i++) if (bit(addr, i) !== bit(p.words, i)) return false;
  return true;
}

function conditionsHold(c: Conditions, p: Pkt): boolean {
  const some = <T>(list: readonly T[] | undefined, f: (x: T) => boolean): boolean => list === undefined || list.length === 0 || list.some(f);
  if (!some(c.protocols, (x) => x === p.proto)) return false;
  if (!some(c.srcPrefixes, (x) => prefixHolds(x, p.family, p.src))) return false;
  if (!some(c.dstPrefixes, (x) => prefixHolds(x, p.family, p.dst))) return false;
  const ports = p.l4.t === 'ports' && (p.proto === 6 || p.proto === 17) ? p.l4 : null;
  if (!some(c.srcPorts, (r) => ports !== null && ports.sport >= r.from && ports.sport <= r.to)) return false;
  if (!some(c.dstPorts, (r) => ports !== null && ports.dport >= r.from && ports.dport <= r.to)) return false;
  if (!some(c.srcMacs, (m) => macOf(m.hi, m.lo) === p.srcMac)) return false;
  if (!some(c.dstMacs, (m) => macOf(m.hi, m.lo) === p.dstMac)) return false;
  if (!some(c.vlans, (v) => v === p.vlan)) return false;
  if (!some(c.vnis, (v) => v === 0)) return false; // no frame here is VXLAN-encapsulated
  return true;
}

function byPriority<T extends { priority: number }>(list: readonly T[]): T[] {
  return list
    .map((x, i) => ({ x, i }))
    .sort((a, b) => a.x.priority - b.x.priority || a.i - b.i)
    .map((e) => e.x);
}

/** The rule that decides the layer for the packet in direction `dir`, or null. */
function layerDecision(layer: Layer, dir: 'in' | 'out', p: Pkt): Rule | null {
  let decision: Rule | null = null;
  for (const g of byPriority(layer.groups.filter((g) => g.direction === dir && (g.family === 6 ? 6 : 4) === p.family))) {
    if (!conditionsHold(g.conditions, p)) continue;
    const best = byPriority(g.rules).find((r) => conditionsHold(r.conditions, p));
    if (!best) continue;
    decision = best;
    if (best.terminating) break;
  }
  return decision;
}

// ---- decisions -------------------------------------------------------------------------------------

/** What the slow path decided for a frame: a drop, or an egress port with the transpositions to apply. */
interface Decision {
  verdict: string | null;
  egress: number;
  vlan: { op: 'push'; vid: number } | { op: 'pop' } | null;
  srcAddr: number[] | null;
  dstAddr: number[] | null;
  srcPort: number | null;
  dstPort: number | null;
  srcMac: string | null;
  dstMac: string | null;
  mss: number;
  meters: string[];
  /** The reverse entry's decision of a flow pair. */
  reverse: boolean;
  // slow-path results, meaningless in a cached decision
  stateful: boolean;
  ttl: number;
  /** The packet as it arrived and as the actions left it. */
  pkt0: Pkt | null;
  pkt: Pkt | null;
}

function blank(egress: number): Decision {
  return { verdict: null, egress, vlan: null, srcAddr: null, dstAddr: null, srcPort: null, dstPort: null, srcMac: null, dstMac: null, mss: 0, meters: [], reverse: false, stateful: false, ttl: Infinity, pkt0: null, pkt: null };
}

function dropDecision(reason: string): Decision {
  const d = blank(-1);
  d.verdict = reason;
  return d;
}

type SwitchResult = { port: number } | { flood: true } | { drop: string };

// ---- flows --------------------------------------------------------------------------------------------

interface Entry {
  key: string;
  port: number;
  /** The packet the key was made from (a forward entry's: the frame as it arrived). */
  pkt: Pkt;
  decision: Decision;
  generation: number;
  /** The destination MAC the entry was decided for. */
  mac: string;
  lastSeen: number;
  ttl: number;
  closing: boolean;
  closeExpiry: number;
  peer: Entry | null;
  packets: number;
  bytes: number;
}

class FlowTable {
  readonly map = new Map<string, Entry>();
  constructor(private readonly rstTimeout: number) {}

  ownExpiry(e: Entry): number {
    return e.closing ? e.closeExpiry : e.lastSeen + e.ttl;
  }
  expiry(e: Entry): number {
    return e.peer ? Math.max(this.ownExpiry(e), this.ownExpiry(e.peer)) : this.ownExpiry(e);
  }
  alive(e: Entry, now: number): boolean {
    return this.ownExpiry(e) >= now || (e.peer !== null && this.ownExpiry(e.peer) >= now);
  }
  /** The live entry for the key; a dead one is removed (with its peer) and not returned. */
  lookup(key: string, now: number): Entry | null {
    const e = this.map.get(key);
    if (!e) return null;
    if (!this.alive(e, now)) {
      note('flow expired');
      this.remove(e);
      return null;
    }
    return e;
  }
  remove(e: Entry): void {
    this.map.delete(e.key);
    if (e.peer) this.map.delete(e.peer.key);
  }
  private add(port: number, pkt: Pkt, decision: Decision, generation: number, mac: string, now: number, ttl: number): Entry {
    const key = flowKey(port, pkt);
    const old = this.map.get(key);
    if (old) this.remove(old);
    const e: Entry = { key, port, pkt, decision, generation, mac, lastSeen: now, ttl, closing: false, closeExpiry: 0, peer: null, packets: 0, bytes: 0 };
    this.map.set(key, e);
    return e;
  }
  insert(port: number, pkt: Pkt, decision: Decision, generation: number, mac: string, now: number, ttl: number): Entry {
    return this.add(port, pkt, decision, generation, mac, now, ttl);
  }
  insertPair(f: { port: number; pkt: Pkt; decision: Decision; mac: string }, r: { port: number; pkt: Pkt; decision: Decision; mac: string }, generation: number, now: number, ttl: number): [Entry, Entry] {
    // both old keys go (with their peers) before either new entry is made
    for (const k of [flowKey(f.port, f.pkt), flowKey(r.port, r.pkt)]) {
      const old = this.map.get(k);
      if (old) this.remove(old);
    }
    const fe = this.add(f.port, f.pkt, f.decision, generation, f.mac, now, ttl);
    const re = this.add(r.port, r.pkt, r.decision, generation, r.mac, now, ttl);
    fe.peer = re;
    re.peer = fe;
    return [fe, re];
  }
  /** Count a packet on e; a RST cuts the pair. */
  touch(e: Entry, now: number, bytes: number, tcpFlags: number): void {
    e.packets++;
    e.bytes += bytes;
    if ((tcpFlags & 0x04) !== 0) {
      note('rst cut');
      const cut = Math.min(this.expiry(e), now + this.rstTimeout);
      for (const x of e.peer ? [e, e.peer] : [e]) {
        x.closing = true;
        x.closeExpiry = cut;
      }
    }
    if (now > e.lastSeen) e.lastSeen = now;
  }
}

// ---- the shard ------------------------------------------------------------------------------------------

interface Frame {
  bytes: Uint8Array;
  wire: number;
  now: number;
  n: number;
  /** 0 input; 1 / 2 a host answer (ARP / echo). */
  generated: number;
  /** A host answer: the vNIC port it enters from. */
  from: number;
}

export class ReferenceShard {
  private policy: RefPolicy;
  private readonly flows: FlowTable;
  /** The packet clock: the latest input timestamp so far. */
  private clock = 0;
  readonly events: SinkEvent[] = [];
  private readonly counters = new Map<string, number>(COUNTER_NAMES.map((c) => [c, 0]));
  private readonly drops = new Map<string, number>();
  private readonly rx: number[];
  private readonly tx: number[];
  private readonly meters = new Map<string, { packets: number; bytes: number }>();
  /** Host answers to run after the current input frame. */
  private answers: Frame[] = [];

  constructor(
    policy: Policy,
    private readonly uftTtl: number,
    rstTimeout: number,
    private readonly quirks: Quirks = {},
  ) {
    this.policy = refPolicy(policy);
    this.flows = new FlowTable(rstTimeout);
    this.rx = this.policy.ports.map(() => 0);
    this.tx = this.policy.ports.map(() => 0);
  }

  setPolicy(policy: Policy): void {
    const next = refPolicy(policy);
    if (next.ports.map((p) => p.name).join() !== this.policy.ports.map((p) => p.name).join()) throw new Error('the ports must stay the same');
    this.policy = next;
  }

  private count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  private ports(): PortDef[] {
    return this.policy.ports;
  }

  private portOfMac(mac: string): number | null {
    const p = this.ports().find((x) => x.mac === mac);
    return p ? p.id : null;
  }

  /** Process input frame number n. */
  process(input: InputFrame, n: number): void {
    this.count('in');
    this.clock = Math.max(this.clock, frameTime(input));
    const frame: Frame = { bytes: input.bytes, wire: input.wire, now: this.clock, n, generated: 0, from: -1 };
    let port: number | null = null;
    if (input.ingress !== null) port = this.ports().find((p) => p.name === input.ingress)!.id;
    if (port === null && input.bytes.length >= 12) port = this.portOfMac(macText(input.bytes, 6));
    if (port === null) port = this.ports().find((p) => p.kind === 'uplink')?.id ?? null;
    if (port === null) {
      this.dropEvent(frame, this.quirks.unknownPortOnPort0 ? 0 : null, 'unknown-port', false);
      return;
    }
    this.rx[port]!++;
    this.handle(frame, port);
    const answers = this.answers;
    this.answers = [];
    for (const a of answers) this.handle(a, a.from);
  }

  private dropEvent(f: Frame, port: number | null, reason: string, hit: boolean): void {
    this.events.push({ n: f.n, kind: 'drop', port: port === null ? '-' : this.ports()[port]!.name, reason, hit, generated: f.generated, bytes: hex(f.bytes), wire: f.wire });
    if (f.generated !== 0) this.count('host-dropped');
    else {
      this.count('dropped');
      this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    }
  }

  /** A frame (input or host answer) entering the switch on `port`. */
  private handle(f: Frame, port: number): void {
    const d = decode(f.bytes);
    if (d.error) {
      this.dropEvent(f, port, d.error, false);
      return;
    }
    const ip = d.kind === 'ipv4' || d.kind === 'ipv6';
    const cacheable = ip && !isGroupMac(d.dstMac);
    const pkt = ip ? pktOf(d, this.quirks) : null;
    const gen = this.policy.generation;
    const len = f.bytes.length;
    if (cacheable) {
      const key = flowKey(port, pkt!);
      const e = this.flows.lookup(key, f.now);
      if (e) {
        if (e.generation === gen && e.mac === d.dstMac) {
          this.flows.touch(e, f.now, len, d.tcpFlags);
          this.count('flow-hits');
          this.emit(f, d, port, e.decision, true);
          return;
        }
        const stale = e.generation !== gen;
        if (stale) this.count('flow-stale');
        if (stale && e.decision.reverse) {
          const r = this.resimulate(e, f, d, port, pkt!);
          note(r ? 'resimulated: new pair' : 'resimulated: decided alone');
          if (r) {
            this.count('flow-misses');
            this.emit(f, d, port, r, false);
            return;
          }
        }
      }
      this.count('flow-misses');
    } else this.count('uncached');

    const vid = d.tags.length ? d.tags[0]! : 0;
    let sw: SwitchResult;
    const arpRequest = d.kind === 'arp' && d.arpOp === 1 && isGroupMac(d.dstMac);
    const tagged = this.ports()[port]!.kind !== 'uplink' && vid !== 0;
    const owner = arpRequest && (!tagged || this.quirks.taggedArpFromAccessPort) ? this.arpOwner(port, vid, d.tpa) : null;
    if (owner !== null) sw = { port: owner };
    else sw = this.forward(port, d.dstMac, vid);

    if ('drop' in sw) {
      const dec = dropDecision(sw.drop);
      if (cacheable) this.flows.touch(this.flows.insert(port, pkt!, dec, gen, d.dstMac, f.now, this.uftTtl), f.now, len, d.tcpFlags);
      this.emit(f, d, port, dec, false);
      return;
    }
    if ('flood' in sw) {
      this.flood(f, d, port, vid, pkt);
      return;
    }
    const dec = this.decide(port, sw.port, vid, pkt, d.srcMac, d.dstMac);
    if (cacheable) {
      if (dec.verdict !== null || !dec.stateful) {
        this.flows.touch(this.flows.insert(port, pkt!, dec, gen, d.dstMac, f.now, this.uftTtl), f.now, len, d.tcpFlags);
      } else {
        const rvlan = this.egressVlan(dec, vid);
        const rev = reversePkt(dec.pkt!, rvlan);
        const [fe] = this.flows.insertPair(
          { port, pkt: pkt!, decision: dec, mac: d.dstMac },
          { port: dec.egress, pkt: rev, decision: this.reverseOf(dec, port, vid), mac: dec.pkt!.srcMac },
          gen,
          f.now,
          dec.ttl,
        );
        this.flows.touch(fe, f.now, len, d.tcpFlags);
        note('pair installed');
      }
    }
    this.emit(f, d, port, dec, false);
  }

  /** VLAN id the forward frame carries as it leaves (the reverse entry's key VLAN). */
  private egressVlan(dec: Decision, vid: number): number {
    if (dec.vlan?.op === 'push') return dec.vlan.vid;
    if (dec.vlan?.op === 'pop') return 0;
    return vid;
  }

  /**
   * A reply met the reverse entry `e` of a pair made under an older generation: decide the
   * connection's forward direction again under the current policy. The new reverse decision
   * for this frame, or null (the old pair is gone; the frame is decided on its own).
   */
  private resimulate(e: Entry, f: Frame, d: Decoded, port: number, pkt: Pkt): Decision | null {
    const fwd = e.peer;
    if (!fwd) return null;
    const fport = fwd.port;
    const fpkt = clonePkt(fwd.pkt);
    fpkt.srcMac = d.dstMac;
    fpkt.dstMac = d.srcMac;
    const fvid = this.ports()[fport]!.kind === 'uplink' ? fwd.pkt.vlan : 0;
    const sw = this.forward(fport, fpkt.dstMac, fvid);
    this.flows.remove(e);
    if (!('port' in sw)) return null;
    const dec = this.decide(fport, sw.port, fvid, fpkt, fpkt.srcMac, fpkt.dstMac);
    if (dec.verdict !== null || !dec.stateful) return null;
    const rev = reversePkt(dec.pkt!, this.egressVlan(dec, fvid));
    if (flowKey(dec.egress, rev) !== flowKey(port, pkt)) return null;
    const rdec = this.reverseOf(dec, fport, fvid);
    const [, re] = this.flows.insertPair(
      { port: fport, pkt: fwd.pkt, decision: dec, mac: fpkt.dstMac },
      { port: dec.egress, pkt: rev, decision: rdec, mac: dec.pkt!.srcMac },
      this.policy.generation,
      f.now,
      dec.ttl,
    );
    this.flows.touch(re, f.now, f.bytes.length, d.tcpFlags);
    return rdec;
  }

  // ---- the vSwitch ------------------------------------------------------------------------------------

  /** L2 forwarding of a frame entering on `port` with outermost VLAN id `vid`. */
  private forward(port: number, dstMac: string, vid: number): SwitchResult {
    const ports = this.ports();
    const from = ports[port]!;
    if (from.kind !== 'uplink' && vid !== 0) return { drop: 'vlan-mismatch' };
    if (isGroupMac(dstMac)) return { flood: true };
    const q = this.portOfMac(dstMac);
    const to = q === null ? null : ports[q]!;
    if (from.kind === 'uplink') {
      // from the wire: only to a port of a network bound to this uplink, on the frame's VLAN
      if (to === null || to.id === port || to.kind === 'uplink' || this.policy.uplinkOf[to.network!] !== port) return { drop: 'unknown-mac' };
      if (to.vlan !== vid) return { drop: 'vlan-mismatch' };
      return { port: to.id };
    }
    const up = this.policy.uplinkOf[from.network!] ?? null;
    if (to !== null && to.id !== port) {
      if (to.id === up) return { port: up };
      if (to.kind !== 'uplink' && to.network === from.network && to.vlan === from.vlan) return { port: to.id };
    }
    if (up !== null && to?.id !== port) return { port: up };
    return { drop: 'unknown-mac' };
  }

  /** The ports a broadcast from `port` reaches, in port order. */
  private floodTargets(port: number, vid: number): number[] {
    const from = this.ports()[port]!;
    const out: number[] = [];
    for (const q of this.ports()) {
      if (q.id === port) continue;
      if (from.kind === 'uplink') {
        if (q.kind !== 'uplink' && this.policy.uplinkOf[q.network!] === port && q.vlan === vid) out.push(q.id);
      } else if (q.kind === 'uplink') {
        if (this.policy.uplinkOf[from.network!] === q.id) out.push(q.id);
      } else if (q.network === from.network && q.vlan === from.vlan) out.push(q.id);
    }
    return out;
  }

  /** The port of the segment of `port` (VLAN `vid` from an uplink) that owns IPv4 address `tpa`. */
  private arpOwner(port: number, vid: number, tpa: number): number | null {
    const from = this.ports()[port]!;
    for (const q of this.ports()) {
      if (q.id === port || q.kind === 'uplink') continue;
      const inSegment = from.kind === 'uplink' ? this.policy.uplinkOf[q.network!] === port && q.vlan === vid : q.network === from.network && q.vlan === from.vlan;
      if (inSegment && q.v4.includes(tpa)) return q.id;
    }
    return null;
  }

  private flood(f: Frame, d: Decoded, port: number, vid: number, pkt: Pkt | null): void {
    const targets = this.floodTargets(port, vid);
    if (targets.length === 0) {
      this.emit(f, d, port, dropDecision('unknown-mac'), false);
      return;
    }
    const decisions = targets.map((t) => this.decide(port, t, vid, pkt, d.srcMac, d.dstMac));
    const sent = decisions.filter((x) => x.verdict === null);
    if (sent.length === 0) {
      this.emit(f, d, port, dropDecision(decisions[0]!.verdict!), false);
      return;
    }
    if (sent.length > 1) note('flooded to several ports');
    for (const x of sent) this.send(f, d, x, false);
    this.count(f.generated !== 0 ? 'host-forwarded' : 'out');
  }

  // ---- layers ------------------------------------------------------------------------------------------

  /** The layers from `port` to `egress` for an IP packet (pkt null: not IP, no layers), plus the VLAN handling. */
  private decide(port: number, egress: number, vid: number, pkt0: Pkt | null, srcMac: string, dstMac: string): Decision {
    const ports = this.ports();
    const dec = blank(egress);
    if (pkt0 !== null) {
      const pkt = clonePkt(pkt0);
      pkt.srcMac = srcMac;
      pkt.dstMac = dstMac;
      dec.pkt0 = clonePkt(pkt);
      dec.pkt = pkt;
      for (const layer of ports[port]!.layers) {
        if (dec.verdict !== null) break;
        this.layer(layer, 'out', dec);
      }
      if (dec.verdict === null && dec.dstMac !== null) {
        note('switched again after a MAC rewrite');
        const sw = this.forward(port, pkt.dstMac, vid);
        if ('drop' in sw) dec.verdict = sw.drop;
        else if ('flood' in sw) dec.verdict = 'unknown-mac';
        else dec.egress = sw.port;
      }
      if (dec.verdict === null) {
        const inLayers = ports[dec.egress]!.layers;
        for (let l = inLayers.length - 1; l >= 0 && dec.verdict === null; l--) this.layer(inLayers[l]!, 'in', dec);
      }
    }
    if (dec.verdict !== null) return dropDecision(dec.verdict); // a drop transposes nothing
    if (dec.vlan === null) {
      const to = ports[dec.egress]!;
      const from = ports[port]!;
      if (to.kind === 'uplink' && from.kind !== 'uplink' && from.vlan !== 0) dec.vlan = { op: 'push', vid: from.vlan };
      else if (from.kind === 'uplink' && vid !== 0) dec.vlan = { op: 'pop' };
    }
    return dec;
  }

  private layer(layer: Layer, dir: 'in' | 'out', dec: Decision): void {
    const pkt = dec.pkt!;
    const rule = layerDecision(layer, dir, pkt);
    if (rule === null) {
      if (!layer.defaultAllow) dec.verdict = layer.defaultReason;
      return;
    }
    const a = rule.action;
    if (a.type === 'block') {
      dec.verdict = a.reason;
      return;
    }
    if (rule.stateful) {
      dec.stateful = true;
      dec.ttl = Math.min(dec.ttl, rule.flowTtl);
    }
    switch (a.type) {
      case 'rewrite': {
        const words = (w: readonly number[]): number[] => [0, 1, 2, 3].map((i) => (w[i] ?? 0) >>> 0);
        if (a.srcAddr) pkt.src = dec.srcAddr = words(a.srcAddr);
        if (a.dstAddr) pkt.dst = dec.dstAddr = words(a.dstAddr);
        if (a.srcPort !== undefined) {
          dec.srcPort = a.srcPort;
          if (pkt.l4.t === 'ports') pkt.l4.sport = a.srcPort;
        }
        if (a.dstPort !== undefined) {
          dec.dstPort = a.dstPort;
          if (pkt.l4.t === 'ports') pkt.l4.dport = a.dstPort;
        }
        if (this.quirks.portRewriteWithoutPorts && pkt.l4.t !== 'ports' && (a.srcPort !== undefined || a.dstPort !== undefined)) {
          const l = pkt.l4;
          let word = l.t === 'icmp' ? (((l.type << 8) | l.code) << 16) | (l.id ?? 0) : l.t === 'igmp' ? l.type << 24 : l.t === 'word' ? l.word : 0;
          if (a.srcPort !== undefined) word = (a.srcPort << 16) | (word & 0xffff);
          if (a.dstPort !== undefined) word = (word & 0xffff0000) | a.dstPort;
          word >>>= 0;
          pkt.l4 = l.t === 'icmp' ? { t: 'icmp', type: word >>> 24, code: (word >>> 16) & 255, id: word & 0xffff } : { t: 'word', word };
        }
        return;
      }
      case 'mac-rewrite':
        if (a.src) pkt.srcMac = dec.srcMac = macOf(a.src.hi, a.src.lo);
        if (a.dst) pkt.dstMac = dec.dstMac = macOf(a.dst.hi, a.dst.lo);
        return;
      case 'vlan-push':
        dec.vlan = { op: 'push', vid: a.vid & 0x0fff };
        pkt.vlan = a.vid & 0x0fff;
        return;
      case 'vlan-pop':
        dec.vlan = { op: 'pop' };
        pkt.vlan = 0;
        return;
      case 'meter':
        if (!dec.meters.includes(a.meter)) dec.meters.push(a.meter);
        return;
      case 'mss-clamp':
        dec.mss = Math.max(dec.mss, a.delta);
        return;
      default:
        return;
    }
  }

  /** The reverse entry's decision: back to `port`, every transposition undone; `vid` is the VLAN the forward frame arrived with. */
  private reverseOf(dec: Decision, port: number, vid: number): Decision {
    const r = blank(port);
    r.reverse = true;
    const p0 = dec.pkt0!;
    if (dec.vlan?.op === 'push') r.vlan = { op: 'pop' };
    else if (dec.vlan?.op === 'pop') r.vlan = { op: 'push', vid };
    if (dec.srcAddr) r.dstAddr = [...p0.src];
    if (dec.dstAddr) r.srcAddr = [...p0.dst];
    if (dec.srcPort !== null && p0.l4.t === 'ports') r.dstPort = p0.l4.sport;
    if (dec.dstPort !== null && p0.l4.t === 'ports') r.srcPort = p0.l4.dport;
    if (dec.srcMac !== null) r.dstMac = p0.srcMac;
    if (dec.dstMac !== null) r.srcMac = p0.dstMac;
    r.mss = dec.mss;
    r.meters = [...dec.meters];
    return r;
  }

  // ---- tx --------------------------------------------------------------------------------------------

  private emit(f: Frame, d: Decoded, port: number, dec: Decision, hit: boolean): void {
    if (dec.verdict !== null) {
      this.dropEvent(f, port, dec.verdict, hit);
      return;
    }
    this.send(f, d, dec, hit);
    this.count(f.generated !== 0 ? 'host-forwarded' : 'out');
  }

  private send(f: Frame, d: Decoded, dec: Decision, hit: boolean): void {
    const out = transform(f.bytes, d, dec);
    const wire = f.wire + out.length - f.bytes.length;
    const egress = this.ports()[dec.egress]!;
    this.events.push({ n: f.n, kind: 'forward', port: egress.name, hit, generated: f.generated, bytes: hex(out), wire });
    this.count('emitted');
    this.tx[egress.id]!++;
    for (const name of dec.meters) {
      const m = this.quirks.metersByPosition ? String(this.policy.meters.indexOf(name)) : name;
      const c = this.meters.get(m) ?? { packets: 0, bytes: 0 };
      c.packets++;
      c.bytes += out.length;
      this.meters.set(m, c);
    }
    if (f.generated === 0 && egress.kind === 'vnic') {
      const answer = hostAnswer(out, egress);
      if (answer) {
        note(`host answer ${answer.kind === 1 ? 'ARP' : decode(answer.bytes).kind === 'ipv6' ? 'echo6' : 'echo4'}`);
        this.count('host-generated');
        this.answers.push({ bytes: answer.bytes, wire: Math.max(answer.bytes.length, wire), now: f.now, n: f.n, generated: answer.kind, from: egress.id });
      }
    }
  }

  result(): RunResult {
    const counters: Record<string, number> = {};
    for (const c of COUNTER_NAMES) counters[c] = this.counters.get(c) ?? 0;
    const drops: Record<string, number> = {};
    for (const [k, v] of [...this.drops].sort()) drops[k] = v;
    const ports: Record<string, { rx: number; tx: number }> = {};
    for (const p of this.ports()) ports[p.name] = { rx: this.rx[p.id]!, tx: this.tx[p.id]! };
    const meters: Record<string, { packets: number; bytes: number }> = {};
    for (const [k, v] of [...this.meters].sort()) {
      const name = this.quirks.metersByPosition ? this.policy.meters[Number(k)] : k;
      if (name !== undefined) meters[name] = v;
    }
    return { events: this.events, counters, drops, ports, meters, flows: [] };
  }

  /** Flow entries alive at `end`. */
  liveFlows(end: number): string[] {
    const out: string[] = [];
    for (const e of this.flows.map.values()) {
      const x = this.flows.expiry(e);
      if (x >= end) out.push(`${e.packets}/${e.bytes}/${e.lastSeen.toFixed(3)}/${x.toFixed(3)}`);
    }
    return out.sort();
  }
}

// ---- transpositions ----------------------------------------------------------------------------------

/** The frame as it leaves with decision `dec`: addresses, ports, MSS (checksums recomputed), MACs, VLAN tag. */
function transform(bytes: Uint8Array, d: Decoded, dec: Decision): Uint8Array {
  const out = bytes.slice();
  const ip = d.kind === 'ipv4' || d.kind === 'ipv6';
  if (ip && (dec.srcAddr || dec.dstAddr || dec.srcPort !== null || dec.dstPort !== null || dec.mss > 0)) {
    const o = d.l3;
    let addrChanged = false;
    let l4Changed = false;
    const writeAddr = (at: number, words: readonly number[]): void => {
      if (d.kind === 'ipv4') put32(out, at, words[0]!);
      else for (let w = 0; w < 4; w++) put32(out, at + 4 * w, words[w]!);
      addrChanged = true;
    };
    if (dec.srcAddr || dec.dstAddr) note(`address rewrite ipv${d.kind === 'ipv4' ? 4 : 6}`);
    if (dec.srcAddr) writeAddr(o + (d.kind === 'ipv4' ? 12 : 8), dec.srcAddr);
    if (dec.dstAddr) writeAddr(o + (d.kind === 'ipv4' ? 16 : 24), dec.dstAddr);
    const ports = d.l4 >= 0 && (d.proto === 6 || d.proto === 17);
    if (ports && (dec.srcPort !== null || dec.dstPort !== null)) note('port rewrite');
    if (ports && dec.srcPort !== null) {
      put16(out, d.l4, dec.srcPort);
      l4Changed = true;
    }
    if (ports && dec.dstPort !== null) {
      put16(out, d.l4 + 2, dec.dstPort);
      l4Changed = true;
    }
    if (dec.mss > 0 && d.l4 >= 0 && d.proto === 6 && clampMss(out, d.l4, dec.mss)) {
      note('mss clamped');
      l4Changed = true;
    }
    if (addrChanged && d.kind === 'ipv4') {
      put16(out, o + 10, 0);
      put16(out, o + 10, ~onesSum([out.subarray(o, o + d.ihl)]) & 0xffff);
    }
    // L4 checksums covering the addresses: TCP and UDP, and ICMPv6 (ICMP for IPv4 has no pseudo-header)
    const pseudo = d.proto === 6 || d.proto === 17 || (d.kind === 'ipv6' && d.proto === 58);
    if (d.l4 >= 0 && (l4Changed || (addrChanged && pseudo))) fixL4Checksum(bytes, out, d);
  }
  if (dec.dstMac !== null || dec.srcMac !== null) note('mac rewrite');
  if (dec.dstMac !== null) putMac(out, 0, dec.dstMac);
  if (dec.srcMac !== null) putMac(out, 6, dec.srcMac);
  if (dec.vlan?.op === 'push') {
    note('vlan push');
    const tagged = new Uint8Array(out.length + 4);
    tagged.set(out.subarray(0, 12), 0);
    put16(tagged, 12, 0x8100);
    put16(tagged, 14, dec.vlan.vid & 0x0fff);
    tagged.set(out.subarray(12), 16);
    return tagged;
  }
  if (dec.vlan?.op === 'pop' && out.length >= 18 && TAG_TPIDS.includes(u16(out, 12))) {
    note('vlan pop');
    const popped = new Uint8Array(out.length - 4);
    popped.set(out.subarray(0, 12), 0);
    popped.set(out.subarray(16), 12);
    return popped;
  }
  return out;
}

/** In a SYN, lower the first well-formed MSS option by `delta` (not below 88, never raised). True when changed. */
function clampMss(b: Uint8Array, l4: number, delta: number): boolean {
  if ((b[l4 + 13]! & 0x02) === 0) return false;
  const end = Math.min(l4 + (b[l4 + 12]! >>> 4) * 4, b.length);
  let i = l4 + 20;
  while (i < end) {
    const kind = b[i]!;
    if (kind === 0) return false;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const size = b[i + 1]!;
    if (size < 2 || i + size > end) return false;
    if (kind === 2) {
      if (size !== 4) return false;
      const mss = u16(b, i + 2);
      const next = Math.max(mss - delta, 88);
      if (next >= mss) return false;
      put16(b, i + 2, next);
      return true;
    }
    i += size;
  }
  return false;
}

/** The pseudo-header of the packet in `b` (TCP, UDP, ICMPv6) for an L4 length `len`; empty for ICMP over IPv4. */
function pseudoHeader(b: Uint8Array, d: Decoded, len: number): Uint8Array {
  if (d.kind === 'ipv4') {
    if (d.proto === 1) return new Uint8Array(0);
    const p = new Uint8Array(12);
    p.set(b.subarray(d.l3 + 12, d.l3 + 20), 0);
    p[9] = d.proto;
    put16(p, 10, len);
    return p;
  }
  const p = new Uint8Array(40);
  p.set(b.subarray(d.l3 + 8, d.l3 + 40), 0);
  put32(p, 32, len);
  p[39] = d.proto;
  return p;
}

/**
 * Recompute the L4 checksum of `out` (the rewritten copy of `orig`). From scratch when the whole
 * segment was captured and the packet is not a fragment; otherwise the bytes not captured are
 * unknown, so the sum of the captured part is swapped in the original checksum (what the original
 * checksum says of the rest stays). UDP checksum 0 (none) stays 0; a computed 0 is sent as 0xffff.
 */
function fixL4Checksum(orig: Uint8Array, out: Uint8Array, d: Decoded): void {
  const at = d.l4 + (d.proto === 6 ? 16 : d.proto === 17 ? 6 : 2);
  if (at + 2 > d.l3end) return;
  const old = u16(orig, at);
  if (d.proto === 17 && old === 0) return;
  const segLen = (d.kind === 'ipv4' ? u16(orig, d.l3 + 2) - d.ihl : u16(orig, d.l3 + 4)) | 0;
  const partial = (b: Uint8Array): number => {
    const seg = b.slice(d.l4, d.l3end);
    put16(seg, at - d.l4, 0);
    return onesSum([pseudoHeader(b, d, segLen), seg]);
  };
  note(d.complete && !d.fragment ? 'l4 checksum from scratch' : 'l4 checksum of a partly captured segment');
  const sum = d.complete && !d.fragment ? partial(out) : fold((~old & 0xffff) + (~partial(orig) & 0xffff) + partial(out));
  let c = ~sum & 0xffff;
  if (d.proto === 17 && c === 0) c = 0xffff;
  put16(out, at, c);
}

// ---- the host behind a vNIC ---------------------------------------------------------------------------

/** The host's answer to a frame delivered to its vNIC: an ARP reply or an echo reply for a gateway address, or null. */
function hostAnswer(b: Uint8Array, vnic: PortDef): { bytes: Uint8Array; kind: number } | null {
  if (b.length < 14) return null;
  const type = u16(b, 12);
  if (type === 0x0806) {
    if (b.length < 42) return null;
    const a = 14;
    if (u16(b, a) !== 1 || u16(b, a + 2) !== 0x0800 || b[a + 4] !== 6 || b[a + 5] !== 4 || u16(b, a + 6) !== 1) return null;
    const tpa = u32(b, a + 24);
    if (!vnic.v4.includes(tpa)) return null;
    const r = new Uint8Array(60);
    r.set(b.subarray(a + 8, a + 14), 0); // to the asker's hardware address
    putMac(r, 6, vnic.mac);
    put16(r, 12, 0x0806);
    put16(r, 14, 1);
    put16(r, 16, 0x0800);
    r[18] = 6;
    r[19] = 4;
    put16(r, 20, 2);
    putMac(r, 22, vnic.mac);
    put32(r, 28, tpa);
    r.set(b.subarray(a + 8, a + 14), 32);
    r.set(b.subarray(a + 14, a + 18), 38);
    return { bytes: r, kind: 1 };
  }
  if (type === 0x0800) {
    const d = decodeSafe(b);
    if (!d || d.kind !== 'ipv4' || d.proto !== 1 || d.fragment || d.l4 < 0 || d.l4 + 8 > b.length) return null;
    if (b[d.l4] !== 8 || b[d.l4 + 1] !== 0 || !vnic.v4.includes(d.dst[0]!)) return null;
    const r = b.slice();
    r.set(b.subarray(6, 12), 0);
    putMac(r, 6, vnic.mac);
    r.set(b.subarray(d.l3 + 16, d.l3 + 20), d.l3 + 12);
    r.set(b.subarray(d.l3 + 12, d.l3 + 16), d.l3 + 16);
    r[d.l3 + 8] = 128;
    put16(r, d.l3 + 10, 0);
    put16(r, d.l3 + 10, ~onesSum([r.subarray(d.l3, d.l3 + d.ihl)]) & 0xffff);
    r[d.l4] = 0;
    icmpChecksum(b, r, d);
    return { bytes: r, kind: 2 };
  }
  if (type === 0x86dd) {
    const d = decodeSafe(b);
    if (!d || d.kind !== 'ipv6' || d.proto !== 58 || b.length < 62) return null;
    if (b[d.l4] !== 128 || b[d.l4 + 1] !== 0 || !vnic.v6.some((w) => w.every((x, i) => x === d.dst[i]))) return null;
    const r = b.slice();
    r.set(b.subarray(6, 12), 0);
    putMac(r, 6, vnic.mac);
    r.set(b.subarray(d.l3 + 24, d.l3 + 40), d.l3 + 8);
    r.set(b.subarray(d.l3 + 8, d.l3 + 24), d.l3 + 24);
    r[d.l3 + 7] = 128;
    r[d.l4] = 129;
    icmpChecksum(b, r, d);
    return { bytes: r, kind: 2 };
  }
  return null;
}

function decodeSafe(b: Uint8Array): Decoded | null {
  try {
    const d = decode(b);
    return d.error ? null : d;
  } catch {
    return null;
  }
}

/** The echo reply's ICMP/ICMPv6 checksum: from scratch over the message, or from the request's when it was not all captured. */
function icmpChecksum(req: Uint8Array, rep: Uint8Array, d: Decoded): void {
  const at = d.l4 + 2;
  const len = d.kind === 'ipv4' ? u16(req, d.l3 + 2) - d.ihl : u16(req, d.l3 + 4);
  const partial = (b: Uint8Array): number => {
    const seg = b.slice(d.l4, d.l3end);
    put16(seg, 2, 0);
    return onesSum([pseudoHeader(b, d, len), seg]);
  };
  const sum = d.complete ? partial(rep) : fold((~u16(req, at) & 0xffff) + (~partial(req) & 0xffff) + partial(rep));
  put16(rep, at, ~sum & 0xffff);
}

// ---- a whole stream ---------------------------------------------------------------------------------------

/** Run a stream through the reference model. */
export function runReference(setup: StreamSetup, frames: readonly InputFrame[], quirks: Quirks = {}): RunResult {
  const shard = new ReferenceShard(setup.policies[0]!, setup.uftTtl, setup.rstTimeout, quirks);
  let next = 0;
  frames.forEach((f, i) => {
    while (next < setup.changes.length && setup.changes[next] === i) shard.setPolicy(setup.policies[++next]!);
    shard.process(f, i + 1);
  });
  const r = shard.result();
  r.flows = frames.length ? shard.liveFlows(frames.reduce((m, f) => Math.max(m, frameTime(f)), 0)) : [];
  return r;
}
