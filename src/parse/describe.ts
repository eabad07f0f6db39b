/**
 * Per-frame description for humans and JSON (`vfp parse`, later `vfp trace`). Built from the
 * batch columns written by parseBatch plus the frame's bytes; this is the one place in parse/
 * that allocates (objects and strings), and it is never on the forwarding path.
 *
 * The JSON shape is the `parse --json` schema of docs/capture-files.md, a promise to users:
 *   n, caplen, len, eth {src, dst, type}, vlan [ids, outer first], ip {v, src, dst, proto, ttl,
 *   frag}, l4 {sport, dport, flags (TCP only)}, icmp {type, code}, arp {op, spa, tpa},
 *   vxlan {vni}, inner {same layer keys}, error.
 * Absent layers are absent keys. One addition: `igmp {type}` for IGMP, which has no home in the
 * fixed keys. Conventions:
 * - `eth.type` is the EtherType after the VLAN tags (what the payload is), not the first TPID.
 * - `ip.proto` for IPv6 is the upper-layer protocol after the extension headers; `ip.ttl` is the
 *   IPv6 hop limit; `ip.frag` is true for a fragment (IPv4 MF or offset, IPv6 fragment header
 *   with M or offset).
 * - `l4.flags` lists the set TCP flags as letters in the order C E U A P R S F (CWR, ECE, URG,
 *   ACK, PSH, RST, SYN, FIN): a SYN is "S", a SYN-ACK "AS", a data segment "AP".
 * - A field whose bytes were not captured is left out, never guessed.
 */
import { KEY_PROTO, keyProtocol } from '../frame/batch.js';
import type { FrameBatch } from '../frame/batch.js';
import {
  FLOW_KEY_WORDS,
  FRAME_FLAG_FRAGMENT,
  FRAME_FLAG_OUTER_FRAGMENT,
  FRAME_FLAG_VXLAN,
} from '../frame/batch.js';
import { PARSE_ERRORS } from '../base/reasons.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../wire/headers.js';
import { formatIPv4, formatIPv6, formatMac, formatTcpFlags } from '../wire/format.js';

export interface EthDescription {
  src: string;
  dst: string;
  type: number;
}
export interface IpDescription {
  v: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  frag: boolean;
}
export interface L4Description {
  sport: number;
  dport: number;
  flags?: string;
}
export interface LayerDescription {
  eth?: EthDescription;
  vlan?: number[];
  ip?: IpDescription;
  l4?: L4Description;
  icmp?: { type: number; code: number };
  igmp?: { type: number };
  arp?: { op: number; spa?: string; tpa?: string };
  vxlan?: { vni: number };
  inner?: LayerDescription;
}
export interface FrameDescription extends LayerDescription {
  n: number;
  caplen: number;
  len: number;
  error?: string;
}

/** The JSON object of `vfp parse --json` for frame i (keys in the schema's order). */
export function describeFrame(batch: FrameBatch, i: number): FrameDescription {
  const start = batch.offsets[i]!;
  const end = Math.min(start + batch.lengths[i]!, batch.data.length);
  const flags = batch.flags[i]!;
  const vxlan = (flags & FRAME_FLAG_VXLAN) !== 0;
  const out: FrameDescription = { n: batch.numbers[i]!, caplen: batch.lengths[i]!, len: batch.wireLengths[i]! };
  const innerEnd = batch.innerL2Offsets[i]! >= 0 ? end : -1;
  describeLayers(out, batch, i, start, end, false, vxlan);
  if (vxlan) {
    const vx = batch.l4Offsets[i]! + 8; // VXLAN header follows the outer UDP header
    if (vx + 8 <= end) out.vxlan = { vni: (batch.data[vx + 4]! << 16) | (batch.data[vx + 5]! << 8) | batch.data[vx + 6]! };
    if (innerEnd >= 0) {
      const inner: LayerDescription = {};
      describeLayers(inner, batch, i, batch.innerL2Offsets[i]!, end, true, false);
      out.inner = inner;
    }
  }
  const err = batch.errors[i]!;
  if (err !== 0) out.error = PARSE_ERRORS[err] ?? `error-${err}`;
  return out;
}

function describeLayers(
  out: LayerDescription,
  batch: FrameBatch,
  i: number,
  o: number,
  end: number,
  inner: boolean,
  outerOfVxlan: boolean,
): void {
  const d = batch.data;
  if (end - o < 14) return;
  const tags = inner ? batch.innerVlanCounts[i]! : batch.vlanCounts[i]!;
  const typeAt = o + 12 + 4 * tags;
  const type = typeAt + 2 <= end ? (d[typeAt]! << 8) | d[typeAt + 1]! : (d[o + 12]! << 8) | d[o + 13]!;
  out.eth = { src: formatMac(d, o + 6), dst: formatMac(d, o), type };
  if (tags > 0) {
    const vlan: number[] = [];
    for (let t = 0; t < tags; t++) vlan.push(((d[o + 14 + 4 * t]! << 8) | d[o + 15 + 4 * t]!) & 0x0fff);
    out.vlan = vlan;
  }
  const l3 = inner ? batch.innerL3Offsets[i]! : batch.l3Offsets[i]!;
  if (l3 < 0) return;
  const keyedProto = keyProtocol(batch.keys[i * FLOW_KEY_WORDS + KEY_PROTO]!);
  const flags = batch.flags[i]!;
  if (type === ETHERTYPE_ARP) {
    if (end - l3 < 8) return;
    const arp: { op: number; spa?: string; tpa?: string } = { op: (d[l3 + 6]! << 8) | d[l3 + 7]! };
    const hlen = d[l3 + 4]!;
    const plen = d[l3 + 5]!;
    const ptype = (d[l3 + 2]! << 8) | d[l3 + 3]!;
    if (plen === 4 && ptype === ETHERTYPE_IPV4 && end - l3 >= 8 + 2 * (hlen + plen)) {
      arp.spa = formatIPv4(d, l3 + 8 + hlen);
      arp.tpa = formatIPv4(d, l3 + 8 + 2 * hlen + 4);
    }
    out.arp = arp;
    return;
  }
  let proto: number;
  if (type === ETHERTYPE_IPV4) {
    if (end - l3 < 20 || d[l3]! >>> 4 !== 4) return;
    proto = d[l3 + 9]!;
    const ff = (d[l3 + 6]! << 8) | d[l3 + 7]!;
    out.ip = {
      v: 4,
      src: formatIPv4(d, l3 + 12),
      dst: formatIPv4(d, l3 + 16),
      proto,
      ttl: d[l3 + 8]!,
      frag: (ff & 0x3fff) !== 0,
    };
  } else if (type === ETHERTYPE_IPV6) {
    if (end - l3 < 40 || d[l3]! >>> 4 !== 6) return;
    // The outer header of a VXLAN frame is always followed by UDP; otherwise the key holds the
    // upper-layer protocol found behind the extension headers.
    proto = outerOfVxlan ? IPPROTO_UDP : keyedProto;
    const frag = outerOfVxlan ? (flags & FRAME_FLAG_OUTER_FRAGMENT) !== 0 : (flags & FRAME_FLAG_FRAGMENT) !== 0;
    out.ip = { v: 6, src: formatIPv6(d, l3 + 8), dst: formatIPv6(d, l3 + 24), proto, ttl: d[l3 + 7]!, frag };
  } else {
    return;
  }
  const l4 = inner ? batch.innerL4Offsets[i]! : batch.l4Offsets[i]!;
  if (l4 < 0) return;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    if (end - l4 < 4) return;
    const desc: L4Description = { sport: (d[l4]! << 8) | d[l4 + 1]!, dport: (d[l4 + 2]! << 8) | d[l4 + 3]! };
    if (proto === IPPROTO_TCP && end - l4 >= 14) desc.flags = formatTcpFlags(d[l4 + 13]!);
    out.l4 = desc;
  } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    if (end - l4 < 2) return;
    out.icmp = { type: d[l4]!, code: d[l4 + 1]! };
  } else if (proto === IPPROTO_IGMP) {
    if (end - l4 < 1) return;
    out.igmp = { type: d[l4]! };
  }
}

const ETHERTYPE_NAMES: Record<number, string> = { 0x0800: 'IPv4', 0x86dd: 'IPv6', 0x0806: 'ARP' };
const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 50: 'ESP', 51: 'AH', 47: 'GRE', 132: 'SCTP' };

function layerText(l: LayerDescription): string {
  const parts: string[] = [];
  if (l.eth) parts.push(`${l.eth.src} > ${l.eth.dst}`);
  if (l.vlan) parts.push(`vlan ${l.vlan.join(',')}`);
  if (l.arp) {
    const op = l.arp.op === 1 ? 'request' : l.arp.op === 2 ? 'reply' : `op ${l.arp.op}`;
    parts.push(`ARP ${op}${l.arp.spa ? ` ${l.arp.spa} > ${l.arp.tpa}` : ''}`);
  } else if (l.ip) {
    const pname = PROTO_NAMES[l.ip.proto] ?? `proto ${l.ip.proto}`;
    const v6 = l.ip.v === 6;
    if (l.l4) {
      const s = v6 ? `[${l.ip.src}]:${l.l4.sport}` : `${l.ip.src}:${l.l4.sport}`;
      const t = v6 ? `[${l.ip.dst}]:${l.l4.dport}` : `${l.ip.dst}:${l.l4.dport}`;
      parts.push(`IPv${l.ip.v} ${s} > ${t} ${pname}${l.l4.flags !== undefined ? ` [${l.l4.flags}]` : ''}`);
    } else {
      parts.push(`IPv${l.ip.v} ${l.ip.src} > ${l.ip.dst} ${pname}`);
      if (l.icmp) parts.push(`type ${l.icmp.type} code ${l.icmp.code}`);
      if (l.igmp) parts.push(`type 0x${l.igmp.type.toString(16)}`);
    }
    parts.push(`ttl ${l.ip.ttl}${l.ip.frag ? ' frag' : ''}`);
  } else if (l.eth) {
    parts.push(l.eth.type < 0x0600 ? `802.3 length ${l.eth.type}` : (ETHERTYPE_NAMES[l.eth.type] ?? `ethertype 0x${l.eth.type.toString(16).padStart(4, '0')}`));
  }
  if (l.vxlan) parts.push(`VXLAN vni ${l.vxlan.vni}`);
  if (l.inner) parts.push(`| ${layerText(l.inner)}`);
  return parts.join(' ');
}

/** One readable line per frame, tcpdump-like: number, addresses, protocol, flags, lengths. */
export function formatFrameText(batch: FrameBatch, i: number): string {
  const f = describeFrame(batch, i);
  const lens = f.caplen === f.len ? `len ${f.len}` : `len ${f.len} (captured ${f.caplen})`;
  return `${f.n} ${layerText(f)} ${lens}${f.error ? ` !${f.error}` : ''}`;
}
