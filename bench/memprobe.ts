/**
 * How dear memory is right now. On a shared host (a cloud VM) the cost of a cache miss moves
 * with the neighbours' load: on this project's machine a random read over 8 MiB went from 8 to
 * 17 ns within a minute while a compute-only loop stayed within 3%, and `acl-hit` (whose hot
 * flow records are 8 MiB) moved from 7.7 to 4.9 Mpps with it. `vfp bench` runs this probe just
 * before the timed passes of acl-hit and acl-miss and prints it with their figures, so that two
 * reports can be compared for the machine's state as well as for the code.
 *
 * The probe reads the way the flow table's batched probe does: 512 random line-aligned indices
 * from an LCG, then one independent 4-byte read per index in a tight loop (the misses overlap),
 * over a buffer of `bytes`. The figure is the extra cost per read beyond the same loop over an
 * L1-resident 16 KiB buffer (so the index arithmetic cancels), best of `runs`, in ns.
 */

const BATCH = 512;
const L1_BYTES = 16 * 1024;
const WORDS_PER_LINE = 16;

/** Defeats dead-code elimination of the reads. */
export let memoryProbeSink = 0;

export interface MemoryProbe {
  /** Size of the buffer read at random. */
  bytes: number;
  /** Extra ns per random read over `bytes`, beyond an L1-resident read. */
  ns: number;
}

function readsPerNs(words: Uint32Array, reads: number, idx: Int32Array): number {
  const lines = words.length / WORDS_PER_LINE;
  let seed = 0x2545f491;
  let sum = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reads; r += BATCH) {
    for (let j = 0; j < BATCH; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      idx[j] = ((seed >>> 8) % lines) * WORDS_PER_LINE;
    }
    for (let j = 0; j < BATCH; j++) sum += words[idx[j]!]!;
  }
  const ns = Number(process.hrtime.bigint() - t0) / reads;
  memoryProbeSink = (memoryProbeSink + sum) | 0;
  return ns;
}

/** The probe (about 0.1-0.3 s with the defaults). */
export function memoryProbe(bytes: number = 8 * 1024 * 1024, reads: number = 1 << 21, runs: number = 3): MemoryProbe {
  if (!Number.isInteger(bytes) || bytes < L1_BYTES || bytes % 64 !== 0) throw new Error(`memoryProbe: bytes must be a multiple of 64 of at least ${L1_BYTES}, not ${bytes}`);
  const big = new Uint32Array(bytes / 4).fill(1); // fill: every page faulted in before timing
  const small = new Uint32Array(L1_BYTES / 4).fill(1);
  const idx = new Int32Array(BATCH);
  let far = Infinity;
  let near = Infinity;
  for (let r = 0; r < runs; r++) {
    far = Math.min(far, readsPerNs(big, reads, idx));
    near = Math.min(near, readsPerNs(small, reads, idx));
  }
  return { bytes, ns: Math.max(0, Math.round((far - near) * 10) / 10) };
}
