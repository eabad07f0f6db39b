/**
 * The extractor and the description, header by header (frames from frames.ts), each checked at
 * offset 0, at a non-zero offset inside a larger slab and inside a Buffer from Node's shared pool;
 * the symmetric hash; the flow-key layout pinned to its version; every parse error produced.
 */
import { describe, expect, it } from 'vitest';
import { PARSE_ERRORS } from '../../src/base/reasons.js';
import { Prng } from '../../src/base/bytes.js';
import { FLOW_KEY_LAYOUT_VERSION, FLOW_KEY_WORDS, FrameBatch } from '../../src/frame/batch.js';
import { flowHash, parseBatch, parseBatchGeneral } from '../../src/parse/parse.js';
import { describeFrame, formatFrameText } from '../../src/parse/describe.js';
import type { FrameDescription } from '../../src/parse/describe.js';
import { formatIPv6 } from '../../src/wire/format.js';
import { edgeCaseFrames } from './frames.js';

function parseAt(slab: Uint8Array, offset: number, length: number, wireLength = length): { d: FrameDescription; batch: FrameBatch } {
  const batch = new FrameBatch(1, slab);
  batch.offsets[0] = offset;
  batch.lengths[0] = length;
  batch.wireLengths[0] = wireLength;
  batch.numbers[0] = 1;
  batch.count = 1;
  parseBatch(batch);
  return { d: describeFrame(batch, 0), batch };
}

describe('parse: every header stack and every error, at any offset', () => {
  for (const c of edgeCaseFrames()) {
    it(c.name, () => {
      const wire = c.wireLength ?? c.bytes.length;
      const plain = parseAt(c.bytes, 0, c.bytes.length, wire).d;
      // inside a larger slab at an odd offset, with junk around it
      const slab = new Uint8Array(c.bytes.length + 2000).fill(0xa5);
      slab.set(c.bytes, 1001);
      const shifted = parseAt(slab, 1001, c.bytes.length, wire).d;
      // a Buffer from Node's shared pool (non-zero byteOffset) for the small frames
      const pooled = c.bytes.length < 2048 ? parseAt(Buffer.from(c.bytes), 0, c.bytes.length, wire).d : plain;
      expect(shifted).toEqual(plain);
      expect(pooled).toEqual(plain);
      expect(plain).toMatchObject(c.expect);
      if (c.expect.error === undefined) expect(plain.error).toBeUndefined();
      for (const k of c.absent ?? []) expect(plain, `key ${String(k)} should be absent`).not.toHaveProperty(String(k));
      expect(formatFrameText(parseAt(c.bytes, 0, c.bytes.length, wire).batch, 0)).toMatch(/^1 /);
    });
  }

  it('every parse error name is produced by at least one case', () => {
    const produced = new Set(edgeCaseFrames().map((c) => c.expect.error).filter((e): e is string => e !== undefined));
    const missing = PARSE_ERRORS.filter((e) => e !== 'none' && !produced.has(e));
    expect(missing).toEqual([]);
  });

  it('the fast path and the general walk agree on every case', () => {
    for (const c of edgeCaseFrames()) {
      const b = new FrameBatch(1, c.bytes);
      b.lengths[0] = c.bytes.length;
      b.wireLengths[0] = c.bytes.length;
      b.count = 1;
      parseBatch(b);
      const fast = [b.errors[0], b.flags[0], b.l3Offsets[0], b.l4Offsets[0], b.hashes[0], ...b.keys.subarray(0, FLOW_KEY_WORDS)];
      parseBatchGeneral(b);
      const general = [b.errors[0], b.flags[0], b.l3Offsets[0], b.l4Offsets[0], b.hashes[0], ...b.keys.subarray(0, FLOW_KEY_WORDS)];
      expect(fast, c.name).toEqual(general);
    }
  });
});

describe('flow key and symmetric hash', () => {
  it('the key layout is pinned to its version (bump FLOW_KEY_LAYOUT_VERSION when it changes)', () => {
    expect(FLOW_KEY_WORDS).toBe(12);
    expect(FLOW_KEY_LAYOUT_VERSION).toBe(1);
    const c = edgeCaseFrames().find((x) => x.name === 'QinQ 802.1ad 10 + 802.1Q 20')!;
    const { batch } = parseAt(c.bytes, 0, c.bytes.length);
    expect(Array.from(batch.keys.subarray(0, 12))).toEqual([
      0x0a000001, 0, 0, 0, 0x0a000002, 0, 0, 0, (1 << 16) | 2, ((4 << 24) | (6 << 16) | 20) >>> 0, 0, 0x0800,
    ]);
    const vx = edgeCaseFrames().find((x) => x.name === 'VXLAN over IPv4')!;
    const v = parseAt(vx.bytes, 0, vx.bytes.length).batch.keys;
    expect(v[0]).toBe(0x0af40102); // inner source
    expect(v[8]).toBe(((40000 << 16) | 8080) >>> 0);
    expect(v[10]).toBe((0x80000000 | 4096) >>> 0);
  });

  it('both directions of 20,000 random flows hash alike (IPv4, IPv6, ICMP echo, ARP)', () => {
    const rng = new Prng(99);
    const keys = new Uint32Array(2 * FLOW_KEY_WORDS);
    const hashes = new Set<number>();
    for (let n = 0; n < 20_000; n++) {
      keys.fill(0);
      const kind = [4, 6, 4, 1][n % 4]!;
      const proto = n % 4 === 2 ? 1 : n % 2 === 0 ? 6 : 17;
      const words = kind === 6 ? 4 : 1;
      for (let w = 0; w < words; w++) {
        keys[w] = rng.nextU32();
        keys[4 + w] = rng.nextU32();
      }
      const sp = rng.below(65536);
      const dp = rng.below(65536);
      const id = rng.below(65536);
      keys[8] = proto === 1 ? ((8 << 24) | id) >>> 0 : ((sp << 16) | dp) >>> 0;
      keys[9] = ((kind << 24) | ((kind === 1 ? 1 : proto) << 16) | rng.below(4096)) >>> 0;
      keys[11] = kind === 6 ? 0x86dd : kind === 1 ? 0x0806 : 0x0800;
      // the reverse direction
      const r = FLOW_KEY_WORDS;
      for (let w = 0; w < 4; w++) {
        keys[r + w] = keys[4 + w]!;
        keys[r + 4 + w] = keys[w]!;
      }
      keys[r + 8] = proto === 1 ? id : ((dp << 16) | sp) >>> 0; // echo reply: type 0
      keys[r + 9] = kind === 1 ? ((keys[9]! & 0xff00ffff) | (2 << 16)) >>> 0 : keys[9]!; // ARP reply
      keys[r + 10] = keys[10]!;
      keys[r + 11] = keys[11]!;
      const h = flowHash(keys, 0);
      expect(flowHash(keys, r)).toBe(h);
      hashes.add(h);
    }
    // and it spreads: 20,000 distinct flows give (nearly) 20,000 distinct hashes
    expect(hashes.size).toBeGreaterThan(19_900);
  });
});

describe('RFC 5952 IPv6 text', () => {
  const cases: Array<[number[], string]> = [
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], // a lone zero is not compressed
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'], // the longest run wins
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'], // first run on a tie
    [[0xfe80, 0, 0, 0, 0xabcd, 0xef, 0x1, 0x2], 'fe80::abcd:ef:1:2'],
    [[0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201], '::ffff:192.0.2.1'],
  ];
  for (const [groups, text] of cases) {
    it(text, () => {
      const b = new Uint8Array(20);
      groups.forEach((g, i) => {
        b[2 + 2 * i] = g >>> 8;
        b[3 + 2 * i] = g & 0xff;
      });
      expect(formatIPv6(b, 2)).toBe(text);
    });
  }
});
