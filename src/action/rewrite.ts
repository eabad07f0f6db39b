/**
 * Modify transpositions ("Modify(L2)", "Modify(L3 src, L4 src)", ...: header transpositions as
 * the VFP paper calls them, https://www.usenix.org/conference/nsdi17/technical-sessions/presentation/firestone):
 * overwrite header fields of a frame in place and keep every checksum that covers them right, by
 * RFC 1624 incremental update rather than recomputation (a NAT rewrite costs a few adds, not a
 * pass over the payload).
 *
 * Calling convention. Every function works on `(d, v, offsets…)`: `d` is the slab, `v` a DataView
 * over exactly the same bytes (base/bytes.ts `viewOf`; what FrameBatch.view is), and offsets are
 * absolute indices into `d`, as the FrameBatch columns hold them: `l2` (offsets[i]), `l3`
 * (l3Offsets[i]), `l4` (l4Offsets[i], -1 when absent) and `end` (offsets[i] + lengths[i], the
 * captured end). Every function takes `(d, v, ...)` even when it needs only one of them, so that
 * generated code (vfp/'s compiled transpositions) calls them all alike. A function touches only bytes in [its first header offset, end); it first checks
 * that every byte it will read or write lies there and, if not, writes nothing and returns
 * false (-1 for the TTL functions). Nothing allocates, throws or loops over the payload.
 *
 * Checksum rules, per RFC 768/793/792/8200:
 * - IPv4 header checksum: always updated for an IPv4 address or TTL change.
 * - TCP and UDP include a pseudo-header with the addresses, so an address change updates them;
 *   a port change updates them too. ICMP (v4) has no pseudo-header: an IPv4 address change leaves
 *   it alone. ICMPv6 does include the IPv6 pseudo-header, so an IPv6 address change updates it.
 * - UDP checksum 0 means "none": it stays 0. A UDP checksum that would become 0 is written 0xffff
 *   (the same one's-complement value, RFC 768).
 * - Fragments: only the first fragment (or an unfragmented packet) carries the L4 header, so only
 *   there is the L4 checksum touched. The caller says which by `l4`: pass -1 to leave L4 alone
 *   (FrameBatch.l4Offsets is already -1 for non-first fragments); the IPv4 functions also refuse
 *   to touch L4 when the header's fragment offset is non-zero, so a stray l4 cannot corrupt a
 *   later fragment's payload.
 *
 * An IPv4 address is a u32 (as in the flow key's words); an IPv6 address is four u32 words, big
 * endian (key words w0..w3 / w4..w7); a MAC is (high 16 bits, low 32 bits) as in synth/build.ts.
 *
 * Not handled, deliberately: the headers quoted inside ICMP error messages (a NAT must translate
 * them too; that belongs with nat/'s ICMP error path), IPv6 routing headers (with segments left
 * the pseudo-header uses the final destination, not the header's destination field), IPv4
 * options that carry addresses (record route, source route), SCTP/DCCP checksums, and protocols
 * other than TCP/UDP/ICMP/ICMPv6 beyond the IP header itself.
 */
import { checksumUpdate16 } from '../base/checksum.js';
import {
  ETH_DST,
  ETH_SRC,
  ICMP_CHECKSUM,
  ICMP_ECHO_ID,
  ICMP_ECHO_SIZE,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_CHECKSUM,
  IPV4_DST,
  IPV4_FLAGS_FRAGMENT,
  IPV4_FRAGMENT_OFFSET_MASK,
  IPV4_HEADER_SIZE,
  IPV4_PROTOCOL,
  IPV4_SRC,
  IPV4_TTL,
  IPV4_VERSION_IHL,
  IPV6_DST,
  IPV6_HEADER_SIZE,
  IPV6_HOP_LIMIT,
  IPV6_SRC,
  TCP_CHECKSUM,
  TCP_DST_PORT,
  TCP_SRC_PORT,
  UDP_CHECKSUM,
} from '../wire/headers.js';

// ---- helpers (small enough for TurboFan to inline) ------------------------------------------------

/**
 * The one's-complement difference a 32-bit field change adds to a checksum sum: ~old + new, as
 * two 16-bit halves each (RFC 1624 eqn. 3's ~m + m'). Unfolded, at most 4 × 0xffff.
 */
function delta32(oldValue: number, newValue: number): number {
  return (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff);
}

/** RFC 1624 eqn. 3 with a precomputed difference: HC' = ~(~HC + delta). */
function applyDelta(oldChecksum: number, delta: number): number {
  let sum = (~oldChecksum & 0xffff) + delta;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Offset of the TCP/UDP/ICMPv6 checksum field inside the L4 header for `protocol`, or -1 when
 * the protocol's checksum does not cover a pseudo-header (ICMP v4, anything else).
 */
function pseudoChecksumAt(protocol: number): number {
  if (protocol === IPPROTO_TCP) return TCP_CHECKSUM;
  if (protocol === IPPROTO_UDP) return UDP_CHECKSUM;
  if (protocol === IPPROTO_ICMPV6) return ICMP_CHECKSUM;
  return -1;
}

/**
 * Apply `delta` to the L4 checksum at `at` with UDP's rules (0 stays 0, 0 becomes 0xffff).
 */
function updateL4Checksum(v: DataView, at: number, protocol: number, delta: number): void {
  const old = v.getUint16(at);
  if (protocol === IPPROTO_UDP) {
    if (old === 0) return; // no checksum was sent: none is due
    const sum = applyDelta(old, delta);
    v.setUint16(at, sum === 0 ? 0xffff : sum);
    return;
  }
  v.setUint16(at, applyDelta(old, delta));
}

// ---- L2 -----------------------------------------------------------------------------------------------

/** Set the source MAC of the Ethernet header at `l2` to (hi16, lo32). False when l2 + 12 > end. */
export function rewriteSrcMac(_d: Uint8Array, v: DataView, l2: number, end: number, hi16: number, lo32: number): boolean {
  if (l2 < 0 || l2 + ETH_SRC + 6 > end) return false;
  v.setUint16(l2 + ETH_SRC, hi16);
  v.setUint32(l2 + ETH_SRC + 2, lo32);
  return true;
}

/** Set the destination MAC of the Ethernet header at `l2` to (hi16, lo32). False when l2 + 6 > end. */
export function rewriteDstMac(_d: Uint8Array, v: DataView, l2: number, end: number, hi16: number, lo32: number): boolean {
  if (l2 < 0 || l2 + ETH_DST + 6 > end) return false;
  v.setUint16(l2 + ETH_DST, hi16);
  v.setUint32(l2 + ETH_DST + 2, lo32);
  return true;
}

// ---- IPv4 ---------------------------------------------------------------------------------------------

/**
 * Shared body of the IPv4 address rewrites: field at l3 + `fieldAt` (IPV4_SRC or IPV4_DST).
 * Range checks first, then writes, so a refused call leaves the frame as it was.
 */
function rewriteIPv4Address(d: Uint8Array, v: DataView, l3: number, l4: number, end: number, fieldAt: number, address: number): boolean {
  if (l3 < 0 || l3 + IPV4_HEADER_SIZE > end) return false;
  const vihl = d[l3 + IPV4_VERSION_IHL]!;
  if (vihl >>> 4 !== 4 || l3 + ((vihl & 15) << 2) > end || (vihl & 15) < 5) return false;
  const protocol = d[l3 + IPV4_PROTOCOL]!;
  // The L4 checksum exists only in a first fragment (offset 0), and only TCP/UDP cover addresses.
  let l4At = -1;
  if (l4 >= 0 && (v.getUint16(l3 + IPV4_FLAGS_FRAGMENT) & IPV4_FRAGMENT_OFFSET_MASK) === 0) {
    if (protocol === IPPROTO_TCP) l4At = l4 + TCP_CHECKSUM;
    else if (protocol === IPPROTO_UDP) l4At = l4 + UDP_CHECKSUM;
    if (l4At >= 0 && l4At + 2 > end) return false;
  }
  const old = v.getUint32(l3 + fieldAt);
  const delta = delta32(old, address >>> 0);
  v.setUint32(l3 + fieldAt, address >>> 0);
  v.setUint16(l3 + IPV4_CHECKSUM, applyDelta(v.getUint16(l3 + IPV4_CHECKSUM), delta));
  if (l4At >= 0) updateL4Checksum(v, l4At, protocol, delta);
  return true;
}

/**
 * Set the IPv4 source address; fixes the IPv4 header checksum and, when `l4` >= 0 and the packet
 * is not a later fragment, the TCP or UDP checksum (ICMP has no pseudo-header). Returns false,
 * writing nothing, when the IPv4 header (or the L4 checksum it must fix) is not inside [l3, end)
 * or the version is not 4.
 */
export function rewriteIPv4Src(d: Uint8Array, v: DataView, l3: number, l4: number, end: number, address: number): boolean {
  return rewriteIPv4Address(d, v, l3, l4, end, IPV4_SRC, address);
}

/** As `rewriteIPv4Src`, for the destination address. */
export function rewriteIPv4Dst(d: Uint8Array, v: DataView, l3: number, l4: number, end: number, address: number): boolean {
  return rewriteIPv4Address(d, v, l3, l4, end, IPV4_DST, address);
}

/**
 * Decrement the IPv4 TTL and fix the header checksum (the TTL shares a 16-bit word with the
 * protocol: RFC 1141's update of that word). Returns the new TTL, so 0 means "expired: drop with
 * ttl-expired"; a TTL already 0 is left as it is and 0 returned. -1 when the header is not inside
 * [l3, end).
 */
export function rewriteDecrementTtl(d: Uint8Array, v: DataView, l3: number, end: number): number {
  if (l3 < 0 || l3 + IPV4_HEADER_SIZE > end || d[l3]! >>> 4 !== 4) return -1;
  const word = v.getUint16(l3 + IPV4_TTL); // TTL << 8 | protocol
  if (word < 0x100) return 0;
  const next = word - 0x100;
  v.setUint16(l3 + IPV4_TTL, next);
  v.setUint16(l3 + IPV4_CHECKSUM, checksumUpdate16(v.getUint16(l3 + IPV4_CHECKSUM), word, next));
  return next >>> 8;
}

// ---- L4 ports and ICMP identifiers ------------------------------------------------------------------

/**
 * Shared body of the port rewrites: TCP/UDP port field at l4 + `fieldAt`. The port is covered by
 * the L4 checksum whatever the IP version, so the same code serves IPv4 and IPv6.
 */
function rewritePort(v: DataView, l4: number, end: number, protocol: number, fieldAt: number, port: number): boolean {
  let at: number;
  if (protocol === IPPROTO_TCP) at = l4 + TCP_CHECKSUM;
  else if (protocol === IPPROTO_UDP) at = l4 + UDP_CHECKSUM;
  else return false;
  if (l4 < 0 || at + 2 > end) return false;
  const old = v.getUint16(l4 + fieldAt);
  port &= 0xffff;
  v.setUint16(l4 + fieldAt, port);
  updateL4Checksum(v, at, protocol, (~old & 0xffff) + port);
  return true;
}

/**
 * Set the TCP or UDP source port (`protocol` 6 or 17: the IPv4 protocol byte, or the flow key's
 * upper-layer protocol for IPv6) and fix the L4 checksum (UDP 0 stays 0). Pass the L4 offset of
 * a first fragment only (later fragments have no L4 header: FrameBatch.l4Offsets is -1 there).
 * False, writing nothing, for another protocol, l4 < 0 or a header cut before its checksum.
 */
export function rewriteL4SrcPort(_d: Uint8Array, v: DataView, l4: number, end: number, protocol: number, port: number): boolean {
  return rewritePort(v, l4, end, protocol, TCP_SRC_PORT, port);
}

/** As `rewriteL4SrcPort`, for the destination port. */
export function rewriteL4DstPort(_d: Uint8Array, v: DataView, l4: number, end: number, protocol: number, port: number): boolean {
  return rewritePort(v, l4, end, protocol, TCP_DST_PORT, port);
}

/**
 * Set the identifier of an ICMP or ICMPv6 echo request/reply and fix the ICMP checksum (the
 * identifier is inside the message the checksum covers; no pseudo-header is involved, so this is
 * the same for both versions). The caller has checked the type (flow key w8); the function checks
 * only that the 8-byte echo header is inside [l4, end).
 */
export function rewriteIcmpEchoId(_d: Uint8Array, v: DataView, l4: number, end: number, id: number): boolean {
  if (l4 < 0 || l4 + ICMP_ECHO_SIZE > end) return false;
  const old = v.getUint16(l4 + ICMP_ECHO_ID);
  id &= 0xffff;
  v.setUint16(l4 + ICMP_ECHO_ID, id);
  v.setUint16(l4 + ICMP_CHECKSUM, checksumUpdate16(v.getUint16(l4 + ICMP_CHECKSUM), old, id));
  return true;
}

// ---- IPv6 ---------------------------------------------------------------------------------------------

/**
 * Shared body of the IPv6 address rewrites: 16-byte field at l3 + `fieldAt`. One difference sum
 * over the eight 16-bit words, applied once to the L4 checksum.
 */
function rewriteIPv6Address(
  d: Uint8Array,
  v: DataView,
  l3: number,
  l4: number,
  end: number,
  protocol: number,
  fieldAt: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): boolean {
  if (l3 < 0 || l3 + IPV6_HEADER_SIZE > end || d[l3]! >>> 4 !== 6) return false;
  const offsetInL4 = l4 >= 0 ? pseudoChecksumAt(protocol) : -1;
  if (offsetInL4 >= 0 && l4 + offsetInL4 + 2 > end) return false;
  const at = l3 + fieldAt;
  const delta =
    delta32(v.getUint32(at), w0 >>> 0) + delta32(v.getUint32(at + 4), w1 >>> 0) + delta32(v.getUint32(at + 8), w2 >>> 0) + delta32(v.getUint32(at + 12), w3 >>> 0);
  v.setUint32(at, w0 >>> 0);
  v.setUint32(at + 4, w1 >>> 0);
  v.setUint32(at + 8, w2 >>> 0);
  v.setUint32(at + 12, w3 >>> 0);
  if (offsetInL4 >= 0) updateL4Checksum(v, l4 + offsetInL4, protocol, delta);
  return true;
}

/**
 * Set the IPv6 source address to the words (w0..w3, big endian) and fix the TCP, UDP or ICMPv6
 * checksum (all three cover the pseudo-header). `protocol` is the upper-layer protocol after the
 * extension headers (flow key w9); `l4` -1 leaves L4 alone (non-first fragment). False, writing
 * nothing, when the fixed header or the checksum field is not inside [l3, end).
 */
export function rewriteIPv6Src(
  d: Uint8Array,
  v: DataView,
  l3: number,
  l4: number,
  end: number,
  protocol: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): boolean {
  return rewriteIPv6Address(d, v, l3, l4, end, protocol, IPV6_SRC, w0, w1, w2, w3);
}

/** As `rewriteIPv6Src`, for the destination address. */
export function rewriteIPv6Dst(
  d: Uint8Array,
  v: DataView,
  l3: number,
  l4: number,
  end: number,
  protocol: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): boolean {
  return rewriteIPv6Address(d, v, l3, l4, end, protocol, IPV6_DST, w0, w1, w2, w3);
}

/**
 * Decrement the IPv6 hop limit (no header checksum in IPv6). Returns the new hop limit (0 =
 * expired; 0 stays 0), or -1 when the fixed header is not inside [l3, end).
 */
export function rewriteDecrementHopLimit(d: Uint8Array, _v: DataView, l3: number, end: number): number {
  if (l3 < 0 || l3 + IPV6_HEADER_SIZE > end) return -1;
  const hops = d[l3 + IPV6_HOP_LIMIT]!;
  if (hops === 0) return 0;
  d[l3 + IPV6_HOP_LIMIT] = hops - 1;
  return hops - 1;
}
