/**
 * Every frame ever found by the fuzzer to crash, read out of range or disagree between the fast
 * and the general parse paths is kept here as a raw `.bin` file, and replayed on every run: it
 * must parse without an exception, inside its bounds, identically on both paths.
 * The hand-built edge cases of test/parse/frames.ts are replayed with them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FLOW_KEY_WORDS, FrameBatch } from '../../src/frame/batch.js';
import { parseBatch, parseBatchGeneral } from '../../src/parse/parse.js';
import { describeFrame } from '../../src/parse/describe.js';
import { edgeCaseFrames } from '../parse/frames.js';

const DIR = dirname(fileURLToPath(import.meta.url));

function check(bytes: Uint8Array): void {
  for (let cut = 0; cut <= bytes.length; cut += Math.max(1, Math.floor(bytes.length / 64))) {
    const b = new FrameBatch(1, bytes);
    b.lengths[0] = cut;
    b.wireLengths[0] = bytes.length;
    b.count = 1;
    parseBatch(b);
    describeFrame(b, 0);
    for (const col of [b.l3Offsets, b.l4Offsets, b.innerL2Offsets, b.innerL3Offsets, b.innerL4Offsets, b.l3Ends]) {
      expect(col[0] === -1 || (col[0]! >= 0 && col[0]! <= cut)).toBe(true);
    }
    const fast = [b.errors[0], b.flags[0], b.hashes[0], ...b.keys.subarray(0, FLOW_KEY_WORDS)];
    parseBatchGeneral(b);
    expect([b.errors[0], b.flags[0], b.hashes[0], ...b.keys.subarray(0, FLOW_KEY_WORDS)]).toEqual(fast);
  }
}

describe('regression frames', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.bin'));
  for (const f of files) it(f, () => check(new Uint8Array(readFileSync(join(DIR, f)))));
  it(`the ${edgeCaseFrames().length} hand-built edge cases, cut at 64 lengths each`, () => {
    for (const c of edgeCaseFrames()) check(c.bytes);
  });
});
