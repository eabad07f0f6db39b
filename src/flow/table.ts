/**
 * The unified flow table (UFT, spec §3.5): the fast path's cache from a frame's flow key to the
 * composite header transposition the slow path computed for it, with the per-flow state VFP keeps
 * beside it (expiry, TCP flags seen, counters, the peer of a flow pair, the policy generation).
 *
 * Purpose. The first packet of a connection runs the slow path (every VFP layer, conntrack, NAT)
 * and installs one entry, or a *flow pair* (forward and reverse entry naming each other), so that
 * reply traffic hits the cache even when the opposite direction's rules would block it. Every
 * later packet costs one `lookup` (or its share of one `lookupBatch`) and one `touch`. The table
 * does not interpret actions: an action is an opaque Int32 the caller chose (e.g. the id of a
 * cached composite transposition).
 *
 * API. lookup / lookupBatch / find (probe), touch (count a packet), insert / insertPair (install,
 * replacing), remove, sweep (incremental expiry), clear; forEachEntry, copyKey, validate (dumps
 * and tests). Columns are public: the caller reads them by handle and may rewrite actions,
 * generations and userData of a live entry; every other column is the table's.
 *
 * Keys. A key is the engine's flow key, FLOW_KEY_WORDS (12) u32 words laid out as in
 * src/frame/batch.ts; word 11's high 16 bits carry the engine port id, so the same 5-tuple
 * entering on two ports is two flows. Callers pass `(keys, k, hash)`: any Uint32Array, the word
 * offset of the key in it (i * FLOW_KEY_WORDS for frame i of a batch) and a 32-bit hash of the key
 * they computed (parse/'s symmetric flowHash). The table never hashes: equal keys must come with
 * equal hashes, and nothing else is assumed (a constant hash is correct, only slow).
 *
 * Data layout. Entries live in a pool of `capacity` entries addressed by integer handles
 * 0..capacity-1 that never move while the entry lives; free handles sit on a stack (LIFO, so a
 * freed entry's cache lines are reused first). Entry columns, one element per handle:
 *   keyWords       Uint32 x12  the flow key, FLOW_KEY_WORDS words at handle * 12
 *   hashes         Uint32      the caller's hash (finds the entry's home slot on removal)
 *   actions        Int32       opaque action handle given at insert (caller may rewrite it)
 *   generations    Uint32      policy generation the action was computed under (caller's)
 *   expiries       Float64     packet-clock second after which the entry is dead
 *   ttls           Float64     idle timeout in seconds: a packet extends expiry to now + ttl
 *   peers          Int32       handle of the other entry of a flow pair, -1 for a single entry
 *   tcpFlags       Uint8       OR of the TCP flags of every packet counted on this entry
 *   states         Uint8       0 free; STATE_LIVE; | STATE_CLOSING once a RST was seen on the pair
 *   packets        Float64     packets counted by touch
 *   bytes          Float64     bytes counted by touch
 *   createdAt      Float64     packet-clock time of the insert
 *   lastSeenAt     Float64     packet-clock time of the last touch (createdAt until then)
 *   userData       Int32       free for the caller (0 at insert)
 * The index is open addressing with linear probing over one interleaved Int32Array `slots` of
 * 2 * slotCount words: slots[2s] is the entry's hash, slots[2s + 1] its handle (-1 empty). The hash
 * beside the handle rejects most non-matching slots without touching the entry's key; only an
 * equal hash costs the 12-word compare. slotCount is a power of two >= capacity / maxLoad (maxLoad
 * 0.5 by default), so the index is never more than maxLoad full and a probe always meets an empty
 * slot. The home slot is the top bits of hash * 0x9e3779b1 (Fibonacci hashing): a caller's hash
 * with weak low bits still spreads. Deletion shifts the following run back (no tombstones), so a
 * probe's length depends only on the live entries. Bytes per entry: `entrySize`, 138 at the
 * default load with a power-of-two capacity (122 of columns and free stack, 16 of index: two
 * 8-byte slots per entry); up to 154 when capacity / maxLoad rounds up to the next power of two.
 *
 * Invariants.
 *  - Every live entry is in the index exactly once, reachable from its home slot without crossing
 *    an empty slot; no free handle is in the index. `count + free handles = capacity`.
 *  - Pairs are symmetric: peers[peers[h]] === h; both entries or neither are live. Every removal
 *    (remove, expiry, eviction, replacement) takes the peer with it.
 *  - Both entries of a pair carry the same expiry (touch sets them together).
 *  - At most one live entry per key: insert over an existing key replaces it (and its peer).
 *  - Counters are in entries (a pair counts 2), except `full` (refused insert calls), `lookups`
 *    and `hits`. `count = inserted - replaced - removed - expired - evicted`.
 *  - Nothing allocates per operation: no objects, closures, strings, Map or BigInt; only the
 *    constructor allocates (the typed arrays, once).
 *
 * Time. `now` is the packet clock in seconds (pcap timestamps in replay, monotonic in live mode);
 * an entry with expiry < now is dead. A dead entry found by `lookup` is removed with its peer and
 * the lookup misses; `sweep` reclaims the others incrementally (the pipeline calls it once per
 * batch with a small budget), so no timer wheel is needed and replay stays deterministic.
 *
 * TCP. `touch` ORs the packet's TCP flags into the entry. A RST (0x04) cuts the pair's expiry to
 * at most now + rstTimeout (5 s, DASH's "TTL cut to 5 s") and marks the pair closing: later
 * packets are still counted but no longer extend the expiry, so trailing segments and RSTs still
 * hit the flow for a moment (VFP waits about a round trip before closing) and then it dies.
 *
 * Generations (spec §3.5 "policy change -> resimulation"). The table only stores the generation
 * the caller gave at insert. The caller compares `generations[h]` with the current policy
 * generation after a hit and, when they differ (older), treats the hit as a miss: it re-runs the
 * slow path, which installs a new pair over the old one (insert and insertPair replace existing
 * keys) or, when the verdict is unchanged, may simply rewrite actions[h] / generations[h] of both
 * entries. Flows are thus invalidated lazily, by the next packet, never by a scan.
 *
 * When full. `whenFull: 'drop'` refuses the insert (-1; counted `full`; the pipeline drops the
 * frame with reason `table-full`), except that an expired entry met in the sample below is
 * reclaimed first. `'evict-idle'` evicts the entry (with its peer) that would expire first among
 * a bounded sample: the occupied slots of the new key's probe run (at most PROBE_SAMPLE) plus
 * `evictSample` entries under a clock hand that walks the pool. Expiry, not lastSeenAt, ranks the
 * candidates, because it is refreshed for both entries of a pair and already reflects RST cuts.
 * This is sampled LRU, not exact LRU: O(1) per insert, no list to maintain on every touch.
 *
 * Thread ownership. One table per shard, owned by its worker: no locks, no atomics, no sharing.
 * Shard steering keeps both directions of a connection (the symmetric hash) on one worker.
 *
 * Not handled here. TCP state machine beyond "RST seen" (SYN/FIN tracking and half-open counts
 * belong to conntrack above this table; tcpFlags keeps the raw material). Reopening a closing
 * flow (a new SYN on a RST-cut pair): the caller re-inserts. Handles are not validated on the hot
 * path: `touch` and the column reads assume a live handle from this batch's lookup/insert, valid
 * until that entry is removed, expired, evicted or replaced. Resizing: capacity is fixed (bounded
 * memory, DESIGN.md); the caller sizes the table.
 */
import { FLOW_KEY_WORDS } from '../frame/batch.js';

/** Counter slots of `FlowTable.counters`: names and ids derive from this one list (never reorder). */
export const FLOW_COUNTERS = ['lookups', 'hits', 'inserted', 'replaced', 'removed', 'expired', 'evicted', 'full'] as const;
export type FlowCounter = (typeof FLOW_COUNTERS)[number];
export const FLOW_COUNTER_COUNT = FLOW_COUNTERS.length;
/** Numeric id of each counter, e.g. `counters[FlowCounterId.hits]`. */
export const FlowCounterId: { readonly [K in FlowCounter]: number } = Object.freeze(
  Object.fromEntries(FLOW_COUNTERS.map((name, id) => [name, id])) as { [K in FlowCounter]: number },
);
// Literal ids for the hot paths (checked against the list by a test).
const C_LOOKUPS = 0;
const C_HITS = 1;
const C_INSERTED = 2;
const C_REPLACED = 3;
const C_REMOVED = 4;
const C_EXPIRED = 5;
const C_EVICTED = 6;
const C_FULL = 7;

export const FLOW_WHEN_FULL = ['drop', 'evict-idle'] as const;
export type FlowWhenFull = (typeof FLOW_WHEN_FULL)[number];

/** Entry state bits (`states` column). */
export const FLOW_STATE_FREE = 0;
export const FLOW_STATE_LIVE = 1;
export const FLOW_STATE_CLOSING = 2; // a RST was seen on the pair: expiry no longer extended

export const TCP_FLAG_RST = 0x04;
/** DASH: a TCP reset cuts the flow's TTL to 5 s. */
export const FLOW_DEFAULT_RST_TIMEOUT = 5;
export const FLOW_DEFAULT_MAX_LOAD = 0.5;
export const FLOW_DEFAULT_EVICT_SAMPLE = 8;
/** Largest capacity: 16M entries is ~2.2 GiB of columns, beyond any one shard's budget. */
export const FLOW_TABLE_MAX_CAPACITY = 1 << 24;
/** Occupied slots of the new key's probe run offered as eviction candidates (they are in cache). */
const PROBE_SAMPLE = 16;
const FIB = 0x9e3779b1 | 0;
const W = FLOW_KEY_WORDS;

export interface FlowTableOptions {
  /** Number of entries (a pair uses two). */
  readonly capacity: number;
  readonly whenFull: FlowWhenFull;
  /** Seconds a pair lives after a TCP RST at most (default 5, DASH). */
  readonly rstTimeout?: number;
  /** Upper bound of index occupancy, 0.25..0.75 (default 0.5): lower is faster and larger. */
  readonly maxLoad?: number;
  /** Pool entries the eviction clock hand offers per eviction (default 8). */
  readonly evictSample?: number;
}

export class FlowTable {
  readonly capacity: number;
  readonly whenFull: FlowWhenFull;
  readonly rstTimeout: number;
  /** Live entries. */
  count = 0;
  /** FLOW_COUNTERS slots (Float64: exact to 2^53). */
  readonly counters: Float64Array;

  // ---- entry columns (see the essay; one element per handle) ---------------------------------
  readonly keyWords: Uint32Array;
  readonly hashes: Uint32Array;
  readonly actions: Int32Array;
  readonly generations: Uint32Array;
  readonly expiries: Float64Array;
  readonly ttls: Float64Array;
  readonly peers: Int32Array;
  readonly tcpFlags: Uint8Array;
  readonly states: Uint8Array;
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  readonly createdAt: Float64Array;
  readonly lastSeenAt: Float64Array;
  readonly userData: Int32Array;

  // ---- index and pool bookkeeping -------------------------------------------------------------
  /** Interleaved (hash, handle) per slot; handle -1 marks an empty slot. */
  readonly slots: Int32Array;
  readonly slotCount: number;
  private readonly slotMask: number;
  /** 32 - log2(slotCount): the home slot is the top bits of hash * FIB. */
  private readonly slotShift: number;
  /** Stack of free handles; freeHandles[0 .. freeCount-1] are free. */
  private readonly freeHandles: Int32Array;
  private freeCount: number;
  private readonly evictSample: number;
  private evictHand = 0;
  private sweepHand = 0;
  /** Where lookupBatch's touching pass leaves its sum, so the JIT cannot drop those loads. */
  private touchedSink = 0;

  constructor(options: FlowTableOptions) {
    const { capacity, whenFull } = options;
    const rstTimeout = options.rstTimeout ?? FLOW_DEFAULT_RST_TIMEOUT;
    const maxLoad = options.maxLoad ?? FLOW_DEFAULT_MAX_LOAD;
    const evictSample = options.evictSample ?? FLOW_DEFAULT_EVICT_SAMPLE;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > FLOW_TABLE_MAX_CAPACITY) {
      throw new RangeError(`flow table capacity must be an integer in 1..${FLOW_TABLE_MAX_CAPACITY}, got ${capacity}`);
    }
    if (!(FLOW_WHEN_FULL as readonly string[]).includes(whenFull)) {
      throw new RangeError(`flow table whenFull must be one of ${FLOW_WHEN_FULL.join(', ')}, got ${String(whenFull)}`);
    }
    if (!(rstTimeout >= 0) || !Number.isFinite(rstTimeout)) throw new RangeError(`flow table rstTimeout must be a finite number >= 0, got ${rstTimeout}`);
    if (!(maxLoad >= 0.25 && maxLoad <= 0.75)) throw new RangeError(`flow table maxLoad must be in 0.25..0.75, got ${maxLoad}`);
    if (!Number.isInteger(evictSample) || evictSample < 1) throw new RangeError(`flow table evictSample must be an integer >= 1, got ${evictSample}`);
    this.capacity = capacity;
    this.whenFull = whenFull;
    this.rstTimeout = rstTimeout;
    this.evictSample = evictSample;
    this.counters = new Float64Array(FLOW_COUNTER_COUNT);

    this.keyWords = new Uint32Array(capacity * W);
    this.hashes = new Uint32Array(capacity);
    this.actions = new Int32Array(capacity);
    this.generations = new Uint32Array(capacity);
    this.expiries = new Float64Array(capacity);
    this.ttls = new Float64Array(capacity);
    this.peers = new Int32Array(capacity).fill(-1);
    this.tcpFlags = new Uint8Array(capacity);
    this.states = new Uint8Array(capacity);
    this.packets = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.createdAt = new Float64Array(capacity);
    this.lastSeenAt = new Float64Array(capacity);
    this.userData = new Int32Array(capacity);

    // At least 2 slots: a shift of 32 would be a shift of 0 in JS.
    let bits = 1;
    while (1 << bits < capacity / maxLoad) bits++;
    this.slotCount = 1 << bits;
    this.slotMask = this.slotCount - 1;
    this.slotShift = 32 - bits;
    this.slots = new Int32Array(this.slotCount * 2);
    for (let s = 1; s < this.slots.length; s += 2) this.slots[s] = -1;

    this.freeHandles = new Int32Array(capacity);
    // Pushed in reverse so that handle 0 is handed out first (dense, cache-friendly fill).
    for (let i = 0; i < capacity; i++) this.freeHandles[i] = capacity - 1 - i;
    this.freeCount = capacity;
  }

  /** Live entries (alias of `count`, for Map-like callers). */
  get size(): number {
    return this.count;
  }

  /** Bytes of typed arrays the table holds (all columns, index and free stack). */
  get memorySize(): number {
    return (
      this.keyWords.byteLength +
      this.hashes.byteLength +
      this.actions.byteLength +
      this.generations.byteLength +
      this.expiries.byteLength +
      this.ttls.byteLength +
      this.peers.byteLength +
      this.tcpFlags.byteLength +
      this.states.byteLength +
      this.packets.byteLength +
      this.bytes.byteLength +
      this.createdAt.byteLength +
      this.lastSeenAt.byteLength +
      this.userData.byteLength +
      this.slots.byteLength +
      this.freeHandles.byteLength +
      this.counters.byteLength
    );
  }

  /** Bytes per entry of capacity (memorySize / capacity). */
  get entrySize(): number {
    return this.memorySize / this.capacity;
  }

  /** Value of one counter by name (dumps and tests; the hot paths use the slots directly). */
  counter(name: FlowCounter): number {
    return this.counters[FlowCounterId[name]]!;
  }

  // ---- fast path --------------------------------------------------------------------------------

  /**
   * Handle of the live entry for the key, or -1. An entry found expired (expiry < now) is removed
   * with its peer (counted `expired`) and the lookup misses.
   */
  lookup(keys: Uint32Array, k: number, hash: number, now: number): number {
    const c = this.counters;
    c[C_LOOKUPS]++;
    const h = this.find(keys, k, hash);
    if (h < 0) return -1;
    if (this.expiries[h]! < now) {
      c[C_EXPIRED] += this.removeFlow(h);
      return -1;
    }
    c[C_HITS]++;
    return h;
  }

  /**
   * `lookup` for a whole batch: key i at keys[i * FLOW_KEY_WORDS], its hash at hashes[i], the
   * handle (or -1) written to out[i]; returns the number of hits. Same results and counters as
   * `count` calls of `lookup`, but faster on tables larger than the cache: two cheap passes first
   * touch every frame's home slot and then its candidate entry (key words and expiry), so the
   * cache misses of the whole batch overlap instead of being paid one frame after another (JS has
   * no prefetch instruction; independent loads in a tight loop are the next best thing). The
   * lines touched by a batch of 1,024 (about 256 KiB) stay in L2 for the real probe pass.
   */
  lookupBatch(keys: Uint32Array, hashes: Uint32Array, count: number, now: number, out: Int32Array): number {
    const slots = this.slots;
    const kw = this.keyWords;
    const expiries = this.expiries;
    const shift = this.slotShift;
    for (let i = 0; i < count; i++) out[i] = slots[2 * (Math.imul(hashes[i]! | 0, FIB) >>> shift) + 1]!;
    let touched = 0;
    for (let i = 0; i < count; i++) {
      const h = out[i]!;
      if (h >= 0) touched += kw[h * W]! + kw[h * W + W - 1]! + expiries[h]!;
    }
    this.touchedSink = touched;
    let hits = 0;
    let expired = 0;
    for (let i = 0; i < count; i++) {
      let h = this.find(keys, i * W, hashes[i]!);
      if (h >= 0) {
        if (expiries[h]! < now) {
          expired += this.removeFlow(h);
          h = -1;
        } else hits++;
      }
      out[i] = h;
    }
    const c = this.counters;
    c[C_LOOKUPS] += count;
    c[C_HITS] += hits;
    c[C_EXPIRED] += expired;
    return hits;
  }

  /** Handle of the entry for the key regardless of expiry, or -1; no counter, no side effect. */
  find(keys: Uint32Array, k: number, hash: number): number {
    const slots = this.slots;
    const kw = this.keyWords;
    const mask = this.slotMask;
    const hs = hash | 0;
    let s = Math.imul(hs, FIB) >>> this.slotShift;
    for (;;) {
      const h = slots[2 * s + 1]!;
      if (h < 0) return -1;
      if (slots[2 * s] === hs) {
        const b = h * W;
        if (
          kw[b] === keys[k] &&
          kw[b + 1] === keys[k + 1] &&
          kw[b + 2] === keys[k + 2] &&
          kw[b + 3] === keys[k + 3] &&
          kw[b + 4] === keys[k + 4] &&
          kw[b + 5] === keys[k + 5] &&
          kw[b + 6] === keys[k + 6] &&
          kw[b + 7] === keys[k + 7] &&
          kw[b + 8] === keys[k + 8] &&
          kw[b + 9] === keys[k + 9] &&
          kw[b + 10] === keys[k + 10] &&
          kw[b + 11] === keys[k + 11]
        ) {
          return h;
        }
      }
      s = (s + 1) & mask;
    }
  }

  /**
   * Count one packet of `bytes` bytes with TCP flags `flags` (0 for non-TCP) on a live entry.
   * Refreshes the idle expiry of the entry and its peer to now + ttl (never backwards, so an
   * out-of-order timestamp cannot shorten a flow); a RST cuts both to at most now + rstTimeout
   * and marks the pair closing, after which packets no longer extend the expiry.
   */
  touch(h: number, now: number, bytes: number, flags: number): void {
    this.packets[h]!++;
    this.bytes[h]! += bytes;
    this.tcpFlags[h]! |= flags;
    this.lastSeenAt[h] = now;
    const expiries = this.expiries;
    const states = this.states;
    const p = this.peers[h]!;
    if ((flags & TCP_FLAG_RST) !== 0) {
      const cut = now + this.rstTimeout;
      states[h]! |= FLOW_STATE_CLOSING;
      if (expiries[h]! > cut) expiries[h] = cut;
      if (p >= 0) {
        states[p]! |= FLOW_STATE_CLOSING;
        if (expiries[p]! > cut) expiries[p] = cut;
      }
    } else if ((states[h]! & FLOW_STATE_CLOSING) === 0) {
      const e = now + this.ttls[h]!;
      if (e > expiries[h]!) {
        expiries[h] = e;
        if (p >= 0) expiries[p] = e;
      }
    }
  }

  // ---- slow path: install -----------------------------------------------------------------------

  /**
   * Install a single entry; returns its handle, or -1 when the table is full (counted `full`).
   * An existing entry for the key is replaced, with its peer (counted `replaced`).
   */
  insert(keys: Uint32Array, k: number, hash: number, now: number, ttl: number, action: number, generation: number): number {
    const old = this.find(keys, k, hash);
    if (old >= 0) this.counters[C_REPLACED] += this.removeFlow(old);
    if (this.freeCount < 1 && !this.makeRoom(hash, now, 1)) {
      this.counters[C_FULL]++;
      return -1;
    }
    const h = this.allocate(keys, k, hash, now, ttl, action, generation);
    this.counters[C_INSERTED]++;
    return h;
  }

  /**
   * Install a flow pair: the forward entry (fKeys/fk/fHash, fAction) and the reverse entry
   * (rKeys/rk/rHash, rAction), each naming the other as peer, with one ttl and generation.
   * Returns the forward handle (the reverse one is peers[forward]), or -1 when two entries cannot
   * be found (counted `full` once): both entries or neither. Existing entries for either key are
   * replaced with their peers first (a re-run of the slow path after a policy change installs the
   * new pair over the old one), so a refused install also leaves the stale pair gone. When both
   * keys are equal (a flow to itself with equal ports), one single entry with fAction is made.
   */
  insertPair(
    fKeys: Uint32Array,
    fk: number,
    fHash: number,
    rKeys: Uint32Array,
    rk: number,
    rHash: number,
    now: number,
    ttl: number,
    fAction: number,
    rAction: number,
    generation: number,
  ): number {
    if ((fHash | 0) === (rHash | 0) && keysEqual(fKeys, fk, rKeys, rk)) {
      return this.insert(fKeys, fk, fHash, now, ttl, fAction, generation);
    }
    const c = this.counters;
    let old = this.find(fKeys, fk, fHash);
    if (old >= 0) c[C_REPLACED] += this.removeFlow(old);
    old = this.find(rKeys, rk, rHash);
    if (old >= 0) c[C_REPLACED] += this.removeFlow(old);
    if (this.freeCount < 2 && !this.makeRoom(fHash, now, 2)) {
      c[C_FULL]++;
      return -1;
    }
    const f = this.allocate(fKeys, fk, fHash, now, ttl, fAction, generation);
    const r = this.allocate(rKeys, rk, rHash, now, ttl, rAction, generation);
    this.peers[f] = r;
    this.peers[r] = f;
    c[C_INSERTED] += 2;
    return f;
  }

  // ---- removal ----------------------------------------------------------------------------------

  /** Remove a live entry and its peer; returns the entries removed (0 if h is not live). */
  remove(h: number): number {
    if (h < 0 || h >= this.capacity || this.states[h] === FLOW_STATE_FREE) return 0;
    const n = this.removeFlow(h);
    this.counters[C_REMOVED] += n;
    return n;
  }

  /**
   * Incremental reclamation: visit up to `budget` pool entries from a moving hand and remove the
   * expired ones with their peers (counted `expired`); returns the entries removed. A budget of
   * capacity sweeps the whole pool once.
   */
  sweep(now: number, budget: number): number {
    if (!(budget > 0)) return 0; // also NaN
    const cap = this.capacity;
    const states = this.states;
    const expiries = this.expiries;
    let n = budget < cap ? budget : cap;
    let hand = this.sweepHand;
    let removed = 0;
    while (n-- > 0) {
      const h = hand;
      hand = hand + 1 === cap ? 0 : hand + 1;
      if (states[h] !== FLOW_STATE_FREE && expiries[h]! < now) removed += this.removeFlow(h);
    }
    this.sweepHand = hand;
    this.counters[C_EXPIRED] += removed;
    return removed;
  }

  /** Remove every entry (counted `removed`; the other counters keep their history). */
  clear(): void {
    this.counters[C_REMOVED] += this.count;
    this.slots.fill(0);
    for (let s = 1; s < this.slots.length; s += 2) this.slots[s] = -1;
    this.states.fill(FLOW_STATE_FREE);
    this.peers.fill(-1);
    for (let i = 0; i < this.capacity; i++) this.freeHandles[i] = this.capacity - 1 - i;
    this.freeCount = this.capacity;
    this.count = 0;
    this.evictHand = 0;
    this.sweepHand = 0;
  }

  // ---- dumps (not hot) --------------------------------------------------------------------------

  /** Whether h names a live entry. */
  isLive(h: number): boolean {
    return h >= 0 && h < this.capacity && this.states[h] !== FLOW_STATE_FREE;
  }

  /** Call fn(handle) for every live entry in handle order. fn may remove entries, not insert. */
  forEachEntry(fn: (handle: number) => void): void {
    for (let h = 0; h < this.capacity; h++) if (this.states[h] !== FLOW_STATE_FREE) fn(h);
  }

  /** Copy entry h's key words into out at word offset o. */
  copyKey(h: number, out: Uint32Array, o: number): void {
    out.set(this.keyWords.subarray(h * W, h * W + W), o);
  }

  /**
   * Check every invariant of the essay by brute force (tests and debugging; O(slots + capacity)).
   * Returns null when consistent, otherwise the first problem found.
   */
  validate(): string | null {
    const slots = this.slots;
    const seen = new Uint8Array(this.capacity);
    let indexed = 0;
    for (let s = 0; s < this.slotCount; s++) {
      const h = slots[2 * s + 1]!;
      if (h < 0) continue;
      if (h >= this.capacity) return `slot ${s}: handle ${h} out of range`;
      if (this.states[h] === FLOW_STATE_FREE) return `slot ${s}: handle ${h} is free`;
      if (seen[h]) return `handle ${h} indexed twice`;
      seen[h] = 1;
      indexed++;
      if (slots[2 * s] !== (this.hashes[h]! | 0)) return `slot ${s}: stored hash differs from entry ${h}'s`;
      // Reachability: no empty slot between the home slot and s.
      for (let t = this.home(this.hashes[h]!); t !== s; t = (t + 1) & this.slotMask) {
        if (slots[2 * t + 1]! < 0) return `entry ${h} at slot ${s} is cut off from its home by empty slot ${t}`;
      }
      if (this.find(this.keyWords, h * W, this.hashes[h]!) !== h) return `entry ${h} not found by its own key`;
    }
    let live = 0;
    for (let h = 0; h < this.capacity; h++) {
      if (this.states[h] === FLOW_STATE_FREE) continue;
      live++;
      if (!seen[h]) return `live entry ${h} not indexed`;
      const p = this.peers[h]!;
      if (p >= 0) {
        if (p === h) return `entry ${h} is its own peer`;
        if (this.states[p] === FLOW_STATE_FREE) return `entry ${h}'s peer ${p} is free`;
        if (this.peers[p] !== h) return `entry ${h}'s peer ${p} names ${this.peers[p]}`;
        if (this.expiries[p] !== this.expiries[h]) return `pair ${h}/${p} expiries differ`;
      }
    }
    if (live !== indexed) return `live ${live} != indexed ${indexed}`;
    if (live !== this.count) return `live ${live} != count ${this.count}`;
    if (live + this.freeCount !== this.capacity) return `live ${live} + free ${this.freeCount} != capacity`;
    for (let i = 0; i < this.freeCount; i++) {
      const h = this.freeHandles[i]!;
      if (this.states[h] !== FLOW_STATE_FREE) return `free stack holds live handle ${h}`;
    }
    const c = this.counters;
    if (c[C_INSERTED]! - c[C_REPLACED]! - c[C_REMOVED]! - c[C_EXPIRED]! - c[C_EVICTED]! !== this.count) {
      return 'counters do not add up to count';
    }
    return null;
  }

  // ---- internals ----------------------------------------------------------------------------------

  private home(hash: number): number {
    return Math.imul(hash | 0, FIB) >>> this.slotShift;
  }

  /** Take a free handle (the caller checked freeCount), fill its columns and index it. */
  private allocate(keys: Uint32Array, k: number, hash: number, now: number, ttl: number, action: number, generation: number): number {
    const h = this.freeHandles[--this.freeCount]!;
    const b = h * W;
    const kw = this.keyWords;
    for (let i = 0; i < W; i++) kw[b + i] = keys[k + i]!;
    this.hashes[h] = hash;
    this.actions[h] = action;
    this.generations[h] = generation;
    this.expiries[h] = now + ttl;
    this.ttls[h] = ttl;
    this.peers[h] = -1;
    this.tcpFlags[h] = 0;
    this.states[h] = FLOW_STATE_LIVE;
    this.packets[h] = 0;
    this.bytes[h] = 0;
    this.createdAt[h] = now;
    this.lastSeenAt[h] = now;
    this.userData[h] = 0;
    // The index is never full (slotCount > capacity), so the probe ends.
    const slots = this.slots;
    const mask = this.slotMask;
    let s = this.home(hash);
    while (slots[2 * s + 1]! >= 0) s = (s + 1) & mask;
    slots[2 * s] = hash | 0;
    slots[2 * s + 1] = h;
    this.count++;
    return h;
  }

  /** Unindex and free h and its peer; returns 1 or 2. Counting is the caller's. */
  private removeFlow(h: number): number {
    const p = this.peers[h]!;
    this.release(h);
    if (p >= 0) {
      this.release(p);
      return 2;
    }
    return 1;
  }

  /** Unindex one live entry (backward-shift deletion) and push its handle on the free stack. */
  private release(h: number): void {
    const slots = this.slots;
    const mask = this.slotMask;
    const shift = this.slotShift;
    let i = this.home(this.hashes[h]!);
    while (slots[2 * i + 1] !== h) i = (i + 1) & mask;
    // Walk the run after the hole; an entry moves back into the hole unless its home lies
    // cyclically in (hole, j], where moving it would put it before its home.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const hj = slots[2 * j + 1]!;
      if (hj < 0) break;
      const homeJ = Math.imul(slots[2 * j]!, FIB) >>> shift;
      if (((j - homeJ) & mask) >= ((j - i) & mask)) {
        slots[2 * i] = slots[2 * j]!;
        slots[2 * i + 1] = hj;
        i = j;
      }
    }
    slots[2 * i + 1] = -1;
    this.states[h] = FLOW_STATE_FREE;
    this.peers[h] = -1;
    this.freeHandles[this.freeCount++] = h;
    this.count--;
  }

  /**
   * Free at least `need` entries for an insert whose key hashes to `hash`. Candidates: the
   * occupied slots of the key's probe run and evictSample entries under the clock hand; the one
   * that expires first goes (with its peer): as `expired` if it is already dead (in either mode),
   * else as `evicted` under 'evict-idle'. Returns false when no room can be made.
   */
  private makeRoom(hash: number, now: number, need: number): boolean {
    if (need > this.capacity) return false;
    const slots = this.slots;
    const mask = this.slotMask;
    const states = this.states;
    const expiries = this.expiries;
    const cap = this.capacity;
    while (this.freeCount < need) {
      let best = -1;
      let bestExpiry = Infinity;
      let s = this.home(hash);
      for (let i = 0; i < PROBE_SAMPLE; i++) {
        const h = slots[2 * s + 1]!;
        if (h < 0) break;
        if (expiries[h]! <= bestExpiry) {
          best = h;
          bestExpiry = expiries[h]!;
        }
        s = (s + 1) & mask;
      }
      // The hand goes on past evictSample until it has met a live entry: with freeCount < need
      // <= 2 at most one entry is free, so that takes at most one extra step.
      let hand = this.evictHand;
      for (let i = 0; i < this.evictSample || best < 0; i++) {
        const h = hand;
        hand = hand + 1 === cap ? 0 : hand + 1;
        if (states[h] !== FLOW_STATE_FREE && expiries[h]! <= bestExpiry) {
          best = h;
          bestExpiry = expiries[h]!;
        }
      }
      this.evictHand = hand;
      if (bestExpiry < now) this.counters[C_EXPIRED] += this.removeFlow(best);
      else if (this.whenFull === 'evict-idle') this.counters[C_EVICTED] += this.removeFlow(best);
      else return false;
    }
    return true;
  }
}

function keysEqual(a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
  for (let i = 0; i < W; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
