/**
 * VXLAN encapsulation and decapsulation (RFC 7348): an Overlay network's frames to and from a
 * remote node, https://learn.microsoft.com/en-us/virtualization/windowscontainers/container-networking/network-drivers-topologies;
 * in the VFP paper's terms, encap is Push ×4 and decap Pop ×4.
 *
 * Encap pushes, in front of the inner Ethernet frame:
 *
 *   outer Ethernet  dst MAC (underlay next hop), src MAC (host uplink), [802.1Q tag], 0x0800   14 (18)
 *   outer IPv4      v4, IHL 5, TOS, total length, id, DF, TTL (64), protocol 17, checksum,
 *                   src (local PA), dst (remote PA)                                            20
 *   outer UDP       src port from flow entropy, dst port (4789), length, checksum 0             8
 *   VXLAN           flags 0x08 (I), 3 reserved, VNI (24 bits), 1 reserved                       8
 *
 * = 50 bytes (54 with a tag): the overhead flannel subtracts from the uplink MTU on Windows
 * overlays.
 *
 * Templates. Everything but the two length fields, the IPv4 checksum and the UDP source port is
 * fixed per tunnel, so it is written once, at setup, into a VxlanTemplate (the way OVS's tnl_push
 * and VPP's tunnel rewrite strings work). Per frame, encap copies the template, stores the lengths
 * and the source port, and updates the template's IPv4 checksum for the one changed word (the
 * total length; the template's checksum is computed with that field 0), RFC 1624 style. A
 * template is a setup-time object; the per-frame functions only read its fields.
 *
 * UDP source port: 49152 + (entropy mod 16384), i.e. the ephemeral range RFC 7348 §5 recommends,
 * from a hash of the inner headers (pass FrameBatch.hashes[i]: symmetric, so both directions of
 * a flow use one port, and ECMP in the underlay keeps a flow on one path). UDP checksum 0: allowed
 * over IPv4 (RFC 7348 §5; Linux and Windows send 0 by default).
 *
 * Forms, as in vlan.ts: copy-transform into a destination slab (returns the total length), and
 * in place when the caller has `template.size` bytes of headroom before the inner frame (returns
 * the new start). Decap is zero copy: the inner frame is the byte range [innerL2, UDP payload
 * end) of the same slab; `vxlanDecapEnd` validates it and returns its end, the caller moves the
 * frame's offset/length columns.
 *
 * Invariants. Reads only the source range and the template, writes only the destination range;
 * checks first and returns -1, writing nothing, when the result does not fit, the IPv4 total
 * length would pass 65535, or the inner frame is shorter than an Ethernet header. No allocation
 * per frame. DataViews are over exactly their arrays.
 *
 * Not handled: IPv6 outer headers (70-byte overhead, a mandatory-or-RFC 6935 UDP checksum), the
 * GBP and GPE extensions, GRE/NVGRE and Geneve encap, outer fragmentation (a frame whose outer
 * packet exceeds the underlay MTU is the caller's mtu-exceeded drop), and an outer IPv4 id that
 * changes per packet (DF is set, so RFC 6864 lets the id be constant).
 */
import { checksum, checksumUpdate16 } from '../base/checksum.js';
import { copyBytes } from './copy.js';
import { vlanTci } from './vlan.js';
import {
  ETH_DST,
  ETH_HEADER_SIZE,
  ETH_SRC,
  ETH_TYPE,
  ETHERTYPE_IPV4,
  ETHERTYPE_VLAN,
  IPPROTO_UDP,
  IPV4_CHECKSUM,
  IPV4_DST,
  IPV4_FLAG_DF,
  IPV4_FLAGS_FRAGMENT,
  IPV4_HEADER_SIZE,
  IPV4_ID,
  IPV4_PROTOCOL,
  IPV4_SRC,
  IPV4_TOS,
  IPV4_TOTAL_LENGTH,
  IPV4_TTL,
  IPV4_VERSION_IHL,
  UDP_DST_PORT,
  UDP_HEADER_SIZE,
  UDP_LENGTH,
  UDP_SRC_PORT,
  VLAN_TAG_SIZE,
  VXLAN_DEFAULT_PORT,
  VXLAN_FLAG_I,
  VXLAN_FLAGS,
  VXLAN_HEADER_SIZE,
  VXLAN_VNI,
} from '../wire/headers.js';

/** Outer IPv4 + UDP + VXLAN: the part after the outer Ethernet header. */
const OUTER_IP_SIZE = IPV4_HEADER_SIZE + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE; // 36
/** Encap overhead without / with an outer 802.1Q tag. */
export const VXLAN_ENCAP_SIZE = ETH_HEADER_SIZE + OUTER_IP_SIZE; // 50
export const VXLAN_ENCAP_TAGGED_SIZE = VXLAN_ENCAP_SIZE + VLAN_TAG_SIZE; // 54
/** RFC 7348 §5: source ports from the dynamic range 49152-65535. */
export const VXLAN_SOURCE_PORT_BASE = 49152;
const SOURCE_PORT_MASK = 0x3fff; // 16384 ports
const MAX_IPV4_TOTAL = 65535;

/** Tunnel parameters: setup-time input to `vxlanTemplate`. MACs as (high 16, low 32) numbers. */
export interface VxlanTunnel {
  /** Outer source MAC (the host's uplink). */
  srcMacHi: number;
  srcMacLo: number;
  /** Outer destination MAC (the underlay next hop). */
  dstMacHi: number;
  dstMacLo: number;
  /** Outer IPv4 source (local provider address) and destination (remote PA), as u32. */
  srcIp: number;
  dstIp: number;
  /** VXLAN network identifier, 24 bits (flannel on Windows: >= 4096). */
  vni: number;
  /** Outer 802.1Q tag on the underlay; absent for none. */
  vlanId?: number;
  vlanPcp?: number;
  /** Outer TTL, default 64. */
  ttl?: number;
  /** Outer IPv4 identification, default 0 (DF is set). */
  ipId?: number;
  /** Outer DSCP/ECN byte, default 0. */
  tos?: number;
  /** Outer UDP destination port, default 4789 (HNS `VxlanPort`). */
  dstPort?: number;
}

/** A tunnel's precomputed outer headers (see the essay). Built by `vxlanTemplate`. */
export class VxlanTemplate {
  /** The outer headers, lengths, source port and checksum zero except `ipChecksum` below. */
  readonly bytes: Uint8Array;
  /** DataView over exactly `bytes`. */
  readonly view: DataView;
  /** Header size: 50, or 54 with a tag. */
  readonly size: number;
  /** Offset of the outer IPv4 header inside the template: 14, or 18 with a tag. */
  readonly l3At: number;
  /** IPv4 header checksum with total length 0; per frame it is updated for the real length. */
  readonly ipChecksum: number;
  /** The VNI, for traces. */
  readonly vni: number;

  constructor(bytes: Uint8Array, size: number, l3At: number, ipChecksum: number, vni: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = size;
    this.l3At = l3At;
    this.ipChecksum = ipChecksum;
    this.vni = vni;
  }
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`vxlan tunnel: ${name} ${value} is not an integer in 0..${max}`);
}

/** Build a tunnel's template (setup time: validates, allocates, may throw RangeError). */
export function vxlanTemplate(t: VxlanTunnel): VxlanTemplate {
  checkField('vni', t.vni, 0xffffff);
  checkField('srcMacHi', t.srcMacHi, 0xffff);
  checkField('dstMacHi', t.dstMacHi, 0xffff);
  checkField('srcMacLo', t.srcMacLo, 0xffffffff);
  checkField('dstMacLo', t.dstMacLo, 0xffffffff);
  checkField('srcIp', t.srcIp, 0xffffffff);
  checkField('dstIp', t.dstIp, 0xffffffff);
  const ttl = t.ttl ?? 64;
  const id = t.ipId ?? 0;
  const tos = t.tos ?? 0;
  const port = t.dstPort ?? VXLAN_DEFAULT_PORT;
  checkField('ttl', ttl, 255);
  checkField('ipId', id, 0xffff);
  checkField('tos', tos, 255);
  checkField('dstPort', port, 0xffff);
  const tagged = t.vlanId !== undefined;
  if (tagged) {
    checkField('vlanId', t.vlanId!, 0x0fff);
    checkField('vlanPcp', t.vlanPcp ?? 0, 7);
  }
  const size = tagged ? VXLAN_ENCAP_TAGGED_SIZE : VXLAN_ENCAP_SIZE;
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  v.setUint16(ETH_DST, t.dstMacHi);
  v.setUint32(ETH_DST + 2, t.dstMacLo);
  v.setUint16(ETH_SRC, t.srcMacHi);
  v.setUint32(ETH_SRC + 2, t.srcMacLo);
  let l3 = ETH_HEADER_SIZE;
  if (tagged) {
    v.setUint16(ETH_TYPE, ETHERTYPE_VLAN);
    v.setUint16(ETH_TYPE + 2, vlanTci(t.vlanId!, t.vlanPcp ?? 0));
    v.setUint16(ETH_TYPE + 4, ETHERTYPE_IPV4);
    l3 += VLAN_TAG_SIZE;
  } else {
    v.setUint16(ETH_TYPE, ETHERTYPE_IPV4);
  }
  bytes[l3 + IPV4_VERSION_IHL] = 0x45;
  bytes[l3 + IPV4_TOS] = tos;
  // total length stays 0 here: the per-frame update adds it to the checksum
  v.setUint16(l3 + IPV4_ID, id);
  v.setUint16(l3 + IPV4_FLAGS_FRAGMENT, IPV4_FLAG_DF);
  bytes[l3 + IPV4_TTL] = ttl;
  bytes[l3 + IPV4_PROTOCOL] = IPPROTO_UDP;
  v.setUint32(l3 + IPV4_SRC, t.srcIp);
  v.setUint32(l3 + IPV4_DST, t.dstIp);
  const ipChecksum = checksum(bytes, l3, IPV4_HEADER_SIZE);
  v.setUint16(l3 + IPV4_CHECKSUM, ipChecksum);
  const udp = l3 + IPV4_HEADER_SIZE;
  v.setUint16(udp + UDP_DST_PORT, port);
  const vx = udp + UDP_HEADER_SIZE;
  bytes[vx + VXLAN_FLAGS] = VXLAN_FLAG_I;
  bytes[vx + VXLAN_VNI] = t.vni >>> 16;
  bytes[vx + VXLAN_VNI + 1] = (t.vni >>> 8) & 0xff;
  bytes[vx + VXLAN_VNI + 2] = t.vni & 0xff;
  return new VxlanTemplate(bytes, size, l3, ipChecksum, t.vni);
}

/** The outer UDP source port for a flow's entropy (hash): 49152 + entropy mod 16384. */
export function vxlanSourcePort(entropy: number): number {
  return VXLAN_SOURCE_PORT_BASE | (entropy & SOURCE_PORT_MASK);
}

/** Store the per-frame fields into outer headers already copied to `o`, for an inner frame of `innerSize` bytes. */
function finishOuter(t: VxlanTemplate, dv: DataView, o: number, innerSize: number, entropy: number): void {
  const l3 = o + t.l3At;
  const total = OUTER_IP_SIZE + innerSize;
  dv.setUint16(l3 + IPV4_TOTAL_LENGTH, total);
  dv.setUint16(l3 + IPV4_CHECKSUM, checksumUpdate16(t.ipChecksum, 0, total));
  const udp = l3 + IPV4_HEADER_SIZE;
  dv.setUint16(udp + UDP_SRC_PORT, VXLAN_SOURCE_PORT_BASE | (entropy & SOURCE_PORT_MASK));
  dv.setUint16(udp + UDP_LENGTH, total - IPV4_HEADER_SIZE);
}

/**
 * Encapsulate the inner frame src[start, end) with template `t` into dst at `dstOffset` (not past
 * `dstLimit`). `entropy` picks the UDP source port (pass the flow hash). Returns the total length
 * (t.size + end − start), or -1, writing nothing, when it does not fit, the inner frame is
 * shorter than 14 bytes, or the outer packet would exceed 65535 bytes. Source and destination may
 * be the same slab; the inner frame is moved first (memmove semantics), then the headers written.
 */
export function vxlanEncapCopy(
  t: VxlanTemplate,
  src: Uint8Array,
  sv: DataView,
  start: number,
  end: number,
  dst: Uint8Array,
  dv: DataView,
  dstOffset: number,
  dstLimit: number,
  entropy: number,
): number {
  const innerSize = end - start;
  const size = t.size;
  if (start < 0 || innerSize < ETH_HEADER_SIZE || OUTER_IP_SIZE + innerSize > MAX_IPV4_TOTAL) return -1;
  if (dstOffset < 0 || dstOffset + size + innerSize > dstLimit) return -1;
  copyBytes(src, sv, start, dst, dv, dstOffset + size, innerSize);
  copyBytes(t.bytes, t.view, 0, dst, dv, dstOffset, size);
  finishOuter(t, dv, dstOffset, innerSize, entropy);
  return size + innerSize;
}

/**
 * Encapsulate the frame d[start, end) in place: the outer headers go into the `t.size` bytes
 * before it (50, or 54 with a tag), which the caller owns as headroom. Returns the new start
 * (start − t.size; the end is unchanged), or -1, writing nothing, when start < t.size, the inner
 * frame is shorter than 14 bytes or the outer packet would exceed 65535 bytes.
 */
export function vxlanEncapInPlace(t: VxlanTemplate, d: Uint8Array, v: DataView, start: number, end: number, entropy: number): number {
  const innerSize = end - start;
  const size = t.size;
  if (start < size || innerSize < ETH_HEADER_SIZE || OUTER_IP_SIZE + innerSize > MAX_IPV4_TOTAL) return -1;
  const o = start - size;
  copyBytes(t.bytes, t.view, 0, d, v, o, size);
  finishOuter(t, v, o, innerSize, entropy);
  return o;
}

/**
 * Decap, zero copy: validate that the VXLAN frame whose outer UDP header is at `l4` and whose
 * inner Ethernet frame parse found at `innerL2` (FrameBatch.l4Offsets / innerL2Offsets) carries
 * a usable inner frame, and return its end: the outer UDP payload's end, min(l4 + UDP length,
 * end). The inner frame is then [innerL2, returned end). Returns -1 when innerL2 is not right
 * after the UDP and VXLAN headers, the I flag is clear (RFC 7348: the VNI is then not valid; Linux
 * drops these too), the UDP length is shorter than UDP + VXLAN headers, or fewer than 14 inner
 * bytes remain. A UDP length of 0 (not valid for IPv4) also gives -1. Reads only [l4, end).
 */
export function vxlanDecapEnd(d: Uint8Array, v: DataView, l4: number, innerL2: number, end: number): number {
  if (l4 < 0 || innerL2 !== l4 + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE || innerL2 > end) return -1;
  if ((d[l4 + UDP_HEADER_SIZE + VXLAN_FLAGS]! & VXLAN_FLAG_I) === 0) return -1;
  const udpLength = v.getUint16(l4 + UDP_LENGTH);
  if (udpLength < UDP_HEADER_SIZE + VXLAN_HEADER_SIZE) return -1;
  const payloadEnd = l4 + udpLength < end ? l4 + udpLength : end;
  return payloadEnd - innerL2 >= ETH_HEADER_SIZE ? payloadEnd : -1;
}

/** The 24-bit VNI of the VXLAN header after the UDP header at `l4` (caller has checked l4 + 16 <= end). */
export function vxlanVni(d: Uint8Array, l4: number): number {
  const at = l4 + UDP_HEADER_SIZE + VXLAN_VNI;
  return (d[at]! << 16) | (d[at + 1]! << 8) | d[at + 2]!;
}
