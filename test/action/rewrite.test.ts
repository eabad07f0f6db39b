/**
 * Modify transpositions (src/action/rewrite.ts, mss.ts): every rewrite at the three placements,
 * checked through parse/; round trips back to the original bytes; and a seeded property test
 * over thousands of random frames (IPv4/IPv6 × TCP/UDP/ICMP, UDP checksum 0, IPv4 options,
 * fragments, SYN options) where, after every rewrite, every checksum equals a full recomputation,
 * the rewritten fields hold the new values and no other byte, inside or outside the frame, moved.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { mssClamp, MSS_FLOOR } from '../../src/action/mss.js';
import {
  rewriteDecrementHopLimit,
  rewriteDecrementTtl,
  rewriteDstMac,
  rewriteIcmpEchoId,
  rewriteIPv4Dst,
  rewriteIPv4Src,
  rewriteIPv6Dst,
  rewriteIPv6Src,
  rewriteL4DstPort,
  rewriteL4SrcPort,
  rewriteSrcMac,
} from '../../src/action/rewrite.js';
import { buildFrame, checksumProblems, l4ChecksumAt, recomputeL4, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, u16, u32 } from './frames.js';
import type { Built, FrameChoice } from './frames.js';
import { changedOutside, parseOne, place, PLACEMENTS, shift } from './place.js';

interface Outcome {
  /** Byte positions the op may change. */
  mask: number[];
  /** [position, byte] pairs that must hold afterwards. */
  want: Array<[number, number]>;
}

type Op = (d: Uint8Array, v: DataView, b: Built, rng: Prng) => Outcome | null;

const bytesOf = (at: number, value: number, size: number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < size; i++) out.push([at + i, (value / 2 ** (8 * (size - 1 - i))) & 0xff]);
  return out;
};
const range = (at: number, size: number): number[] => Array.from({ length: size }, (_, i) => at + i);

/** The L4 checksum bytes an address/port change may touch. */
function l4Mask(b: Built): number[] {
  const at = l4ChecksumAt(b);
  if (at < 0) return [];
  if (b.family === 4 && b.protocol === PROTO_ICMP) return [];
  return range(at, 2);
}

function macOp(which: 'src' | 'dst'): Op {
  return (d, v, b, rng) => {
    const hi = rng.below(65536);
    const lo = rng.nextU32();
    const ok = which === 'src' ? rewriteSrcMac(d, v, b.l2, b.end, hi, lo) : rewriteDstMac(d, v, b.l2, b.end, hi, lo);
    expect(ok).toBe(true);
    const at = b.l2 + (which === 'src' ? 6 : 0);
    const want = [...bytesOf(at, hi, 2), ...bytesOf(at + 2, lo, 4)];
    return { mask: range(at, 6), want };
  };
}

function ipv4Op(which: 'src' | 'dst', strayL4: boolean): Op {
  return (d, v, b, rng) => {
    if (b.family !== 4) return null;
    if (strayL4 && b.fragment !== 'later') return null;
    const addr = rng.nextU32();
    // A stray L4 offset on a later fragment must be ignored (the header's fragment offset says so).
    const l4 = strayL4 ? b.l3 + ((d[b.l3]! & 15) << 2) : b.l4;
    const ok = which === 'src' ? rewriteIPv4Src(d, v, b.l3, l4, b.end, addr) : rewriteIPv4Dst(d, v, b.l3, l4, b.end, addr);
    expect(ok).toBe(true);
    const at = b.l3 + (which === 'src' ? 12 : 16);
    return { mask: [...range(at, 4), b.l3 + 10, b.l3 + 11, ...(b.protocol === PROTO_ICMP ? [] : l4Mask(b))], want: bytesOf(at, addr, 4) };
  };
}

function portOp(which: 'src' | 'dst'): Op {
  return (d, v, b, rng) => {
    if (b.l4 < 0 || (b.protocol !== PROTO_TCP && b.protocol !== PROTO_UDP)) return null;
    const port = rng.below(65536);
    const ok = which === 'src' ? rewriteL4SrcPort(d, v, b.l4, b.end, b.protocol, port) : rewriteL4DstPort(d, v, b.l4, b.end, b.protocol, port);
    expect(ok).toBe(true);
    const at = b.l4 + (which === 'src' ? 0 : 2);
    return { mask: [...range(at, 2), ...l4Mask(b)], want: bytesOf(at, port, 2) };
  };
}

const icmpIdOp: Op = (d, v, b, rng) => {
  if (b.l4 < 0 || (b.protocol !== PROTO_ICMP && b.protocol !== PROTO_ICMPV6)) return null;
  const id = rng.below(65536);
  expect(rewriteIcmpEchoId(d, v, b.l4, b.end, id)).toBe(true);
  return { mask: [...range(b.l4 + 4, 2), b.l4 + 2, b.l4 + 3], want: bytesOf(b.l4 + 4, id, 2) };
};

function ipv6Op(which: 'src' | 'dst'): Op {
  return (d, v, b, rng) => {
    if (b.family !== 6) return null;
    const w = [rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32()];
    const ok =
      which === 'src'
        ? rewriteIPv6Src(d, v, b.l3, b.l4, b.end, b.protocol, w[0]!, w[1]!, w[2]!, w[3]!)
        : rewriteIPv6Dst(d, v, b.l3, b.l4, b.end, b.protocol, w[0]!, w[1]!, w[2]!, w[3]!);
    expect(ok).toBe(true);
    const at = b.l3 + (which === 'src' ? 8 : 24);
    return { mask: [...range(at, 16), ...l4Mask(b)], want: w.flatMap((x, i) => bytesOf(at + 4 * i, x, 4)) };
  };
}

const ttlOp: Op = (d, v, b) => {
  if (b.family === 4) {
    const old = d[b.l3 + 8]!;
    const got = rewriteDecrementTtl(d, v, b.l3, b.end);
    expect(got).toBe(Math.max(old - 1, 0));
    return { mask: [b.l3 + 8, b.l3 + 10, b.l3 + 11], want: [[b.l3 + 8, Math.max(old - 1, 0)]] };
  }
  const old = d[b.l3 + 7]!;
  expect(rewriteDecrementHopLimit(d, v, b.l3, b.end)).toBe(Math.max(old - 1, 0));
  return { mask: [b.l3 + 7], want: [[b.l3 + 7, Math.max(old - 1, 0)]] };
};

const mssOp: Op = (d, v, b, rng) => {
  if (b.mssAt < 0) return null;
  const mss = u16(d, b.mssAt);
  const delta = rng.below(3) === 0 ? 0 : rng.below(200);
  const maximum = rng.below(2) === 0 ? 65535 : 500 + rng.below(9000);
  let next = Math.min(Math.max(mss - delta, MSS_FLOOR), maximum);
  const changed = mssClamp(d, v, b.l4, b.end, delta, maximum);
  if (next >= mss) next = mss;
  expect(changed).toBe(next !== mss);
  return { mask: [b.mssAt, b.mssAt + 1, b.l4 + 16, b.l4 + 17], want: bytesOf(b.mssAt, next, 2) };
};

const OPS: Record<string, Op> = {
  'src MAC': macOp('src'),
  'dst MAC': macOp('dst'),
  'IPv4 src': ipv4Op('src', false),
  'IPv4 dst': ipv4Op('dst', false),
  'IPv4 src, stray l4 on a later fragment': ipv4Op('src', true),
  'L4 src port': portOp('src'),
  'L4 dst port': portOp('dst'),
  'ICMP echo id': icmpIdOp,
  'IPv6 src': ipv6Op('src'),
  'IPv6 dst': ipv6Op('dst'),
  'TTL / hop limit': ttlOp,
  'MSS clamp': mssOp,
};
const OP_NAMES = Object.keys(OPS);

describe('rewrites keep every checksum equal to a full recomputation (seeded, random frames)', () => {
  it('4,000 frames × 1-4 rewrites each, at the three placements', () => {
    const rng = new Prng(0x5eed);
    const scratch = new Uint8Array(2048);
    const applied: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    for (let n = 0; n < 4000; n++) {
      scratch.fill(0);
      const b0 = buildFrame(scratch, 0, rng);
      const where = PLACEMENTS[n % 3]!;
      const { d, v, o } = place(scratch, b0.end, where);
      const b = shift(b0, o);
      const kind = `${b.family}/${b.protocol}${b.udpZero ? '/zero' : ''}${b.fragment !== 'none' ? '/' + b.fragment : ''}`;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      expect(checksumProblems(d, b), `frame ${n} as built`).toEqual([]);
      const before = Uint8Array.from(d);
      const mask = new Set<number>();
      const want = new Map<number, number>();
      const ops = 1 + rng.below(4);
      for (let k = 0; k < ops; k++) {
        const name = OP_NAMES[rng.below(OP_NAMES.length)]!;
        const r = OPS[name]!(d, v, b, rng);
        if (r === null) continue;
        applied[name] = (applied[name] ?? 0) + 1;
        for (const p of r.mask) mask.add(p);
        for (const [p, x] of r.want) want.set(p, x);
        expect(checksumProblems(d, b), `frame ${n} (${kind}, ${where}) after ${name}`).toEqual([]);
      }
      for (const [p, x] of want) expect(d[p], `frame ${n} byte ${p - o}`).toBe(x);
      for (let i = 0; i < d.length; i++) {
        if (!mask.has(i) && d[i] !== before[i]) expect.fail(`frame ${n} (${kind}, ${where}): byte ${i - o} changed outside the rewritten fields`);
      }
    }
    // every op and every kind of frame was exercised a fair number of times
    for (const name of OP_NAMES) expect(applied[name] ?? 0, name).toBeGreaterThan(50);
    for (const k of ['4/6', '4/17', '4/17/zero', '4/1', '6/6', '6/17', '6/17/zero', '6/58', '4/6/first', '4/17/later']) expect(kinds[k] ?? 0, k).toBeGreaterThan(20);
  });
});

/** One frame of a chosen kind at a placement: the per-function, per-placement checks below. */
function frameAt(choice: FrameChoice, where: (typeof PLACEMENTS)[number], seed: number): { d: Uint8Array; v: DataView; b: Built; original: Uint8Array } {
  const scratch = new Uint8Array(2048);
  const b0 = buildFrame(scratch, 0, new Prng(seed), choice);
  const { d, v, o } = place(scratch, b0.end, where);
  return { d, v, b: shift(b0, o), original: Uint8Array.from(d) };
}

describe.each(PLACEMENTS)('each rewrite, %s', (where) => {
  it('MAC rewrite shows in the parse; rewriting back restores the bytes', () => {
    const { d, v, b, original } = frameAt({ family: 4, protocol: PROTO_TCP }, where, 1);
    const src = parseOne(d, b.l2, b.end - b.l2).desc.eth!.src;
    expect(rewriteSrcMac(d, v, b.l2, b.end, 0x0015, 0x5d00beef)).toBe(true);
    expect(rewriteDstMac(d, v, b.l2, b.end, 0x0e2a, 0x0af40105)).toBe(true);
    const desc = parseOne(d, b.l2, b.end - b.l2).desc;
    expect(desc.eth).toMatchObject({ src: '00:15:5d:00:be:ef', dst: '0e:2a:0a:f4:01:05' });
    expect(src).not.toBe(desc.eth!.src);
    rewriteSrcMac(d, v, b.l2, b.end, u16(original, b.l2 + 6), u32(original, b.l2 + 8));
    rewriteDstMac(d, v, b.l2, b.end, u16(original, b.l2), u32(original, b.l2 + 2));
    expect(Uint8Array.from(d)).toEqual(original);
  });

  for (const protocol of [PROTO_TCP, PROTO_UDP, PROTO_ICMP]) {
    it(`IPv4 src/dst and ports (protocol ${protocol}): parse shows them, checksums right, round trip exact`, () => {
      const { d, v, b, original } = frameAt({ family: 4, protocol, fragment: 'none', udpZero: false, ipOptionWords: 2 }, where, 2 + protocol);
      expect(rewriteIPv4Src(d, v, b.l3, b.l4, b.end, 0x0a630002)).toBe(true);
      expect(rewriteIPv4Dst(d, v, b.l3, b.l4, b.end, 0xcb007150)).toBe(true);
      if (protocol !== PROTO_ICMP) {
        expect(rewriteL4SrcPort(d, v, b.l4, b.end, protocol, 49152)).toBe(true);
        expect(rewriteL4DstPort(d, v, b.l4, b.end, protocol, 8080)).toBe(true);
      } else {
        expect(rewriteIcmpEchoId(d, v, b.l4, b.end, 0x1234)).toBe(true);
        expect(rewriteL4SrcPort(d, v, b.l4, b.end, protocol, 1)).toBe(false); // not a port protocol
      }
      expect(checksumProblems(d, b)).toEqual([]);
      const { desc, batch } = parseOne(d, b.l2, b.end - b.l2);
      expect(desc.ip).toMatchObject({ src: '10.99.0.2', dst: '203.0.113.80' });
      if (protocol !== PROTO_ICMP) expect(desc.l4).toMatchObject({ sport: 49152, dport: 8080 });
      else expect(batch.keys[8]! & 0xffff).toBe(0x1234);
      // and back
      rewriteIPv4Src(d, v, b.l3, b.l4, b.end, u32(original, b.l3 + 12));
      rewriteIPv4Dst(d, v, b.l3, b.l4, b.end, u32(original, b.l3 + 16));
      if (protocol !== PROTO_ICMP) {
        rewriteL4SrcPort(d, v, b.l4, b.end, protocol, u16(original, b.l4));
        rewriteL4DstPort(d, v, b.l4, b.end, protocol, u16(original, b.l4 + 2));
      } else {
        rewriteIcmpEchoId(d, v, b.l4, b.end, u16(original, b.l4 + 4));
      }
      expect(Uint8Array.from(d)).toEqual(original);
    });
  }

  it('UDP checksum 0 stays 0 through address and port rewrites', () => {
    const { d, v, b } = frameAt({ family: 4, protocol: PROTO_UDP, fragment: 'none', udpZero: true }, where, 9);
    rewriteIPv4Src(d, v, b.l3, b.l4, b.end, 0x01020304);
    rewriteL4DstPort(d, v, b.l4, b.end, PROTO_UDP, 53);
    expect(u16(d, b.l4 + 6)).toBe(0);
    expect(checksumProblems(d, b)).toEqual([]);
  });

  for (const protocol of [PROTO_TCP, PROTO_UDP, PROTO_ICMPV6]) {
    it(`IPv6 src/dst (protocol ${protocol}): parse shows them, checksum right, round trip exact`, () => {
      const { d, v, b, original } = frameAt({ family: 6, protocol, udpZero: false }, where, 20 + protocol);
      expect(rewriteIPv6Src(d, v, b.l3, b.l4, b.end, protocol, 0x20010db8, 0x00990000, 0, 2)).toBe(true);
      expect(rewriteIPv6Dst(d, v, b.l3, b.l4, b.end, protocol, 0x20010db8, 0x00010000, 0, 0x80)).toBe(true);
      expect(checksumProblems(d, b)).toEqual([]);
      expect(parseOne(d, b.l2, b.end - b.l2).desc.ip).toMatchObject({ src: '2001:db8:99::2', dst: '2001:db8:1::80' });
      const w = (at: number) => [u32(original, at), u32(original, at + 4), u32(original, at + 8), u32(original, at + 12)] as const;
      rewriteIPv6Src(d, v, b.l3, b.l4, b.end, protocol, ...w(b.l3 + 8));
      rewriteIPv6Dst(d, v, b.l3, b.l4, b.end, protocol, ...w(b.l3 + 24));
      expect(Uint8Array.from(d)).toEqual(original);
    });
  }

  it('TTL and hop limit decrement; 1 reaches 0, 0 stays 0', () => {
    const f4 = frameAt({ family: 4, protocol: PROTO_TCP }, where, 30);
    f4.d[f4.b.l3 + 8] = 2;
    fixIPv4Checksum(f4.d, f4.b.l3); // after the manual TTL edit
    expect(rewriteDecrementTtl(f4.d, f4.v, f4.b.l3, f4.b.end)).toBe(1);
    expect(checksumProblems(f4.d, f4.b)).toEqual([]);
    expect(rewriteDecrementTtl(f4.d, f4.v, f4.b.l3, f4.b.end)).toBe(0);
    expect(checksumProblems(f4.d, f4.b)).toEqual([]);
    const snapshot = Uint8Array.from(f4.d);
    expect(rewriteDecrementTtl(f4.d, f4.v, f4.b.l3, f4.b.end)).toBe(0);
    expect(Uint8Array.from(f4.d)).toEqual(snapshot);
    expect(parseOne(f4.d, f4.b.l2, f4.b.end - f4.b.l2).desc.ip!.ttl).toBe(0);

    const f6 = frameAt({ family: 6, protocol: PROTO_UDP }, where, 31);
    f6.d[f6.b.l3 + 7] = 1;
    expect(rewriteDecrementHopLimit(f6.d, f6.v, f6.b.l3, f6.b.end)).toBe(0);
    expect(rewriteDecrementHopLimit(f6.d, f6.v, f6.b.l3, f6.b.end)).toBe(0);
    expect(f6.d[f6.b.l3 + 7]).toBe(0);
  });

  it('MSS clamp: by delta, to a maximum, never raised, odd offset; parse still sees a SYN', () => {
    for (const oddMss of [false, true]) {
      const { d, v, b } = frameAt({ family: 4, protocol: PROTO_TCP, syn: true, oddMss, fragment: 'none' }, where, 40);
      expect((b.mssAt - b.l4) % 2).toBe(oddMss ? 1 : 0);
      d[b.mssAt] = 1460 >>> 8;
      d[b.mssAt + 1] = 1460 & 0xff;
      fixL4(d, b);
      expect(mssClamp(d, v, b.l4, b.end, 50, 65535)).toBe(true);
      expect(u16(d, b.mssAt)).toBe(1410);
      expect(checksumProblems(d, b)).toEqual([]);
      expect(mssClamp(d, v, b.l4, b.end, 0, 1200)).toBe(true);
      expect(u16(d, b.mssAt)).toBe(1200);
      expect(mssClamp(d, v, b.l4, b.end, 0, 1300)).toBe(false); // never raised
      expect(mssClamp(d, v, b.l4, b.end, 5000, 65535)).toBe(true);
      expect(u16(d, b.mssAt)).toBe(MSS_FLOOR);
      expect(checksumProblems(d, b)).toEqual([]);
      expect(parseOne(d, b.l2, b.end - b.l2).desc.l4!.flags).toMatch(/S/);
    }
    const ack = frameAt({ family: 6, protocol: PROTO_TCP, syn: false }, where, 41);
    expect(mssClamp(ack.d, ack.v, ack.b.l4, ack.b.end, 50, 65535)).toBe(false);
    expect(Uint8Array.from(ack.d)).toEqual(ack.original);
  });

  it('refuses, writing nothing, when the headers are cut short', () => {
    const { d, v, b, original } = frameAt({ family: 4, protocol: PROTO_TCP, fragment: 'none', ipOptionWords: 0 }, where, 50);
    expect(rewriteSrcMac(d, v, b.l2, b.l2 + 11, 1, 1)).toBe(false);
    expect(rewriteDstMac(d, v, b.l2, b.l2 + 5, 1, 1)).toBe(false);
    expect(rewriteIPv4Src(d, v, b.l3, b.l4, b.l3 + 19, 1)).toBe(false);
    expect(rewriteIPv4Src(d, v, b.l3, b.l4, b.l4 + 17, 1)).toBe(false); // TCP checksum not captured
    expect(rewriteL4SrcPort(d, v, b.l4, b.l4 + 17, PROTO_TCP, 1)).toBe(false);
    expect(rewriteL4SrcPort(d, v, -1, b.end, PROTO_TCP, 1)).toBe(false);
    expect(rewriteIcmpEchoId(d, v, b.l4, b.l4 + 7, 1)).toBe(false);
    expect(rewriteDecrementTtl(d, v, b.l3, b.l3 + 19)).toBe(-1);
    expect(rewriteIPv6Src(d, v, b.l3, b.l4, b.end, PROTO_TCP, 1, 2, 3, 4)).toBe(false); // version 4
    expect(mssClamp(d, v, b.l4, b.l4 + 19, 0, 1)).toBe(false);
    expect(Uint8Array.from(d)).toEqual(original);
  });
});

/** Recompute the IPv4 header checksum after a test's manual edit. */
function fixIPv4Checksum(d: Uint8Array, l3: number): void {
  d[l3 + 10] = 0;
  d[l3 + 11] = 0;
  let sum = 0;
  const ihl = (d[l3]! & 15) << 2;
  for (let i = 0; i < ihl; i += 2) sum += (d[l3 + i]! << 8) | d[l3 + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  d[l3 + 10] = c >>> 8;
  d[l3 + 11] = c & 0xff;
}

/** Recompute the L4 checksum after a test's manual edit (the oracle's value). */
function fixL4(d: Uint8Array, b: Built): void {
  const at = l4ChecksumAt(b);
  const c = recomputeL4(d, b);
  d[at] = c >>> 8;
  d[at + 1] = c & 0xff;
}
