/**
 * The flow table against a reference model (a Map from key id to the entry's expected state) over
 * 200,000 random operations per case: lookups (with expiry on the packet clock; half of them
 * through lookupMany), inserts over existing keys, pairs, touches with RSTs, explicit removals and
 * budgeted sweeps whose hand the model follows exactly. Every answer and every returned handle is
 * compared; every 2,000 steps the whole table is compared with the model and `validate()` checks
 * the index (backward-shift deletion must never cut an entry off from its home slot). The universe
 * of keys is as large as the capacity, so the table never fills here (full tables: table.test.ts).
 *
 * Owners. About half the entries get an owner and random per-flow state words; every removal the
 * model makes (expiry found by a lookup, the sweep, a replacement, an explicit removal; closed
 * when a RST had cut the pair) must show up as exactly one removal row with the entry's owner,
 * reason, peer and state as they were, drained after every operation: no removal is missed, none
 * is reported twice, and entries without an owner leave no row.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import {
  FLOW_RECHECK,
  FLOW_REMOVAL_HANDLE,
  FLOW_REMOVAL_OWNER,
  FLOW_REMOVAL_PEER,
  FLOW_REMOVAL_REASON,
  FLOW_REMOVAL_REASONS,
  FLOW_REMOVAL_STATE,
  FLOW_REMOVAL_WORDS,
  FLOW_STATE_WORDS,
  FlowTable,
  type FlowCounter,
  type FlowProbeKernel,
  type FlowRemovalReason,
} from '../../src/flow/table.js';
import { W, makeKeys, mixHash } from './helpers.js';

interface ModelEntry {
  handle: number;
  peer: number; // key id of the peer, -1 when single
  expiry: number;
  ttl: number;
  closing: boolean;
  flags: number;
  packets: number;
  bytes: number;
  action: number;
  generation: number;
  owner: number; // 0: none
  state: number[]; // the per-flow state words written at insert
}

const RST_TIMEOUT = 5;
const TTLS = [0, 0.3, 1, 2, 10, 60];

function runModel(name: string, opts: { capacity: number; maxLoad: number; hash: 'mix' | 'poor'; seed: number; ops: number; probeKernel?: FlowProbeKernel }): void {
  it(name, () => {
    const { capacity, maxLoad, seed, ops } = opts;
    const universe = capacity; // never more live keys than capacity: the table never fills
    const keys = makeKeys(universe, seed);
    const hashes = new Uint32Array(universe);
    for (let i = 0; i < universe; i++) hashes[i] = opts.hash === 'mix' ? mixHash(keys, i * W) : (i * 7) % 41; // poor: 41 distinct hashes
    const table = new FlowTable({ capacity, whenFull: 'drop', rstTimeout: RST_TIMEOUT, maxLoad, ...(opts.probeKernel ? { probeKernel: opts.probeKernel } : {}) });
    const model = new Map<number, ModelEntry>();
    const byHandle = new Int32Array(capacity).fill(-1);
    const expected: Record<FlowCounter, number> = { lookups: 0, hits: 0, inserted: 0, replaced: 0, removed: 0, expired: 0, evicted: 0, full: 0 };
    let sweepHand = 0;
    let bump = 0; // handles ever handed out: the sweep's hand walks these
    let now = 0;
    /** Removal rows the model expects from the current operation, as text. */
    let wantRows: string[] = [];
    const rowText = (handle: number, owner: number, reason: string, peer: number, state: ArrayLike<number>): string =>
      `handle ${handle} owner ${owner} ${reason} peer ${peer} state ${Array.from(state).join(',')}`;
    const drain = (step: number, what: string): void => {
      const got: string[] = [];
      const rows = table.removals;
      for (let j = 0; j < table.removalCount; j++) {
        const b = j * FLOW_REMOVAL_WORDS;
        got.push(rowText(rows[b + FLOW_REMOVAL_HANDLE]!, rows[b + FLOW_REMOVAL_OWNER]!, FLOW_REMOVAL_REASONS[rows[b + FLOW_REMOVAL_REASON]!]!, rows[b + FLOW_REMOVAL_PEER]!, rows.subarray(b + FLOW_REMOVAL_STATE, b + FLOW_REMOVAL_STATE + FLOW_STATE_WORDS)));
      }
      table.clearRemovals();
      got.sort();
      wantRows.sort();
      if (got.join('\n') !== wantRows.join('\n')) expect(got, `removal rows after ${what} at step ${step}`).toEqual(wantRows);
      wantRows = [];
    };
    const rng = new Prng(seed ^ 0x5eed);
    const one = new Int32Array(1);
    const times = new Float64Array(universe);
    const out = new Int32Array(universe);

    const removeModel = (id: number, why: FlowRemovalReason): number => {
      const e = model.get(id)!;
      const p = e.peer >= 0 ? model.get(e.peer)! : null;
      // A dead pair that a RST had cut is reported closed (both entries are closing or neither).
      const reason = (why === 'expired' || why === 'swept') && e.closing ? 'closed' : why;
      for (const x of p ? [e, p] : [e]) {
        if (x.owner !== 0) wantRows.push(rowText(x.handle, x.owner, reason, x === e ? (p ? p.handle : -1) : e.handle, x.state));
      }
      model.delete(id);
      byHandle[e.handle] = -1;
      if (p) {
        model.delete(e.peer);
        byHandle[p.handle] = -1;
        return 2;
      }
      return 1;
    };
    const addModel = (id: number, handle: number, ttl: number, action: number, generation: number, peer: number): void => {
      if (handle < 0) expect(handle, 'insert refused').toBeGreaterThanOrEqual(0);
      if (byHandle[handle] !== -1) expect(byHandle[handle], 'a new entry got a handle still in use').toBe(-1);
      byHandle[handle] = id;
      if (handle + 1 > bump) bump = handle + 1;
      // About half the entries are owned, with random state words (written as the engine would, after the insert).
      const owner = rng.below(2) === 0 ? 0 : 1 + rng.below(3);
      const state: number[] = [];
      if (owner !== 0) {
        for (let w = 0; w < FLOW_STATE_WORDS; w++) state.push(rng.below(1 << 30) - (1 << 29));
        table.setOwner(handle, owner);
        table.states.set(state, handle * FLOW_STATE_WORDS);
      } else for (let w = 0; w < FLOW_STATE_WORDS; w++) state.push(table.states[handle * FLOW_STATE_WORDS + w]!);
      model.set(id, { handle, peer, expiry: now + ttl, ttl, closing: false, flags: 0, packets: 0, bytes: 0, action, generation, owner, state });
    };

    const checkAll = (): void => {
      expect(table.validate()).toBeNull();
      expect(table.count).toBe(model.size);
      // Plain comparisons, one expect: a per-field expect costs more than the table.
      let problem = '';
      for (const [id, e] of model) {
        const h = table.find(keys, id * W, hashes[id]!);
        const peer = e.peer < 0 ? -1 : model.get(e.peer)!.handle;
        if (h !== e.handle) problem = `key ${id}: handle ${h}, model ${e.handle}`;
        else if (table.expiryOf(h) !== e.expiry) problem = `key ${id}: expiry ${table.expiryOf(h)}, model ${e.expiry}`;
        else if (table.peerOf(h) !== peer) problem = `key ${id}: peer ${table.peerOf(h)}, model ${peer}`;
        else if (table.tcpFlagsOf(h) !== e.flags || table.packetsOf(h) !== e.packets || table.bytesOf(h) !== e.bytes) problem = `key ${id}: counts`;
        else if (table.actionOf(h) !== e.action || table.generationOf(h) !== e.generation) problem = `key ${id}: action/generation`;
        if (problem) break;
      }
      expect(problem).toBe('');
      for (const name of Object.keys(expected) as FlowCounter[]) expect(table.counter(name), name).toBe(expected[name]);
    };

    for (let step = 0; step < ops; step++) {
      now += rng.below(50) / 1000;
      const id = rng.below(universe);
      const k = id * W;
      const r = rng.below(100);
      if (r < 35) {
        // lookup, then touch on a hit (the pipeline's fast path)
        expected.lookups++;
        const e = model.get(id);
        let want = -1;
        if (e && e.expiry < now) expected.expired += removeModel(id, 'expired');
        else if (e) {
          want = e.handle;
          expected.hits++;
        }
        // half of them through lookupMany with a one-frame selection (the same answer and counters)
        let h: number;
        if (rng.below(2) === 0) h = table.lookup(keys, k, hashes[id]!, now);
        else {
          one[0] = id;
          times[id] = now;
          const hits = table.lookupMany(keys, one, 1, hashes, times, out);
          h = out[id]!;
          if (hits !== (h >= 0 ? 1 : 0)) expect(hits).toBe(h >= 0 ? 1 : 0);
          if (h === FLOW_RECHECK) h = table.lookupAgain(keys, k, hashes[id]!, now, h); // expired as it stands: the caller settles it
        }
        if (h !== want) expect(h, `lookup of key ${id} at step ${step}`).toBe(want);
        if (h >= 0 && rng.below(2) === 0) {
          const flags = rng.below(100) < 3 ? 0x04 : rng.below(2) === 0 ? 0x10 : 0x18;
          const bytes = 60 + rng.below(1400);
          table.touch(h, now, bytes, flags);
          const me = model.get(id)!;
          const peer = me.peer >= 0 ? model.get(me.peer)! : null;
          me.packets++;
          me.bytes += bytes;
          me.flags |= flags;
          if (flags & 0x04) {
            const cut = now + RST_TIMEOUT;
            me.closing = true;
            me.expiry = Math.min(me.expiry, cut);
            if (peer) {
              peer.closing = true;
              peer.expiry = Math.min(peer.expiry, cut);
            }
          } else if (!me.closing) {
            const ne = now + me.ttl;
            if (ne > me.expiry) {
              me.expiry = ne;
              if (peer) peer.expiry = ne;
            }
          }
        }
      } else if (r < 55) {
        // single insert (replaces an existing key with its peer)
        const ttl = TTLS[rng.below(TTLS.length)]!;
        const action = rng.below(1000);
        const gen = rng.below(5);
        if (model.has(id)) expected.replaced += removeModel(id, 'replaced');
        const h = table.insert(keys, k, hashes[id]!, now, ttl, action, gen);
        addModel(id, h, ttl, action, gen, -1);
        expected.inserted++;
      } else if (r < 75) {
        // pair: forward id, reverse another key (sometimes the same key: a single entry)
        const rid = rng.below(20) === 0 ? id : rng.below(universe);
        const ttl = TTLS[rng.below(TTLS.length)]!;
        const fa = rng.below(1000);
        const ra = rng.below(1000);
        const gen = rng.below(5);
        if (model.has(id)) expected.replaced += removeModel(id, 'replaced');
        if (rid !== id && model.has(rid)) expected.replaced += removeModel(rid, 'replaced');
        const f = table.insertPair(keys, k, hashes[id]!, keys, rid * W, hashes[rid]!, now, ttl, fa, ra, gen);
        if (rid === id) {
          addModel(id, f, ttl, fa, gen, -1);
          expected.inserted++;
        } else {
          const rh = table.peerOf(f);
          addModel(id, f, ttl, fa, gen, rid);
          addModel(rid, rh, ttl, ra, gen, id);
          expected.inserted += 2;
        }
      } else if (r < 88) {
        // explicit removal (of either side of a pair)
        const e = model.get(id);
        if (e) {
          const n = removeModel(id, 'removed');
          expected.removed += n;
          const got = table.remove(e.handle);
          if (got !== n) expect(got).toBe(n);
        } else {
          const got = table.find(keys, k, hashes[id]!);
          if (got !== -1) expect(got).toBe(-1);
        }
      } else if (r < 97) {
        // budgeted sweep: the model walks the same hand over the handles
        const budget = rng.below(64);
        let n = Math.min(budget, bump);
        let removed = 0;
        if (sweepHand >= bump) sweepHand = 0;
        while (n-- > 0) {
          const h = sweepHand;
          sweepHand = sweepHand + 1 === bump ? 0 : sweepHand + 1;
          const mid = byHandle[h]!;
          if (mid >= 0 && model.get(mid)!.expiry < now) removed += removeModel(mid, 'swept');
        }
        expected.expired += removed;
        const got = table.sweep(now, budget);
        if (got !== removed) expect(got).toBe(removed);
      } else {
        // a caller-side rewrite of a live entry's generation and action (resimulation in place)
        const e = model.get(id);
        if (e) {
          e.generation = (e.generation + 1) >>> 0;
          table.setGeneration(e.handle, e.generation);
        }
      }
      drain(step, `operation ${r}`);
      if (step % 2000 === 1999) checkAll();
    }
    checkAll();
    // clear() reports every owned entry still live.
    for (const id of Array.from(model.keys())) if (model.has(id)) expected.removed += removeModel(id, 'cleared');
    table.clear();
    drain(ops, 'clear');
    expect(table.count).toBe(0);
    expect(table.validate()).toBeNull();
    // Something of every kind happened.
    for (const name of ['hits', 'inserted', 'replaced', 'removed', 'expired'] as const) expect(table.counter(name)).toBeGreaterThan(100);
  });
}

describe('flow table against a reference model (200k operations each)', () => {
  runModel('well-mixed hash, load <= 0.5', { capacity: 3000, maxLoad: 0.5, hash: 'mix', seed: 1, ops: 200_000 });
  runModel('well-mixed hash, load <= 0.75', { capacity: 3000, maxLoad: 0.75, hash: 'mix', seed: 2, ops: 200_000 });
  runModel('well-mixed hash, load <= 0.75, lookupMany in JavaScript only', { capacity: 3000, maxLoad: 0.75, hash: 'mix', seed: 5, ops: 200_000, probeKernel: 'js' });
  runModel('poor hash (41 values: long collision runs), load <= 0.75', { capacity: 1500, maxLoad: 0.75, hash: 'poor', seed: 3, ops: 200_000 });
  runModel('poor hash, above the frame-by-frame limit (lookupMany\'s kernel walks long runs)', { capacity: 3000, maxLoad: 0.75, hash: 'poor', seed: 6, ops: 50_000 });
  runModel('tiny table (capacity 7)', { capacity: 7, maxLoad: 0.5, hash: 'mix', seed: 4, ops: 50_000 });
});
