/**
 * Fuzzing the extractor: seeded mutations of valid frames (bit flips, byte sets, truncation at
 * any length, length-field tampering, stacked tags, VXLAN inner damage) go through parseBatch in
 * batches. Every frame must:
 *   - not throw;
 *   - leave every offset column at -1 or inside [frame start, frame end];
 *   - parse identically when the bytes AFTER the frame change (a canary: proves no read past
 *     caplen, since any such read could change the result);
 *   - give the same columns through the inline fast path (parseBatch) and the general walk
 *     (parseBatchGeneral).
 * A failing frame is written to test/regress/ (kept forever, replayed by regress.test.ts).
 *
 * VFP_FUZZ_FRAMES (default 1,000,000) and VFP_FUZZ_SEED (default 0x5eed) control the run:
 * `VFP_FUZZ_FRAMES=20000000 npm run test:long-fuzz` for a long one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { FLOW_KEY_WORDS, FrameBatch } from '../../src/frame/batch.js';
import { parseBatch, parseBatchGeneral } from '../../src/parse/parse.js';
import { describeFrame } from '../../src/parse/describe.js';
import { synthesize } from '../../src/synth/scenarios.js';
import { edgeCaseFrames } from '../parse/frames.js';

const FRAMES = Number(process.env['VFP_FUZZ_FRAMES'] ?? 1_000_000);
const SEED = Number(process.env['VFP_FUZZ_SEED'] ?? 0x5eed);
const REGRESS = resolve(dirname(fileURLToPath(import.meta.url)), '../regress');

const BATCH = 256;
const SLOT = 2048; // each frame sits at the END of its slot minus CANARY bytes
const CANARY = 64;

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const take = (bytes: Uint8Array, o: number, l: number) => {
    if (l <= SLOT - CANARY) out.push(bytes.slice(o, o + l));
  };
  synthesize('sample', { packets: 17, flows: 1, seed: 1 }, take);
  synthesize('mix64', { packets: 40, flows: 20, seed: 2 }, take);
  synthesize('vxlan', { packets: 20, flows: 8, seed: 3 }, take);
  synthesize('imix', { packets: 24, flows: 8, seed: 4 }, take);
  out.push(...edgeCaseFrames().map((f) => f.bytes).filter((b) => b.length <= SLOT - CANARY));
  return out;
}

const INTERESTING = [0x00, 0xff, 0x45, 0x46, 0x4f, 0x60, 0x81, 0x88, 0xa8, 0x91, 0x08, 0x86, 0xdd, 0x06, 0x11, 0x3a, 0x2c, 0x2b, 0x3c, 0x33, 0x12, 0xb5, 0x80, 0x7f];

/** Write a mutated copy of `seed` into `dst` at `at`; returns its length. */
function mutate(rng: Prng, seed: Uint8Array, dst: Uint8Array, at: number): number {
  let len = seed.length;
  dst.set(seed, at);
  const ops = 1 + rng.below(3);
  for (let k = 0; k < ops; k++) {
    const op = rng.below(8);
    if (op === 0 && len > 0) {
      // flip 1..8 random bits
      for (let b = 1 + rng.below(8); b > 0; b--) dst[at + rng.below(len)]! ^= 1 << rng.below(8);
    } else if (op === 1 && len > 0) {
      dst[at + rng.below(len)] = INTERESTING[rng.below(INTERESTING.length)]!;
    } else if (op === 2) {
      len = rng.below(len + 1); // truncate anywhere, including 0
    } else if (op === 3 && len >= 20) {
      // tamper with a 16-bit length-like field at a header boundary
      const candidates = [16, 18, 20, 22, 38, 40, 42, 46, 54, 58, 62, 66];
      const p = candidates[rng.below(candidates.length)]!;
      if (p + 1 < len) {
        const v = rng.below(4) === 0 ? 0 : rng.below(3) === 0 ? 0xffff : rng.below(200);
        dst[at + p] = v >>> 8;
        dst[at + p + 1] = v & 0xff;
      }
    } else if (op === 4 && len >= 14 && len + 4 <= SLOT - CANARY) {
      // insert a VLAN tag after the MACs (sometimes an S-tag)
      dst.copyWithin(at + 16, at + 12, at + len);
      dst[at + 12] = rng.below(2) ? 0x81 : 0x88;
      dst[at + 13] = dst[at + 12] === 0x81 ? 0x00 : 0xa8;
      dst[at + 14] = rng.below(16);
      dst[at + 15] = rng.below(256);
      len += 4;
    } else if (op === 5 && len >= 40) {
      // damage the nibble of a version/IHL or TCP data offset
      const p = [14, 18, 46, 50, 64][rng.below(5)]!;
      if (p < len) dst[at + p] = (rng.below(16) << 4) | rng.below(16);
    } else if (op === 6 && len > 0) {
      // random bytes over a random window
      const s = rng.below(len);
      const e = Math.min(len, s + 1 + rng.below(16));
      for (let p = s; p < e; p++) dst[at + p] = rng.nextU32() & 0xff;
    } else if (op === 7 && len >= 24) {
      // a UDP destination port of 4789 somewhere plausible, to make VXLAN more likely
      const p = [36, 40, 56, 60][rng.below(4)]!;
      if (p + 1 < len) {
        dst[at + p] = 0x12;
        dst[at + p + 1] = 0xb5;
      }
    }
  }
  return len;
}

const OFFSET_COLUMNS = ['ethTypeOffsets', 'l3Offsets', 'l4Offsets', 'innerL2Offsets', 'innerL3Offsets', 'innerL4Offsets', 'l3Ends'] as const;
const ALL_COLUMNS = ['errors', 'flags', 'vlanCounts', 'innerVlanCounts', ...OFFSET_COLUMNS, 'hashes'] as const;

function snapshot(b: FrameBatch): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const c of ALL_COLUMNS) m.set(c, Array.from(b[c].subarray(0, b.count)));
  m.set('keys', Array.from(b.keys.subarray(0, b.count * FLOW_KEY_WORDS)));
  return m;
}

function firstDifference(a: Map<string, number[]>, b: Map<string, number[]>): [string, number] | null {
  for (const [name, va] of a) {
    const vb = b.get(name)!;
    for (let i = 0; i < va.length; i++) {
      if (va[i] !== vb[i]) return [name, name === 'keys' ? Math.floor(i / FLOW_KEY_WORDS) : i];
    }
  }
  return null;
}

function keep(reason: string, frame: Uint8Array): string {
  mkdirSync(REGRESS, { recursive: true });
  const hex = Array.from(frame.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join('');
  const file = join(REGRESS, `fuzz-${reason}-${frame.length}-${hex}.bin`);
  writeFileSync(file, frame);
  return file;
}

describe(`parse fuzz (${FRAMES} frames, seed ${SEED})`, () => {
  it('never throws, stays inside the frame, never reads past caplen, fast path == general path', () => {
    const rng = new Prng(SEED);
    const pool = seeds();
    const slab = new Uint8Array(BATCH * SLOT);
    const batch = new FrameBatch(BATCH, slab);
    const starts = new Int32Array(BATCH);
    const failures: string[] = [];
    let done = 0;
    let withErrors = 0;
    let vxlan = 0;
    while (done < FRAMES && failures.length < 5) {
      const n = Math.min(BATCH, FRAMES - done);
      for (let i = 0; i < n; i++) {
        const seed = pool[rng.below(pool.length)]!;
        const slot = i * SLOT;
        // mutate into the slot's start, then move the frame to end just before the canary
        const len = mutate(rng, seed, slab, slot);
        const start = slot + SLOT - CANARY - len;
        slab.copyWithin(start, slot, slot + len);
        for (let c = 0; c < CANARY; c++) slab[slot + SLOT - CANARY + c] = rng.nextU32() & 0xff;
        starts[i] = start;
        batch.offsets[i] = start;
        batch.lengths[i] = len;
        batch.wireLengths[i] = rng.below(8) === 0 ? len + rng.below(100) : len;
        batch.numbers[i] = done + i + 1;
      }
      batch.count = n;
      let fast: Map<string, number[]>;
      try {
        parseBatch(batch);
        fast = snapshot(batch);
        // bounds
        for (const c of OFFSET_COLUMNS) {
          const col = batch[c];
          for (let i = 0; i < n; i++) {
            const v = col[i]!;
            const s = starts[i]!;
            if (v !== -1 && (v < s || v > s + batch.lengths[i]!)) {
              failures.push(`${c}[${i}] = ${v} outside [${s}, ${s + batch.lengths[i]!}]: ${keep('bounds', slab.slice(s, s + batch.lengths[i]!))}`);
            }
          }
        }
        for (let i = 0; i < n; i++) {
          if (batch.errors[i] !== 0) withErrors++;
          if (batch.innerL2Offsets[i] !== -1) vxlan++;
          if (i % 64 === 0) describeFrame(batch, i); // the describer must cope with anything too
        }
        // canary: change the bytes after each frame, parse again, expect the same columns
        for (let i = 0; i < n; i++) {
          const after = i * SLOT + SLOT - CANARY;
          for (let c = 0; c < CANARY; c++) slab[after + c] = ~slab[after + c]! & 0xff;
        }
        parseBatch(batch);
        const again = snapshot(batch);
        const diffCanary = firstDifference(fast, again);
        if (diffCanary) {
          const i = diffCanary[1];
          failures.push(`read past caplen (${diffCanary[0]} changed): ${keep('overread', slab.slice(starts[i]!, starts[i]! + batch.lengths[i]!))}`);
        }
        parseBatchGeneral(batch);
        const general = snapshot(batch);
        const diffPaths = firstDifference(fast, general);
        if (diffPaths) {
          const i = diffPaths[1];
          failures.push(`fast path and general path disagree on ${diffPaths[0]}: ${keep('paths', slab.slice(starts[i]!, starts[i]! + batch.lengths[i]!))}`);
        }
      } catch (e) {
        // find the frame that throws
        for (let i = 0; i < n; i++) {
          const one = new FrameBatch(1, slab);
          one.offsets[0] = starts[i]!;
          one.lengths[0] = batch.lengths[i]!;
          one.wireLengths[0] = batch.wireLengths[i]!;
          one.count = 1;
          try {
            parseBatch(one);
            describeFrame(one, 0);
          } catch {
            failures.push(`throws ${(e as Error).message}: ${keep('throw', slab.slice(starts[i]!, starts[i]! + batch.lengths[i]!))}`);
            break;
          }
        }
      }
      done += n;
    }
    console.log(`fuzz: ${done} frames, ${withErrors} with a parse error, ${vxlan} with a VXLAN inner frame, ${failures.length} failures`);
    expect(failures).toEqual([]);
    // the mutations must actually exercise the error paths and the VXLAN path
    expect(withErrors).toBeGreaterThan(done / 20);
    expect(vxlan).toBeGreaterThan(0);
  });
});
