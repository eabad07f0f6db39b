/**
 * The WinNAT external-port allocator (src/nat/ports.ts).
 *
 * Model. 200,000 random operations per case (acquire, release, releases of triples never taken,
 * chunk reservations and releases) over a few hundred remote addresses, two of them hot, and
 * small ranges, in phases that fill the allocator to capacity and drain it again, so that both
 * kinds of refusal (capacity, a remote holding every allowed port) happen thousands of times. The
 * model is a plain Set of taken triples and a Set of reserved chunks; every answer is checked: a
 * port is never taken twice toward one remote, never outside the range or inside a reserved chunk;
 * the internal port is kept whenever it is allowed and free; -1 comes exactly when the model has no
 * free port (or the capacity is reached); the sequential strategy's port is exactly the model's
 * next free port after its cursor; the lowest free chunk is reserved. `validate()` (a brute-force
 * check of the allocator's invariants) runs every 2,000 steps.
 *
 * Scale. 1,000,000 sessions toward 1,000,000 remotes, and 1,000,000 sessions toward 62 remotes
 * (every port of the range reused toward each), all accepted, in at most 16 bytes per triple.
 * Exhaustion toward one remote is refused after one scan of the range, then in O(1): the refused
 * calls after the first examine no port (the `scanned` counter), which is the assertion; the
 * wall-clock bound on 100,000 of them (one second) is only a sanity check.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { DEFAULT_DYNAMIC_PORT_RANGE } from '../../src/config/topology.js';
import {
  NAT_CHUNK_PORTS,
  NAT_DEFAULT_PORT_RANGE,
  NAT_PROTO_ICMP,
  NAT_PROTO_TCP,
  NAT_PROTO_UDP,
  NatPortAllocator,
  type NatPortAllocatorOptions,
  type NatPortStrategy,
} from '../../src/nat/ports.js';

interface ModelCase {
  strategy: NatPortStrategy;
  preserve: boolean;
  range: { start: number; count: number };
  capacity: number;
  remotes: number;
  seed: number;
  ops: number;
}

function runModel(name: string, c: ModelCase): void {
  it(name, () => {
    const { start, count } = c.range;
    const chunks = Math.floor(count / NAT_CHUNK_PORTS);
    const alloc = new NatPortAllocator({ range: c.range, strategy: c.strategy, preserve: c.preserve, capacity: c.capacity, seed: c.seed });
    const rng = new Prng(c.seed ^ 0x9a7);
    // Remote addresses: random u32s (distinct); the first 2 are hot (half the acquires go to them).
    const remotes: number[] = [];
    const seenRemote = new Set<number>();
    while (remotes.length < c.remotes) {
      const a = rng.nextU32();
      if (!seenRemote.has(a)) {
        seenRemote.add(a);
        remotes.push(a);
      }
    }
    const HOT = 2;
    // The model: taken triples as numbers (remote index, proto, port), with an array for picking one at random.
    const keyOf = (ri: number, proto: number, port: number): number => (ri * 3 + proto) * 65536 + port;
    const taken = new Set<number>();
    const list: number[] = [];
    const where = new Map<number, number>();
    const add = (k: number): void => {
      taken.add(k);
      where.set(k, list.length);
      list.push(k);
    };
    const del = (k: number): void => {
      taken.delete(k);
      const i = where.get(k)!;
      const last = list.pop()!;
      if (last !== k) {
        list[i] = last;
        where.set(last, i);
      }
      where.delete(k);
    };
    const reserved = new Set<number>(); // chunk indices
    const allowed = (port: number): boolean => {
      const o = port - start;
      return Number.isInteger(port) && o >= 0 && o < count && !(o < chunks * NAT_CHUNK_PORTS && reserved.has(Math.floor(o / NAT_CHUNK_PORTS)));
    };
    const cursors = [0, 0, 0];
    const seen = { preserved: 0, picked: 0, refusedFull: 0, refusedExhausted: 0, released: 0, badReleases: 0, chunksReserved: 0, chunksRefused: 0, chunksReleased: 0 };

    for (let step = 0; step < c.ops; step++) {
      // Phases of 8,000 steps: filling (to the capacity, then refused) and draining (to empty: chunks become free).
      const filling = Math.floor(step / 8000) % 2 === 0;
      const r = rng.below(100);
      if (r < (filling ? 70 : 15)) {
        // acquire
        const ri = rng.below(2) === 0 ? rng.below(HOT) : rng.below(c.remotes);
        const proto = rng.below(3);
        const q = rng.below(10);
        // internal port: in the range, anywhere, or one of a few popular ones (preservation conflicts)
        const internal = q < 5 ? start + rng.below(count) : q < 8 ? 1 + rng.below(65535) : start + rng.below(Math.min(count, 8));
        const got = alloc.acquire(proto, internal, remotes[ri]!);
        // What the model allows.
        let free = -1;
        if (taken.size < c.capacity) {
          for (let o = 0; o < count && free < 0; o++) if (allowed(start + o) && !taken.has(keyOf(ri, proto, start + o))) free = start + o;
        }
        if (free < 0) {
          if (got !== -1) expect(got, `step ${step}: the model has no free port (size ${taken.size}), the allocator gave one`).toBe(-1);
          if (taken.size >= c.capacity) seen.refusedFull++;
          else seen.refusedExhausted++;
          continue;
        }
        if (got === -1) expect(got, `step ${step}: refused, but port ${free} is free toward remote ${ri} (proto ${proto})`).not.toBe(-1);
        if (!allowed(got)) expect.fail(`step ${step}: port ${got} is outside the range or in a reserved chunk`);
        if (taken.has(keyOf(ri, proto, got))) expect.fail(`step ${step}: port ${got} handed out twice toward remote ${ri} (proto ${proto})`);
        if (c.preserve && allowed(internal) && !taken.has(keyOf(ri, proto, internal))) {
          if (got !== internal) expect(got, `step ${step}: the internal port ${internal} was free and allowed`).toBe(internal);
          seen.preserved++;
        } else {
          seen.picked++;
          if (c.strategy === 'sequential') {
            let o = cursors[proto]!;
            while (!(allowed(start + o) && !taken.has(keyOf(ri, proto, start + o)))) o = (o + 1) % count;
            if (got !== start + o) expect(got, `step ${step}: the sequential pick (cursor ${cursors[proto]})`).toBe(start + o);
            cursors[proto] = (o + 1) % count;
          }
        }
        add(keyOf(ri, proto, got));
      } else if (r < 95) {
        // release a taken triple, or (1 in 10) one that is not taken
        if (list.length === 0 || rng.below(10) === 0) {
          const ri = rng.below(c.remotes);
          const proto = rng.below(3);
          const port = start - 2 + rng.below(count + 4);
          const k = keyOf(ri, proto, port);
          if (!taken.has(k)) {
            const ok = alloc.release(proto, port, remotes[ri]!);
            if (ok) expect.fail(`step ${step}: release of a triple never taken returned true`);
            seen.badReleases++;
            continue;
          }
        }
        if (list.length === 0) continue;
        const k = list[rng.below(list.length)]!;
        const port = k % 65536;
        const proto = Math.floor(k / 65536) % 3;
        const ri = Math.floor(k / (65536 * 3));
        if (!alloc.has(proto, port, remotes[ri]!)) expect.fail(`step ${step}: a taken triple is not reported taken`);
        const ok = alloc.release(proto, port, remotes[ri]!);
        if (!ok) expect.fail(`step ${step}: release of a taken triple returned false`);
        if (alloc.has(proto, port, remotes[ri]!)) expect.fail(`step ${step}: a released triple is still reported taken`);
        del(k);
        seen.released++;
      } else if (r < 98) {
        // reserve the lowest chunk that is neither reserved nor used
        const used = new Set<number>();
        for (const k of taken) {
          const o = (k % 65536) - start;
          if (o < chunks * NAT_CHUNK_PORTS) used.add(Math.floor(o / NAT_CHUNK_PORTS));
        }
        let want = -1;
        for (let ch = 0; ch < chunks && want < 0; ch++) if (!reserved.has(ch) && !used.has(ch)) want = ch;
        const got = alloc.reserveChunk();
        expect(got, `step ${step}: reserveChunk`).toBe(want < 0 ? -1 : start + want * NAT_CHUNK_PORTS);
        if (want >= 0) {
          reserved.add(want);
          seen.chunksReserved++;
        } else seen.chunksRefused++;
      } else {
        // release a reserved chunk, or try a first port that starts none
        const ch = rng.below(chunks + 1);
        const first = rng.below(4) === 0 ? start + ch * NAT_CHUNK_PORTS + 1 + rng.below(63) : start + ch * NAT_CHUNK_PORTS;
        const want = first === start + ch * NAT_CHUNK_PORTS && ch < chunks && reserved.has(ch);
        expect(alloc.releaseChunk(first), `step ${step}: releaseChunk(${first})`).toBe(want);
        if (want) {
          reserved.delete(ch);
          seen.chunksReleased++;
        }
      }
      if (alloc.size !== taken.size) expect(alloc.size, `step ${step}: size`).toBe(taken.size);
      if (step % 2000 === 1999) {
        expect(alloc.validate(), `validate at step ${step}`).toBeNull();
        expect(alloc.reservedChunks).toBe(reserved.size);
        expect(alloc.available).toBe(count - NAT_CHUNK_PORTS * reserved.size);
      }
    }
    expect(alloc.validate()).toBeNull();
    // Every path was taken, many times.
    if (c.preserve) expect(seen.preserved).toBeGreaterThan(1000);
    expect(seen.picked).toBeGreaterThan(1000);
    expect(seen.refusedFull).toBeGreaterThan(1000);
    expect(seen.refusedExhausted).toBeGreaterThan(1000);
    expect(seen.released).toBeGreaterThan(10_000);
    expect(seen.badReleases).toBeGreaterThan(1000);
    if (chunks > 0) {
      expect(seen.chunksReserved).toBeGreaterThan(100);
      expect(seen.chunksRefused).toBeGreaterThan(100);
      expect(seen.chunksReleased).toBeGreaterThan(100);
    }
    // Everything released: the allocator is empty again.
    for (const k of list) expect(alloc.release(Math.floor(k / 65536) % 3, k % 65536, remotes[Math.floor(k / (65536 * 3))]!)).toBe(true);
    expect(alloc.size).toBe(0);
    expect(alloc.exhaustedCount).toBe(0);
    expect(alloc.validate()).toBeNull();
  });
}

describe('NAT port allocator against a reference model (200k operations per case; 100k for the 40-port range)', () => {
  // 200 ports = 3 chunks + a tail of 8: exhausted marks are kept while >= 64 ports are available, not below.
  const base = { range: { start: 40000, count: 200 }, capacity: 2500, remotes: 300, ops: 200_000 };
  runModel('preserve, then sequential (the default)', { ...base, strategy: 'sequential', preserve: true, seed: 1 });
  runModel('sequential, no preservation', { ...base, strategy: 'sequential', preserve: false, seed: 2 });
  runModel('preserve, then random', { ...base, strategy: 'random', preserve: true, seed: 3 });
  runModel('random, no preservation', { ...base, strategy: 'random', preserve: false, seed: 4 });
  runModel('a range of 40 ports at the top of the port space (no chunk), sequential', {
    range: { start: 65496, count: 40 },
    capacity: 600,
    remotes: 200,
    ops: 100_000,
    strategy: 'sequential',
    preserve: true,
    seed: 5,
  });
});

describe('NAT port allocator: basics', () => {
  it('the default range is the topology default; options are validated', () => {
    expect({ ...NAT_DEFAULT_PORT_RANGE }).toEqual({ ...DEFAULT_DYNAMIC_PORT_RANGE });
    const a = new NatPortAllocator({ capacity: 10 });
    expect([a.rangeStart, a.rangeCount, a.strategy, a.preserve, a.chunkCount]).toEqual([49152, 16384, 'sequential', true, 256]);
    const bad: NatPortAllocatorOptions[] = [
      { range: { start: 0, count: 10 } },
      { range: { start: 65535, count: 2 } },
      { range: { start: 1000, count: 0 } },
      { range: { start: 1000.5, count: 10 } },
      { capacity: 0 },
      { capacity: 2 ** 26 },
      { maxLoad: 0.95 },
      { maxLoad: 0.3 },
      { strategy: 'fastest' as NatPortStrategy },
      { seed: 1.5 },
    ];
    for (const o of bad) expect(() => new NatPortAllocator(o), JSON.stringify(o)).toThrow(RangeError);
    expect(() => new NatPortAllocator({ range: { start: 1, count: 65535 } })).not.toThrow();
    expect(() => a.acquire(6, 1000, 1)).toThrow(RangeError); // an IP protocol number, not a NAT_PROTO_*
    expect(() => a.release(3, 50000, 1)).toThrow(RangeError);
  });

  it('preserves the internal port when it is in the range and free, and reuses a port toward other remotes only', () => {
    const a = new NatPortAllocator({ capacity: 100 });
    const R1 = 0x08080808;
    const R2 = 0x01010101;
    expect(a.acquire(NAT_PROTO_TCP, 50000, R1)).toBe(50000);
    expect(a.acquire(NAT_PROTO_TCP, 50000, R2)).toBe(50000); // another remote: the same external port
    expect(a.acquire(NAT_PROTO_UDP, 50000, R1)).toBe(50000); // another protocol space
    expect(a.acquire(NAT_PROTO_ICMP, 50000, R1)).toBe(50000);
    expect(a.acquire(NAT_PROTO_TCP, 50000, R1)).toBe(49152); // taken toward R1: the sequential pick
    expect(a.acquire(NAT_PROTO_TCP, 80, R1)).toBe(49153); // outside the range: never kept
    expect(a.acquire(NAT_PROTO_TCP, 49152, R2)).toBe(49152);
    expect(a.acquire(NAT_PROTO_TCP, 49152, R2)).toBe(49154); // the TCP cursor moved past 49153
    expect(a.acquire(NAT_PROTO_UDP, 80, R1)).toBe(49152); // the UDP cursor is its own
    expect(a.has(NAT_PROTO_TCP, 50000, R2)).toBe(true);
    expect(a.has(NAT_PROTO_TCP, 50001, R2)).toBe(false);
    expect(a.release(NAT_PROTO_TCP, 50000, R1)).toBe(true);
    expect(a.release(NAT_PROTO_TCP, 50000, R1)).toBe(false); // twice: the caller's bug, nothing changes
    expect(a.release(NAT_PROTO_TCP, 80, R1)).toBe(false);
    expect(a.has(NAT_PROTO_TCP, 50000, R2)).toBe(true);
    expect(a.acquire(NAT_PROTO_TCP, 50000, R1)).toBe(50000); // free again: kept again
    const s = new NatPortAllocator({ capacity: 100, preserve: false });
    expect(s.acquire(NAT_PROTO_TCP, 50000, R1)).toBe(49152);
    expect(s.acquire(NAT_PROTO_TCP, 50000, R2)).toBe(49153);
    expect(a.validate()).toBeNull();
    expect(s.validate()).toBeNull();
  });

  it('the capacity is a limit on triples: beyond it acquire returns -1 until a release', () => {
    const a = new NatPortAllocator({ capacity: 5 });
    for (let i = 0; i < 5; i++) expect(a.acquire(NAT_PROTO_UDP, 53, 1000 + i)).toBe(49152 + i);
    expect(a.acquire(NAT_PROTO_UDP, 53, 2000)).toBe(-1);
    expect(a.acquire(NAT_PROTO_TCP, 50000, 2000)).toBe(-1);
    expect(a.release(NAT_PROTO_UDP, 49155, 1003)).toBe(true);
    expect(a.acquire(NAT_PROTO_TCP, 50000, 2000)).toBe(50000);
    expect(a.validate()).toBeNull();
  });

  it('validate() finds a triple cut off from its home slot and a wrong chunk count (self-test)', () => {
    const a = new NatPortAllocator({ capacity: 64, range: { start: 1000, count: 128 } });
    for (let i = 0; i < 40; i++) expect(a.acquire(NAT_PROTO_TCP, 0, 7)).toBe(1000 + i);
    expect(a.validate()).toBeNull();
    const inside = a as unknown as { slots: Uint32Array; chunkUse: Uint32Array };
    // Empty the first slot of a run of at least two entries (a removal that forgot the backward shift).
    const slots = inside.slots;
    const n = slots.length / 2;
    let cut = -1;
    for (let s = 0; s < n && cut < 0; s++) if (slots[2 * s + 1] !== 0 && slots[2 * ((s + 1) % n) + 1] !== 0) cut = s;
    expect(cut).toBeGreaterThanOrEqual(0);
    const saved = [slots[2 * cut]!, slots[2 * cut + 1]!];
    slots[2 * cut] = 0;
    slots[2 * cut + 1] = 0;
    expect(a.validate()).not.toBeNull();
    slots[2 * cut] = saved[0]!;
    slots[2 * cut + 1] = saved[1]!;
    expect(a.validate()).toBeNull();
    inside.chunkUse[0]!++;
    expect(a.validate()).toMatch(/chunk 0: use/);
  });
});

describe('NAT port allocator: determinism', () => {
  /** A fixed script of acquires and releases; returns every answer. */
  const script = (opts: NatPortAllocatorOptions): number[] => {
    const a = new NatPortAllocator({ capacity: 4000, range: { start: 30000, count: 1000 }, ...opts });
    const rng = new Prng(99); // the script's own stream, the same for every allocator
    const live: [number, number, number][] = [];
    const out: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      if (live.length > 0 && rng.below(3) === 0) {
        const j = rng.below(live.length);
        const [p, port, r] = live[j]!;
        live[j] = live[live.length - 1]!;
        live.pop();
        out.push(a.release(p, port, r) ? 1 : 0);
      } else {
        const p = rng.below(3);
        const r = rng.below(20);
        const port = a.acquire(p, 30000 + rng.below(2000), r);
        out.push(port);
        if (port >= 0) live.push([p, port, r]);
      }
    }
    expect(a.validate()).toBeNull();
    return out;
  };

  it('the same seed and calls give the same ports; another seed gives others (random strategy)', () => {
    for (const preserve of [true, false]) {
      const one = script({ strategy: 'random', preserve, seed: 7 });
      expect(script({ strategy: 'random', preserve, seed: 7 })).toEqual(one);
      const other = script({ strategy: 'random', preserve, seed: 8 });
      let differ = 0;
      for (let i = 0; i < one.length; i++) if (one[i] !== other[i]) differ++;
      expect(differ).toBeGreaterThan(one.length / 10);
    }
  });

  it('the sequential strategy does not depend on the seed', () => {
    expect(script({ strategy: 'sequential', seed: 7 })).toEqual(script({ strategy: 'sequential', seed: 8 }));
  });

  it('random picks are spread over the range, sequential ones are consecutive', () => {
    const r = new NatPortAllocator({ capacity: 2000, strategy: 'random', preserve: false, seed: 11 });
    const s = new NatPortAllocator({ capacity: 2000, strategy: 'sequential', preserve: false });
    const rp: number[] = [];
    const sp: number[] = [];
    for (let i = 0; i < 1000; i++) {
      rp.push(r.acquire(NAT_PROTO_TCP, 50000, i));
      sp.push(s.acquire(NAT_PROTO_TCP, 50000, i));
    }
    expect(sp).toEqual(Array.from({ length: 1000 }, (_, i) => 49152 + i));
    const chunksHit = new Set(rp.map((p) => Math.floor((p - 49152) / 64)));
    expect(chunksHit.size).toBeGreaterThan(200); // of 256: 1,000 uniform draws miss about 5 of them
    expect(Math.min(...rp)).toBeGreaterThanOrEqual(49152);
    expect(Math.max(...rp)).toBeLessThanOrEqual(65535);
  });
});

describe('NAT port allocator: scale', () => {
  it('1,000,000 sessions toward 1,000,000 remote addresses fit, in at most 16 bytes per triple', () => {
    const a = new NatPortAllocator(); // the defaults: capacity 1,000,000, range 49152 + 16384
    const N = 1_000_000;
    expect(a.capacity).toBe(N);
    const rng = new Prng(5);
    const ports = new Int32Array(N);
    const remote = (i: number): number => Math.imul(i, 0x9e3779b1) >>> 0; // an odd multiplier: distinct for distinct i
    let refused = 0;
    for (let i = 0; i < N; i++) {
      const p = a.acquire(i % 3, 1024 + rng.below(64512), remote(i));
      ports[i] = p;
      if (p < 0) refused++;
    }
    expect(refused).toBe(0);
    expect(a.size).toBe(N);
    expect(a.acquire(NAT_PROTO_TCP, 50000, 12345)).toBe(-1); // full: the caller reports table-full
    console.log(`NAT ports: ${a.memorySize} bytes for ${a.capacity} triples, ${a.bytesPerEntry.toFixed(2)} bytes per triple`);
    expect(a.bytesPerEntry).toBeLessThanOrEqual(16);
    expect(a.validate()).toBeNull();
    for (let i = 0; i < N; i += 997) expect(a.has(i % 3, ports[i]!, remote(i))).toBe(true);
    let released = 0;
    for (let i = 0; i < N; i++) if (a.release(i % 3, ports[i]!, remote(i))) released++;
    expect(released).toBe(N);
    expect(a.size).toBe(0);
    expect(a.validate()).toBeNull();
  });

  it('1,000,000 sessions toward 62 remotes fit: every port of the range is reused toward each', () => {
    const a = new NatPortAllocator();
    const rng = new Prng(6);
    const seenPorts = new Uint8Array(65536);
    let refused = 0;
    for (let r = 0; r < 62; r++) {
      const n = r < 61 ? 16384 : 1_000_000 - 61 * 16384;
      seenPorts.fill(0);
      for (let i = 0; i < n; i++) {
        const p = a.acquire(NAT_PROTO_TCP, 49152 + rng.below(16384), 0x0a000000 + r);
        if (p < 0) refused++;
        else if (seenPorts[p]++ !== 0) expect.fail(`port ${p} twice toward remote ${r}`);
      }
      if (r < 61) expect(a.acquire(NAT_PROTO_TCP, 50000, 0x0a000000 + r)).toBe(-1); // every port taken toward it
    }
    expect(refused).toBe(0);
    expect(a.size).toBe(1_000_000);
    expect(a.exhaustedCount).toBe(61);
    expect(a.validate()).toBeNull();
  });
});

describe('NAT port allocator: exhaustion toward one remote', () => {
  for (const strategy of ['sequential', 'random'] as const) {
    it(`${strategy}: the 16,385th acquire toward one remote is refused, and refusals after it cost no scan`, () => {
      const a = new NatPortAllocator({ capacity: 100_000, strategy, seed: 3 });
      const R = 0xc0a80001;
      const got = new Uint8Array(65536);
      for (let i = 0; i < 16384; i++) {
        const p = a.acquire(NAT_PROTO_TCP, 1000 + (i % 3), R);
        expect(p >= 49152 && got[p] === 0).toBe(true);
        got[p] = 1;
      }
      let before = a.scanned;
      expect(a.acquire(NAT_PROTO_TCP, 50000, R)).toBe(-1);
      expect(a.scanned - before).toBe(16384); // one full scan finds nothing ...
      expect(a.exhaustedCount).toBe(1);
      before = a.scanned;
      const t0 = performance.now();
      let refused = 0;
      for (let i = 0; i < 100_000; i++) if (a.acquire(NAT_PROTO_TCP, 49152 + (i & 16383), R) === -1) refused++;
      const ms = performance.now() - t0;
      expect(refused).toBe(100_000);
      expect(a.scanned - before).toBe(0); // ... and the next 100,000 refusals examine no port
      expect(ms).toBeLessThan(1000);
      console.log(`NAT ports (${strategy}): 100,000 refused acquires toward an exhausted remote in ${ms.toFixed(1)} ms`);
      // Other remotes and other protocols are unaffected.
      expect(a.acquire(NAT_PROTO_TCP, 50000, R + 1)).toBe(50000);
      expect(a.acquire(NAT_PROTO_UDP, 50000, R)).toBe(50000);
      // A release toward it lifts the mark: exactly that port comes back, then the remote is full again.
      expect(a.release(NAT_PROTO_TCP, 57005, R)).toBe(true);
      expect(a.exhaustedCount).toBe(0);
      expect(a.acquire(NAT_PROTO_TCP, 1000, R)).toBe(57005);
      expect(a.acquire(NAT_PROTO_TCP, 1000, R)).toBe(-1);
      expect(a.validate()).toBeNull();
    });
  }
});

describe('NAT port allocator: OutboundNAT chunks', () => {
  it('reserve every chunk, the next is refused; acquire then has no port; a release makes a chunk available again', () => {
    const a = new NatPortAllocator({ capacity: 10_000 });
    for (let c = 0; c < 256; c++) expect(a.reserveChunk()).toBe(49152 + 64 * c);
    expect(a.reserveChunk()).toBe(-1);
    expect(a.reservedChunks).toBe(256);
    expect(a.available).toBe(0);
    expect(a.isReserved(49152)).toBe(true);
    expect(a.isReserved(65535)).toBe(true);
    expect(a.isReserved(49151)).toBe(false);
    expect(a.acquire(NAT_PROTO_TCP, 50000, 1)).toBe(-1); // preservation does not bypass a reservation
    expect(a.acquire(NAT_PROTO_UDP, 1000, 1)).toBe(-1);
    // Not a reserved chunk's first port: refused, nothing changes.
    expect(a.releaseChunk(49153)).toBe(false);
    expect(a.releaseChunk(49152 - 64)).toBe(false);
    expect(a.releaseChunk(65536)).toBe(false);
    expect(a.reservedChunks).toBe(256);
    // Give chunk 5 back: acquires come from it only.
    const first = 49152 + 5 * 64;
    expect(a.releaseChunk(first)).toBe(true);
    expect(a.releaseChunk(first)).toBe(false);
    expect(a.available).toBe(64);
    for (let i = 0; i < 64; i++) {
      const p = a.acquire(NAT_PROTO_TCP, 50000, 77);
      expect(p).toBe(first + i);
    }
    expect(a.acquire(NAT_PROTO_TCP, 50000, 77)).toBe(-1);
    expect(a.acquire(NAT_PROTO_TCP, first + 3, 78)).toBe(first + 3); // kept: in the range, not reserved, free toward 78
    // A chunk with a taken port is not free.
    expect(a.reserveChunk()).toBe(-1);
    for (let i = 0; i < 64; i++) expect(a.release(NAT_PROTO_TCP, first + i, 77)).toBe(true);
    expect(a.reserveChunk()).toBe(-1); // still one port toward 78
    expect(a.release(NAT_PROTO_TCP, first + 3, 78)).toBe(true);
    expect(a.reserveChunk()).toBe(first);
    expect(a.validate()).toBeNull();
  });

  it('the lowest free chunk is reserved: chunks holding a taken port are skipped', () => {
    const a = new NatPortAllocator({ capacity: 100 });
    expect(a.acquire(NAT_PROTO_ICMP, 49152 + 10, 1)).toBe(49162); // chunk 0 in use
    expect(a.acquire(NAT_PROTO_UDP, 49152 + 64 * 2, 1)).toBe(49280); // chunk 2 in use
    expect(a.reserveChunk()).toBe(49152 + 64);
    expect(a.reserveChunk()).toBe(49152 + 64 * 3);
    // The sequential cursor walks over reserved chunks.
    const b = new NatPortAllocator({ capacity: 100, preserve: false });
    expect(b.reserveChunk()).toBe(49152);
    expect(b.acquire(NAT_PROTO_TCP, 0, 1)).toBe(49152 + 64);
    expect(a.validate()).toBeNull();
    expect(b.validate()).toBeNull();
  });

  it('a range that is not a multiple of 64 keeps its tail out of every chunk', () => {
    const a = new NatPortAllocator({ capacity: 1000, range: { start: 1000, count: 100 } });
    expect(a.chunkCount).toBe(1);
    expect(a.reserveChunk()).toBe(1000);
    expect(a.reserveChunk()).toBe(-1);
    expect(a.available).toBe(36);
    const got: number[] = [];
    for (let i = 0; i < 36; i++) got.push(a.acquire(NAT_PROTO_TCP, 1010, 5));
    expect(got).toEqual(Array.from({ length: 36 }, (_, i) => 1064 + i));
    expect(a.acquire(NAT_PROTO_TCP, 1010, 5)).toBe(-1);
    expect(a.exhaustedCount).toBe(0); // fewer than 64 ports available: no mark, a refusal scans 36
    expect(a.validate()).toBeNull();
  });

  it('acquire never returns a port inside a reserved chunk (random strategy, half the chunks reserved)', () => {
    const a = new NatPortAllocator({ capacity: 50_000, strategy: 'random', seed: 9 });
    const firsts: number[] = [];
    for (let c = 0; c < 256; c++) firsts.push(a.reserveChunk());
    for (let c = 0; c < 256; c += 2) expect(a.releaseChunk(firsts[c]!)).toBe(true);
    const rng = new Prng(10);
    let inside = 0;
    let refused = 0;
    for (let i = 0; i < 40_000; i++) {
      const p = a.acquire(rng.below(3), 49152 + rng.below(16384), rng.below(8));
      if (p < 0) refused++;
      else if (a.isReserved(p) || ((p - 49152) >> 6) % 2 === 1) inside++;
    }
    expect(inside).toBe(0);
    expect(refused).toBe(0); // 24 (proto, remote) pairs with 8,192 ports each: room for every one
    expect(a.validate()).toBeNull();
  });
});
