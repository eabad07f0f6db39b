/**
 * The unified flow table (UFT, spec §3.5): the fast path's cache from a frame's flow key to the
 * composite header transposition the slow path computed for it, with the per-flow state VFP keeps
 * beside it (expiry, TCP flags seen, counters, the peer of a flow pair, the policy generation).
 *
 * Purpose. The first packet of a connection runs the slow path (every VFP layer, conntrack, NAT)
 * and installs one entry, or a *flow pair* (forward and reverse entry naming each other), so that
 * reply traffic hits the cache even when the opposite direction's rules would block it. Every
 * later packet costs one `lookup` (or its share of one `lookupMany`) and one `touch`. The table
 * does not interpret actions: an action is an opaque Int32 the caller chose (e.g. the id of a
 * cached composite transposition).
 *
 * API. lookup / lookupMany / find (probe), touch (count a packet), insert / insertPair (install,
 * replacing), remove, sweep (incremental expiry), clear; forEachEntry, copyKey, validate (dumps
 * and tests). Entry fields are read by handle through small accessors (`actionOf(h)`,
 * `generationOf(h)`, `userDataOf(h)`, `peerOf(h)`, `packetsOf(h)`, `bytesOf(h)`, `lastSeenOf(h)`,
 * `expiryOf(h)`, ...; V8 inlines them); the caller may rewrite the action, generation and userData
 * of a live entry (`setAction`, `setGeneration`, `setUserData`); every other field is the table's.
 * The record views and the FLOW_RECORD_* word offsets are exported for code that wants to read a
 * field without a call, read-only.
 *
 * Keys. A key is the engine's flow key, FLOW_KEY_WORDS (12) u32 words laid out as in
 * src/frame/batch.ts; word 11's high 16 bits carry the engine port id, so the same 5-tuple
 * entering on two ports is two flows. Callers pass `(keys, k, hash)`: any Uint32Array, the word
 * offset of the key in it (i * FLOW_KEY_WORDS for frame i of a batch) and a 32-bit hash of the key
 * they computed (parse/'s symmetric flowHash). The table never hashes: equal keys must come with
 * equal hashes, and nothing else is assumed (a constant hash is correct, only slow).
 *
 * Data layout. Entries live in a pool of `capacity` records addressed by integer handles
 * 0..capacity-1 that never move while the entry lives. A record is FLOW_RECORD_SIZE (128) bytes,
 * two 64-byte cache lines, in one buffer viewed three ways (`recordWords` Uint32, `recordInts`
 * Int32, `recordFloats` Float64, all starting at record 0): entry h is words h*32 .. h*32+31, its
 * Float64 fields at recordFloats[h*16 + word/2]. Line 0 holds everything a lookup reads (key and
 * own expiry), line 1 everything touch and the caller's hit path read (counters, ttl, action,
 * generation, userData), so a hit costs the index slot plus the record's two adjacent lines.
 * Words (FLOW_RECORD_* offsets):
 *   0..11  key         Uint32 x12  the flow key, FLOW_KEY_WORDS words
 *   12     hash        Uint32   the caller's hash (finds the entry's home slot on removal)
 *   13     state       Int32    bits 0-7: 0 free, STATE_LIVE | STATE_CLOSING (a RST was seen on
 *                               the pair); bits 8-15: OR of the TCP flags counted on this entry
 *   14-15  expiry      Float64  own expiry: the latest now + ttl of a packet counted on this entry
 *                               (or the RST cut); the pair's expiry is the max of both entries'
 *   16-17  lastSeen    Float64  packet-clock time of the last touch (the insert time until then)
 *   18-19  packets     Float64  packets counted by touch
 *   20-21  bytes       Float64  bytes counted by touch
 *   22-23  ttl         Float64  idle timeout in seconds: a packet extends expiry to now + ttl
 *   24-25  created     Float64  packet-clock time of the insert
 *   26     action      Int32    opaque action handle given at insert (caller may rewrite it)
 *   27     generation  Uint32   policy generation the action was computed under (caller's)
 *   28     userData    Int32    free for the caller (0 at insert)
 *   29     peer        Int32    handle of the other entry of a flow pair, -1 for a single entry
 *   30     nextFree    Int32    while free: the next handle of the free list (-1 ends it)
 *   31     (spare)     0
 * Free handles form a LIFO list threaded through nextFree (a freed entry's lines are reused
 * first; initially 0, 1, 2, ... in order). The buffer is a WebAssembly.Memory (page-aligned: the
 * one allocation whose alignment JS can rely on; it is never grown, so never detached), so every
 * record starts on a 128-byte boundary and the adjacent-line prefetcher fetches both lines of a
 * record together. If the engine refuses one, a plain ArrayBuffer is used with the records at
 * byte 112, which aligns them when malloc serves the buffer from mmap (page + 16, glibc's case for
 * large buffers); for small buffers alignment is then luck, and only speed depends on it.
 * The index is open addressing with linear probing over one interleaved Int32Array `slots` of
 * 2 * slotCount words: slots[2s] is the entry's hash, slots[2s + 1] its handle (-1 empty). The hash
 * beside the handle rejects most non-matching slots without touching the entry's key; only an
 * equal hash costs the 12-word compare. slotCount is a power of two >= capacity / maxLoad (maxLoad
 * 0.5 by default), so the index is never more than maxLoad full and a probe always meets an empty
 * slot. The home slot is the top bits of hash * 0x9e3779b1 (Fibonacci hashing): a caller's hash
 * with weak low bits still spreads. Deletion shifts the following run back (no tombstones), so a
 * probe's length depends only on the live entries. Bytes per entry: `entrySize`, 144 at the
 * default load with a power-of-two capacity (128 of record, 16 of index: two 8-byte slots per
 * entry); up to 160 when capacity / maxLoad rounds up to the next power of two.
 *
 * Invariants.
 *  - Every live entry is in the index exactly once, reachable from its home slot without crossing
 *    an empty slot; no free handle is in the index. `count + free handles = capacity`.
 *  - Pairs are symmetric: peer(peer(h)) === h; both entries or neither are live. Every removal
 *    (remove, expiry, eviction, replacement) takes the peer with it.
 *  - Both entries of a pair are closing or neither; a closing pair's entries carry equal expiries.
 *  - At most one live entry per key: insert over an existing key replaces it (and its peer).
 *  - Counters are in entries (a pair counts 2), except `full` (refused insert calls), `lookups`
 *    and `hits`. `count = inserted - replaced - removed - expired - evicted`.
 *  - Nothing allocates per operation: no objects, closures, strings, Map or BigInt; only the
 *    constructor allocates (the buffer and typed arrays, once).
 *
 * Time. `now` is the packet clock in seconds (pcap timestamps in replay, monotonic in live mode).
 * A pair is alive while max(expiry(h), expiry(peer)) >= now, where each entry's own expiry is the
 * latest now + ttl of the packets counted on it: `touch` writes only its own record (no peer
 * access on the hot path), and `lookup` reads the peer only when its own entry looks dead (a
 * one-way flow's silent side, or a truly dead pair). So a packet in either direction keeps the
 * pair alive, exactly as if both expiries were refreshed together, and an out-of-order timestamp
 * never moves an expiry back. A dead pair found by `lookup` is removed and the lookup misses;
 * `sweep` reclaims the others incrementally (the pipeline calls it once per batch with a small
 * budget), so no timer wheel is needed and replay stays deterministic.
 *
 * TCP. `touch` ORs the packet's TCP flags into the entry. A RST (0x04) cuts the pair's expiry to
 * at most now + rstTimeout (5 s, DASH's "TTL cut to 5 s"), writing both records (rare), and marks
 * the pair closing: later packets are still counted but no longer extend the expiry, so trailing
 * segments and RSTs still hit the flow for a moment (VFP waits about a round trip before closing)
 * and then it dies.
 *
 * Generations (spec §3.5 "policy change -> resimulation"). The table only stores the generation
 * the caller gave at insert. The caller compares `generationOf(h)` with the current policy
 * generation after a hit and, when they differ (older), treats the hit as a miss: it re-runs the
 * slow path, which installs a new pair over the old one (insert and insertPair replace existing
 * keys) or, when the verdict is unchanged, may simply `setAction` / `setGeneration` on both
 * entries. Flows are thus invalidated lazily, by the next packet, never by a scan.
 *
 * When full. `whenFull: 'drop'` refuses the insert (-1; counted `full`; the pipeline drops the
 * frame with reason `table-full`), except that an expired entry met in the sample below is
 * reclaimed first. `'evict-idle'` evicts the entry (with its peer) whose pair expires first among
 * a bounded sample: the occupied slots of the new key's probe run (at most PROBE_SAMPLE) plus
 * `evictSample` entries under a clock hand that walks the pool. The pair's expiry, not lastSeen,
 * ranks the candidates, because it covers both directions and already reflects RST cuts. This is
 * sampled LRU, not exact LRU: O(1) per insert, no list to maintain on every touch.
 *
 * Thread ownership. One table per shard, owned by its worker: no locks, no atomics, no sharing.
 * Shard steering keeps both directions of a connection (the symmetric hash) on one worker.
 *
 * Not handled here. TCP state machine beyond "RST seen" (SYN/FIN tracking and half-open counts
 * belong to conntrack above this table; the TCP flags keep the raw material). Reopening a closing
 * flow (a new SYN on a RST-cut pair): the caller re-inserts. Handles are not validated on the hot
 * path: `touch` and the accessors assume a live handle from this batch's lookup/insert, valid
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

/** Entry state bits (low byte of the record's state word, `stateOf(h)`). */
export const FLOW_STATE_FREE = 0;
export const FLOW_STATE_LIVE = 1;
export const FLOW_STATE_CLOSING = 2; // a RST was seen on the pair: expiry no longer extended

export const TCP_FLAG_RST = 0x04;
/** DASH: a TCP reset cuts the flow's TTL to 5 s. */
export const FLOW_DEFAULT_RST_TIMEOUT = 5;
export const FLOW_DEFAULT_MAX_LOAD = 0.5;
export const FLOW_DEFAULT_EVICT_SAMPLE = 8;
/** Largest capacity: 16M entries is 2 GiB of records, beyond any one shard's budget. */
export const FLOW_TABLE_MAX_CAPACITY = 1 << 24;

// ---- record layout (u32 word offsets within a record; see the essay) ---------------------------
/** Words per record (a record is 128 bytes, two cache lines). */
export const FLOW_RECORD_WORDS = 32;
export const FLOW_RECORD_SIZE = FLOW_RECORD_WORDS * 4;
export const FLOW_RECORD_KEY = 0;
export const FLOW_RECORD_HASH = 12;
export const FLOW_RECORD_STATE = 13;
export const FLOW_RECORD_EXPIRY = 14;
export const FLOW_RECORD_LAST_SEEN = 16;
export const FLOW_RECORD_PACKETS = 18;
export const FLOW_RECORD_BYTES = 20;
export const FLOW_RECORD_TTL = 22;
export const FLOW_RECORD_CREATED = 24;
export const FLOW_RECORD_ACTION = 26;
export const FLOW_RECORD_GENERATION = 27;
export const FLOW_RECORD_USER_DATA = 28;
export const FLOW_RECORD_PEER = 29;
export const FLOW_RECORD_NEXT_FREE = 30;

// Local literals for the hot paths: word offsets (R_*) and Float64 indices (F_* = word / 2).
const RS = 5; // log2(FLOW_RECORD_WORDS): record h starts at word h << RS
const FS = 4; // ... and at Float64 index h << FS
const R_HASH = 12;
const R_STATE = 13;
const R_ACTION = 26;
const R_GENERATION = 27;
const R_USER_DATA = 28;
const R_PEER = 29;
const R_NEXT_FREE = 30;
const R_LINE1 = 16; // first word of a record's second cache line
const F_EXPIRY = 7;
const F_LAST_SEEN = 8;
const F_PACKETS = 9;
const F_BYTES = 10;
const F_TTL = 11;
const F_CREATED = 12;
/** Byte alignment of record 0 (a record is two lines; the adjacent-line prefetcher pairs 128-byte blocks). */
const RECORD_ALIGN = 128;
/** Where the fallback ArrayBuffer puts record 0: glibc serves large buffers from mmap at page + 16. */
const FALLBACK_OFFSET = RECORD_ALIGN - 16;
const WASM_PAGE = 65536;

/** Capacity up to which lookupMany probes frame by frame (records and index, ~290 KiB, stay in L2). */
const LOOKUP_MANY_DIRECT = 2048;
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

interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number }): { readonly buffer: ArrayBuffer };
}

/** The records' buffer and the byte offset of record 0 in it (constructor only). */
function allocateRecords(size: number): { buffer: ArrayBuffer; offset: number } {
  const wasm = (globalThis as unknown as { WebAssembly?: { Memory?: WasmMemoryConstructor } }).WebAssembly;
  const pages = Math.ceil(size / WASM_PAGE);
  if (wasm?.Memory && pages <= 65536) {
    try {
      return { buffer: new wasm.Memory({ initial: pages, maximum: pages }).buffer, offset: 0 };
    } catch {
      // address space or memory limits: fall back to an ordinary buffer
    }
  }
  return { buffer: new ArrayBuffer(size + FALLBACK_OFFSET), offset: FALLBACK_OFFSET };
}

export class FlowTable {
  readonly capacity: number;
  readonly whenFull: FlowWhenFull;
  readonly rstTimeout: number;
  /** Live entries. */
  count = 0;
  /** FLOW_COUNTERS slots (Float64: exact to 2^53). */
  readonly counters: Float64Array;

  // ---- records (see the essay): three views of the same bytes, record h at word h * 32 ----------
  /** Uint32 view: key words, hash, generation. Read-only for callers. */
  readonly recordWords: Uint32Array;
  /** Int32 view: state, action, userData, peer, nextFree. Read-only for callers. */
  readonly recordInts: Int32Array;
  /** Float64 view (index h * 16 + word / 2): expiry, lastSeen, packets, bytes, ttl, created. Read-only for callers. */
  readonly recordFloats: Float64Array;

  // ---- index and pool bookkeeping -------------------------------------------------------------
  /** Interleaved (hash, handle) per slot; handle -1 marks an empty slot. */
  readonly slots: Int32Array;
  readonly slotCount: number;
  private readonly slotMask: number;
  /** 32 - log2(slotCount): the home slot is the top bits of hash * FIB. */
  private readonly slotShift: number;
  /** Head of the free list threaded through the records' nextFree word (-1: none free). */
  private freeHead = 0;
  private freeCount: number;
  private readonly evictSample: number;
  private evictHand = 0;
  private sweepHand = 0;
  /** Where lookupMany's touching pass leaves its sum, so the JIT cannot drop those loads. */
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

    const { buffer, offset } = allocateRecords(capacity * FLOW_RECORD_SIZE);
    this.recordWords = new Uint32Array(buffer, offset, capacity * FLOW_RECORD_WORDS);
    this.recordInts = new Int32Array(buffer, offset, capacity * FLOW_RECORD_WORDS);
    this.recordFloats = new Float64Array(buffer, offset, capacity * (FLOW_RECORD_WORDS / 2));

    // At least 2 slots: a shift of 32 would be a shift of 0 in JS.
    let bits = 1;
    while (1 << bits < capacity / maxLoad) bits++;
    this.slotCount = 1 << bits;
    this.slotMask = this.slotCount - 1;
    this.slotShift = 32 - bits;
    this.slots = new Int32Array(this.slotCount * 2);
    this.freeCount = 0;
    this.resetPool();
  }

  /** Live entries (alias of `count`, for Map-like callers). */
  get size(): number {
    return this.count;
  }

  /** Bytes the table holds: the records' buffer (with its alignment slack), index and counters. */
  get memorySize(): number {
    return this.recordWords.buffer.byteLength + this.slots.byteLength + this.counters.byteLength;
  }

  /** Bytes per entry of capacity (memorySize / capacity). */
  get entrySize(): number {
    return this.memorySize / this.capacity;
  }

  /** Value of one counter by name (dumps and tests; the hot paths use the slots directly). */
  counter(name: FlowCounter): number {
    return this.counters[FlowCounterId[name]]!;
  }

  // ---- entry fields by handle (h must be live; V8 inlines these) --------------------------------

  /** Opaque action handle of entry h. */
  actionOf(h: number): number {
    return this.recordInts[(h << RS) + R_ACTION]!;
  }
  /** Policy generation entry h was installed (or last rewritten) under. */
  generationOf(h: number): number {
    return this.recordWords[(h << RS) + R_GENERATION]!;
  }
  /** Caller's word of entry h (0 at insert). */
  userDataOf(h: number): number {
    return this.recordInts[(h << RS) + R_USER_DATA]!;
  }
  /** Handle of the other entry of h's pair, -1 for a single entry. */
  peerOf(h: number): number {
    return this.recordInts[(h << RS) + R_PEER]!;
  }
  /** Packets counted on entry h (this direction only). */
  packetsOf(h: number): number {
    return this.recordFloats[(h << FS) + F_PACKETS]!;
  }
  /** Bytes counted on entry h (this direction only). */
  bytesOf(h: number): number {
    return this.recordFloats[(h << FS) + F_BYTES]!;
  }
  /** Packet-clock time of the last touch of entry h (its insert time until then). */
  lastSeenOf(h: number): number {
    return this.recordFloats[(h << FS) + F_LAST_SEEN]!;
  }
  /** Packet-clock time entry h was inserted. */
  createdAtOf(h: number): number {
    return this.recordFloats[(h << FS) + F_CREATED]!;
  }
  /** Idle timeout of entry h in seconds. */
  ttlOf(h: number): number {
    return this.recordFloats[(h << FS) + F_TTL]!;
  }
  /** OR of the TCP flags counted on entry h. */
  tcpFlagsOf(h: number): number {
    return (this.recordInts[(h << RS) + R_STATE]! >>> 8) & 0xff;
  }
  /** State bits of entry h: FLOW_STATE_FREE, or FLOW_STATE_LIVE | FLOW_STATE_CLOSING. */
  stateOf(h: number): number {
    return this.recordInts[(h << RS) + R_STATE]! & 0xff;
  }
  /** The caller's hash entry h was installed with. */
  hashOf(h: number): number {
    return this.recordWords[(h << RS) + R_HASH]!;
  }
  /**
   * The packet-clock second after which h's pair is dead: the later of the two entries' own
   * expiries (reads the peer: for dumps and tests; lookup reads the peer only when it must).
   */
  expiryOf(h: number): number {
    const f = this.recordFloats;
    const e = f[(h << FS) + F_EXPIRY]!;
    const p = this.recordInts[(h << RS) + R_PEER]!;
    if (p < 0) return e;
    const pe = f[(p << FS) + F_EXPIRY]!;
    return pe > e ? pe : e;
  }
  /** Rewrite the action of live entry h (resimulation with an unchanged verdict). */
  setAction(h: number, action: number): void {
    this.recordInts[(h << RS) + R_ACTION] = action;
  }
  /** Rewrite the generation of live entry h. */
  setGeneration(h: number, generation: number): void {
    this.recordWords[(h << RS) + R_GENERATION] = generation;
  }
  /** Set the caller's word of live entry h. */
  setUserData(h: number, value: number): void {
    this.recordInts[(h << RS) + R_USER_DATA] = value;
  }

  // ---- fast path --------------------------------------------------------------------------------

  /**
   * Handle of the live entry for the key, or -1. A pair found dead (both expiries < now) is
   * removed (counted `expired`) and the lookup misses. Reads the index and line 0 of the record;
   * the peer's record only when the entry's own expiry has passed.
   */
  lookup(keys: Uint32Array, k: number, hash: number, now: number): number {
    const c = this.counters;
    c[C_LOOKUPS]++;
    const h = this.find(keys, k, hash);
    if (h < 0) return -1;
    if (this.recordFloats[(h << FS) + F_EXPIRY]! < now && !this.peerAlive(h, now)) {
      c[C_EXPIRED] += this.removeFlow(h);
      return -1;
    }
    c[C_HITS]++;
    return h;
  }

  /**
   * `lookup` for a selection of a batch's frames: for j < count, frame i = idx[j] has its key at
   * keys[i * FLOW_KEY_WORDS], its hash at hashes[i] and its packet time at times[i]; the handle
   * (or -1) goes to out[i]. Returns the number of hits. Same results and counters as calling
   * `lookup` for j = 0..count-1 in order, but faster on tables larger than the cache: the first
   * pass walks every frame's probe run comparing hashes only (a miss is decided there: nothing is
   * inserted during the call), the second touches both record lines of each candidate, so the
   * cache misses of the whole batch overlap instead of being paid one frame after another (JS has
   * no prefetch instruction; independent loads in a tight loop are the next best thing); the
   * third compares keys and expiries, re-probing only when a candidate's key differs (equal
   * 32-bit hashes) or it was removed earlier in the call. The lines touched by 1,024 frames
   * (about 200 KiB) stay in L2 for the third pass. out doubles as the scratch of the first two.
   * Tables of up to LOOKUP_MANY_DIRECT entries live in L2 anyway and are probed frame by frame.
   */
  lookupMany(keys: Uint32Array, idx: Int32Array, count: number, hashes: Uint32Array, times: Float64Array, out: Int32Array): number {
    const slots = this.slots;
    const rw = this.recordWords;
    const ri = this.recordInts;
    const rf = this.recordFloats;
    const mask = this.slotMask;
    const shift = this.slotShift;
    let hits = 0;
    let expired = 0;
    if (this.capacity <= LOOKUP_MANY_DIRECT) {
      // Records and index stay in L2: the first two passes would only add work.
      for (let j = 0; j < count; j++) {
        const i = idx[j]!;
        let h = this.find(keys, i * W, hashes[i]!);
        if (h >= 0) {
          const now = times[i]!;
          if (rf[(h << FS) + F_EXPIRY]! < now && !this.peerAlive(h, now)) {
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
    for (let j = 0; j < count; j++) {
      const i = idx[j]!;
      const hs = hashes[i]! | 0;
      let s = Math.imul(hs, FIB) >>> shift;
      let h = slots[2 * s + 1]!;
      while (h >= 0 && slots[2 * s] !== hs) {
        s = (s + 1) & mask;
        h = slots[2 * s + 1]!;
      }
      out[i] = h;
    }
    let touched = 0;
    for (let j = 0; j < count; j++) {
      const h = out[idx[j]!]!;
      if (h >= 0) touched += rw[h << RS]! + rw[(h << RS) + R_LINE1]!;
    }
    this.touchedSink = touched;
    for (let j = 0; j < count; j++) {
      const i = idx[j]!;
      let h = out[i]!;
      if (h < 0) continue;
      const k = i * W;
      if (ri[(h << RS) + R_STATE] === FLOW_STATE_FREE || !sameKey(rw, h << RS, keys, k)) h = this.find(keys, k, hashes[i]!);
      if (h >= 0) {
        const now = times[i]!;
        if (rf[(h << FS) + F_EXPIRY]! < now && !this.peerAlive(h, now)) {
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
    const rw = this.recordWords;
    const mask = this.slotMask;
    const hs = hash | 0;
    let s = Math.imul(hs, FIB) >>> this.slotShift;
    for (;;) {
      const h = slots[2 * s + 1]!;
      if (h < 0) return -1;
      if (slots[2 * s] === hs && sameKey(rw, h << RS, keys, k)) return h;
      s = (s + 1) & mask;
    }
  }

  /**
   * Count one packet of `bytes` bytes with TCP flags `flags` (0 for non-TCP) on a live entry.
   * Writes only h's record: its own expiry moves to now + ttl (never backwards, so an
   * out-of-order timestamp cannot shorten a flow), which keeps the whole pair alive. A RST cuts
   * both entries to at most now + rstTimeout and marks the pair closing, after which packets no
   * longer extend the expiry.
   */
  touch(h: number, now: number, bytes: number, flags: number): void {
    const rf = this.recordFloats;
    const ri = this.recordInts;
    const f = h << FS;
    const w = (h << RS) + R_STATE;
    rf[f + F_PACKETS]!++;
    rf[f + F_BYTES]! += bytes;
    rf[f + F_LAST_SEEN] = now;
    const st = ri[w]! | ((flags & 0xff) << 8);
    ri[w] = st;
    if ((flags & TCP_FLAG_RST) !== 0) this.cut(h, now);
    else if ((st & FLOW_STATE_CLOSING) === 0) {
      const e = now + rf[f + F_TTL]!;
      if (e > rf[f + F_EXPIRY]!) rf[f + F_EXPIRY] = e;
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
   * Returns the forward handle (the reverse one is peerOf(forward)), or -1 when two entries
   * cannot be found (counted `full` once): both entries or neither. Existing entries for either
   * key are replaced with their peers first (a re-run of the slow path after a policy change
   * installs the new pair over the old one), so a refused install also leaves the stale pair
   * gone. When both keys are equal (a flow to itself with equal ports), one single entry with
   * fAction is made.
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
    const ri = this.recordInts;
    ri[(f << RS) + R_PEER] = r;
    ri[(r << RS) + R_PEER] = f;
    c[C_INSERTED] += 2;
    return f;
  }

  // ---- removal ----------------------------------------------------------------------------------

  /** Remove a live entry and its peer; returns the entries removed (0 if h is not live). */
  remove(h: number): number {
    if (!this.isLive(h)) return 0;
    const n = this.removeFlow(h);
    this.counters[C_REMOVED] += n;
    return n;
  }

  /**
   * Incremental reclamation: visit up to `budget` pool entries from a moving hand and remove the
   * dead pairs (counted `expired`); returns the entries removed. A budget of capacity sweeps the
   * whole pool once.
   */
  sweep(now: number, budget: number): number {
    if (!(budget > 0)) return 0; // also NaN
    const cap = this.capacity;
    const ri = this.recordInts;
    const rf = this.recordFloats;
    let n = budget < cap ? budget : cap;
    let hand = this.sweepHand;
    let removed = 0;
    while (n-- > 0) {
      const h = hand;
      hand = hand + 1 === cap ? 0 : hand + 1;
      if (ri[(h << RS) + R_STATE] !== FLOW_STATE_FREE && rf[(h << FS) + F_EXPIRY]! < now && !this.peerAlive(h, now)) removed += this.removeFlow(h);
    }
    this.sweepHand = hand;
    this.counters[C_EXPIRED] += removed;
    return removed;
  }

  /** Remove every entry (counted `removed`; the other counters keep their history). */
  clear(): void {
    this.counters[C_REMOVED] += this.count;
    this.resetPool();
  }

  // ---- dumps (not hot) --------------------------------------------------------------------------

  /** Whether h names a live entry. */
  isLive(h: number): boolean {
    return Number.isInteger(h) && h >= 0 && h < this.capacity && this.recordInts[(h << RS) + R_STATE] !== FLOW_STATE_FREE;
  }

  /** Call fn(handle) for every live entry in handle order. fn may remove entries, not insert. */
  forEachEntry(fn: (handle: number) => void): void {
    for (let h = 0; h < this.capacity; h++) if (this.recordInts[(h << RS) + R_STATE] !== FLOW_STATE_FREE) fn(h);
  }

  /** Copy entry h's key words into out at word offset o. */
  copyKey(h: number, out: Uint32Array, o: number): void {
    out.set(this.recordWords.subarray(h << RS, (h << RS) + W), o);
  }

  /**
   * Check every invariant of the essay by brute force (tests and debugging; O(slots + capacity)).
   * Returns null when consistent, otherwise the first problem found.
   */
  validate(): string | null {
    const slots = this.slots;
    const rw = this.recordWords;
    const seen = new Uint8Array(this.capacity);
    let indexed = 0;
    for (let s = 0; s < this.slotCount; s++) {
      const h = slots[2 * s + 1]!;
      if (h < 0) continue;
      if (h >= this.capacity) return `slot ${s}: handle ${h} out of range`;
      if (this.stateOf(h) === FLOW_STATE_FREE) return `slot ${s}: handle ${h} is free`;
      if (seen[h]) return `handle ${h} indexed twice`;
      seen[h] = 1;
      indexed++;
      if (slots[2 * s] !== (this.hashOf(h) | 0)) return `slot ${s}: stored hash differs from entry ${h}'s`;
      // Reachability: no empty slot between the home slot and s.
      for (let t = this.home(this.hashOf(h)); t !== s; t = (t + 1) & this.slotMask) {
        if (slots[2 * t + 1]! < 0) return `entry ${h} at slot ${s} is cut off from its home by empty slot ${t}`;
      }
      if (this.find(rw, h << RS, this.hashOf(h)) !== h) return `entry ${h} not found by its own key`;
    }
    let live = 0;
    for (let h = 0; h < this.capacity; h++) {
      const st = this.recordInts[(h << RS) + R_STATE]!;
      if (st === FLOW_STATE_FREE) continue;
      live++;
      if ((st & 0xff & ~(FLOW_STATE_LIVE | FLOW_STATE_CLOSING)) !== 0 || (st & FLOW_STATE_LIVE) === 0 || st >>> 16 !== 0) return `entry ${h}: bad state word ${st}`;
      if (!seen[h]) return `live entry ${h} not indexed`;
      const p = this.peerOf(h);
      if (p >= 0) {
        if (p === h) return `entry ${h} is its own peer`;
        if (p >= this.capacity || this.stateOf(p) === FLOW_STATE_FREE) return `entry ${h}'s peer ${p} is free`;
        if (this.peerOf(p) !== h) return `entry ${h}'s peer ${p} names ${this.peerOf(p)}`;
        const closing = this.stateOf(h) & FLOW_STATE_CLOSING;
        if (closing !== (this.stateOf(p) & FLOW_STATE_CLOSING)) return `pair ${h}/${p}: only one side is closing`;
        if (closing && this.recordFloats[(h << FS) + F_EXPIRY] !== this.recordFloats[(p << FS) + F_EXPIRY]) return `closing pair ${h}/${p}: expiries differ`;
      }
    }
    if (live !== indexed) return `live ${live} != indexed ${indexed}`;
    if (live !== this.count) return `live ${live} != count ${this.count}`;
    let free = 0;
    for (let h = this.freeHead; h >= 0; h = this.recordInts[(h << RS) + R_NEXT_FREE]!) {
      if (h >= this.capacity) return `free list holds handle ${h} out of range`;
      if (this.stateOf(h) !== FLOW_STATE_FREE) return `free list holds live handle ${h}`;
      if (++free > this.freeCount) return 'free list longer than freeCount (a cycle?)';
    }
    if (free !== this.freeCount) return `free list has ${free} handles, freeCount ${this.freeCount}`;
    if (live + this.freeCount !== this.capacity) return `live ${live} + free ${this.freeCount} != capacity`;
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

  /** Whether h's peer keeps the pair alive at `now` (h's own expiry has passed). Rare. */
  private peerAlive(h: number, now: number): boolean {
    const p = this.recordInts[(h << RS) + R_PEER]!;
    return p >= 0 && !(this.recordFloats[(p << FS) + F_EXPIRY]! < now);
  }

  /** RST on h: both entries closing, both expiries cut to min(pair expiry, now + rstTimeout). */
  private cut(h: number, now: number): void {
    const ri = this.recordInts;
    const rf = this.recordFloats;
    let e = this.expiryOf(h);
    const cut = now + this.rstTimeout;
    if (e > cut) e = cut;
    ri[(h << RS) + R_STATE]! |= FLOW_STATE_CLOSING;
    rf[(h << FS) + F_EXPIRY] = e;
    const p = ri[(h << RS) + R_PEER]!;
    if (p >= 0) {
      ri[(p << RS) + R_STATE]! |= FLOW_STATE_CLOSING;
      rf[(p << FS) + F_EXPIRY] = e;
    }
  }

  /** Every record free (state 0, peer -1), the free list 0, 1, 2, ..., the index empty. */
  private resetPool(): void {
    const cap = this.capacity;
    const ri = this.recordInts;
    for (let h = 0; h < cap; h++) {
      const b = h << RS;
      ri[b + R_STATE] = FLOW_STATE_FREE;
      ri[b + R_PEER] = -1;
      ri[b + R_NEXT_FREE] = h + 1 < cap ? h + 1 : -1;
    }
    this.freeHead = 0;
    this.freeCount = cap;
    const slots = this.slots;
    slots.fill(0);
    for (let s = 1; s < slots.length; s += 2) slots[s] = -1;
    this.count = 0;
    this.evictHand = 0;
    this.sweepHand = 0;
  }

  /** Take a free handle (the caller checked freeCount), fill its record and index it. */
  private allocate(keys: Uint32Array, k: number, hash: number, now: number, ttl: number, action: number, generation: number): number {
    const rw = this.recordWords;
    const ri = this.recordInts;
    const rf = this.recordFloats;
    const h = this.freeHead;
    const b = h << RS;
    const f = h << FS;
    this.freeHead = ri[b + R_NEXT_FREE]!;
    this.freeCount--;
    for (let i = 0; i < W; i++) rw[b + i] = keys[k + i]!;
    rw[b + R_HASH] = hash;
    ri[b + R_STATE] = FLOW_STATE_LIVE;
    rf[f + F_EXPIRY] = now + ttl;
    rf[f + F_LAST_SEEN] = now;
    rf[f + F_PACKETS] = 0;
    rf[f + F_BYTES] = 0;
    rf[f + F_TTL] = ttl;
    rf[f + F_CREATED] = now;
    ri[b + R_ACTION] = action;
    rw[b + R_GENERATION] = generation;
    ri[b + R_USER_DATA] = 0;
    ri[b + R_PEER] = -1;
    ri[b + R_NEXT_FREE] = -1;
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
    const p = this.recordInts[(h << RS) + R_PEER]!;
    this.release(h);
    if (p >= 0) {
      this.release(p);
      return 2;
    }
    return 1;
  }

  /** Unindex one live entry (backward-shift deletion) and push its handle on the free list. */
  private release(h: number): void {
    const slots = this.slots;
    const mask = this.slotMask;
    const shift = this.slotShift;
    let i = this.home(this.recordWords[(h << RS) + R_HASH]!);
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
    const ri = this.recordInts;
    const b = h << RS;
    ri[b + R_STATE] = FLOW_STATE_FREE;
    ri[b + R_PEER] = -1;
    ri[b + R_NEXT_FREE] = this.freeHead;
    this.freeHead = h;
    this.freeCount++;
    this.count--;
  }

  /**
   * Free at least `need` entries for an insert whose key hashes to `hash`. Candidates: the
   * occupied slots of the key's probe run and evictSample entries under the clock hand; the one
   * whose pair expires first goes (with its peer): as `expired` if it is already dead (in either
   * mode), else as `evicted` under 'evict-idle'. Returns false when no room can be made.
   */
  private makeRoom(hash: number, now: number, need: number): boolean {
    if (need > this.capacity) return false;
    const slots = this.slots;
    const mask = this.slotMask;
    const ri = this.recordInts;
    const cap = this.capacity;
    while (this.freeCount < need) {
      let best = -1;
      let bestExpiry = Infinity;
      let s = this.home(hash);
      for (let i = 0; i < PROBE_SAMPLE; i++) {
        const h = slots[2 * s + 1]!;
        if (h < 0) break;
        const e = this.expiryOf(h);
        if (e <= bestExpiry) {
          best = h;
          bestExpiry = e;
        }
        s = (s + 1) & mask;
      }
      // The hand goes on past evictSample until it has met a live entry: with freeCount < need
      // <= 2 at most one entry is free, so that takes at most one extra step.
      let hand = this.evictHand;
      for (let i = 0; i < this.evictSample || best < 0; i++) {
        const h = hand;
        hand = hand + 1 === cap ? 0 : hand + 1;
        if (ri[(h << RS) + R_STATE] !== FLOW_STATE_FREE) {
          const e = this.expiryOf(h);
          if (e <= bestExpiry) {
            best = h;
            bestExpiry = e;
          }
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

/** Whether the 12 key words at a[ao] equal those at b[bo] (unrolled: the hot compare). */
function sameKey(a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
  return (
    a[ao] === b[bo] &&
    a[ao + 1] === b[bo + 1] &&
    a[ao + 2] === b[bo + 2] &&
    a[ao + 3] === b[bo + 3] &&
    a[ao + 4] === b[bo + 4] &&
    a[ao + 5] === b[bo + 5] &&
    a[ao + 6] === b[bo + 6] &&
    a[ao + 7] === b[bo + 7] &&
    a[ao + 8] === b[bo + 8] &&
    a[ao + 9] === b[bo + 9] &&
    a[ao + 10] === b[bo + 10] &&
    a[ao + 11] === b[bo + 11]
  );
}

function keysEqual(a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
  for (let i = 0; i < W; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
