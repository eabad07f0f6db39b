/**
 * Mutated frames through the whole pipeline (switch, host vNIC answers, layers, flows, actions):
 * no exception, every frame accounted for (in = out + dropped), nothing emitted longer than the
 * frame plus a VLAN tag. Frames are the scripted replay samples (transparent, nat-host) with
 * random bytes flipped, truncated or extended, entering on random ports; no output frame is more
 * than a VLAN tag longer than its input (or than the 60-byte minimum); fixed seed
 * (VFP_FUZZ_SEED changes it).
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { loadTopology } from '../../src/config/topology.js';
import { FrameBatch } from '../../src/frame/batch.js';
import { Engine } from '../../src/pipeline/engine.js';
import type { FrameSink, IngressMap } from '../../src/pipeline/engine.js';
import { EMIT_FORWARD } from '../../src/pipeline/output.js';
import { compilePolicy } from '../../src/pipeline/policy.js';
import { buildFrame } from '../../src/synth/frame.js';
import { NAT_HOST_SCRIPT, TRANSPARENT_SCRIPT } from '../../src/synth/transparent.js';
import { natTopology, transparentTopology } from '../pipeline/helpers.js';

const SEED = Number(process.env['VFP_FUZZ_SEED'] ?? 0x5eed);
const FRAMES = 200_000;

describe('fuzz: mutated frames through the engine', () => {
  it(`${FRAMES} frames (seed ${SEED}): no exception, in = out + dropped`, () => {
    const rng = new Prng(SEED);
    const samples = [...TRANSPARENT_SCRIPT, ...NAT_HOST_SCRIPT].map((s) => buildFrame(s.frame));
    let emitted = 0;
    let maxGrowth = 0;
    for (const doc of [transparentTopology(), natTopology()]) {
      const policy = compilePolicy(loadTopology(doc, 'fuzz'), 1);
      const engine = new Engine(policy, { flowCapacity: 512, whenFull: rng.below(2) === 0 ? 'drop' : 'evict-idle' });
      // Input length of each frame of the current batch, by frame number (host answers may be as
      // long as the frame they answer, or 60 bytes for an ARP reply).
      const inputLengths = new Map<number, number>();
      const sink: FrameSink = {
        emit(out) {
          for (let j = 0; j < out.count; j++) {
            if (out.kindOf(j) !== EMIT_FORWARD) continue;
            emitted++;
            const num = out.input!.numbers[out.frames[j]!]!;
            maxGrowth = Math.max(maxGrowth, out.lengthOf(j) - Math.max(60, inputLengths.get(num) ?? 0));
          }
        },
      };
      const batch = new FrameBatch(64, new Uint8Array(64 * 2100));
      const map: IngressMap = { byInterface: new Int32Array(0), forced: -1 };
      let t = 1_700_000_000;
      for (let done = 0; done < FRAMES / 2; ) {
        let at = 3;
        const n = 1 + rng.below(64);
        for (let i = 0; i < n; i++) {
          const base = samples[rng.below(samples.length)]!;
          let len = base.length;
          const r = rng.below(10);
          if (r === 0) len = rng.below(len + 1); // truncated
          else if (r === 1) len = Math.min(2000, len + rng.below(200)); // padded with garbage
          batch.data.set(base.subarray(0, Math.min(len, base.length)), at);
          for (let b = base.length; b < len; b++) batch.data[at + b] = rng.below(256);
          const flips = rng.below(6);
          for (let f = 0; f < flips; f++) batch.data[at + rng.below(Math.max(1, len))] = rng.below(256);
          batch.offsets[i] = at;
          batch.lengths[i] = len;
          batch.wireLengths[i] = len + (rng.below(4) === 0 ? rng.below(100) : 0);
          t += rng.below(3) === 0 ? rng.below(400) : 0.001;
          batch.timestampSeconds[i] = Math.floor(t);
          batch.timestampNanos[i] = Math.floor((t - Math.floor(t)) * 1e9);
          batch.numbers[i] = done + i + 1;
          batch.sources[i] = 0;
          at += len + rng.below(8);
        }
        batch.count = n;
        inputLengths.clear();
        for (let i = 0; i < n; i++) inputLengths.set(batch.numbers[i]!, batch.lengths[i]!);
        map.forced = rng.below(3) === 0 ? rng.below(policy.ports.length) : -1;
        engine.process(batch, map, sink);
        done += n;
      }
      const c = (k: Parameters<Engine['counter']>[0]): number => engine.counter(k);
      expect(c('in')).toBe(c('out') + c('dropped'));
      expect(engine.drops.reduce((a, b) => a + b, 0)).toBe(c('dropped'));
      expect(engine.flows.validate()).toBeNull();
    }
    console.log(`engine fuzz: ${FRAMES} frames, ${emitted} emitted, seed ${SEED}`);
    expect(emitted).toBeGreaterThan(0);
    expect(maxGrowth).toBeLessThanOrEqual(4);
  });
});
