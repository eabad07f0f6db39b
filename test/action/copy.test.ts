/**
 * copyBytes (src/action/copy.ts): every size 0..300 and frame sizes up to 1514 at every
 * alignment, across arrays, within one array (overlapping both ways, and disjoint) and between two
 * disjoint views of one buffer, including pool Buffers; never writes outside the destination range.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { copyBytes } from '../../src/action/copy.js';

const viewOf = (u: Uint8Array): DataView => new DataView(u.buffer, u.byteOffset, u.byteLength);

function random(n: number, rng: Prng): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.below(256);
  return a;
}

describe('copyBytes', () => {
  it('between arrays: sizes 0..300 and 1514 at offsets 0..7, nothing else touched', () => {
    const rng = new Prng(1);
    const src = random(2000, rng);
    const sizes = [...Array.from({ length: 301 }, (_, i) => i), 1514];
    for (const size of sizes) {
      for (let so = 0; so < 8; so++) {
        const dst = new Uint8Array(1600).fill(0x5a);
        const to = (so * 3) % 8;
        copyBytes(src, viewOf(src), so, dst, viewOf(dst), to, size);
        for (let i = 0; i < dst.length; i++) {
          const want = i >= to && i < to + size ? src[so + i - to] : 0x5a;
          if (dst[i] !== want) expect.fail(`size ${size} from ${so} to ${to}: byte ${i}`);
        }
      }
    }
  });

  it('into and out of pool-backed Buffers', () => {
    const rng = new Prng(2);
    const a = Buffer.from(Array.from(random(300, rng)));
    const b = Buffer.from(new Array<number>(300).fill(0));
    expect(a.byteOffset + b.byteOffset).toBeGreaterThan(0);
    copyBytes(a, viewOf(a), 10, b, viewOf(b), 3, 250);
    expect(Uint8Array.from(b.subarray(3, 253))).toEqual(Uint8Array.from(a.subarray(10, 260)));
    expect(b[2]).toBe(0);
    expect(b[253]).toBe(0);
  });

  it('within one array, overlapping either way (memmove), and disjoint small copies', () => {
    const rng = new Prng(3);
    for (const size of [5, 12, 16, 17, 64, 200, 1514]) {
      for (const delta of [-300, -65, -17, -4, -1, 1, 3, 4, 16, 33, 65, 300]) {
        const base = random(2400, rng);
        const d = Uint8Array.from(base);
        const from = 400;
        copyBytes(d, viewOf(d), from, d, viewOf(d), from + delta, size);
        const want = Uint8Array.from(base);
        want.copyWithin(from + delta, from, from + size);
        expect(d, `size ${size} delta ${delta}`).toEqual(want);
      }
    }
  });

  it('between two views of one buffer (disjoint ranges)', () => {
    const rng = new Prng(4);
    for (const size of [7, 64, 300]) {
      const base = random(1024, rng);
      const buffer = base.slice().buffer;
      const x = new Uint8Array(buffer, 100, 400);
      const y = new Uint8Array(buffer, 500, 400);
      copyBytes(x, viewOf(x), 10, y, viewOf(y), 20, size);
      const want = Uint8Array.from(base);
      want.copyWithin(520, 110, 110 + size);
      expect(new Uint8Array(buffer), `size ${size}`).toEqual(want);
    }
  });
});
