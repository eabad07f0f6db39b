/**
 * Micro benchmarks of the unified flow table (src/flow/table.ts), tinybench 6:
 *
 *   node dist/bench/micro-flow.js            # all
 *   node dist/bench/micro-flow.js '1M'       # those whose name matches the regex
 *
 * Cases, with 1k, 64k and 1M live flows (single entries): lookup hit, lookup + touch (the whole
 * fast path of one frame), lookupMany hit and lookupMany + touch (the batch form the pipeline
 * uses: 1,024 frames selected through idx, per-frame times), lookup miss (64k, 1M); insert +
 * remove in steady state (each iteration installs 1,024 new flows and removes the 1,024 of the
 * previous iteration), for single entries and pairs; and the pipeline's shape, lookup + touch and
 * lookupMany + touch over 64k established pairs (131k entries) probed in both directions on a
 * moving clock. The notes give bytes per entry.
 *
 * As in bench/micro.ts, every iteration processes a batch of 1,024 operations because the timer
 * saturates below ~100 ns; figures are per operation (mean iteration time / 1,024). Keys are real
 * flow keys (IPv4/TCP layout of src/frame/batch.ts, port id in word 11) hashed by parse/'s
 * symmetric flowHash, built from a seeded PRNG. Lookups read their keys from a probe stream laid
 * out like a batch's `keys` column, in an order unrelated to the insertion order, so the table's
 * entries are visited at random (as real traffic does) while the key words stream sequentially
 * (as a freshly parsed batch does). Results fold into a printed sink so the JIT keeps the work.
 */
import { microBench, runMicro } from './micro-report.js';
import { Prng } from '../src/base/bytes.js';
import { FLOW_KEY_WORDS, L3_KIND_IPV4 } from '../src/frame/batch.js';
import { FlowTable } from '../src/flow/table.js';
import { flowHash } from '../src/parse/parse.js';

const OPS = 1024;
const W = FLOW_KEY_WORDS;

interface Flows {
  keys: Uint32Array;
  hashes: Uint32Array;
  count: number;
}

/** `count` distinct IPv4/TCP flow keys (source address carries the index, so they are distinct). */
function makeFlows(count: number, seed: number, salt: number): Flows {
  const rng = new Prng(seed);
  const keys = new Uint32Array(count * W);
  const hashes = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const k = i * W;
    keys[k] = ((salt << 24) | (i & 0xffffff)) >>> 0; // salt keeps key sets disjoint
    keys[k + 4] = (0xc6336400 | rng.below(256)) >>> 0;
    keys[k + 8] = ((1024 + rng.below(64000)) << 16) | [80, 443, 53, 8080][rng.below(4)]!;
    keys[k + 9] = (L3_KIND_IPV4 << 24) | (6 << 16);
    keys[k + 11] = (rng.below(4) << 16) | 0x0800;
    hashes[i] = flowHash(keys, k);
  }
  return { keys, hashes, count };
}

/** `length` keys picked at random from `flows` (shuffled order), packed like a batch column. */
function probeStream(flows: Flows, length: number, seed: number): Flows {
  const rng = new Prng(seed);
  const keys = new Uint32Array(length * W);
  const hashes = new Uint32Array(length);
  // A random permutation when the stream covers the set, random picks otherwise.
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i % flows.count;
  for (let i = length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  for (let i = 0; i < length; i++) {
    const src = order[i]!;
    keys.set(flows.keys.subarray(src * W, src * W + W), i * W);
    hashes[i] = flows.hashes[src]!;
  }
  return { keys, hashes, count: length };
}

function filledTable(flows: Flows, capacity: number): FlowTable {
  const t = new FlowTable({ capacity, whenFull: 'drop' });
  for (let i = 0; i < flows.count; i++) {
    if (t.insert(flows.keys, i * W, flows.hashes[i]!, 0, 3600, i, 1) < 0) throw new Error('bench table full');
  }
  return t;
}

let sink = 0;
const NOW = 1;

async function main(): Promise<void> {
  const { bench, filter, add } = microBench('vfp-engine flow table', 500);
  const notes: string[] = [];
  const want = (name: string): boolean => !filter || filter.test(name);

  // ---- lookup hit at three table sizes -----------------------------------------------------------
  for (const [label, n] of [['1k', 1024], ['64k', 65536], ['1M', 1 << 20]] as const) {
    const names = [
      `lookup hit, ${label} flows`,
      `lookup + touch, ${label} flows`,
      `lookupMany hit, ${label} flows`,
      `lookupMany + touch, ${label} flows`,
      ...(label === '1k' ? [] : [`lookup miss, ${label} flows`]),
    ];
    if (!names.some(want)) continue;
    const flows = makeFlows(n, 1, 10);
    const table = filledTable(flows, n);
    notes.push(`${label} flows: ${table.entrySize.toFixed(1)} bytes/entry, ${(table.memorySize / 2 ** 20).toFixed(1)} MiB, ${table.slotCount} slots, record 0 at byte ${table.hotWords.byteOffset} of its buffer`);
    const stream = probeStream(flows, Math.max(n, 64 * OPS), 2);
    const batches = stream.count / OPS;
    let b = 0;
    add(`lookup hit, ${label} flows`, () => {
      const keys = stream.keys;
      const hashes = stream.hashes;
      const base = b * OPS;
      b = b + 1 === batches ? 0 : b + 1;
      let x = 0;
      for (let i = 0; i < OPS; i++) x ^= table.lookup(keys, (base + i) * W, hashes[base + i]!, NOW);
      sink ^= x;
    });
    let bt = 0;
    add(`lookup + touch, ${label} flows`, () => {
      const keys = stream.keys;
      const hashes = stream.hashes;
      const base = bt * OPS;
      bt = bt + 1 === batches ? 0 : bt + 1;
      let x = 0;
      for (let i = 0; i < OPS; i++) {
        const h = table.lookup(keys, (base + i) * W, hashes[base + i]!, NOW);
        if (h >= 0) table.touch(h, NOW, 60, 0x10);
        x ^= h;
      }
      sink ^= x;
    });
    // lookupMany reads a whole stream through idx (frame i of the stream is key i), one batch of
    // OPS selected frames per iteration, as the pipeline selects a batch's frames.
    const out = new Int32Array(stream.count);
    const times = new Float64Array(stream.count).fill(NOW);
    const idxs: Int32Array[] = [];
    for (let k = 0; k < batches; k++) idxs.push(Int32Array.from({ length: OPS }, (_, i) => k * OPS + i));
    let bb = 0;
    add(`lookupMany hit, ${label} flows`, () => {
      const idx = idxs[bb]!;
      bb = bb + 1 === batches ? 0 : bb + 1;
      sink ^= table.lookupMany(stream.keys, idx, OPS, stream.hashes, times, out);
      sink ^= out[idx[OPS - 1]!]!;
    });
    let bbt = 0;
    add(`lookupMany + touch, ${label} flows`, () => {
      const idx = idxs[bbt]!;
      bbt = bbt + 1 === batches ? 0 : bbt + 1;
      sink ^= table.lookupMany(stream.keys, idx, OPS, stream.hashes, times, out);
      for (let j = 0; j < OPS; j++) {
        const h = out[idx[j]!]!;
        if (h >= 0) table.touch(h, NOW, 60, 0x10);
      }
    });
    if (label !== '1k') {
      const misses = makeFlows(64 * OPS, 3, 20);
      let bm = 0;
      add(`lookup miss, ${label} flows`, () => {
        const keys = misses.keys;
        const hashes = misses.hashes;
        const base = bm * OPS;
        bm = bm + 1 === 64 ? 0 : bm + 1;
        let x = 0;
        for (let i = 0; i < OPS; i++) x ^= table.lookup(keys, (base + i) * W, hashes[base + i]!, NOW);
        sink ^= x;
      });
    }
  }

  // ---- the pipeline's shape: 64k established pairs (131k entries), both directions -----------------
  if (want('64k pairs')) {
    const n = 65536;
    const fwd = makeFlows(n, 7, 60);
    const rev = makeFlows(n, 8, 70);
    const table = new FlowTable({ capacity: 2 * n, whenFull: 'drop' });
    for (let i = 0; i < n; i++) {
      if (table.insertPair(fwd.keys, i * W, fwd.hashes[i]!, rev.keys, i * W, rev.hashes[i]!, 0, 3600, i, -i, 1) < 0) throw new Error('bench table full');
    }
    notes.push(`64k pairs: ${table.count} entries, ${(table.memorySize / 2 ** 20).toFixed(1)} MiB`);
    const both: Flows = { keys: new Uint32Array(2 * n * W), hashes: new Uint32Array(2 * n), count: 2 * n };
    both.keys.set(fwd.keys, 0);
    both.keys.set(rev.keys, n * W);
    both.hashes.set(fwd.hashes, 0);
    both.hashes.set(rev.hashes, n);
    const stream = probeStream(both, 2 * n, 9);
    const batches = stream.count / OPS;
    let now = NOW;
    let b = 0;
    add('lookup + touch, 64k pairs', () => {
      const keys = stream.keys;
      const hashes = stream.hashes;
      const base = b * OPS;
      b = b + 1 === batches ? 0 : b + 1;
      now += 1e-3; // a moving clock: every touch extends its entry's expiry
      let x = 0;
      for (let i = 0; i < OPS; i++) {
        const h = table.lookup(keys, (base + i) * W, hashes[base + i]!, now);
        if (h >= 0) table.touch(h, now, 60, 0x10);
        x ^= h;
      }
      sink ^= x;
    });
    const out = new Int32Array(stream.count);
    const times = new Float64Array(stream.count);
    const idxs: Int32Array[] = [];
    for (let k = 0; k < batches; k++) idxs.push(Int32Array.from({ length: OPS }, (_, i) => k * OPS + i));
    let bb = 0;
    add('lookupMany + touch, 64k pairs', () => {
      const idx = idxs[bb]!;
      bb = bb + 1 === batches ? 0 : bb + 1;
      now += 1e-3;
      times.fill(now, idx[0]!, idx[0]! + OPS);
      sink ^= table.lookupMany(stream.keys, idx, OPS, stream.hashes, times, out);
      for (let j = 0; j < OPS; j++) {
        const h = out[idx[j]!]!;
        if (h >= 0) table.touch(h, now, 60, 0x10);
      }
    });
  }

  // ---- insert + remove in steady state ------------------------------------------------------------
  for (const [label, n] of [['64k', 65536], ['1M', 1 << 20]] as const) {
    const single = `insert + remove, ${label} flows`;
    const paired = `insertPair + remove, ${label} flows`;
    if (!want(single) && !want(paired)) continue;
    const flows = makeFlows(n, 4, 30);
    const fresh = makeFlows(64 * OPS, 5, 40);
    const reverse = makeFlows(64 * OPS, 6, 50);
    if (want(single)) {
      const table = filledTable(flows, n + 2 * OPS);
      const previous = new Int32Array(OPS).fill(-1);
      let b = 0;
      add(single, () => {
        const base = b * OPS;
        b = b + 1 === 64 ? 0 : b + 1;
        for (let i = 0; i < OPS; i++) {
          if (previous[i]! >= 0) table.remove(previous[i]!);
          previous[i] = table.insert(fresh.keys, (base + i) * W, fresh.hashes[base + i]!, NOW, 30, i, 1);
        }
        sink ^= previous[OPS - 1]!;
      });
    }
    if (want(paired)) {
      const table = filledTable(flows, n + 4 * OPS);
      const previous = new Int32Array(OPS).fill(-1);
      let b = 0;
      add(paired, () => {
        const base = b * OPS;
        b = b + 1 === 64 ? 0 : b + 1;
        for (let i = 0; i < OPS; i++) {
          if (previous[i]! >= 0) table.remove(previous[i]!);
          const k = (base + i) * W;
          previous[i] = table.insertPair(fresh.keys, k, fresh.hashes[base + i]!, reverse.keys, k, reverse.hashes[base + i]!, NOW, 30, i, -i, 1);
        }
        sink ^= previous[OPS - 1]!;
      });
    }
  }

  await runMicro(bench, { label: 'micro-flow', unit: 'op', perIteration: OPS, sink: () => sink, notes: notes }, filter);
}

await main();
