/**
 * The one-pass extractor: for every frame of a batch, walk Ethernet (with any number of
 * 802.1Q/802.1ad tags, bounded), ARP, IPv4 (options, fragments), IPv6 (extension-header chain,
 * bounded), TCP, UDP, ICMP, ICMPv6, IGMP and VXLAN, whose inner Ethernet frame is parsed by the
 * same `parseL2` (one level deep). Results go into the batch's columns: header offsets, flags, a
 * fixed-width flow key (FLOW_KEY_WORDS u32 words, layout in frame/batch.ts) and a symmetric hash.
 *
 * Invariants.
 * - Never reads past the captured bytes: every access is guarded by a length check against `end`
 *   (the frame's captured end, or the outer UDP payload's end for a VXLAN inner frame). A
 *   truncated or malformed frame gets a PARSE_ERRORS id in `errors[i]`; nothing throws. What was
 *   parsed before the problem stays in the columns (tshark shows those fields too).
 * - No allocation: no objects, closures, strings or subarrays per frame; only typed-array stores.
 *   Rare paths (IPv6 extensions, ARP, VXLAN) live in their own functions so the common path stays
 *   small enough for TurboFan to inline.
 * - Loops are bounded by bytes left and by fixed counts (VLAN_MAX_TAGS, IPV6_MAX_EXTENSIONS),
 *   never by a count read from the packet.
 *
 * Length rules. IPv4 total length and IPv6 payload length bound the L4 walk (Ethernet padding is
 * not payload). A length field of 0 on a frame larger than 64 KiB is a BIG TCP / GSO super-frame:
 * the captured bytes are the packet (FRAME_FLAG_BIG). An IPv4 total length of 0 on a smaller frame,
 * or shorter than its header, is `bad-ipv4-total-length`. A length larger than the captured bytes
 * is a snapped frame, not an error: the walk stops at the captured end.
 *
 * VXLAN is recognised by UDP destination port (4789 unless configured), as the Linux kernel does;
 * the I flag is not required (tshark decodes by port too). The key then describes the inner frame
 * and carries the VNI; the outer offsets stay in l3Offsets/l4Offsets.
 *
 * Not handled here, deliberately: reassembly of IP fragments (each frame is judged on its own
 * bytes), tunnels other than VXLAN (GRE, Geneve, IP-in-IP are keyed on their outer header),
 * MPLS, PPPoE, LLC/SNAP payloads (keyed by ethertype only), checksum verification.
 */
import type { FrameBatch } from '../frame/batch.js';
import {
  FLOW_KEY_WORDS,
  FRAME_FLAG_BIG,
  FRAME_FLAG_FRAGMENT,
  FRAME_FLAG_IPV4_OPTIONS,
  FRAME_FLAG_IPV6_EXTENSIONS,
  FRAME_FLAG_LATER_FRAGMENT,
  FRAME_FLAG_OUTER_FRAGMENT,
  FRAME_FLAG_SNAPPED,
  FRAME_FLAG_VXLAN,
  KEY_DST,
  KEY_PORT_ETHERTYPE,
  KEY_PORTS,
  KEY_PROTO,
  KEY_VNI,
  L3_KIND_ARP,
  L3_KIND_IPV4,
  L3_KIND_IPV6,
} from '../frame/batch.js';
import { ParseErrorId as E } from '../base/reasons.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_QINQ_OLD,
  ETHERTYPE_VLAN,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV6_MAX_EXTENSIONS,
  VLAN_MAX_TAGS,
  VXLAN_DEFAULT_PORT,
} from '../wire/headers.js';

// Error ids hoisted to module constants (property loads out of the hot path).
const ERR_TRUNCATED_ETHERNET = E['truncated-ethernet'];
const ERR_TRUNCATED_VLAN = E['truncated-vlan'];
const ERR_TOO_MANY_VLAN_TAGS = E['too-many-vlan-tags'];
const ERR_TRUNCATED_ARP = E['truncated-arp'];
const ERR_TRUNCATED_IPV4 = E['truncated-ipv4'];
const ERR_BAD_IPV4_VERSION = E['bad-ipv4-version'];
const ERR_BAD_IPV4_HEADER_LENGTH = E['bad-ipv4-header-length'];
const ERR_BAD_IPV4_TOTAL_LENGTH = E['bad-ipv4-total-length'];
const ERR_TRUNCATED_IPV6 = E['truncated-ipv6'];
const ERR_BAD_IPV6_VERSION = E['bad-ipv6-version'];
const ERR_TRUNCATED_IPV6_EXTENSION = E['truncated-ipv6-extension'];
const ERR_BAD_IPV6_EXTENSION = E['bad-ipv6-extension'];
const ERR_TOO_MANY_IPV6_EXTENSIONS = E['too-many-ipv6-extensions'];
const ERR_TRUNCATED_TCP = E['truncated-tcp'];
const ERR_BAD_TCP_DATA_OFFSET = E['bad-tcp-data-offset'];
const ERR_TRUNCATED_UDP = E['truncated-udp'];
const ERR_BAD_UDP_LENGTH = E['bad-udp-length'];
const ERR_TRUNCATED_ICMP = E['truncated-icmp'];
const ERR_TRUNCATED_ICMPV6 = E['truncated-icmpv6'];
const ERR_TRUNCATED_IGMP = E['truncated-igmp'];
const ERR_TRUNCATED_VXLAN = E['truncated-vxlan'];

const BIG_FRAME = 65535; // an IP length field cannot describe more than this

/**
 * Parse every frame of the batch. `vxlanPort` is the UDP destination port decoded as VXLAN.
 *
 * The common case (Ethernet untagged or with one 802.1Q tag, IPv4 without options, not a
 * fragment, TCP or non-VXLAN UDP with complete headers) is handled inline here with the columns in locals; every other frame
 * goes through the general walk (`parseL2`). Both produce identical columns: the fuzz test
 * compares them on every mutated frame (`parseBatchGeneral`).
 */
export function parseBatch(batch: FrameBatch, vxlanPort: number = VXLAN_DEFAULT_PORT): void {
  const d = batch.data;
  const v = batch.view;
  const n = batch.count;
  const offsets = batch.offsets;
  const lengths = batch.lengths;
  const wireLengths = batch.wireLengths;
  const errors = batch.errors;
  const flagsCol = batch.flags;
  const vlanCounts = batch.vlanCounts;
  const innerVlanCounts = batch.innerVlanCounts;
  const ethTypeOffsets = batch.ethTypeOffsets;
  const l3Offsets = batch.l3Offsets;
  const l4Offsets = batch.l4Offsets;
  const innerL2Offsets = batch.innerL2Offsets;
  const innerL3Offsets = batch.innerL3Offsets;
  const innerL4Offsets = batch.innerL4Offsets;
  const l3Ends = batch.l3Ends;
  const keys = batch.keys;
  const hashes = batch.hashes;
  // Clamped to int32 (offsets are Int32 columns anyway): a typed array's length may exceed 2^31,
  // so the JIT otherwise does `end > limit` in float64 with a check on the way back (~4 ns a
  // frame on acl-hit, a sixth of the parse).
  const limit = Math.min(d.length, 0x7fffffff) | 0;
  // Columns that the fast path leaves at their "absent" value are reset for the whole batch at
  // once (a memset each) rather than stored frame by frame.
  innerVlanCounts.fill(0, 0, n);
  innerL2Offsets.fill(-1, 0, n);
  innerL3Offsets.fill(-1, 0, n);
  innerL4Offsets.fill(-1, 0, n);
  for (let i = 0; i < n; i++) {
    const o = offsets[i]!;
    const caplen = lengths[i]!;
    let end = o + caplen;
    if (end > limit) end = limit; // a producer bug must not become an out-of-range read
    // ---- fast path: Ethernet (untagged or one 802.1Q tag) / IPv4 (IHL 5, unfragmented) / TCP or UDP
    // Multi-byte fields are read as big-endian words through the DataView (one load + swap).
    if (end - o >= 42) {
      let l3 = o + 14;
      let vid = 0;
      let type = v.getUint16(o + 12);
      if (type === 0x8100) {
        vid = v.getUint16(o + 14) & 0x0fff;
        type = v.getUint16(o + 16);
        l3 = o + 18;
      }
      // version 4 + IHL 5, and neither MF nor a fragment offset
      if (type === 0x0800 && end - l3 >= 28 && d[l3] === 0x45 && (v.getUint16(l3 + 6) & 0x3fff) === 0) {
        const total = v.getUint16(l3 + 2);
        const proto = d[l3 + 9]!;
        const l3end = l3 + total < end ? l3 + total : end;
        const l4 = l3 + 20;
        const avail = l3end - l4;
        let ok = false;
        if (total >= 20) {
          if (proto === 6) {
            const doff = d[l4 + 12]! >>> 4;
            ok = avail >= 20 && doff >= 5 && avail >= doff << 2;
          } else if (proto === 17) {
            const ulen = v.getUint16(l4 + 4);
            ok = avail >= 8 && (ulen === 0 || ulen >= 8) && v.getUint16(l4 + 2) !== vxlanPort;
          }
        }
        if (ok) {
          errors[i] = 0;
          flagsCol[i] = caplen < wireLengths[i]! ? FRAME_FLAG_SNAPPED : 0;
          vlanCounts[i] = l3 === o + 14 ? 0 : 1;
          ethTypeOffsets[i] = l3 - 2;
          l3Offsets[i] = l3;
          l4Offsets[i] = l4;
          l3Ends[i] = l3end;
          const src = v.getUint32(l3 + 12);
          const dst = v.getUint32(l3 + 16);
          const ports = v.getUint32(l4);
          const sp = ports >>> 16;
          const dp = ports & 0xffff;
          const w9 = ((L3_KIND_IPV4 << 24) | (proto << 16) | vid) >>> 0;
          const k = i * FLOW_KEY_WORDS;
          keys[k] = src;
          keys[k + 1] = 0;
          keys[k + 2] = 0;
          keys[k + 3] = 0;
          keys[k + KEY_DST] = dst;
          keys[k + 5] = 0;
          keys[k + 6] = 0;
          keys[k + 7] = 0;
          keys[k + KEY_PORTS] = ports;
          keys[k + KEY_PROTO] = w9;
          keys[k + KEY_VNI] = 0;
          keys[k + KEY_PORT_ETHERTYPE] = 0x0800;
          hashes[i] = finishHash(Math.imul(src ^ dst, H_ADDR_XOR[0]!), Math.imul((src + dst) | 0, H_ADDR_SUM[0]!), (sp ^ dp) | ((sp + dp) << 16), w9, 0, 0x0800);
          continue;
        }
      }
    }
    // ---- general path --------------------------------------------------------------------
    resetFrame(batch, i);
    if (caplen < wireLengths[i]!) flagsCol[i] = FRAME_FLAG_SNAPPED;
    errors[i] = parseL2(batch, d, i, o, end, false, vxlanPort);
    hashes[i] = flowHash(keys, i * FLOW_KEY_WORDS);
  }
}

/**
 * The general walk for every frame, without the inline fast path: the reference that
 * `parseBatch` must agree with (used by the fuzz test).
 */
export function parseBatchGeneral(batch: FrameBatch, vxlanPort: number = VXLAN_DEFAULT_PORT): void {
  for (let i = 0; i < batch.count; i++) parseFrameAt(batch, i, vxlanPort);
}

/** Parse frame i only, by the general walk (tests, trace). */
export function parseFrameAt(batch: FrameBatch, i: number, vxlanPort: number = VXLAN_DEFAULT_PORT): void {
  const d = batch.data;
  const start = batch.offsets[i]!;
  let end = start + batch.lengths[i]!;
  if (end > d.length) end = d.length;
  resetFrame(batch, i);
  if (batch.lengths[i]! < batch.wireLengths[i]!) batch.flags[i] = FRAME_FLAG_SNAPPED;
  batch.errors[i] = parseL2(batch, d, i, start, end, false, vxlanPort);
  batch.hashes[i] = flowHash(batch.keys, i * FLOW_KEY_WORDS);
}

function resetFrame(b: FrameBatch, i: number): void {
  b.errors[i] = 0;
  b.flags[i] = 0;
  b.vlanCounts[i] = 0;
  b.innerVlanCounts[i] = 0;
  b.ethTypeOffsets[i] = -1;
  b.l3Offsets[i] = -1;
  b.l4Offsets[i] = -1;
  b.innerL2Offsets[i] = -1;
  b.innerL3Offsets[i] = -1;
  b.innerL4Offsets[i] = -1;
  b.l3Ends[i] = -1;
}

function clearKey(keys: Uint32Array, k: number): void {
  keys[k] = 0;
  keys[k + 1] = 0;
  keys[k + 2] = 0;
  keys[k + 3] = 0;
  keys[k + KEY_DST] = 0;
  keys[k + 5] = 0;
  keys[k + 6] = 0;
  keys[k + 7] = 0;
  keys[k + KEY_PORTS] = 0;
  keys[k + KEY_PROTO] = 0;
  keys[k + KEY_VNI] = 0;
  keys[k + KEY_PORT_ETHERTYPE] = 0;
}

/**
 * Ethernet + tags, then the L3 dispatch. `inner` selects the inner columns (VXLAN payload).
 * Returns a ParseErrorId (0 = fine).
 */
function parseL2(b: FrameBatch, d: Uint8Array, i: number, o: number, end: number, inner: boolean, vxlanPort: number): number {
  const keys = b.keys;
  const k = i * FLOW_KEY_WORDS;
  clearKey(keys, k);
  if (end - o < 14) return ERR_TRUNCATED_ETHERNET;
  let type = (d[o + 12]! << 8) | d[o + 13]!;
  let p = o + 14;
  let vid = 0;
  let tags = 0;
  let err = 0;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
    if (tags === VLAN_MAX_TAGS) {
      err = ERR_TOO_MANY_VLAN_TAGS;
      break;
    }
    if (end - p < 4) {
      err = ERR_TRUNCATED_VLAN;
      break;
    }
    vid = ((d[p]! << 8) | d[p + 1]!) & 0x0fff;
    type = (d[p + 2]! << 8) | d[p + 3]!;
    p += 4;
    tags++;
  }
  if (inner) {
    b.innerVlanCounts[i] = tags;
  } else {
    b.vlanCounts[i] = tags;
    b.ethTypeOffsets[i] = p - 2;
  }
  keys[k + KEY_PROTO] = vid;
  keys[k + KEY_PORT_ETHERTYPE] = type;
  if (err !== 0) return err;
  if (type === ETHERTYPE_IPV4) return parseIPv4(b, d, i, p, end, inner, vid, vxlanPort);
  if (type === ETHERTYPE_IPV6) return parseIPv6(b, d, i, p, end, inner, vid, vxlanPort);
  if (type === ETHERTYPE_ARP) return parseArp(b, d, i, p, end, inner, vid);
  return 0;
}

function parseIPv4(b: FrameBatch, d: Uint8Array, i: number, o: number, end: number, inner: boolean, vid: number, vxlanPort: number): number {
  const keys = b.keys;
  const k = i * FLOW_KEY_WORDS;
  if (inner) b.innerL3Offsets[i] = o;
  else b.l3Offsets[i] = o;
  keys[k + KEY_PROTO] = (L3_KIND_IPV4 << 24) | vid;
  if (end - o < 20) return ERR_TRUNCATED_IPV4;
  const vihl = d[o]!;
  if (vihl >>> 4 !== 4) return ERR_BAD_IPV4_VERSION;
  const ihl = (vihl & 15) << 2;
  keys[k] = ((d[o + 12]! << 24) | (d[o + 13]! << 16) | (d[o + 14]! << 8) | d[o + 15]!) >>> 0;
  keys[k + KEY_DST] = ((d[o + 16]! << 24) | (d[o + 17]! << 16) | (d[o + 18]! << 8) | d[o + 19]!) >>> 0;
  const proto = d[o + 9]!;
  keys[k + KEY_PROTO] = (L3_KIND_IPV4 << 24) | (proto << 16) | vid;
  if (ihl < 20) return ERR_BAD_IPV4_HEADER_LENGTH;
  if (end - o < ihl) return ERR_TRUNCATED_IPV4;
  let flags = b.flags[i]!;
  if (ihl > 20) flags |= FRAME_FLAG_IPV4_OPTIONS;
  const total = (d[o + 2]! << 8) | d[o + 3]!;
  let l3end: number;
  if (total === 0) {
    if (end - o <= BIG_FRAME) {
      b.flags[i] = flags;
      return ERR_BAD_IPV4_TOTAL_LENGTH;
    }
    l3end = end;
    flags |= FRAME_FLAG_BIG;
  } else if (total < ihl) {
    b.flags[i] = flags;
    return ERR_BAD_IPV4_TOTAL_LENGTH;
  } else {
    l3end = o + total < end ? o + total : end;
  }
  b.l3Ends[i] = l3end;
  const ff = (d[o + 6]! << 8) | d[o + 7]!;
  if ((ff & 0x3fff) !== 0) {
    flags |= FRAME_FLAG_FRAGMENT;
    if ((ff & 0x1fff) !== 0) {
      b.flags[i] = flags | FRAME_FLAG_LATER_FRAGMENT;
      return 0; // a non-first fragment carries no L4 header
    }
  }
  b.flags[i] = flags;
  return parseL4(b, d, i, o + ihl, l3end, proto, inner, vxlanPort);
}

function parseIPv6(b: FrameBatch, d: Uint8Array, i: number, o: number, end: number, inner: boolean, vid: number, vxlanPort: number): number {
  const keys = b.keys;
  const k = i * FLOW_KEY_WORDS;
  if (inner) b.innerL3Offsets[i] = o;
  else b.l3Offsets[i] = o;
  keys[k + KEY_PROTO] = (L3_KIND_IPV6 << 24) | vid;
  if (end - o < 40) return ERR_TRUNCATED_IPV6;
  if (d[o]! >>> 4 !== 6) return ERR_BAD_IPV6_VERSION;
  for (let w = 0; w < 4; w++) {
    const s = o + 8 + 4 * w;
    keys[k + w] = ((d[s]! << 24) | (d[s + 1]! << 16) | (d[s + 2]! << 8) | d[s + 3]!) >>> 0;
    const t = s + 16;
    keys[k + 4 + w] = ((d[t]! << 24) | (d[t + 1]! << 16) | (d[t + 2]! << 8) | d[t + 3]!) >>> 0;
  }
  let nh = d[o + 6]!;
  keys[k + KEY_PROTO] = (L3_KIND_IPV6 << 24) | (nh << 16) | vid;
  const plen = (d[o + 4]! << 8) | d[o + 5]!;
  let flags = b.flags[i]!;
  let l3end: number;
  if (plen === 0 && (nh === IPPROTO_HOPOPTS || end - o - 40 > BIG_FRAME)) {
    // Jumbogram (RFC 2675) or BIG TCP: the captured bytes are the packet.
    l3end = end;
    if (end - o - 40 > BIG_FRAME) flags |= FRAME_FLAG_BIG;
  } else {
    l3end = o + 40 + plen < end ? o + 40 + plen : end;
  }
  b.l3Ends[i] = l3end;
  let p = o + 40;
  if (nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT || nh === IPPROTO_DSTOPTS || nh === IPPROTO_AH) {
    b.flags[i] = flags | FRAME_FLAG_IPV6_EXTENSIONS;
    p = walkIPv6Extensions(b, d, i, p, l3end, end);
    if (p < 0) return -p; // an error id
    nh = keys[k + KEY_PROTO]! >>> 16 & 0xff;
    if ((b.flags[i]! & FRAME_FLAG_LATER_FRAGMENT) !== 0) return 0;
  } else {
    b.flags[i] = flags;
  }
  return parseL4(b, d, i, p, l3end, nh, inner, vxlanPort);
}

/**
 * Walk hop-by-hop, routing, fragment, destination-options and AH headers starting at `p`.
 * Updates the key's protocol as it goes (so a truncated chain still shows the last protocol
 * reached) and returns the offset of the upper-layer header, or -(error id). A header that runs
 * past the captured bytes is `truncated-ipv6-extension`; one that runs past the packet's own
 * payload length while the bytes are there is `bad-ipv6-extension`.
 */
function walkIPv6Extensions(b: FrameBatch, d: Uint8Array, i: number, p: number, l3end: number, end: number): number {
  const short = l3end < end ? ERR_BAD_IPV6_EXTENSION : ERR_TRUNCATED_IPV6_EXTENSION;
  const keys = b.keys;
  const k = i * FLOW_KEY_WORDS;
  const head = keys[k + KEY_PROTO]! & 0xff00ffff;
  let nh = (keys[k + KEY_PROTO]! >>> 16) & 0xff;
  for (let count = 0; ; count++) {
    if (!(nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT || nh === IPPROTO_DSTOPTS || nh === IPPROTO_AH)) {
      return p;
    }
    if (count === IPV6_MAX_EXTENSIONS) return -ERR_TOO_MANY_IPV6_EXTENSIONS;
    if (l3end - p < 2) return -short;
    let size: number;
    if (nh === IPPROTO_FRAGMENT) {
      size = 8;
      if (l3end - p < 8) return -short;
      const offsetFlags = (d[p + 2]! << 8) | d[p + 3]!;
      if ((offsetFlags & 0xfff9) !== 0) {
        // offset != 0 or M set: a real fragment (an "atomic" one, RFC 6946, is not)
        let f = b.flags[i]! | FRAME_FLAG_FRAGMENT;
        if (offsetFlags >>> 3 !== 0) f |= FRAME_FLAG_LATER_FRAGMENT;
        b.flags[i] = f;
      }
    } else if (nh === IPPROTO_AH) {
      size = (d[p + 1]! + 2) << 2;
    } else {
      size = (d[p + 1]! + 1) << 3;
    }
    if (l3end - p < size) return -short;
    nh = d[p]!;
    keys[k + KEY_PROTO] = (head | (nh << 16)) >>> 0;
    p += size;
    if ((b.flags[i]! & FRAME_FLAG_LATER_FRAGMENT) !== 0) return p;
  }
}

function parseL4(b: FrameBatch, d: Uint8Array, i: number, o: number, l3end: number, proto: number, inner: boolean, vxlanPort: number): number {
  const avail = l3end - o;
  const keys = b.keys;
  const k = i * FLOW_KEY_WORDS;
  if (proto === IPPROTO_TCP) {
    if (inner) b.innerL4Offsets[i] = o;
    else b.l4Offsets[i] = o;
    if (avail < 4) return ERR_TRUNCATED_TCP;
    keys[k + KEY_PORTS] = ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
    if (avail < 20) return ERR_TRUNCATED_TCP;
    const doff = d[o + 12]! >>> 4;
    if (doff < 5) return ERR_BAD_TCP_DATA_OFFSET;
    if (avail < doff << 2) return ERR_TRUNCATED_TCP;
    return 0;
  }
  if (proto === IPPROTO_UDP) {
    if (inner) b.innerL4Offsets[i] = o;
    else b.l4Offsets[i] = o;
    if (avail < 4) return ERR_TRUNCATED_UDP;
    keys[k + KEY_PORTS] = ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
    if (avail < 8) return ERR_TRUNCATED_UDP;
    const ulen = (d[o + 4]! << 8) | d[o + 5]!;
    if (ulen !== 0 && ulen < 8) return ERR_BAD_UDP_LENGTH;
    if (!inner && ((d[o + 2]! << 8) | d[o + 3]!) === vxlanPort) {
      const payloadEnd = ulen === 0 || o + ulen > l3end ? l3end : o + ulen;
      return parseVxlan(b, d, i, o + 8, payloadEnd, vxlanPort);
    }
    return 0;
  }
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    if (inner) b.innerL4Offsets[i] = o;
    else b.l4Offsets[i] = o;
    const truncated = proto === IPPROTO_ICMP ? ERR_TRUNCATED_ICMP : ERR_TRUNCATED_ICMPV6;
    if (avail < 4) return truncated;
    const type = d[o]!;
    const typeCode = (type << 8) | d[o + 1]!;
    const echo = proto === IPPROTO_ICMP ? type === 8 || type === 0 : type === 128 || type === 129;
    if (echo) {
      if (avail < 8) {
        keys[k + KEY_PORTS] = (typeCode << 16) >>> 0;
        return truncated;
      }
      keys[k + KEY_PORTS] = ((typeCode << 16) | (d[o + 4]! << 8) | d[o + 5]!) >>> 0;
    } else {
      keys[k + KEY_PORTS] = (typeCode << 16) >>> 0;
    }
    return 0;
  }
  if (proto === IPPROTO_IGMP) {
    if (inner) b.innerL4Offsets[i] = o;
    else b.l4Offsets[i] = o;
    if (avail < 1) return ERR_TRUNCATED_IGMP;
    keys[k + KEY_PORTS] = (d[o]! << 24) >>> 0;
    if (avail < 8) return ERR_TRUNCATED_IGMP;
    return 0;
  }
  return 0;
}

/** VXLAN header at `o`, payload (inner Ethernet) up to `end`. Outer flags move to OUTER_*. */
function parseVxlan(b: FrameBatch, d: Uint8Array, i: number, o: number, end: number, vxlanPort: number): number {
  const f = b.flags[i]!;
  b.flags[i] =
    (f & ~(FRAME_FLAG_FRAGMENT | FRAME_FLAG_LATER_FRAGMENT)) |
    FRAME_FLAG_VXLAN |
    ((f & FRAME_FLAG_FRAGMENT) !== 0 ? FRAME_FLAG_OUTER_FRAGMENT : 0);
  if (end - o < 8) return ERR_TRUNCATED_VXLAN;
  const vni = (d[o + 4]! << 16) | (d[o + 5]! << 8) | d[o + 6]!;
  b.innerL2Offsets[i] = o + 8;
  const err = parseL2(b, d, i, o + 8, end, true, vxlanPort);
  b.keys[i * FLOW_KEY_WORDS + 10] = (0x80000000 | vni) >>> 0;
  return err;
}

function parseArp(b: FrameBatch, d: Uint8Array, i: number, o: number, end: number, inner: boolean, vid: number): number {
  const keys = b.keys;
  const k = i * FLOW_KEY_WORDS;
  if (inner) b.innerL3Offsets[i] = o;
  else b.l3Offsets[i] = o;
  keys[k + KEY_PROTO] = (L3_KIND_ARP << 24) | vid;
  if (end - o < 8) return ERR_TRUNCATED_ARP;
  const op = (d[o + 6]! << 8) | d[o + 7]!;
  keys[k + KEY_PROTO] = (L3_KIND_ARP << 24) | ((op & 0xff) << 16) | vid;
  const hlen = d[o + 4]!;
  const plen = d[o + 5]!;
  const ptype = (d[o + 2]! << 8) | d[o + 3]!;
  if (end - o < 8 + 2 * (hlen + plen)) return ERR_TRUNCATED_ARP;
  if (plen === 4 && ptype === ETHERTYPE_IPV4) {
    const spa = o + 8 + hlen;
    const tpa = spa + 4 + hlen;
    keys[k] = ((d[spa]! << 24) | (d[spa + 1]! << 16) | (d[spa + 2]! << 8) | d[spa + 3]!) >>> 0;
    keys[k + KEY_DST] = ((d[tpa]! << 24) | (d[tpa + 1]! << 16) | (d[tpa + 2]! << 8) | d[tpa + 3]!) >>> 0;
  }
  return 0;
}

// ---- symmetric flow hash --------------------------------------------------------------------

// Odd multipliers, one per address word, for the XOR and the SUM of the address pair.
const H_ADDR_XOR = new Int32Array([0x9e3779b1 | 0, 0x7feb352d, 0x846ca68b | 0, 0x2c1b3c6d]);
const H_ADDR_SUM = new Int32Array([0x85ebca77 | 0, 0xc2b2ae3d | 0, 0x27d4eb2f, 0x165667b1]);

/** Combine the symmetric parts and finalise with murmur3's fmix32. */
function finishHash(addrXor: number, addrSum: number, ports: number, w9: number, w10: number, w11: number): number {
  let h = addrXor ^ ((addrSum << 13) | (addrSum >>> 19));
  h ^= Math.imul(ports, 0xcc9e2d51 | 0);
  h ^= Math.imul(w9 ^ Math.imul(w10, 0x1b873593) ^ (w11 << 8), 0x2c1b3c6d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b | 0);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35 | 0);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A hash of the key that is the same for both directions of a flow: each address pair enters only
 * through its XOR and its sum, and the port pair through (sp ^ dp) | (sp + dp) << 16, none of
 * which depend on the order of the pair. Direction-specific fields are left out: ICMP type/code
 * (request 8 vs reply 0; the echo identifier stays) and the ARP opcode. Zero address words add
 * nothing, so an IPv4 key hashes as its first words alone (the inline fast path relies on that).
 */
export function flowHash(keys: Uint32Array, k: number): number {
  const w9 = keys[k + KEY_PROTO]!;
  const kind = w9 >>> 24;
  const proto = (w9 >>> 16) & 0xff;
  let x = 0;
  let y = 0;
  // Only IPv6 keys use address words 1..3 (zero otherwise, and zero words add nothing).
  const words = kind === L3_KIND_IPV6 ? 4 : 1;
  for (let w = 0; w < words; w++) {
    const a = keys[k + w]!;
    const c = keys[k + 4 + w]!;
    x ^= Math.imul(a ^ c, H_ADDR_XOR[w]!);
    y = (y + Math.imul((a + c) | 0, H_ADDR_SUM[w]!)) | 0;
  }
  const ports = keys[k + KEY_PORTS]!;
  let p: number;
  if ((kind === L3_KIND_IPV4 && proto === IPPROTO_ICMP) || (kind === L3_KIND_IPV6 && proto === IPPROTO_ICMPV6)) {
    p = ports & 0xffff; // echo identifier only
  } else {
    const sp = ports >>> 16;
    const dp = ports & 0xffff;
    p = (sp ^ dp) | ((sp + dp) << 16);
  }
  return finishHash(x, y, p, kind === L3_KIND_ARP ? (w9 & 0xff00ffff) >>> 0 : w9, keys[k + KEY_VNI]!, keys[k + KEY_PORT_ETHERTYPE]! & 0xffff);
}
