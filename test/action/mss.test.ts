/**
 * The MSS option walk on hostile input: option lengths 0 and 1, options overrunning the header
 * or the captured end, data offsets below 5 or past the end, MSS options of the wrong length.
 * The walk must never read outside [l4, end) (checked by a Proxy that records every index read,
 * and by a DataView that ends exactly at `end`, so a stray view read throws), never throw, and
 * never write unless it found a well-formed MSS option.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { mssClamp, mssFind } from '../../src/action/mss.js';

const L4 = 10; // some bytes before the TCP header that must not be read

/** A TCP header with the given option bytes and data offset, ending exactly at the array's end. */
function segment(options: number[], dataOffsetWords: number, flags: number = 0x02): { d: Uint8Array; end: number } {
  const d = new Uint8Array(L4 + 20 + options.length).fill(0xee, 0, L4);
  d[L4 + 12] = dataOffsetWords << 4;
  d[L4 + 13] = flags;
  d.set(options, L4 + 20);
  return { d, end: d.length };
}

/** Run find and clamp through a read-recording Proxy; return what they did. */
function probe(d: Uint8Array, end: number): { found: number; changed: boolean; outside: number[] } {
  const outside: number[] = [];
  const spy = new Proxy(d, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        const i = Number(key);
        if (i < L4 || i >= end) outside.push(i);
        return target[i];
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set(target, key, value) {
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        const i = Number(key);
        if (i < L4 || i >= end) outside.push(-i - 1);
      }
      return Reflect.set(target, key, value, target);
    },
  });
  const v = new DataView(d.buffer, d.byteOffset, end);
  const found = mssFind(spy, L4, end);
  const changed = mssClamp(spy, v, L4, end, 40, 65535);
  return { found, changed, outside };
}

describe('MSS option walk on malformed options', () => {
  const cases: Array<[string, number[], number, number]> = [
    // name, options, data offset (words), expected MSS value offset (-1 = none)
    ['well-formed MSS first', [2, 4, 5, 0xb4], 6, L4 + 22],
    ['after NOPs', [1, 1, 1, 2, 4, 5, 0xb4, 0], 7, L4 + 25],
    ['length 0 before MSS', [3, 0, 2, 4, 5, 0xb4, 0, 0], 7, -1],
    ['length 1 before MSS', [3, 1, 2, 4, 5, 0xb4, 0, 0], 7, -1],
    ['MSS with length 0', [2, 0, 5, 0xb4], 6, -1],
    ['MSS with length 3', [2, 3, 5, 0xb4], 6, -1],
    ['MSS with length 6', [2, 6, 5, 0xb4, 0, 0, 0, 0], 7, -1],
    ['option overruns the header', [8, 10, 1, 2, 3, 4, 2, 4], 7, -1],
    ['MSS cut by the header end', [1, 1, 2, 4, 5, 0xb4, 0, 0], 6, -1],
    ['MSS cut by the captured end', [1, 1, 1, 1, 1, 2, 4, 5], 8, -1],
    ['length byte is the last captured byte', [1, 1, 1, 8], 6, -1],
    ['end of list before MSS', [0, 0, 0, 0, 2, 4, 5, 0xb4], 7, -1],
    ['data offset 0', [2, 4, 5, 0xb4], 0, -1],
    ['data offset 4', [2, 4, 5, 0xb4], 4, -1],
    ['data offset 15, few bytes captured', [2, 4, 5, 0xb4], 15, L4 + 22],
    ['all NOPs', [1, 1, 1, 1, 1, 1, 1, 1], 7, -1],
    ['second MSS ignored after a bad first', [2, 5, 1, 1, 1, 2, 4, 5, 0xb4, 0, 0, 0], 8, -1],
  ];
  it.each(cases)('%s', (_name, options, doff, want) => {
    const { d, end } = segment(options, doff);
    const before = Uint8Array.from(d);
    const r = probe(d, end);
    expect(r.outside).toEqual([]);
    expect(r.found).toBe(want);
    expect(r.changed).toBe(want >= 0);
    if (want < 0) expect(Uint8Array.from(d)).toEqual(before);
  });

  it('a header shorter than 20 bytes, or l4 -1, is refused', () => {
    const { d } = segment([2, 4, 5, 0xb4], 6);
    const v = new DataView(d.buffer);
    expect(mssClamp(d, v, L4, L4 + 19, 40, 65535)).toBe(false);
    expect(mssClamp(d, v, -1, d.length, 40, 65535)).toBe(false);
    expect(mssFind(d, L4, L4 + 19)).toBe(-1);
  });

  it('100,000 random option areas and data offsets: never reads outside, never throws', () => {
    const rng = new Prng(0xbad);
    let found = 0;
    for (let n = 0; n < 100_000; n++) {
      const size = rng.below(44);
      const options: number[] = [];
      for (let i = 0; i < size; i++) {
        // bias towards the interesting kinds and tiny lengths
        const r = rng.below(10);
        options.push(r < 3 ? rng.below(4) : r < 5 ? rng.below(6) : rng.below(256));
      }
      const { d, end } = segment(options, rng.below(16), rng.below(256));
      const cut = end - rng.below(Math.min(8, size + 1)); // sometimes cut the capture shorter
      let r: ReturnType<typeof probe>;
      try {
        r = probe(d, cut);
      } catch (e) {
        throw new Error(`case ${n} threw: ${String(e)}`);
      }
      if (r.outside.length > 0) expect.fail(`case ${n}: accessed ${r.outside.join(',')} outside [${L4}, ${cut})`);
      if (r.found >= 0) {
        found++;
        expect(r.found + 2).toBeLessThanOrEqual(cut);
      }
    }
    expect(found).toBeGreaterThan(100);
  });
});
