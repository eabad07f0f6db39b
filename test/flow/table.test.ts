/**
 * The flow table case by case: pairs (both or neither, removal takes the peer, a touch of either
 * side keeps both alive while writing only its own record, RST cuts the expiry and stops
 * extensions), lookupMany against per-frame lookups, the record layout and its accessors, full
 * tables ('drop' and 'evict-idle'), budgeted sweeps, keys that differ in one word (the port half
 * of word 11 included), equal hashes for different keys, tiny capacities, handle stability,
 * replacement, counters and options.
 * The random-operation comparison with a reference model is in table-model.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { FLOW_KEY_WORDS } from '../../src/frame/batch.js';
import {
  FLOW_COLD_BYTES_HIGH,
  FLOW_COLD_CLOSE_EXPIRY,
  FLOW_COLD_CREATED,
  FLOW_COLD_HASH,
  FLOW_COLD_KEY,
  FLOW_COLD_KEY_WORDS,
  FLOW_COLD_NEXT_FREE,
  FLOW_COLD_PACKETS_HIGH,
  FLOW_COLD_PEER,
  FLOW_COUNTERS,
  FLOW_HOT_ACTION,
  FLOW_HOT_BYTES,
  FLOW_HOT_GENERATION,
  FLOW_HOT_KEY,
  FLOW_HOT_KEY_WORDS,
  FLOW_HOT_LAST_SEEN,
  FLOW_HOT_PACKETS,
  FLOW_HOT_STATE,
  FLOW_HOT_TTL,
  FLOW_HOT_USER_DATA,
  FLOW_RECORD_SIZE,
  FLOW_RECORD_WORDS,
  FLOW_RECHECK,
  FLOW_REMOVAL_HANDLE,
  FLOW_REMOVAL_OWNER,
  FLOW_REMOVAL_PEER,
  FLOW_REMOVAL_REASON,
  FLOW_REMOVAL_REASONS,
  FLOW_REMOVAL_STATE,
  FLOW_REMOVAL_WORDS,
  FLOW_STATE_CLOSING,
  FLOW_STATE_LIVE,
  FLOW_STATE_WIDE,
  FLOW_STATE_WORDS,
  FlowCounterId,
  FlowTable,
} from '../../src/flow/table.js';
import { W, keyString, makeKeys, mixHash } from './helpers.js';

const keys = makeKeys(24_000, 11);
const hashOf = (i: number): number => mixHash(keys, i * W);
const ins = (t: FlowTable, i: number, now = 0, ttl = 10, action = i): number => t.insert(keys, i * W, hashOf(i), now, ttl, action, 1);
const pair = (t: FlowTable, f: number, r: number, now = 0, ttl = 10): number =>
  t.insertPair(keys, f * W, hashOf(f), keys, r * W, hashOf(r), now, ttl, 100 + f, 100 + r, 1);
const RECORD_ALIGNMENT_CHECK = 64; // record 0 sits at byte 0 of a page-aligned WebAssembly.Memory, or at byte 48 of an ArrayBuffer
const TCP_RST = 0x04;
const look = (t: FlowTable, i: number, now = 0): number => t.lookup(keys, i * W, hashOf(i), now);

describe('flow table: basics', () => {
  it('counter ids follow the list (the hot paths use literal ids)', () => {
    expect(FLOW_COUNTERS).toEqual(['lookups', 'hits', 'inserted', 'replaced', 'removed', 'expired', 'evicted', 'full']);
    FLOW_COUNTERS.forEach((name, id) => expect(FlowCounterId[name]).toBe(id));
    const t = new FlowTable({ capacity: 8, whenFull: 'drop' });
    ins(t, 0);
    look(t, 0);
    look(t, 1);
    t.remove(look(t, 0));
    expect(Array.from(t.counters)).toEqual([3, 2, 1, 0, 1, 0, 0, 0]);
  });

  it('insert, lookup, fields, remove', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const h = t.insert(keys, 5 * W, hashOf(5), 100, 30, 777, 42);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(t.count).toBe(1);
    expect(t.size).toBe(1);
    expect(look(t, 5, 100)).toBe(h);
    expect(t.actionOf(h)).toBe(777);
    expect(t.generationOf(h)).toBe(42);
    expect(t.expiryOf(h)).toBe(130);
    expect(t.ttlOf(h)).toBe(30);
    expect(t.peerOf(h)).toBe(-1);
    expect(t.createdAtOf(h)).toBe(100);
    expect(t.lastSeenOf(h)).toBe(100);
    expect(t.userDataOf(h)).toBe(0);
    const out = new Uint32Array(W + 3);
    t.copyKey(h, out, 3);
    expect(keyString(out, 3)).toBe(keyString(keys, 5 * W));
    expect(look(t, 6, 100)).toBe(-1);
    expect(t.remove(h)).toBe(1);
    expect(t.remove(h)).toBe(0); // already free: no-op
    expect(t.remove(-1)).toBe(0);
    expect(look(t, 5, 100)).toBe(-1);
    expect(t.count).toBe(0);
    expect(t.validate()).toBeNull();
  });

  it('expiry is strict: alive at now == expiry, removed and counted after', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const h = ins(t, 1, 0, 2);
    expect(look(t, 1, 2)).toBe(h);
    expect(look(t, 1, 2.000001)).toBe(-1);
    expect(t.counter('expired')).toBe(1);
    expect(t.count).toBe(0);
    expect(t.find(keys, W, hashOf(1))).toBe(-1);
  });

  it('touch counts packets, bytes and flags and refreshes the idle expiry, never backwards', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const h = ins(t, 1, 0, 10);
    t.touch(h, 3, 100, 0x02);
    t.touch(h, 4, 60, 0x10);
    expect(t.packetsOf(h)).toBe(2);
    expect(t.bytesOf(h)).toBe(160);
    expect(t.tcpFlagsOf(h)).toBe(0x12);
    expect(t.expiryOf(h)).toBe(14);
    expect(t.lastSeenOf(h)).toBe(4);
    t.touch(h, 1, 60, 0); // an out-of-order timestamp does not shorten the flow
    expect(t.expiryOf(h)).toBe(14);
    expect(look(t, 1, 13.5)).toBe(h);
  });

  it('insert over an existing key replaces it (new values, counted replaced)', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const h = t.insert(keys, 0, hashOf(0), 0, 10, 1, 1);
    t.touch(h, 1, 100, 0x10);
    const h2 = t.insert(keys, 0, hashOf(0), 2, 20, 2, 2);
    expect(t.count).toBe(1);
    expect(look(t, 0, 2)).toBe(h2);
    expect(t.actionOf(h2)).toBe(2);
    expect(t.generationOf(h2)).toBe(2);
    expect(t.packetsOf(h2)).toBe(0);
    expect(t.expiryOf(h2)).toBe(22);
    expect(t.counter('replaced')).toBe(1);
    expect(t.validate()).toBeNull();
  });

  it('options are validated', () => {
    expect(() => new FlowTable({ capacity: 0, whenFull: 'drop' })).toThrow(RangeError);
    expect(() => new FlowTable({ capacity: 1.5, whenFull: 'drop' })).toThrow(/capacity/);
    expect(() => new FlowTable({ capacity: 8, whenFull: 'nope' as 'drop' })).toThrow(/whenFull/);
    expect(() => new FlowTable({ capacity: 8, whenFull: 'drop', maxLoad: 0.9 })).toThrow(/maxLoad/);
    expect(() => new FlowTable({ capacity: 8, whenFull: 'drop', rstTimeout: -1 })).toThrow(/rstTimeout/);
    expect(() => new FlowTable({ capacity: 8, whenFull: 'drop', evictSample: 0 })).toThrow(/evictSample/);
  });

  it('the index starts small and doubles as entries arrive, never touching the slots beyond those in use', () => {
    for (const probeKernel of ['wasm', 'js'] as const) {
      const t = new FlowTable({ capacity: 65536, whenFull: 'drop', probeKernel });
      expect(t.activeSlots).toBe(1024);
      expect(t.slotCount).toBe(131072);
      let maxActive = t.activeSlots;
      for (let i = 0; i < 10_000; i++) {
        expect(ins(t, i)).toBeGreaterThanOrEqual(0);
        expect(t.count / t.activeSlots).toBeLessThanOrEqual(0.25); // sparser than maxLoad while it grows
        maxActive = t.activeSlots;
        if (i % 4999 === 0) expect(t.validate()).toBeNull();
      }
      expect(maxActive).toBe(65536); // 10,000 entries at <= 0.25 load
      expect(t.slots.subarray(maxActive).every((v) => v === 0)).toBe(true);
      // every entry is found after the rehashes, by lookup and by the batched probe
      const idx = Int32Array.from({ length: 10_000 }, (_, i) => i);
      const hashes = Uint32Array.from(idx, (i) => hashOf(i));
      const out = new Int32Array(10_000);
      expect(t.lookupMany(keys, idx, 10_000, hashes, new Float64Array(10_000), out)).toBe(10_000);
      for (let i = 0; i < 10_000; i++) expect(out[i]).toBe(look(t, i));
      // removals keep every run reachable at the grown size
      for (let i = 0; i < 10_000; i += 3) t.remove(look(t, i));
      expect(t.validate()).toBeNull();
      for (let i = 0; i < 10_000; i++) expect(look(t, i) >= 0).toBe(i % 3 !== 0);
      t.clear();
      expect(t.validate()).toBeNull();
      expect(look(t, 1)).toBe(-1);
    }
    // past 65,536 slots in use, the next growth goes straight to full size
    const many = makeKeys(60_000, 12);
    const big = new FlowTable({ capacity: 1 << 20, whenFull: 'drop' });
    const sizes = new Set<number>();
    for (let i = 0; i < 60_000; i++) {
      big.insert(many, i * W, mixHash(many, i * W), 0, 10, i, 1);
      sizes.add(big.activeSlots);
    }
    expect([...sizes]).toEqual([1024, 2048, 4096, 8192, 16384, 32768, 65536, big.slotCount]);
    expect(big.validate()).toBeNull();
    for (let i = 0; i < 60_000; i += 7) expect(big.lookup(many, i * W, mixHash(many, i * W), 0)).toBeGreaterThanOrEqual(0);
  });

  it('the index stays within its load bound; memory per entry is reported', () => {
    for (const capacity of [1, 2, 3, 1000, 1024, 65536]) {
      const t = new FlowTable({ capacity, whenFull: 'drop' });
      expect(t.slotCount).toBeGreaterThanOrEqual(2);
      expect(capacity / t.slotCount).toBeLessThanOrEqual(0.75); // the default maxLoad
      const t50 = new FlowTable({ capacity, whenFull: 'drop', maxLoad: 0.5 });
      expect(capacity / t50.slotCount).toBeLessThanOrEqual(0.5);
      expect(t50.slotCount).toBeGreaterThanOrEqual(t.slotCount);
    }
    // a 64-byte hot record (6 key words, state, action, lastSeen, ttl, packets, bytes,
    // generation, userData) + a 64-byte cold one (hash, 6 key words, peer, free link, counter
    // high words, created, close expiry, one spare word) + 16 index (2 slots of 4 bytes and
    // their 2 full hashes) + 16 of per-flow state words = 160, plus the counters; with the
    // kernel, its 8 KiB of scratch and the memory's rounding up to 64 KiB pages (under 2 bytes
    // per entry at this capacity).
    for (const probeKernel of ['wasm', 'js'] as const) {
      const t = new FlowTable({ capacity: 65536, whenFull: 'drop', probeKernel });
      expect(t.entrySize).toBeGreaterThanOrEqual(160);
      expect(t.entrySize).toBeLessThan(162);
    }
  });
});

describe('flow table: lookupMany', () => {
  it.each([
    [4096, 3000, 'wasm'],
    [4096, 3000, 'js'],
    [2048, 1500, 'wasm'], // small enough for the frame-by-frame path
  ] as const)('with its FLOW_RECHECK frames looked up again in order, gives the same handles, expiries and counters as one lookup per selected frame (capacity %i, %s probe passes)', (capacity, n, probeKernel) => {
    const a = new FlowTable({ capacity, whenFull: 'drop' });
    const b = new FlowTable({ capacity, whenFull: 'drop', probeKernel });
    expect(b.probeKernel).toBe(probeKernel);
    const rng = new Prng(9);
    for (let i = 0; i < n; i++) {
      const ttl = 1 + rng.below(10);
      if (i % 3 === 0 && i + 1 < n) {
        pair(a, i, i + 1, 0, ttl);
        pair(b, i, i + 1, 0, ttl);
        i++;
      } else {
        ins(a, i, 0, ttl);
        ins(b, i, 0, ttl);
      }
    }
    // a batch-like column of 2,600 frames (a selection of 1,950: two chunks of the kernel): hits,
    // misses (keys never inserted), repeats of a key (a pair removed by an earlier frame of the
    // batch must miss later ones) and colliding hashes
    const count = 2600;
    const batchKeys = new Uint32Array(count * W);
    const batchHashes = new Uint32Array(count);
    const times = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const id = rng.below(4) === 0 ? 10_000 + rng.below(5000) : rng.below(n);
      batchKeys.set(keys.subarray(id * W, id * W + W), i * W);
      batchHashes[i] = id >= 10_000 && rng.below(4) === 0 ? hashOf(rng.below(n)) : hashOf(id); // a miss sharing a hit's hash
    }
    const idx = new Int32Array(count);
    const out = new Int32Array(count);
    for (const [round, base] of [0.5, 3, 6, 9, 20].entries()) {
      // a selection in shuffled order (every other frame, then the rest of the first half)
      let m = 0;
      for (let i = 0; i < count; i += 2) idx[m++] = i;
      for (let i = 1; i < count / 2; i += 2) idx[m++] = i;
      for (let j = m - 1; j > 0; j--) {
        const r = rng.below(j + 1);
        const x = idx[j]!;
        idx[j] = idx[r]!;
        idx[r] = x;
      }
      for (let j = 0; j < m; j++) times[idx[j]!] = base + j * 0.002; // per-frame time crossing expiries
      out.fill(-7);
      const given = b.lookupMany(batchKeys, idx, m, batchHashes, times, out);
      expect(b.count, 'lookupMany removes nothing').toBe(a.count);
      let handles = 0;
      let rechecked = 0;
      let oneByOne = false;
      for (let j = 0; j < m; j++) {
        const i = idx[j]!;
        const h = a.lookup(batchKeys, i * W, batchHashes[i]!, times[i]!);
        // the caller's part: FLOW_RECHECK frames, and every frame after a removal, looked up again
        if (out[i]! >= 0) handles++;
        if (oneByOne || out[i] === FLOW_RECHECK) {
          if (out[i] === FLOW_RECHECK) rechecked++;
          const live = b.count;
          out[i] = b.lookupAgain(batchKeys, i * W, batchHashes[i]!, times[i]!, out[i]!);
          if (b.count !== live) oneByOne = true;
        }
        if (out[i] !== h) expect(out[i], `frame ${i} (j ${j}) in round ${round}`).toBe(h);
      }
      for (let i = 1 + count / 2; i < count; i += 2) if (out[i] !== -7) expect(out[i], `unselected frame ${i} written`).toBe(-7);
      expect(given).toBe(handles);
      if (round > 0) expect(rechecked, `round ${round} meets expired entries`).toBeGreaterThan(0);
      expect(Array.from(b.counters)).toEqual(Array.from(a.counters));
      expect(b.count).toBe(a.count);
      expect(b.validate()).toBeNull();
      // one-way traffic on some hits, so that later rounds find pairs alive only through the peer
      for (let j = 0; j < m; j += 3) {
        const i = idx[j]!;
        const h = out[i]!;
        if (h >= 0 && b.isLive(h)) {
          // (a later frame of the batch may have removed the pair: touch needs a live handle)
          a.touch(h, times[i]!, 60, 0x10);
          b.touch(h, times[i]!, 60, 0x10);
        }
      }
    }
    expect(a.counter('expired')).toBeGreaterThan(0);
    expect(b.lookupMany(batchKeys, idx, 0, batchHashes, times, out)).toBe(0);
  });
});

describe('flow table: records', () => {
  it('the layout offsets are distinct, inside the records, and the Float64 fields 8-byte aligned', () => {
    const check = (u32: number[], f64: number[], keyAt: number): void => {
      const used = new Uint8Array(FLOW_RECORD_WORDS);
      for (let w = keyAt; w < keyAt + 6; w++) used[w]!++;
      for (const w of u32) used[w]!++;
      for (const w of f64) {
        expect(w % 2).toBe(0);
        used[w]!++;
        used[w + 1]!++;
      }
      expect(Array.from(used).filter((x) => x > 1)).toEqual([]);
    };
    check([FLOW_HOT_STATE, FLOW_HOT_ACTION, FLOW_HOT_PACKETS, FLOW_HOT_BYTES, FLOW_HOT_GENERATION, FLOW_HOT_USER_DATA], [FLOW_HOT_LAST_SEEN, FLOW_HOT_TTL], FLOW_HOT_KEY);
    check([FLOW_COLD_HASH, FLOW_COLD_PEER, FLOW_COLD_NEXT_FREE, FLOW_COLD_PACKETS_HIGH, FLOW_COLD_BYTES_HIGH], [FLOW_COLD_CREATED, FLOW_COLD_CLOSE_EXPIRY], FLOW_COLD_KEY);
    // the two halves of the key are the 12 key words, each once
    expect([...FLOW_HOT_KEY_WORDS, ...FLOW_COLD_KEY_WORDS].sort((x, y) => x - y)).toEqual([...Array(W).keys()]);
    // a hit reads one line: the hot record is 64 bytes
    expect(FLOW_RECORD_SIZE).toBe(64);
  });

  it('views share one buffer at a line-aligned byteOffset; accessors read the documented words', () => {
    for (const capacity of [3, 1000, 65536]) {
      const t = new FlowTable({ capacity, whenFull: 'drop' });
      for (const v of [t.hotInts, t.hotFloats, t.coldWords, t.coldInts, t.coldFloats]) expect(v.buffer).toBe(t.hotWords.buffer);
      expect(t.hotInts.byteOffset).toBe(t.hotWords.byteOffset);
      expect(t.hotFloats.byteOffset).toBe(t.hotWords.byteOffset);
      expect(t.coldWords.byteOffset).toBe(t.hotWords.byteOffset + capacity * FLOW_RECORD_SIZE);
      expect(t.coldFloats.byteOffset).toBe(t.coldWords.byteOffset);
      expect(t.hotWords.byteOffset % RECORD_ALIGNMENT_CHECK).toBe(t.hotWords.byteOffset === 0 ? 0 : 48);
      expect(t.hotWords.length).toBe(capacity * FLOW_RECORD_WORDS);
      expect(t.coldFloats.byteOffset + t.coldFloats.byteLength).toBeLessThanOrEqual(t.coldFloats.buffer.byteLength);
    }
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    ins(t, 0);
    const h = t.insert(keys, 5 * W, hashOf(5), 100, 30, 777, 42);
    t.touch(h, 101, 90, 0x12);
    t.setUserData(h, -5);
    const b = h * FLOW_RECORD_WORDS;
    expect(t.hotInts[b + FLOW_HOT_ACTION]).toBe(777);
    expect(t.hotWords[b + FLOW_HOT_GENERATION]).toBe(42);
    expect(t.hotInts[b + FLOW_HOT_USER_DATA]).toBe(-5);
    expect(t.hotInts[b + FLOW_HOT_STATE]! & ~FLOW_STATE_WIDE).toBe(FLOW_STATE_LIVE | (0x12 << 8));
    expect(t.hotFloats[(b + FLOW_HOT_LAST_SEEN) / 2]).toBe(101);
    expect(t.hotFloats[(b + FLOW_HOT_TTL) / 2]).toBe(30);
    expect(t.hotWords[b + FLOW_HOT_PACKETS]).toBe(1);
    expect(t.hotWords[b + FLOW_HOT_BYTES]).toBe(90);
    expect(t.coldInts[b + FLOW_COLD_PEER]).toBe(-1);
    expect(t.coldWords[b + FLOW_COLD_HASH]).toBe(hashOf(5));
    expect(t.coldFloats[(b + FLOW_COLD_CREATED) / 2]).toBe(100);
    FLOW_HOT_KEY_WORDS.forEach((w, i) => expect(t.hotWords[b + FLOW_HOT_KEY + i]).toBe(keys[5 * W + w]));
    FLOW_COLD_KEY_WORDS.forEach((w, i) => expect(t.coldWords[b + FLOW_COLD_KEY + i]).toBe(keys[5 * W + w]));
    expect(t.coldInts[b + FLOW_COLD_NEXT_FREE]).toBe(-1);
    expect(t.expiryOf(h)).toBe(131);
    expect([t.stateOf(h), t.tcpFlagsOf(h), t.hashOf(h), t.ttlOf(h), t.createdAtOf(h), t.lastSeenOf(h)]).toEqual([FLOW_STATE_LIVE, 0x12, hashOf(5), 30, 100, 101]);
    t.setAction(h, -3);
    t.setGeneration(h, 0xffffffff);
    expect([t.actionOf(h), t.generationOf(h)]).toEqual([-3, 0xffffffff]);
  });

  it('a key with a non-zero word among the cold ones (IPv6) is wide; narrow and wide keys that differ in one cold word stay apart', () => {
    const k = new Uint32Array(3 * W);
    k.set([0x0a000001, 0, 0, 0, 0x0a000002, 0, 0, 0, (1234 << 16) | 80, (4 << 24) | (6 << 16), 0, 0x0800], 0);
    k.set(k.subarray(0, W), W);
    k[W + 3] = 1; // same hot words, one cold word set
    k.set(k.subarray(W, 2 * W), 2 * W);
    k[2 * W + 7] = 9; // another wide key, differing from the first wide one only in a cold word
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const hash = 77; // one hash for all three: every probe meets the others' slots
    const n = t.insert(k, 0, hash, 0, 10, 1, 1);
    const w1 = t.insert(k, W, hash, 0, 10, 2, 1);
    const w2 = t.insert(k, 2 * W, hash, 0, 10, 3, 1);
    expect(t.count).toBe(3);
    expect((t.hotInts[n * FLOW_RECORD_WORDS + FLOW_HOT_STATE]! & FLOW_STATE_WIDE) !== 0).toBe(false);
    expect((t.hotInts[w1 * FLOW_RECORD_WORDS + FLOW_HOT_STATE]! & FLOW_STATE_WIDE) !== 0).toBe(true);
    expect([t.find(k, 0, hash), t.find(k, W, hash), t.find(k, 2 * W, hash)]).toEqual([n, w1, w2]);
    const idx = new Int32Array([2, 0, 1]);
    const out = new Int32Array(3);
    expect(t.lookupMany(k, idx, 3, new Uint32Array([hash, hash, hash]), new Float64Array(3), out)).toBe(3);
    expect(Array.from(out)).toEqual([n, w1, w2]);
    const copy = new Uint32Array(W);
    t.copyKey(w2, copy, 0);
    expect(Array.from(copy)).toEqual(Array.from(k.subarray(2 * W, 3 * W)));
    expect(t.remove(w1)).toBe(1);
    expect([t.find(k, 0, hash), t.find(k, W, hash), t.find(k, 2 * W, hash)]).toEqual([n, -1, w2]);
    expect(t.validate()).toBeNull();
  });

  it('the 32-bit packet and byte counts carry into the cold record', () => {
    const t = new FlowTable({ capacity: 4, whenFull: 'drop' });
    const h = ins(t, 1, 0, 1e9);
    const b = h * FLOW_RECORD_WORDS;
    t.hotWords[b + FLOW_HOT_PACKETS] = 0xffffffff;
    t.hotWords[b + FLOW_HOT_BYTES] = 0xffffff00;
    t.touch(h, 1, 0x200, 0);
    expect(t.packetsOf(h)).toBe(2 ** 32);
    expect(t.bytesOf(h)).toBe(0xffffff00 + 0x200);
    expect([t.hotWords[b + FLOW_HOT_PACKETS], t.coldWords[b + FLOW_COLD_PACKETS_HIGH], t.hotWords[b + FLOW_HOT_BYTES], t.coldWords[b + FLOW_COLD_BYTES_HIGH]]).toEqual([0, 1, 0x100, 1]);
    t.touch(h, 2, 65535, 0);
    expect(t.packetsOf(h)).toBe(2 ** 32 + 1);
    expect(t.bytesOf(h)).toBe(0xffffff00 + 0x200 + 65535);
  });

  it('a RST keeps the pair expiry of the packets before it, cut to now + rstTimeout, and later packets do not extend it', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const f = pair(t, 1, 2, 0, 240);
    const r = t.peerOf(f);
    t.touch(f, 100, 60, 0x04); // RST at 100: cut to 105
    expect([t.expiryOf(f), t.expiryOf(r), t.lastSeenOf(f)]).toEqual([105, 105, 100]);
    expect(t.coldFloats[f * (FLOW_RECORD_WORDS / 2) + FLOW_COLD_CLOSE_EXPIRY / 2]).toBe(105);
    t.touch(r, 103, 60, 0x10);
    expect([t.expiryOf(f), t.lastSeenOf(r)]).toEqual([105, 103]);
    const g = pair(t, 3, 4, 0, 2); // nearly idle: pair expiry 2 < now + 5
    t.touch(g, 1, 60, 0x04);
    expect(t.expiryOf(g)).toBe(2);
    expect(t.validate()).toBeNull();
  });

  it('touch writes only its own hot record; the peer keeps the pair alive lazily', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const f = pair(t, 1, 2, 0, 10);
    const r = t.peerOf(f);
    const records = (h: number): number[] => [
      ...Array.from(t.hotWords.subarray(h * FLOW_RECORD_WORDS, (h + 1) * FLOW_RECORD_WORDS)),
      ...Array.from(t.coldWords.subarray(h * FLOW_RECORD_WORDS, (h + 1) * FLOW_RECORD_WORDS)),
    ];
    const before = records(f);
    const coldBefore = Array.from(t.coldWords.subarray(r * FLOW_RECORD_WORDS, (r + 1) * FLOW_RECORD_WORDS));
    t.touch(r, 8, 60, 0x10); // one-way traffic on the reverse side only
    t.touch(r, 16, 60, 0x18);
    expect(records(f)).toEqual(before);
    expect(Array.from(t.coldWords.subarray(r * FLOW_RECORD_WORDS, (r + 1) * FLOW_RECORD_WORDS))).toEqual(coldBefore);
    expect(t.expiryOf(f)).toBe(26);
    expect(t.expiryOf(r)).toBe(26);
    expect(look(t, 1, 20)).toBe(f); // f's own expiry (10) has passed, r's has not
    expect(t.sweep(20, 16)).toBe(0);
    expect(t.count).toBe(2);
    expect(t.counter('hits')).toBe(1);
    expect(look(t, 1, 26.5)).toBe(-1); // both passed: the pair goes
    expect(t.count).toBe(0);
    expect(t.counter('expired')).toBe(2);
    expect(t.validate()).toBeNull();
  });
});

describe('flow table: pairs', () => {
  it('insertPair makes two entries naming each other, returns the forward one', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const f = pair(t, 1, 2, 0, 10);
    const r = t.peerOf(f);
    expect(t.peerOf(r)).toBe(f);
    expect(look(t, 1)).toBe(f);
    expect(look(t, 2)).toBe(r);
    expect(t.actionOf(f)).toBe(101);
    expect(t.actionOf(r)).toBe(102);
    expect(t.count).toBe(2);
    expect(t.counter('inserted')).toBe(2);
    expect(t.validate()).toBeNull();
  });

  it('removing either side removes both', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const f = pair(t, 1, 2);
    expect(t.remove(f)).toBe(2);
    expect(look(t, 1)).toBe(-1);
    expect(look(t, 2)).toBe(-1);
    const f2 = pair(t, 3, 4);
    expect(t.remove(t.peerOf(f2))).toBe(2);
    expect(t.count).toBe(0);
    expect(t.counter('removed')).toBe(4);
    expect(t.validate()).toBeNull();
  });

  it('an expired pair is removed whole by a lookup of either side', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    pair(t, 1, 2, 0, 5);
    expect(look(t, 2, 6)).toBe(-1);
    expect(t.count).toBe(0);
    expect(t.counter('expired')).toBe(2);
  });

  it('touch on one side refreshes both', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const f = pair(t, 1, 2, 0, 10);
    const r = t.peerOf(f);
    t.touch(r, 8, 60, 0x10); // reply traffic keeps the forward entry alive too
    expect(t.expiryOf(f)).toBe(18);
    expect(t.expiryOf(r)).toBe(18);
    expect(look(t, 1, 15)).toBe(f);
    expect(t.packetsOf(r)).toBe(1);
    expect(t.packetsOf(f)).toBe(0);
  });

  it('a RST cuts the pair to rstTimeout and later packets do not extend it', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop', rstTimeout: 5 });
    const f = pair(t, 1, 2, 0, 1800);
    const r = t.peerOf(f);
    t.touch(f, 10, 60, 0x10);
    expect(t.expiryOf(r)).toBe(1810);
    t.touch(r, 20, 40, 0x14); // RST+ACK from the other side
    expect(t.expiryOf(f)).toBe(25);
    expect(t.expiryOf(r)).toBe(25);
    expect(t.stateOf(f) & FLOW_STATE_CLOSING).toBeTruthy();
    expect(t.stateOf(r) & FLOW_STATE_CLOSING).toBeTruthy();
    t.touch(f, 22, 60, 0x10); // a trailing ACK still hits, but does not revive the flow
    t.touch(f, 23, 40, 0x04); // nor does a second RST push the cut later
    expect(t.expiryOf(f)).toBe(25);
    expect(look(t, 1, 24)).toBe(f);
    expect(look(t, 2, 25.5)).toBe(-1);
    expect(t.count).toBe(0);
  });

  it('a RST never lengthens a flow whose expiry is already shorter', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop', rstTimeout: 5 });
    const f = pair(t, 1, 2, 0, 2);
    t.touch(f, 1, 40, 0x04);
    expect(t.expiryOf(f)).toBe(2);
    expect(t.expiryOf(t.peerOf(f))).toBe(2);
  });

  it('a new pair replaces the old pair and any single entry of either key', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    pair(t, 1, 2);
    pair(t, 3, 4);
    ins(t, 5);
    // forward key was 1 (peer 2), reverse key was 4 (peer 3): all four old entries go
    const f = t.insertPair(keys, 1 * W, hashOf(1), keys, 4 * W, hashOf(4), 1, 10, 7, 8, 2);
    expect(t.count).toBe(3);
    expect(look(t, 2)).toBe(-1);
    expect(look(t, 3)).toBe(-1);
    expect(look(t, 1)).toBe(f);
    expect(look(t, 4)).toBe(t.peerOf(f));
    expect(t.generationOf(f)).toBe(2);
    expect(t.counter('replaced')).toBe(4);
    // re-running the slow path for the same pair (policy change) replaces it in place
    const f2 = t.insertPair(keys, 1 * W, hashOf(1), keys, 4 * W, hashOf(4), 2, 10, 9, 10, 3);
    expect(t.count).toBe(3);
    expect(t.actionOf(f2)).toBe(9);
    expect(t.actionOf(t.peerOf(f2))).toBe(10);
    const s = t.insertPair(keys, 5 * W, hashOf(5), keys, 6 * W, hashOf(6), 2, 10, 1, 2, 3);
    expect(t.count).toBe(4); // the single entry of key 5 became the forward side of a pair
    expect(look(t, 6)).toBe(t.peerOf(s));
    expect(t.validate()).toBeNull();
  });

  it('a pair whose two keys are equal becomes one single entry', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const copy = new Uint32Array(W);
    copy.set(keys.subarray(7 * W, 8 * W));
    const h = t.insertPair(keys, 7 * W, hashOf(7), copy, 0, hashOf(7), 0, 10, 1, 2, 1);
    expect(t.count).toBe(1);
    expect(t.peerOf(h)).toBe(-1);
    expect(t.actionOf(h)).toBe(1);
  });

  it('the generation is stored for the caller to compare (lazy resimulation)', () => {
    const t = new FlowTable({ capacity: 16, whenFull: 'drop' });
    const current = 3;
    const f = t.insertPair(keys, 1 * W, hashOf(1), keys, 2 * W, hashOf(2), 0, 10, 1, 2, 2);
    // caller: hit with an older generation -> slow path again -> new pair over the old one
    const h = look(t, 2, 1);
    expect(t.generationOf(h)).toBeLessThan(current);
    const f2 = t.insertPair(keys, 1 * W, hashOf(1), keys, 2 * W, hashOf(2), 1, 10, 5, 6, current);
    expect(t.generationOf(look(t, 2, 1))).toBe(current);
    expect(t.generationOf(f2)).toBe(current);
    expect(t.count).toBe(2);
    expect(t.isLive(f) ? t.actionOf(f) : -1).not.toBe(1); // the old forward entry is gone
  });
});

describe('flow table: full tables', () => {
  it("'drop' refuses the insert (-1, counted full) and keeps what it has", () => {
    const t = new FlowTable({ capacity: 4, whenFull: 'drop' });
    const hs = [0, 1, 2, 3].map((i) => ins(t, i, 0, 100));
    expect(new Set(hs).size).toBe(4);
    expect(ins(t, 4, 1, 100)).toBe(-1);
    expect(t.counter('full')).toBe(1);
    expect(t.count).toBe(4);
    for (let i = 0; i < 4; i++) expect(look(t, i, 1)).toBe(hs[i]);
    // replacing an existing key needs no new room
    expect(ins(t, 2, 1, 100)).toBeGreaterThanOrEqual(0);
    expect(t.validate()).toBeNull();
  });

  it("'drop' installs a pair wholly or not at all", () => {
    const t = new FlowTable({ capacity: 5, whenFull: 'drop' });
    for (let i = 0; i < 4; i++) ins(t, i, 0, 100);
    expect(pair(t, 10, 11, 1)).toBe(-1); // one free entry: neither is installed
    expect(t.count).toBe(4);
    expect(look(t, 10, 1)).toBe(-1);
    expect(look(t, 11, 1)).toBe(-1);
    expect(t.counter('full')).toBe(1);
    expect(ins(t, 10, 1)).toBeGreaterThanOrEqual(0);
    expect(t.validate()).toBeNull();
  });

  it("'drop' still reclaims an expired entry met in the sample before refusing", () => {
    const t = new FlowTable({ capacity: 4, whenFull: 'drop' });
    for (let i = 0; i < 4; i++) ins(t, i, 0, i === 2 ? 1 : 100);
    const h = ins(t, 9, 5, 100); // entry 2 died at t=1 and was never swept
    expect(h).toBeGreaterThanOrEqual(0);
    expect(t.counter('expired')).toBe(1);
    expect(t.counter('full')).toBe(0);
    expect(look(t, 2, 5)).toBe(-1);
    expect(t.validate()).toBeNull();
  });

  it("'evict-idle' evicts the sampled entry that expires first, with its peer", () => {
    const t = new FlowTable({ capacity: 5, whenFull: 'evict-idle', evictSample: 8 });
    const a = pair(t, 1, 2, 0, 10); // idle since 0: expires at 10
    ins(t, 3, 0, 10);
    t.touch(look(t, 3), 5, 60, 0); // expires at 15
    ins(t, 4, 1, 100);
    ins(t, 5, 1, 100);
    const h = ins(t, 6, 6, 100); // full: the sample covers the whole pool; the pair goes
    expect(h).toBeGreaterThanOrEqual(0);
    expect(t.counter('evicted')).toBe(2);
    expect(t.isLive(a) && t.actionOf(a) === 101).toBe(false); // the pair's forward handle is free or reused
    expect(look(t, 1, 6)).toBe(-1);
    expect(look(t, 2, 6)).toBe(-1);
    expect(look(t, 3, 6)).toBeGreaterThanOrEqual(0);
    expect(t.count).toBe(4);
    expect(t.validate()).toBeNull();
  });

  it("'evict-idle' under a flood stays consistent and keeps every answer right", () => {
    const capacity = 1000;
    const t = new FlowTable({ capacity, whenFull: 'evict-idle' });
    const live = new Map<number, number>(); // key id -> handle
    const rng = new Prng(7);
    let now = 0;
    for (let step = 0; step < 60_000; step++) {
      now += 0.001;
      const id = rng.below(20_000);
      if (rng.below(3) === 0) {
        const rid = 20_000 + rng.below(3_000);
        const f = t.insertPair(keys, id * W, hashOf(id), keys, rid * W, hashOf(rid), now, 1 + rng.below(30), 1, 2, 1);
        expect(f).toBeGreaterThanOrEqual(0);
        live.set(id, f);
        live.set(rid, t.peerOf(f));
      } else {
        const h = ins(t, id, now, 1 + rng.below(30));
        expect(h).toBeGreaterThanOrEqual(0);
        live.set(id, h);
      }
      expect(t.count).toBeLessThanOrEqual(capacity);
      if (step % 5000 === 4999) {
        expect(t.validate()).toBeNull();
        // every key is either gone (evicted, replaced, expired) or found at its own handle
        for (const [kid, h] of live) {
          const found = t.find(keys, kid * W, hashOf(kid));
          if (found >= 0) expect(found).toBe(h);
          else live.delete(kid);
        }
        expect(live.size).toBe(t.count);
      }
    }
    expect(t.counter('evicted')).toBeGreaterThan(10_000);
    expect(t.counter('full')).toBe(0);
  });

  it('capacity 1: one entry; pairs never fit; evict-idle swaps the entry', () => {
    const d = new FlowTable({ capacity: 1, whenFull: 'drop' });
    const h = ins(d, 0);
    expect(h).toBe(0);
    expect(ins(d, 1)).toBe(-1);
    expect(pair(d, 2, 3)).toBe(-1);
    expect(look(d, 0)).toBe(0);
    expect(d.remove(0)).toBe(1);
    expect(ins(d, 1)).toBe(0);
    expect(d.validate()).toBeNull();
    const e = new FlowTable({ capacity: 1, whenFull: 'evict-idle' });
    ins(e, 0);
    expect(ins(e, 1, 1)).toBe(0);
    expect(look(e, 0, 1)).toBe(-1);
    expect(look(e, 1, 1)).toBe(0);
    expect(pair(e, 2, 3)).toBe(-1); // two entries can never fit, even by eviction
    expect(e.counter('full')).toBe(1);
    expect(e.validate()).toBeNull();
  });

  it('capacity 2 and 3: a pair fits; evict-idle makes room for a pair', () => {
    const t = new FlowTable({ capacity: 2, whenFull: 'drop' });
    const f = pair(t, 0, 1);
    expect(f).toBeGreaterThanOrEqual(0);
    expect(ins(t, 2)).toBe(-1);
    expect(t.validate()).toBeNull();
    const e = new FlowTable({ capacity: 3, whenFull: 'evict-idle' });
    ins(e, 0, 0, 5);
    ins(e, 1, 0, 50);
    ins(e, 2, 0, 100);
    const p = pair(e, 3, 4, 1);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(e.count).toBe(3);
    expect(look(e, 0, 1)).toBe(-1); // the two that expire first went
    expect(look(e, 1, 1)).toBe(-1);
    expect(look(e, 2, 1)).toBeGreaterThanOrEqual(0);
    expect(e.validate()).toBeNull();
  });
});

describe('flow table: sweep', () => {
  it('reclaims expired entries within the budget, moving on each call', () => {
    const capacity = 1000;
    const t = new FlowTable({ capacity, whenFull: 'drop' });
    for (let i = 0; i < capacity; i++) ins(t, i, 0, i % 2 === 0 ? 1 : 100); // handles 0..999 in order
    expect(t.sweep(0.5, 100)).toBe(0); // nothing expired yet
    expect(t.sweep(2, 100)).toBe(50); // handles 100..199: the even half
    expect(t.count).toBe(950);
    let calls = 1;
    while (t.count > 500) {
      const n = t.sweep(2, 100);
      expect(n).toBeLessThanOrEqual(100);
      calls++;
    }
    expect(calls).toBe(10); // the hand went once round the pool
    expect(t.counter('expired')).toBe(500);
    expect(t.sweep(2, 1e9)).toBe(0); // a huge budget visits the pool once, no more
    expect(t.sweep(2, 0)).toBe(0);
    expect(t.sweep(2, Number.NaN)).toBe(0);
    for (let i = 1; i < capacity; i += 2) expect(look(t, i, 2)).toBeGreaterThanOrEqual(0);
    expect(t.validate()).toBeNull();
  });

  it('removes pairs whole and counts both entries', () => {
    const t = new FlowTable({ capacity: 10, whenFull: 'drop' });
    pair(t, 0, 1, 0, 1);
    pair(t, 2, 3, 0, 100);
    expect(t.sweep(5, 1)).toBe(2); // handle 0 is the forward entry of the first pair
    expect(t.sweep(5, 10)).toBe(0);
    expect(t.count).toBe(2);
    expect(t.validate()).toBeNull();
  });
});

describe('flow table: keys and hashes', () => {
  it('keys that differ in one word (each of the 12, the port half of word 11 included) are distinct', () => {
    const t = new FlowTable({ capacity: 64, whenFull: 'drop' });
    const base = new Uint32Array(W);
    base.set([0x0a000001, 0, 0, 0, 0xc0a80001, 0, 0, 0, (40000 << 16) | 443, (4 << 24) | (6 << 16), 0, (1 << 16) | 0x0800]);
    const variants = new Uint32Array(W * (W + 2));
    variants.set(base, 0);
    for (let w = 0; w < W; w++) {
      variants.set(base, (w + 1) * W);
      variants[(w + 1) * W + w]! ^= w === 11 ? 0x00030000 : 0x80; // word 11: only the port id changes
    }
    variants.set(base, (W + 1) * W);
    variants[(W + 1) * W + 11] = (5 << 16) | 0x0800; // same 5-tuple, another port
    const HASH = 0x1234; // one hash for all: only the key compare separates them
    const hs: number[] = [];
    for (let v = 0; v < W + 2; v++) hs.push(t.insert(variants, v * W, HASH, 0, 10, v, 1));
    expect(new Set(hs).size).toBe(W + 2);
    for (let v = 0; v < W + 2; v++) {
      const h = t.lookup(variants, v * W, HASH, 0);
      expect(h).toBe(hs[v]);
      expect(t.actionOf(h)).toBe(v);
    }
    // and the word-11 variant is not found under a different port
    const probe = new Uint32Array(W);
    probe.set(base);
    probe[11] = (9 << 16) | 0x0800;
    expect(t.lookup(probe, 0, HASH, 0)).toBe(-1);
    expect(FLOW_KEY_WORDS).toBe(12);
  });

  it('a key at a non-zero offset of a batch-like column is read from there', () => {
    const t = new FlowTable({ capacity: 8, whenFull: 'drop' });
    const batchKeys = new Uint32Array(W * 5);
    batchKeys.set(keys.subarray(3 * W, 4 * W), 4 * W);
    const h = t.insert(batchKeys, 4 * W, hashOf(3), 0, 10, 1, 1);
    expect(look(t, 3)).toBe(h);
  });

  it('equal hashes for different keys: all found, removal of some keeps the rest reachable', () => {
    const t = new FlowTable({ capacity: 600, whenFull: 'drop', maxLoad: 0.75 });
    const hs: number[] = [];
    for (let i = 0; i < 500; i++) hs.push(t.insert(keys, i * W, 0xdeadbeef, 0, 10, i, 1));
    for (let i = 0; i < 500; i += 3) t.remove(hs[i]!);
    expect(t.validate()).toBeNull();
    for (let i = 0; i < 500; i++) expect(t.lookup(keys, i * W, 0xdeadbeef, 0)).toBe(i % 3 === 0 ? -1 : hs[i]);
    // a mixed neighbourhood: colliding keys interleaved with keys of other hashes around them
    for (let i = 500; i < 600; i++) t.insert(keys, i * W, hashOf(i), 0, 10, i, 1);
    for (let i = 1; i < 500; i += 3) t.remove(hs[i]!);
    expect(t.validate()).toBeNull();
    for (let i = 500; i < 600; i++) expect(look(t, i)).toBeGreaterThanOrEqual(0);
    for (let i = 2; i < 500; i += 3) expect(t.lookup(keys, i * W, 0xdeadbeef, 0)).toBe(hs[i]);
  });

  it('handles are stable across removals of other entries and backward shifts', () => {
    const t = new FlowTable({ capacity: 20_000, whenFull: 'drop', maxLoad: 0.75 });
    const hs = new Int32Array(20_000);
    for (let i = 0; i < 20_000; i++) hs[i] = ins(t, i);
    const rng = new Prng(5);
    const gone = new Uint8Array(20_000);
    for (let n = 0; n < 10_000; n++) {
      const i = rng.below(20_000);
      if (!gone[i]) {
        t.remove(hs[i]!);
        gone[i] = 1;
      }
    }
    expect(t.validate()).toBeNull();
    for (let i = 0; i < 20_000; i++) {
      const h = look(t, i);
      if (h !== (gone[i] ? -1 : hs[i])) expect(h, `key ${i}`).toBe(gone[i] ? -1 : hs[i]);
    }
  });

  it('clear empties the table and keeps it usable', () => {
    const t = new FlowTable({ capacity: 8, whenFull: 'drop' });
    pair(t, 0, 1);
    ins(t, 2);
    t.clear();
    expect(t.count).toBe(0);
    expect(look(t, 0)).toBe(-1);
    expect(t.counter('removed')).toBe(3); // cleared entries count as removed
    expect(t.validate()).toBeNull();
    expect(ins(t, 3)).toBe(0);
  });

  it('forEachEntry visits every live entry once', () => {
    const t = new FlowTable({ capacity: 32, whenFull: 'drop' });
    for (let i = 0; i < 10; i++) ins(t, i);
    t.remove(look(t, 4));
    const seen: number[] = [];
    t.forEachEntry((h) => seen.push(t.actionOf(h)));
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
  });
});

describe('flow table: lazy memory and owners', () => {
  it('handles come from a bump pointer, then from the freed ones, most recent first', () => {
    const t = new FlowTable({ capacity: 8, whenFull: 'drop' });
    expect([ins(t, 1), ins(t, 2), ins(t, 3)]).toEqual([0, 1, 2]);
    t.remove(look(t, 2));
    t.remove(look(t, 1));
    expect(ins(t, 4)).toBe(0); // the last freed first
    expect(ins(t, 5)).toBe(1);
    expect(ins(t, 6)).toBe(3); // then the never-used ones again
    expect(t.validate()).toBeNull();
    t.clear();
    expect(ins(t, 7)).toBe(0);
    expect(t.validate()).toBeNull();
  });

  it('a large table touches no record before an entry uses it (resident memory grows with use, not capacity)', () => {
    const before = process.memoryUsage().rss;
    const t = new FlowTable({ capacity: 1 << 22, whenFull: 'drop' }); // 512 MiB of records, 32 MiB of index
    for (let i = 0; i < 1000; i++) ins(t, i);
    t.sweep(1, 1 << 22);
    const grown = process.memoryUsage().rss - before;
    expect(t.memorySize).toBeGreaterThan(512 * 2 ** 20);
    // 512 MiB of records untouched; the 64 MiB index and its hashes, touched at random by the
    // inserts, may be resident whole when they are backed by 2 MiB pages (native shim built).
    expect(grown, `resident memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(112 * 2 ** 20);
    expect(t.count).toBe(1000);
  });

  it("an owned entry's removal is reported once, with its owner, reason, peer and state, even when the handle is reused at once", () => {
    const t = new FlowTable({ capacity: 3, whenFull: 'evict-idle', evictSample: 8 });
    const rows = (): string[] => {
      const out: string[] = [];
      for (let j = 0; j < t.removalCount; j++) {
        const r = t.removals.subarray(j * FLOW_REMOVAL_WORDS, (j + 1) * FLOW_REMOVAL_WORDS);
        out.push(`${r[FLOW_REMOVAL_HANDLE]} ${r[FLOW_REMOVAL_OWNER]} ${FLOW_REMOVAL_REASONS[r[FLOW_REMOVAL_REASON]!]} ${r[FLOW_REMOVAL_PEER]} ${Array.from(r.subarray(FLOW_REMOVAL_STATE)).join(',')}`);
      }
      t.clearRemovals();
      return out;
    };
    const f = pair(t, 1, 2, 0, 10);
    const r = t.peerOf(f);
    t.setOwner(f, 7);
    t.states.set([49153, 0x0a000001, 0, 0], f * FLOW_STATE_WORDS);
    const single = ins(t, 3, 1, 10); // unowned: no row when it leaves
    expect(rows()).toEqual([]);
    const h = ins(t, 4, 2, 100); // full: evicts the pair (expires first); its handle is reused at once
    expect([f, r]).toContain(h);
    expect(rows()).toEqual([`${f} 7 evicted ${r} 49153,167772161,0,0`]);
    expect(t.ownerOf(h)).toBe(0); // a new entry starts without an owner
    t.setOwner(single, 2);
    t.touch(single, 3, 60, TCP_RST);
    expect(look(t, 3, 100)).toBe(-1); // dead after the RST cut: closed
    expect(rows()).toEqual([`${single} 2 closed -1 0,0,0,0`]);
    t.setOwner(h, 1);
    t.states.set([5, 6, 7, 8], h * FLOW_STATE_WORDS); // the state words are the owner's to write (the table never clears them)
    t.clear();
    expect(rows()).toEqual([`${h} 1 cleared -1 5,6,7,8`]);
  });
});

describe('flow table: insert marks', () => {
  it('insertedSince is true for the hash of every entry installed since clearInsertMarks, and false for most others', () => {
    const t = new FlowTable({ capacity: 4096, whenFull: 'drop' });
    ins(t, 1);
    t.clearInsertMarks();
    expect(t.insertedSince(hashOf(1))).toBe(false);
    for (let i = 2; i < 514; i++) ins(t, i);
    pair(t, 600, 601);
    for (let i = 2; i < 514; i++) expect(t.insertedSince(hashOf(i))).toBe(true);
    expect(t.insertedSince(hashOf(600)) && t.insertedSince(hashOf(601))).toBe(true);
    let marked = 0;
    for (let i = 1000; i < 3000; i++) if (t.insertedSince(hashOf(i))) marked++;
    expect(marked).toBeLessThan(2000 * 0.12); // 514 of 8,192 bits: about 6% false positives
    t.clearInsertMarks();
    expect(t.insertedSince(hashOf(2))).toBe(false);
  });
});
