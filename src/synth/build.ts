/**
 * Header builders for synth/: write Ethernet, 802.1Q, ARP, IPv4, IPv6, TCP, UDP, ICMP and VXLAN
 * headers into a caller's scratch buffer at an offset, and fill in the checksums.
 *
 * Why here and not in wire/: wire/ holds layouts and pure readers that every layer shares; these
 * writers exist only to manufacture traffic (tests, benches, `vfp synth`), and keeping them next
 * to their only user keeps wire/ small. They use wire/'s offset constants, so a layout has one home.
 *
 * Conventions. Every writer takes `(d, o, ...)` with `o` the header's start and returns the offset
 * just past what it wrote, so a frame is built by chaining calls. Nothing allocates: MACs are
 * passed as two numbers (high 16 bits, low 32 bits) and IPv4 addresses as u32 words. Checksums
 * are computed last, by `finishIPv4` / `finishL4v4` / `finishL4v6`, once the payload is in place,
 * because the TCP/UDP checksum covers the payload.
 */
import { checksum, checksumFold, checksumPartial, pseudoHeaderSum4, pseudoHeaderSum6 } from '../base/checksum.js';
import {
  ARP_HEADER_SIZE,
  ETH_HEADER_SIZE,
  ETHERTYPE_IPV4,
  ETHERTYPE_VLAN,
  IPPROTO_UDP,
  IPV4_CHECKSUM,
  IPV4_HEADER_SIZE,
  IPV6_HEADER_SIZE,
  TCP_CHECKSUM,
  UDP_CHECKSUM,
  UDP_HEADER_SIZE,
  VXLAN_FLAG_I,
  VXLAN_HEADER_SIZE,
} from '../wire/headers.js';

/** A MAC as (high 16 bits, low 32 bits), e.g. 00:15:5d:aa:10:0a = (0x0015, 0x5daa100a). */
export function writeMac(d: Uint8Array, o: number, hi16: number, lo32: number): void {
  d[o] = hi16 >>> 8;
  d[o + 1] = hi16 & 0xff;
  d[o + 2] = lo32 >>> 24;
  d[o + 3] = (lo32 >>> 16) & 0xff;
  d[o + 4] = (lo32 >>> 8) & 0xff;
  d[o + 5] = lo32 & 0xff;
}

export function writeU16(d: Uint8Array, o: number, v: number): void {
  d[o] = (v >>> 8) & 0xff;
  d[o + 1] = v & 0xff;
}

export function writeU32(d: Uint8Array, o: number, v: number): void {
  d[o] = v >>> 24;
  d[o + 1] = (v >>> 16) & 0xff;
  d[o + 2] = (v >>> 8) & 0xff;
  d[o + 3] = v & 0xff;
}

/** Ethernet II header; returns the offset after it. */
export function writeEth(d: Uint8Array, o: number, dstHi: number, dstLo: number, srcHi: number, srcLo: number, type: number): number {
  writeMac(d, o, dstHi, dstLo);
  writeMac(d, o + 6, srcHi, srcLo);
  writeU16(d, o + 12, type);
  return o + ETH_HEADER_SIZE;
}

/**
 * An 802.1Q tag written over the EtherType of the header ending at `o` (TPID there, TCI and the
 * inner EtherType after it); returns the new end of the L2 header.
 */
export function writeVlanTag(d: Uint8Array, o: number, vid: number, pcp: number, innerType: number): number {
  writeU16(d, o - 2, ETHERTYPE_VLAN);
  writeU16(d, o, ((pcp & 7) << 13) | (vid & 0x0fff));
  writeU16(d, o + 2, innerType);
  return o + 4;
}

/** ARP for Ethernet/IPv4. Target MAC (tha) is zero for a request. */
export function writeArp(
  d: Uint8Array,
  o: number,
  op: number,
  shaHi: number,
  shaLo: number,
  spa: number,
  thaHi: number,
  thaLo: number,
  tpa: number,
): number {
  writeU16(d, o, 1);
  writeU16(d, o + 2, ETHERTYPE_IPV4);
  d[o + 4] = 6;
  d[o + 5] = 4;
  writeU16(d, o + 6, op);
  writeMac(d, o + 8, shaHi, shaLo);
  writeU32(d, o + 14, spa);
  writeMac(d, o + 18, thaHi, thaLo);
  writeU32(d, o + 24, tpa);
  return o + ARP_HEADER_SIZE;
}

/** IPv4 header without options; the checksum is left zero until `finishIPv4`. */
export function writeIPv4(
  d: Uint8Array,
  o: number,
  src: number,
  dst: number,
  protocol: number,
  payloadSize: number,
  ttl: number,
  id: number,
  dontFragment: boolean,
): number {
  d[o] = 0x45;
  d[o + 1] = 0;
  writeU16(d, o + 2, IPV4_HEADER_SIZE + payloadSize);
  writeU16(d, o + 4, id & 0xffff);
  writeU16(d, o + 6, dontFragment ? 0x4000 : 0);
  d[o + 8] = ttl;
  d[o + 9] = protocol;
  d[o + 10] = 0;
  d[o + 11] = 0;
  writeU32(d, o + 12, src);
  writeU32(d, o + 16, dst);
  return o + IPV4_HEADER_SIZE;
}

/** Store the IPv4 header checksum of the header at `o`. */
export function finishIPv4(d: Uint8Array, o: number): void {
  const ihl = (d[o]! & 15) << 2;
  d[o + IPV4_CHECKSUM] = 0;
  d[o + IPV4_CHECKSUM + 1] = 0;
  writeU16(d, o + IPV4_CHECKSUM, checksum(d, o, ihl));
}

/** IPv6 fixed header (no extensions); `flowLabel` is 20 bits. */
export function writeIPv6(d: Uint8Array, o: number, src: Uint8Array, dst: Uint8Array, nextHeader: number, payloadSize: number, hopLimit: number, flowLabel: number): number {
  writeU32(d, o, (0x60000000 | (flowLabel & 0xfffff)) >>> 0);
  writeU16(d, o + 4, payloadSize);
  d[o + 6] = nextHeader;
  d[o + 7] = hopLimit;
  d.set(src, o + 8);
  d.set(dst, o + 24);
  return o + IPV6_HEADER_SIZE;
}

/**
 * TCP header. `options` (may be null) is copied after the fixed 20 bytes and must be a multiple
 * of 4 bytes. The checksum is left zero until `finishL4v4`/`finishL4v6`.
 */
export function writeTcp(
  d: Uint8Array,
  o: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  options: Uint8Array | null,
): number {
  const optionsSize = options === null ? 0 : options.length;
  writeU16(d, o, sport);
  writeU16(d, o + 2, dport);
  writeU32(d, o + 4, seq >>> 0);
  writeU32(d, o + 8, ack >>> 0);
  d[o + 12] = ((20 + optionsSize) >>> 2) << 4;
  d[o + 13] = flags;
  writeU16(d, o + 14, window);
  d[o + 16] = 0;
  d[o + 17] = 0;
  d[o + 18] = 0;
  d[o + 19] = 0;
  if (options !== null) d.set(options, o + 20);
  return o + 20 + optionsSize;
}

/** UDP header; length = 8 + payloadSize; checksum left zero (0 = none, valid over IPv4). */
export function writeUdp(d: Uint8Array, o: number, sport: number, dport: number, payloadSize: number): number {
  writeU16(d, o, sport);
  writeU16(d, o + 2, dport);
  writeU16(d, o + 4, UDP_HEADER_SIZE + payloadSize);
  d[o + 6] = 0;
  d[o + 7] = 0;
  return o + UDP_HEADER_SIZE;
}

/** ICMP / ICMPv6 echo header (type, code 0, id, seq); checksum left zero. */
export function writeIcmpEcho(d: Uint8Array, o: number, type: number, id: number, seq: number): number {
  d[o] = type;
  d[o + 1] = 0;
  d[o + 2] = 0;
  d[o + 3] = 0;
  writeU16(d, o + 4, id);
  writeU16(d, o + 6, seq);
  return o + 8;
}

/** VXLAN header with the I flag and a 24-bit VNI. */
export function writeVxlan(d: Uint8Array, o: number, vni: number): number {
  d[o] = VXLAN_FLAG_I;
  d[o + 1] = 0;
  d[o + 2] = 0;
  d[o + 3] = 0;
  d[o + 4] = (vni >>> 16) & 0xff;
  d[o + 5] = (vni >>> 8) & 0xff;
  d[o + 6] = vni & 0xff;
  d[o + 7] = 0;
  return o + VXLAN_HEADER_SIZE;
}

/**
 * TCP or UDP checksum over IPv4 for the segment at `l4` of `l4Size` bytes (header + payload), with
 * the addresses and protocol read from the IPv4 header at `l3`. A UDP sum of 0 is sent as 0xffff
 * (RFC 768: 0 means "no checksum").
 */
export function finishL4v4(d: Uint8Array, l3: number, l4: number, l4Size: number): void {
  const protocol = d[l3 + 9]!;
  const src = ((d[l3 + 12]! << 24) | (d[l3 + 13]! << 16) | (d[l3 + 14]! << 8) | d[l3 + 15]!) >>> 0;
  const dst = ((d[l3 + 16]! << 24) | (d[l3 + 17]! << 16) | (d[l3 + 18]! << 8) | d[l3 + 19]!) >>> 0;
  const at = l4 + (protocol === IPPROTO_UDP ? UDP_CHECKSUM : TCP_CHECKSUM);
  d[at] = 0;
  d[at + 1] = 0;
  let sum = checksumFold(checksumPartial(d, l4, l4Size, pseudoHeaderSum4(src, dst, protocol, l4Size)));
  if (sum === 0 && protocol === IPPROTO_UDP) sum = 0xffff;
  writeU16(d, at, sum);
}

/**
 * TCP, UDP or ICMPv6 checksum over IPv6 (mandatory for all three). `checksumAt` is the field's
 * offset inside the L4 header (TCP 16, UDP 6, ICMPv6 2).
 */
export function finishL4v6(d: Uint8Array, l3: number, l4: number, l4Size: number, nextHeader: number, checksumAt: number): void {
  d[l4 + checksumAt] = 0;
  d[l4 + checksumAt + 1] = 0;
  let sum = checksumFold(checksumPartial(d, l4, l4Size, pseudoHeaderSum6(d, l3 + 8, l3 + 24, nextHeader, l4Size)));
  if (sum === 0 && nextHeader === IPPROTO_UDP) sum = 0xffff;
  writeU16(d, l4 + checksumAt, sum);
}

/** ICMP (v4) checksum: over the ICMP message only, no pseudo-header. */
export function finishIcmp4(d: Uint8Array, l4: number, l4Size: number): void {
  d[l4 + 2] = 0;
  d[l4 + 3] = 0;
  writeU16(d, l4 + 2, checksum(d, l4, l4Size));
}

/** Parse a full (uncompressed or '::'-compressed) IPv6 address into 16 bytes (setup only). */
export function ipv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  words.forEach((w, i) => writeU16(out, 2 * i, parseInt(w, 16)));
  return out;
}

/** Zero `size` bytes at `o` (Ethernet padding, payload filler). */
export function zero(d: Uint8Array, o: number, size: number): void {
  d.fill(0, o, o + size);
}
