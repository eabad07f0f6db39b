/**
 * Random frames for the action tests, from a seeded PRNG: IPv4 (with or without options, whole,
 * first or later fragment) or IPv6, optionally 802.1Q-tagged, carrying TCP (SYNs with MSS and
 * other options, the MSS sometimes at an odd offset), UDP (checksum computed or 0) or ICMP/ICMPv6
 * echo, with a random payload and Ethernet padding to 60 bytes. Also the checksum oracle: a full
 * recomputation of every checksum from the bytes (base/checksum.ts `checksum`).
 *
 * A first fragment's L4 checksum is computed over the bytes the fragment carries (the rest of the
 * datagram is not there); the oracle uses the same rule, which is what an incremental update must
 * preserve.
 */
import { Prng } from '../../src/base/bytes.js';
import { checksum, checksumPartial, checksumFold, pseudoHeaderSum4, pseudoHeaderSum6 } from '../../src/base/checksum.js';
import { finishIcmp4, finishL4v4, finishL4v6, writeEth, writeIcmpEcho, writeIPv6, writeTcp, writeUdp, writeU16, writeU32, writeVlanTag } from '../../src/synth/build.js';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP = 1;
export const PROTO_ICMPV6 = 58;

export interface Built {
  l2: number;
  l3: number;
  /** -1 for a later fragment. */
  l4: number;
  end: number;
  family: 4 | 6;
  protocol: number;
  /** 'none' | 'first' (MF, offset 0) | 'later' (offset > 0). */
  fragment: 'none' | 'first' | 'later';
  udpZero: boolean;
  syn: boolean;
  /** Offset of the MSS value, -1 when none. */
  mssAt: number;
}

export interface FrameChoice {
  family?: 4 | 6;
  protocol?: number;
  tagged?: boolean;
  ipOptionWords?: number;
  fragment?: 'none' | 'first' | 'later';
  udpZero?: boolean;
  syn?: boolean;
  oddMss?: boolean;
  payload?: number;
}

/** Random IPv6 address bytes inside 2001:db8::/32. */
function v6(rng: Prng): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0x20;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  for (let i = 4; i < 16; i++) a[i] = rng.below(256);
  return a;
}

/** TCP options for a SYN: MSS (maybe after one NOP, so at an odd offset), WS, SACK-permitted, TS. */
function synOptions(rng: Prng, odd: boolean): { bytes: Uint8Array; mssIndex: number } {
  const out: number[] = [];
  if (odd) out.push(1);
  const mssIndex = out.length + 2;
  const mss = 536 + rng.below(8500);
  out.push(2, 4, mss >>> 8, mss & 0xff);
  if (rng.below(2)) out.push(1, 3, 3, rng.below(15));
  if (rng.below(2)) out.push(4, 2);
  if (rng.below(2)) {
    out.push(8, 10);
    for (let i = 0; i < 8; i++) out.push(rng.below(256));
  }
  while (out.length % 4 !== 0) out.push(1);
  return { bytes: Uint8Array.from(out), mssIndex };
}

/** Build a random frame at d[o..]; `choice` pins any of the random decisions. */
export function buildFrame(d: Uint8Array, o: number, rng: Prng, choice: FrameChoice = {}): Built {
  const family = choice.family ?? (rng.below(3) === 0 ? 6 : 4);
  const protocols = family === 4 ? [PROTO_TCP, PROTO_UDP, PROTO_ICMP] : [PROTO_TCP, PROTO_UDP, PROTO_ICMPV6];
  const protocol = choice.protocol ?? protocols[rng.below(3)]!;
  const tagged = choice.tagged ?? rng.below(4) === 0;
  const payload = choice.payload ?? rng.below(4) * rng.below(60);
  const syn = protocol === PROTO_TCP && (choice.syn ?? rng.below(2) === 0);
  const fragment = family === 4 ? (choice.fragment ?? (['none', 'none', 'none', 'first', 'later'] as const)[rng.below(5)]!) : 'none';
  const udpZero = protocol === PROTO_UDP && (choice.udpZero ?? rng.below(3) === 0);

  let l3 = writeEth(d, o, 0x0200, rng.nextU32(), 0x0215, rng.nextU32(), family === 4 ? 0x0800 : 0x86dd);
  if (tagged) l3 = writeVlanTag(d, l3, 1 + rng.below(4094), rng.below(8), family === 4 ? 0x0800 : 0x86dd);

  // L4 header (and its options) first into a scratch so the IP length is known
  let l4Bytes: Uint8Array;
  let mssIndex = -1;
  const scratch = new Uint8Array(128 + payload);
  let l4Size: number;
  if (protocol === PROTO_TCP) {
    let opts: Uint8Array | null = null;
    if (syn) {
      const so = synOptions(rng, choice.oddMss ?? rng.below(3) === 0);
      opts = so.bytes;
      mssIndex = 20 + so.mssIndex;
    } else if (rng.below(3) === 0) {
      opts = Uint8Array.from([1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8]);
    }
    const flags = syn ? (rng.below(2) ? 0x02 : 0x12) : 0x10 | (rng.below(2) << 3);
    l4Size = writeTcp(scratch, 0, 1 + rng.below(65535), 1 + rng.below(65535), rng.nextU32(), rng.nextU32(), flags, rng.below(65536), opts) + payload;
  } else if (protocol === PROTO_UDP) {
    l4Size = writeUdp(scratch, 0, 1 + rng.below(65535), 1 + rng.below(65535), payload) + payload;
  } else {
    const type = protocol === PROTO_ICMP ? (rng.below(2) ? 8 : 0) : rng.below(2) ? 128 : 129;
    l4Size = writeIcmpEcho(scratch, 0, type, rng.below(65536), rng.below(65536)) + payload;
  }
  const headerEnd = l4Size - payload;
  for (let i = headerEnd; i < l4Size; i++) scratch[i] = rng.below(256);
  l4Bytes = scratch;

  let l4: number;
  let end: number;
  if (family === 4) {
    const optionWords = choice.ipOptionWords ?? (rng.below(4) === 0 ? 1 + rng.below(10) : 0);
    const ihl = 20 + 4 * optionWords;
    const carried = fragment === 'later' ? 8 * (1 + rng.below(8)) : l4Size; // a later fragment carries some bytes
    d[l3] = 0x40 | (ihl >>> 2);
    d[l3 + 1] = rng.below(256);
    writeU16(d, l3 + 2, ihl + carried);
    writeU16(d, l3 + 4, rng.below(65536));
    const ff = fragment === 'none' ? (rng.below(2) ? 0x4000 : 0) : fragment === 'first' ? 0x2000 : 0x2000 * rng.below(2) + 1 + rng.below(100);
    writeU16(d, l3 + 6, ff);
    d[l3 + 8] = rng.below(256);
    d[l3 + 9] = protocol;
    d[l3 + 10] = 0;
    d[l3 + 11] = 0;
    writeU32(d, l3 + 12, rng.nextU32());
    writeU32(d, l3 + 16, rng.nextU32());
    for (let i = 20; i < ihl - 1; i++) d[l3 + i] = 1; // NOPs
    if (ihl > 20) d[l3 + ihl - 1] = 0; // end of options
    const body = l3 + ihl;
    if (fragment === 'later') {
      for (let i = 0; i < carried; i++) d[body + i] = rng.below(256);
      l4 = -1;
    } else {
      d.set(l4Bytes.subarray(0, l4Size), body);
      l4 = body;
      if (protocol === PROTO_ICMP) finishIcmp4(d, l4, l4Size);
      else finishL4v4(d, l3, l4, l4Size);
      if (udpZero) writeU16(d, l4 + 6, 0);
    }
    // header checksum last
    writeU16(d, l3 + 10, checksum(d, l3, ihl));
    end = body + carried;
  } else {
    l4 = writeIPv6(d, l3, v6(rng), v6(rng), protocol, l4Size, rng.below(256), rng.below(1 << 20));
    d.set(l4Bytes.subarray(0, l4Size), l4);
    const at = protocol === PROTO_TCP ? 16 : protocol === PROTO_UDP ? 6 : 2;
    finishL4v6(d, l3, l4, l4Size, protocol, at);
    if (udpZero) writeU16(d, l4 + 6, 0);
    end = l4 + l4Size;
  }
  const padded = Math.max(end, o + 60);
  for (let i = end; i < padded; i++) d[i] = 0;
  return { l2: o, l3, l4, end: padded, family, protocol, fragment, udpZero, syn, mssAt: mssIndex >= 0 && l4 >= 0 ? l4 + mssIndex : -1 };
}

// ---- the oracle --------------------------------------------------------------------------------

const u16 = (d: Uint8Array, o: number): number => (d[o]! << 8) | d[o + 1]!;
const u32 = (d: Uint8Array, o: number): number => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;

/** Offset of the L4 checksum field, -1 when the frame has none. */
export function l4ChecksumAt(b: Built): number {
  if (b.l4 < 0) return -1;
  return b.l4 + (b.protocol === PROTO_TCP ? 16 : b.protocol === PROTO_UDP ? 6 : 2);
}

/** The L4 size the checksum covers: from the IP length fields. */
export function l4Size(d: Uint8Array, b: Built): number {
  if (b.family === 4) return b.l3 + u16(d, b.l3 + 2) - b.l4;
  return b.l3 + 40 + u16(d, b.l3 + 4) - b.l4;
}

/** IPv4 header checksum recomputed from scratch. */
export function recomputeIPv4(d: Uint8Array, l3: number): number {
  const ihl = (d[l3]! & 15) << 2;
  const stored = u16(d, l3 + 10);
  d[l3 + 10] = 0;
  d[l3 + 11] = 0;
  const c = checksum(d, l3, ihl);
  d[l3 + 10] = stored >>> 8;
  d[l3 + 11] = stored & 0xff;
  return c;
}

/** L4 checksum recomputed from scratch (UDP: 0 becomes 0xffff). */
export function recomputeL4(d: Uint8Array, b: Built): number {
  const at = l4ChecksumAt(b);
  const size = l4Size(d, b);
  const stored = u16(d, at);
  d[at] = 0;
  d[at + 1] = 0;
  let initial = 0;
  if (b.family === 4) {
    if (b.protocol !== PROTO_ICMP) initial = pseudoHeaderSum4(u32(d, b.l3 + 12), u32(d, b.l3 + 16), b.protocol, size);
  } else {
    initial = pseudoHeaderSum6(d, b.l3 + 8, b.l3 + 24, b.protocol, size);
  }
  let c = checksumFold(checksumPartial(d, b.l4, size, initial));
  if (c === 0 && b.protocol === PROTO_UDP) c = 0xffff;
  d[at] = stored >>> 8;
  d[at + 1] = stored & 0xff;
  return c;
}

/** Every checksum problem of the frame, as text (empty when all are right). */
export function checksumProblems(d: Uint8Array, b: Built): string[] {
  const out: string[] = [];
  if (b.family === 4) {
    const want = recomputeIPv4(d, b.l3);
    const got = u16(d, b.l3 + 10);
    if (want !== got) out.push(`ipv4 header checksum ${got.toString(16)} want ${want.toString(16)}`);
  }
  const at = l4ChecksumAt(b);
  if (at >= 0) {
    const got = u16(d, at);
    if (b.protocol === PROTO_UDP && b.udpZero) {
      if (got !== 0) out.push(`udp checksum was 0 (none) and became ${got.toString(16)}`);
    } else {
      const want = recomputeL4(d, b);
      if (want !== got) out.push(`l4 (${b.protocol}) checksum ${got.toString(16)} want ${want.toString(16)}`);
    }
  }
  return out;
}

export { u16, u32 };
