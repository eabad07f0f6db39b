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

// ---- record layout (see the essay) --------------------------------------------------------------
/** Words per hot record (64 bytes, one cache line). */
export const FLOW_HOT_WORDS = 16;
export const FLOW_HOT_SIZE = FLOW_HOT_WORDS * 4;
/** Words per cold record (40 bytes). */
export const FLOW_COLD_WORDS = 10;
export const FLOW_COLD_SIZE = FLOW_COLD_WORDS * 4;
/** Words per entry of the wide-key area (key words 1-3 and 5-7 of a key that has any of them non-zero). */
export const FLOW_WIDE_WORDS = 6;

// Hot record: u32 word offsets (H_*) and Float64 indices (HF_* = word / 2).
const HS = 4; // log2(FLOW_HOT_WORDS): hot record h starts at word h << HS
const HFS = 3; // ... and at Float64 index h << HFS
const H_K0 = 0; // key word 0
const H_K4 = 1; // key word 4
const H_K8 = 2; // key word 8
const H_K9 = 3; // key word 9
const H_K10 = 4; // key word 10
const H_K11 = 5; // key word 11
const H_STATE = 6;
const H_ACTION = 7; // the free list's link while the entry is free
const HF_EXPIRY = 4; // words 8-9
const HF_LAST_SEEN = 5; // words 10-11
const H_GENERATION = 12;
const H_USER_DATA = 13;
const H_PACKETS = 14;
const H_BYTES = 15;
// Cold record: Int32 offsets (C_*, record h at word h * 10) and Float64 indices (CF_*, at h * 5).
const CW = FLOW_COLD_WORDS;
const CFW = FLOW_COLD_WORDS / 2;
const C_PEER = 0;
const C_HASH = 1;
const C_PACKETS_HI = 2;
const CF_BYTES_HI = 2; // words 4-5
const CF_TTL = 3; // words 6-7
const CF_CREATED = 4; // words 8-9
// State word bits above the public state byte and the TCP flags byte.
const ST_WIDE = 1 << 16; // the key's words 1-3, 5-7 are in the wide area (else all zero)
const ST_FLOAT_BYTES = 1 << 17; // bytes are the cold Float64 alone (a non-u32 byte count was added)
const TTL_SHIFT = 18; // bits 18-31: the ttl when it is an integer 0..TTL_INLINE_MAX
const TTL_INLINE_MAX = 16381;
const TTL_INFINITE = 16382; // ttl = Infinity
const TTL_COLD = 16383; // any other ttl: read the cold Float64
const TWO_32 = 4294967296;
/** Byte alignment of hot record 0 (one line per record). */
const RECORD_ALIGN = 64;
/** Where the fallback ArrayBuffer puts record 0: glibc serves large buffers from mmap at page + 16. */
const FALLBACK_OFFSET = RECORD_ALIGN - 16;
const WASM_PAGE = 65536;

/** Capacity up to which lookupMany probes frame by frame (hot records and index stay in L2). */
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

/** The hot records' buffer and the byte offset of record 0 in it (constructor only). */
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

/** The inline ttl code of the state word for a ttl (TTL_COLD: only the cold Float64 has it). */
function ttlCode(ttl: number): number {
  if (ttl === Infinity) return TTL_INFINITE;
  if (ttl >= 0 && ttl <= TTL_INLINE_MAX && Math.floor(ttl) === ttl && (ttl !== 0 || 1 / ttl > 0)) return ttl; // not -0
  return TTL_COLD;
}

export class FlowTable {
  readonly capacity: number;
  readonly whenFull: FlowWhenFull;
  readonly rstTimeout: number;
  /** Live entries. */
  count = 0;
  /** FLOW_COUNTERS slots (Float64: exact to 2^53). */
  readonly counters: Float64Array;

  // ---- records (see the essay); internal, exposed read-only for tests and benches ---------------
  /** Hot records, Uint32 view: record h at words h * 16 .. h * 16 + 15. */
  readonly hotWords: Uint32Array;
  /** Hot records, Int32 view (same bytes). */
  readonly hotInts: Int32Array;
  /** Hot records, Float64 view (record h at index h * 8). */
  readonly hotFloats: Float64Array;
  /** Cold records, Int32 view: record h at words h * 10 .. h * 10 + 9. */
  readonly coldInts: Int32Array;
  /** Cold records, Float64 view (record h at index h * 5). */
  readonly coldFloats: Float64Array;
  /** Wide-key area (FLOW_WIDE_WORDS per handle), allocated by the first wide key; null until then. */
  wideKeys: Uint32Array | null = null;

  // ---- index and pool bookkeeping -------------------------------------------------------------
  /** Interleaved (hash, handle) per slot; handle -1 marks an empty slot. */
  readonly slots: Int32Array;
  readonly slotCount: number;
  private readonly slotMask: number;
  /** 32 - log2(slotCount): the home slot is the top bits of hash * FIB. */
  private readonly slotShift: number;
  /** Head of the free list threaded through the hot records' action word (-1: none free). */
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

    const { buffer, offset } = allocateRecords(capacity * FLOW_HOT_SIZE);
    this.hotWords = new Uint32Array(buffer, offset, capacity * FLOW_HOT_WORDS);
    this.hotInts = new Int32Array(buffer, offset, capacity * FLOW_HOT_WORDS);
    this.hotFloats = new Float64Array(buffer, offset, capacity * (FLOW_HOT_WORDS / 2));
    const cold = new ArrayBuffer(capacity * FLOW_COLD_SIZE);
    this.coldInts = new Int32Array(cold);
    this.coldFloats = new Float64Array(cold);

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

  /** Bytes the table holds: hot records' buffer (with its alignment slack), cold records, wide keys, index and counters. */
  get memorySize(): number {
    return this.hotWords.buffer.byteLength + this.coldInts.byteLength + (this.wideKeys?.byteLength ?? 0) + this.slots.byteLength + this.counters.byteLength;
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
    return this.hotInts[(h << HS) + H_ACTION]!;
  }
  /** Policy generation entry h was installed (or last rewritten) under. */
  generationOf(h: number): number {
    return this.hotWords[(h << HS) + H_GENERATION]!;
  }
  /** Caller's word of entry h (0 at insert). */
  userDataOf(h: number): number {
    return this.hotInts[(h << HS) + H_USER_DATA]!;
  }
  /** Handle of the other entry of h's pair, -1 for a single entry. */
  peerOf(h: number): number {
    return this.coldInts[h * CW + C_PEER]!;
  }
  /** Packets counted on entry h (this direction only). */
  packetsOf(h: number): number {
    return (this.coldInts[h * CW + C_PACKETS_HI]! >>> 0) * TWO_32 + this.hotWords[(h << HS) + H_PACKETS]!;
  }
  /** Bytes counted on entry h (this direction only). */
  bytesOf(h: number): number {
    return this.coldFloats[h * CFW + CF_BYTES_HI]! + this.hotWords[(h << HS) + H_BYTES]!;
  }
  /** Packet-clock time of the last touch of entry h (its insert time until then). */
  lastSeenOf(h: number): number {
    return this.hotFloats[(h << HFS) + HF_LAST_SEEN]!;
  }
  /** Packet-clock time entry h was inserted. */
  createdAtOf(h: number): number {
    return this.coldFloats[h * CFW + CF_CREATED]!;
  }
  /** Idle timeout of entry h in seconds. */
  ttlOf(h: number): number {
    return this.coldFloats[h * CFW + CF_TTL]!;
  }
  /** OR of the TCP flags counted on entry h. */
  tcpFlagsOf(h: number): number {
    return (this.hotInts[(h << HS) + H_STATE]! >>> 8) & 0xff;
  }
  /** State bits of entry h: FLOW_STATE_FREE, or FLOW_STATE_LIVE | FLOW_STATE_CLOSING. */
  stateOf(h: number): number {
    return this.hotInts[(h << HS) + H_STATE]! & 0xff;
  }
  /** The caller's hash entry h was installed with. */
  hashOf(h: number): number {
    return this.coldInts[h * CW + C_HASH]! >>> 0;
  }
  /**
   * The packet-clock second after which h's pair is dead: the later of the two entries' own
   * expiries (reads the peer: for dumps and tests; lookup reads the peer only when it must).
   */
  expiryOf(h: number): number {
    const f = this.hotFloats;
    const e = f[(h << HFS) + HF_EXPIRY]!;
    const p = this.coldInts[h * CW + C_PEER]!;
    if (p < 0) return e;
    const pe = f[(p << HFS) + HF_EXPIRY]!;
    return pe > e ? pe : e;
  }
  /** Rewrite the action of live entry h (resimulation with an unchanged verdict). */
  setAction(h: number, action: number): void {
    this.hotInts[(h << HS) + H_ACTION] = action;
  }
  /** Rewrite the generation of live entry h. */
  setGeneration(h: number, generation: number): void {
    this.hotWords[(h << HS) + H_GENERATION] = generation;
  }
  /** Set the caller's word of live entry h. */
  setUserData(h: number, value: number): void {
    this.hotInts[(h << HS) + H_USER_DATA] = value;
  }

  // ---- fast path --------------------------------------------------------------------------------

  /**
   * Handle of the live entry for the key, or -1. A pair found dead (both expiries < now) is
   * removed (counted `expired`) and the lookup misses. Reads the index and the hot record (and
   * the wide-key area for a wide key); the peer only when the entry's own expiry has passed.
   */
  lookup(keys: Uint32Array, k: number, hash: number, now: number): number {
    const c = this.counters;
    c[C_LOOKUPS]++;
    const h = this.find(keys, k, hash);
    if (h < 0) return -1;
    if (this.hotFloats[(h << HFS) + HF_EXPIRY]! < now && !this.peerAlive(h, now)) {
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
   * inserted during the call), the second touches each candidate's hot record (one line), so the
   * cache misses of the whole batch overlap instead of being paid one frame after another (JS has
   * no prefetch instruction; independent loads in a tight loop are the next best thing); the
   * third compares keys and expiries, re-probing only when a candidate's key differs (equal
   * 32-bit hashes) or it was removed earlier in the call. The lines touched by 1,024 frames
   * (about 130 KiB with the index slots) stay in L2 for the third pass and the touches after it.
   * out doubles as the scratch of the first two. Tables of up to LOOKUP_MANY_DIRECT entries live
   * in L2 anyway and are probed frame by frame.
   */
  lookupMany(keys: Uint32Array, idx: Int32Array, count: number, hashes: Uint32Array, times: Float64Array, out: Int32Array): number {
    const slots = this.slots;
    const hw = this.hotWords;
    const hi = this.hotInts;
    const hf = this.hotFloats;
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
          if (hf[(h << HFS) + HF_EXPIRY]! < now && !this.peerAlive(h, now)) {
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
      if (h >= 0) touched += hw[h << HS]!;
    }
    this.touchedSink = touched;
    for (let j = 0; j < count; j++) {
      const i = idx[j]!;
      let h = out[i]!;
      if (h < 0) continue;
      const k = i * W;
      if (hi[(h << HS) + H_STATE] === FLOW_STATE_FREE || !this.matches(h, keys, k)) h = this.find(keys, k, hashes[i]!);
      if (h >= 0) {
        const now = times[i]!;
        if (hf[(h << HFS) + HF_EXPIRY]! < now && !this.peerAlive(h, now)) {
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
    const mask = this.slotMask;
    const hs = hash | 0;
    let s = Math.imul(hs, FIB) >>> this.slotShift;
    for (;;) {
      const h = slots[2 * s + 1]!;
      if (h < 0) return -1;
      if (slots[2 * s] === hs && this.matches(h, keys, k)) return h;
      s = (s + 1) & mask;
    }
  }

  /**
   * Count one packet of `bytes` bytes with TCP flags `flags` (0 for non-TCP) on a live entry.
   * Writes only h's hot record in the common case (the cold one on a counter carry, a non-u32
   * byte count or a RST): its own expiry moves to now + ttl (never backwards, so an out-of-order
   * timestamp cannot shorten a flow), which keeps the whole pair alive. A RST cuts both entries
   * to at most now + rstTimeout and marks the pair closing, after which packets no longer extend
   * the expiry.
   */
  touch(h: number, now: number, bytes: number, flags: number): void {
    const hw = this.hotWords;
    const hi = this.hotInts;
    const hf = this.hotFloats;
    const b = h << HS;
    const f = h << HFS;
    const p = hw[b + H_PACKETS]! + 1;
    hw[b + H_PACKETS] = p;
    if (p === TWO_32) this.coldInts[h * CW + C_PACKETS_HI]!++;
    const st = hi[b + H_STATE]! | ((flags & 0xff) << 8);
    hi[b + H_STATE] = st;
    const bl = hw[b + H_BYTES]! + bytes;
    if ((st & ST_FLOAT_BYTES) === 0 && bytes >>> 0 === bytes && bl < TWO_32) hw[b + H_BYTES] = bl;
    else this.addBytes(h, bytes);
    hf[f + HF_LAST_SEEN] = now;
    if ((flags & TCP_FLAG_RST) !== 0) this.cut(h, now);
    else if ((st & FLOW_STATE_CLOSING) === 0) {
      const tq = st >>> TTL_SHIFT;
      const e = now + (tq <= TTL_INLINE_MAX ? tq : tq === TTL_INFINITE ? Infinity : this.coldFloats[h * CFW + CF_TTL]!);
      if (e > hf[f + HF_EXPIRY]!) hf[f + HF_EXPIRY] = e;
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
    const ci = this.coldInts;
    ci[f * CW + C_PEER] = r;
    ci[r * CW + C_PEER] = f;
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
    const hi = this.hotInts;
    const hf = this.hotFloats;
    let n = budget < cap ? budget : cap;
    let hand = this.sweepHand;
    let removed = 0;
    while (n-- > 0) {
      const h = hand;
      hand = hand + 1 === cap ? 0 : hand + 1;
      if (hi[(h << HS) + H_STATE] !== FLOW_STATE_FREE && hf[(h << HFS) + HF_EXPIRY]! < now && !this.peerAlive(h, now)) removed += this.removeFlow(h);
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
    return Number.isInteger(h) && h >= 0 && h < this.capacity && this.hotInts[(h << HS) + H_STATE] !== FLOW_STATE_FREE;
  }

  /** Call fn(handle) for every live entry in handle order. fn may remove entries, not insert. */
  forEachEntry(fn: (handle: number) => void): void {
    for (let h = 0; h < this.capacity; h++) if (this.hotInts[(h << HS) + H_STATE] !== FLOW_STATE_FREE) fn(h);
  }

  /** Copy entry h's key words (all FLOW_KEY_WORDS of them) into out at word offset o. */
  copyKey(h: number, out: Uint32Array, o: number): void {
    const hw = this.hotWords;
    const b = h << HS;
    out[o] = hw[b + H_K0]!;
    out[o + 4] = hw[b + H_K4]!;
    out[o + 8] = hw[b + H_K8]!;
    out[o + 9] = hw[b + H_K9]!;
    out[o + 10] = hw[b + H_K10]!;
    out[o + 11] = hw[b + H_K11]!;
    const wk = this.wideKeys;
    if ((this.hotInts[b + H_STATE]! & ST_WIDE) !== 0 && wk !== null) {
      const x = h * FLOW_WIDE_WORDS;
      out[o + 1] = wk[x]!;
      out[o + 2] = wk[x + 1]!;
      out[o + 3] = wk[x + 2]!;
      out[o + 5] = wk[x + 3]!;
      out[o + 6] = wk[x + 4]!;
      out[o + 7] = wk[x + 5]!;
    } else {
      out[o + 1] = 0;
      out[o + 2] = 0;
      out[o + 3] = 0;
      out[o + 5] = 0;
      out[o + 6] = 0;
      out[o + 7] = 0;
    }
  }

  /**
   * Check every invariant of the essay by brute force (tests and debugging; O(slots + capacity)).
   * Returns null when consistent, otherwise the first problem found.
   */
  validate(): string | null {
    const slots = this.slots;
    const seen = new Uint8Array(this.capacity);
    const key = new Uint32Array(W);
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
      this.copyKey(h, key, 0);
      if (this.find(key, 0, this.hashOf(h)) !== h) return `entry ${h} not found by its own key`;
    }
    let live = 0;
    for (let h = 0; h < this.capacity; h++) {
      const st = this.hotInts[(h << HS) + H_STATE]!;
      if (st === FLOW_STATE_FREE) continue;
      live++;
      if ((st & 0xff & ~(FLOW_STATE_LIVE | FLOW_STATE_CLOSING)) !== 0 || (st & FLOW_STATE_LIVE) === 0) return `entry ${h}: bad state word ${st}`;
      if (!seen[h]) return `live entry ${h} not indexed`;
      if ((st >>> TTL_SHIFT) !== ttlCode(this.ttlOf(h))) return `entry ${h}: inline ttl ${st >>> TTL_SHIFT} does not match ttl ${this.ttlOf(h)}`;
      const wide = (st & ST_WIDE) !== 0;
      if (wide && this.wideKeys === null) return `entry ${h}: wide key without a wide-key area`;
      if (wide) {
        let z = 0;
        for (let i = 0; i < FLOW_WIDE_WORDS; i++) z |= this.wideKeys![h * FLOW_WIDE_WORDS + i]!;
        if (z === 0) return `entry ${h}: wide key whose wide words are all zero`;
      }
      if ((st & ST_FLOAT_BYTES) !== 0 && this.hotWords[(h << HS) + H_BYTES] !== 0) return `entry ${h}: float bytes with a u32 part`;
      const p = this.peerOf(h);
      if (p >= 0) {
        if (p === h) return `entry ${h} is its own peer`;
        if (p >= this.capacity || this.stateOf(p) === FLOW_STATE_FREE) return `entry ${h}'s peer ${p} is free`;
        if (this.peerOf(p) !== h) return `entry ${h}'s peer ${p} names ${this.peerOf(p)}`;
        const closing = this.stateOf(h) & FLOW_STATE_CLOSING;
        if (closing !== (this.stateOf(p) & FLOW_STATE_CLOSING)) return `pair ${h}/${p}: only one side is closing`;
        if (closing && this.hotFloats[(h << HFS) + HF_EXPIRY] !== this.hotFloats[(p << HFS) + HF_EXPIRY]) return `closing pair ${h}/${p}: expiries differ`;
      }
    }
    if (live !== indexed) return `live ${live} != indexed ${indexed}`;
    if (live !== this.count) return `live ${live} != count ${this.count}`;
    let free = 0;
    for (let h = this.freeHead; h >= 0; h = this.hotInts[(h << HS) + H_ACTION]!) {
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

  /**
   * Whether live entry h's key equals the FLOW_KEY_WORDS words at keys[k] (exact): the six hot
   * words, then either the six others all zero (a narrow entry) or equal to the wide-key area's.
   */
  private matches(h: number, keys: Uint32Array, k: number): boolean {
    const hw = this.hotWords;
    const b = h << HS;
    if (
      hw[b + H_K0] !== keys[k] ||
      hw[b + H_K4] !== keys[k + 4] ||
      hw[b + H_K8] !== keys[k + 8] ||
      hw[b + H_K9] !== keys[k + 9] ||
      hw[b + H_K10] !== keys[k + 10] ||
      hw[b + H_K11] !== keys[k + 11]
    ) {
      return false;
    }
    if ((this.hotInts[b + H_STATE]! & ST_WIDE) === 0) return (keys[k + 1]! | keys[k + 2]! | keys[k + 3]! | keys[k + 5]! | keys[k + 6]! | keys[k + 7]!) === 0;
    return this.wideMatches(h, keys, k);
  }

  private wideMatches(h: number, keys: Uint32Array, k: number): boolean {
    const wk = this.wideKeys!;
    const x = h * FLOW_WIDE_WORDS;
    return (
      wk[x] === keys[k + 1] &&
      wk[x + 1] === keys[k + 2] &&
      wk[x + 2] === keys[k + 3] &&
      wk[x + 3] === keys[k + 5] &&
      wk[x + 4] === keys[k + 6] &&
      wk[x + 5] === keys[k + 7]
    );
  }

  /** The slow part of touch's byte count: a carry out of the u32 part, or a non-u32 count. */
  private addBytes(h: number, bytes: number): void {
    const hw = this.hotWords;
    const hi = this.hotInts;
    const cf = this.coldFloats;
    const b = h << HS;
    const c = h * CFW + CF_BYTES_HI;
    const st = hi[b + H_STATE]!;
    if ((st & ST_FLOAT_BYTES) !== 0) {
      cf[c]! += bytes;
    } else if (bytes >>> 0 === bytes) {
      // Carry: both parts are integers, so the split stays exact (below 2^53).
      cf[c]! += TWO_32;
      hw[b + H_BYTES] = hw[b + H_BYTES]! + bytes - TWO_32;
    } else {
      // From now on the cold Float64 alone accumulates, exactly as a plain Float64 would.
      cf[c] = cf[c]! + hw[b + H_BYTES]! + bytes;
      hw[b + H_BYTES] = 0;
      hi[b + H_STATE] = st | ST_FLOAT_BYTES;
    }
  }

  /** Whether h's peer keeps the pair alive at `now` (h's own expiry has passed). Rare. */
  private peerAlive(h: number, now: number): boolean {
    const p = this.coldInts[h * CW + C_PEER]!;
    return p >= 0 && !(this.hotFloats[(p << HFS) + HF_EXPIRY]! < now);
  }

  /** RST on h: both entries closing, both expiries cut to min(pair expiry, now + rstTimeout). */
  private cut(h: number, now: number): void {
    const hi = this.hotInts;
    const hf = this.hotFloats;
    let e = this.expiryOf(h);
    const cut = now + this.rstTimeout;
    if (e > cut) e = cut;
    hi[(h << HS) + H_STATE]! |= FLOW_STATE_CLOSING;
    hf[(h << HFS) + HF_EXPIRY] = e;
    const p = this.coldInts[h * CW + C_PEER]!;
    if (p >= 0) {
      hi[(p << HS) + H_STATE]! |= FLOW_STATE_CLOSING;
      hf[(p << HFS) + HF_EXPIRY] = e;
    }
  }

  /** Every record free (state 0, peer -1), the free list 0, 1, 2, ..., the index empty. */
  private resetPool(): void {
    const cap = this.capacity;
    const hi = this.hotInts;
    const ci = this.coldInts;
    for (let h = 0; h < cap; h++) {
      const b = h << HS;
      hi[b + H_STATE] = FLOW_STATE_FREE;
      hi[b + H_ACTION] = h + 1 < cap ? h + 1 : -1;
      ci[h * CW + C_PEER] = -1;
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

  /** Take a free handle (the caller checked freeCount), fill its records and index it. */
  private allocate(keys: Uint32Array, k: number, hash: number, now: number, ttl: number, action: number, generation: number): number {
    const hw = this.hotWords;
    const hi = this.hotInts;
    const hf = this.hotFloats;
    const ci = this.coldInts;
    const cf = this.coldFloats;
    const h = this.freeHead;
    const b = h << HS;
    const f = h << HFS;
    const c = h * CW;
    const cc = h * CFW;
    this.freeHead = hi[b + H_ACTION]!;
    this.freeCount--;
    hw[b + H_K0] = keys[k]!;
    hw[b + H_K4] = keys[k + 4]!;
    hw[b + H_K8] = keys[k + 8]!;
    hw[b + H_K9] = keys[k + 9]!;
    hw[b + H_K10] = keys[k + 10]!;
    hw[b + H_K11] = keys[k + 11]!;
    let st = FLOW_STATE_LIVE | (ttlCode(ttl) << TTL_SHIFT);
    if ((keys[k + 1]! | keys[k + 2]! | keys[k + 3]! | keys[k + 5]! | keys[k + 6]! | keys[k + 7]!) !== 0) {
      st |= ST_WIDE;
      const wk = this.wideKeys ?? (this.wideKeys = new Uint32Array(this.capacity * FLOW_WIDE_WORDS));
      const x = h * FLOW_WIDE_WORDS;
      wk[x] = keys[k + 1]!;
      wk[x + 1] = keys[k + 2]!;
      wk[x + 2] = keys[k + 3]!;
      wk[x + 3] = keys[k + 5]!;
      wk[x + 4] = keys[k + 6]!;
      wk[x + 5] = keys[k + 7]!;
    }
    hi[b + H_STATE] = st;
    hi[b + H_ACTION] = action;
    hf[f + HF_EXPIRY] = now + ttl;
    hf[f + HF_LAST_SEEN] = now;
    hw[b + H_GENERATION] = generation;
    hi[b + H_USER_DATA] = 0;
    hw[b + H_PACKETS] = 0;
    hw[b + H_BYTES] = 0;
    ci[c + C_PEER] = -1;
    ci[c + C_HASH] = hash;
    ci[c + C_PACKETS_HI] = 0;
    cf[cc + CF_BYTES_HI] = 0;
    cf[cc + CF_TTL] = ttl;
    cf[cc + CF_CREATED] = now;
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
    const p = this.coldInts[h * CW + C_PEER]!;
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
    let i = this.home(this.coldInts[h * CW + C_HASH]!);
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
    const hi = this.hotInts;
    const b = h << HS;
    hi[b + H_STATE] = FLOW_STATE_FREE;
    hi[b + H_ACTION] = this.freeHead;
    this.coldInts[h * CW + C_PEER] = -1;
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
