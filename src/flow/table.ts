/**
 * The unified flow table (UFT; the VFP paper, https://www.usenix.org/conference/nsdi17/technical-sessions/presentation/firestone,
 * and DASH, https://github.com/sonic-net/DASH): the fast path's cache from a frame's flow key to the
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
 * The record views and the FLOW_HOT_* / FLOW_COLD_* word offsets are exported for code that wants
 * to read a field without a call, read-only.
 *
 * Keys. A key is the engine's flow key, FLOW_KEY_WORDS (12) u32 words laid out as in
 * src/frame/batch.ts; word 11's high 16 bits carry the engine port id, so the same 5-tuple
 * entering on two ports is two flows. Callers pass `(keys, k, hash)`: any Uint32Array, the word
 * offset of the key in it (i * FLOW_KEY_WORDS for frame i of a batch) and a 32-bit hash of the key
 * they computed (parse/'s symmetric flowHash). The table never hashes: equal keys must come with
 * equal hashes, and nothing else is assumed (a constant hash is correct, only slow).
 *
 * Data layout. Entries live in a pool of `capacity` entries addressed by integer handles
 * 0..capacity-1 that never move while the entry lives. An entry is two FLOW_RECORD_SIZE (64-byte,
 * one cache line) records: a *hot* one with everything a hit reads or writes, and a *cold* one
 * with the rest. A hit on an IPv4 flow costs the index slot plus one line; the cold record is
 * read only for wide (IPv6) keys, closing or expired entries, pairs, removal and dumps. Both
 * arrays are in one buffer, the hot records first, each viewed three ways (`hotWords` Uint32,
 * `hotInts` Int32, `hotFloats` Float64; `coldWords`, `coldInts`, `coldFloats`): entry h is words
 * h*16 .. h*16+15 of each, its Float64 fields at [h*8 + word/2].
 * Hot record (FLOW_HOT_* offsets):
 *   0..5   key words 0, 4, 8, 9, 10, 11 (addresses' first words, ports, kind/protocol/VLAN, VNI,
 *          ethertype/port id: all an IPv4, ARP or other-ethertype key has)
 *   6      state       Int32    bits 0-7: 0 free, STATE_LIVE | STATE_CLOSING (a RST was seen on
 *                               the pair); bits 8-15: OR of the TCP flags counted on this entry;
 *                               bit 16: FLOW_STATE_WIDE, the key has a non-zero cold key word
 *   7      action      Int32    opaque action handle given at insert (caller may rewrite it)
 *   8-9    lastSeen    Float64  the latest packet-clock time counted on this entry (the insert
 *                               time until then; an out-of-order packet does not move it back)
 *   10-11  ttl         Float64  idle timeout in seconds: the entry's own expiry is lastSeen + ttl
 *   12     packets     Uint32   packets counted by touch, low 32 bits
 *   13     bytes       Uint32   bytes counted by touch, low 32 bits
 *   14     generation  Uint32   policy generation the action was computed under (caller's)
 *   15     userData    Int32    free for the caller (0 at insert)
 * Cold record (FLOW_COLD_* offsets):
 *   0      hash        Uint32   the caller's hash (finds the entry's home slot on removal)
 *   1..6   key words 1, 2, 3, 5, 6, 7 (the rest of IPv6 addresses; zero for every other key)
 *   7      peer        Int32    handle of the other entry of a flow pair, -1 for a single entry
 *   8      nextFree    Int32    while free: the next handle of the free list (-1 ends it)
 *   9, 10  packets, bytes high 32 bits (touch carries into them when the hot words wrap)
 *   11     owner       Int32    0, or the id of the module that owns the entry's per-flow state
 *                               (setOwner): its removal is then reported (see Owners below)
 *   12-13  created     Float64  packet-clock time of the insert
 *   14-15  closeExpiry Float64  once the pair is closing: its expiry, cut by the RST and shared
 *                               by both entries (lastSeen + ttl no longer counts)
 * An entry's own expiry is thus lastSeen + ttl, or closeExpiry when closing; the pair's is the
 * max of both entries'. A key compare reads the six hot words; a narrow entry (WIDE clear) then
 * matches only a probe whose cold words are all zero, and only a wide one reads its cold words.
 * Measured on acl-hit with 64k flows (the working set far beyond the cache): this split and the
 * 4-byte index slots below gave +11% (in-process A/B, 12 of 12 paired runs) over the former
 * 128-byte record with 8-byte slots.
 * Handles are handed out from a bump pointer over the never-used ones (0, 1, 2, ... in order),
 * and, once entries have been freed, from a LIFO list threaded through nextFree (a freed entry's
 * lines are reused first). Nothing is initialised before an entry uses it: the buffer comes
 * zeroed from the system, whose pages are mapped on first touch, so a table sized for 4M
 * entries costs the memory of the entries used, not 512 MiB written before the first frame. The
 * records and the index are advised for transparent huge pages when the native shim is built
 * (src/native/shim.ts): a first touch then maps 2 MiB, and random probes miss the TLB less; the
 * index, touched at random, is then resident in 2 MiB steps.
 * The buffer is a WebAssembly.Memory (page-aligned: the
 * one allocation whose alignment JS can rely on; it is never grown, so never detached), so every
 * record starts on a line boundary. If the engine refuses one, a plain ArrayBuffer is used with
 * the records at byte 48, which aligns them when malloc serves the buffer from mmap (page + 16,
 * glibc's case for large buffers); for small buffers alignment is then luck, and only speed
 * depends on it. In a WebAssembly memory the index (below) and the probe kernel's scratch follow
 * the records in the same buffer, so that lookupMany's kernel (src/flow/probe.wat) can read them.
 * The index is open addressing with linear probing over one Uint32Array `slots` of slotCount
 * words: a slot holds (tag << handleBits) | (handle + 1), 0 when empty, where handleBits is the
 * fewest bits that hold capacity and the tag is the low 32 - handleBits bits of the entry's hash
 * (14 bits at 131k entries, 7 at the 16M maximum). The tag rejects most non-matching slots
 * without touching the entry's record; only an equal tag costs the key compare. slotCount is a
 * power of two >= capacity / maxLoad (maxLoad 0.75 by default), so the index is never more than
 * maxLoad full and a probe always meets an empty slot. Only a prefix of it is in use
 * (`activeSlots`): the index starts at 1,024 slots and doubles, re-placing the live entries,
 * whenever an insert would take it past a load of 1/4 (GROW_LOAD; past 65,536 slots it goes to
 * full size at once, so a large table is not re-placed again and again), so a table holding
 * 8,192 flows touches 128 KiB of slots (which stay in the cache) rather than all of them (2 MiB at the default capacity: ~1,000
 * page faults for as many random first touches, ~12 ms on this project's VM). (With a power of two the real load is
 * between maxLoad / 2 and maxLoad; the default was 0.5 until an A/B on acl-hit 64k showed 0.75
 * faster by ~4% over 40 paired runs, 27 of them won: a smaller index misses the cache less, and
 * 16 slots share a line, so the longer probe runs rarely cost a second line.) The home slot is the top bits of
 * hash * 0x9e3779b1 (Fibonacci hashing): a caller's hash with weak low bits still spreads.
 * Deletion shifts the following run back (no tombstones), so a probe's length depends only on
 * the live entries; the homes of the slots it moves come from `slotHashes`, the full hash of each
 * slot's entry in a parallel array that lookups never read (reading the entries' cold records
 * instead made insert + remove 1.6x slower). Bytes per entry: `entrySize`, 128 of records, 16 of
 * per-flow state words, plus 8 * slotCount / capacity of index (a 4-byte slot and its 4-byte
 * hash per slot): 160 for a power-of-two capacity at the default load (two slots per entry), at
 * most 166 (when capacity / maxLoad just passes a power of two). Address space, not resident
 * memory: pages are touched as entries use them.
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
 * latest now + ttl of the packets counted on it (lastSeen + ttl): `touch` writes only its own hot
 * record (no peer access on the hot path), and `lookup` reads the peer only when its own entry looks dead (a
 * one-way flow's silent side, or a truly dead pair). So a packet in either direction keeps the
 * pair alive, exactly as if both expiries were refreshed together, and an out-of-order timestamp
 * never moves an expiry back. A dead pair found by `lookup` is removed and the lookup misses;
 * `sweep` reclaims the others incrementally (the pipeline calls it once per batch with a small
 * budget), so no timer wheel is needed and replay stays deterministic.
 *
 * TCP. `touch` ORs the packet's TCP flags into the entry. A RST (0x04) cuts the pair's expiry to
 * at most now + rstTimeout (5 s, DASH's "TTL cut to 5 s"), writing both entries (rare), and marks
 * the pair closing: later packets are still counted but no longer extend the expiry, so trailing
 * segments and RSTs still hit the flow for a moment (VFP waits about a round trip before closing)
 * and then it dies.
 *
 * Generations (policy change -> resimulation: the VFP paper's generation numbers, DASH's flow
 * resimulation; docs/defaults.md). The table only stores the generation
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
 * Per-flow state and owners. Beside the records, `states` holds FLOW_STATE_WORDS Int32 words per
 * handle for the caller (a NAT session's port and address, an LB backend, a tunnel: whatever the
 * composite says to apply per flow), never read or cleared by the table. A caller that keeps
 * something per flow that must be released (a NAT port) names itself with `setOwner(h, id)`.
 * Every way such an entry leaves the table (lookup or sweep finding it dead, eviction, an insert
 * replacing it or its peer, `remove`, `clear`) appends a removal row to `removals`: the handle,
 * owner, reason and the pair's other handle, with a copy of its state words, so the owner learns
 * of every removal exactly once even if the handle is reused before it looks. The owner drains
 * the rows (the engine does so once per batch) and calls `clearRemovals()`. Entries without an
 * owner leave no row. The rows grow as needed (an allocation, only when more entries left
 * between two drains than ever before).
 *
 * Thread ownership. One table per shard, owned by its worker: no locks, no atomics, no sharing.
 * Shard steering keeps both directions of a connection (the symmetric hash) on one worker.
 *
 * Not handled here. TCP state machine beyond "RST seen" (SYN/FIN tracking and half-open counts
 * belong to conntrack above this table; the TCP flags keep the raw material). Reopening a closing
 * flow (a new SYN on a RST-cut pair): the caller re-inserts. Handles are not validated on the hot
 * path: `touch` and the accessors assume a live handle from this batch's lookup/insert, valid
 * until that entry is removed, expired, evicted or replaced. Resizing: capacity is fixed (bounded
 * memory); the caller sizes the table.
 */
import { FLOW_KEY_WORDS } from '../frame/batch.js';
import { adviseHugePages } from '../native/shim.js';
import { PROBE_WASM } from './probe-wasm.js';

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

/**
 * Why an owned entry left the table (the `reason` word of a removal row; never reorder):
 * expired (found dead by a lookup or by makeRoom), swept (found dead by the sweep), closed (dead
 * after a RST cut its pair, by either), evicted (whenFull 'evict-idle'), replaced (an insert over
 * its key or its peer's), removed (`remove`, e.g. the engine dropping a stale pair), cleared.
 */
export const FLOW_REMOVAL_REASONS = ['expired', 'swept', 'closed', 'evicted', 'replaced', 'removed', 'cleared'] as const;
export type FlowRemovalReason = (typeof FLOW_REMOVAL_REASONS)[number];
export const FLOW_REMOVED_EXPIRED = 0;
export const FLOW_REMOVED_SWEPT = 1;
export const FLOW_REMOVED_CLOSED = 2;
export const FLOW_REMOVED_EVICTED = 3;
export const FLOW_REMOVED_REPLACED = 4;
export const FLOW_REMOVED_REMOVED = 5;
export const FLOW_REMOVED_CLEARED = 6;
/** Per-flow state words per entry (`FlowTable.states`, the caller's: NAT port and address, LB backend, tunnel). */
export const FLOW_STATE_WORDS = 4;
/**
 * A removal row (`FlowTable.removals`, FLOW_REMOVAL_WORDS Int32 words per row): the handle, its
 * owner, the reason (FLOW_REMOVED_*), the pair's other handle (-1 for a single entry), then a copy
 * of the entry's FLOW_STATE_WORDS state words as they were when it left, so the handle can be
 * reused before the owner drains the row.
 */
export const FLOW_REMOVAL_WORDS = 4 + FLOW_STATE_WORDS;
export const FLOW_REMOVAL_HANDLE = 0;
export const FLOW_REMOVAL_OWNER = 1;
export const FLOW_REMOVAL_REASON = 2;
export const FLOW_REMOVAL_PEER = 3;
export const FLOW_REMOVAL_STATE = 4;

export const FLOW_WHEN_FULL = ['drop', 'evict-idle'] as const;
export const FLOW_PROBE_KERNELS = ['wasm', 'js'] as const;
export type FlowProbeKernel = (typeof FLOW_PROBE_KERNELS)[number];
export type FlowWhenFull = (typeof FLOW_WHEN_FULL)[number];

/** Entry state bits (low byte of the record's state word, `stateOf(h)`). */
export const FLOW_STATE_FREE = 0;
export const FLOW_STATE_LIVE = 1;
export const FLOW_STATE_CLOSING = 2; // a RST was seen on the pair: expiry no longer extended

export const TCP_FLAG_RST = 0x04;
/** DASH: a TCP reset cuts the flow's TTL to 5 s. */
export const FLOW_DEFAULT_RST_TIMEOUT = 5;
export const FLOW_DEFAULT_MAX_LOAD = 0.75;
/** lookupMany's answer for a frame whose entry is expired as the table stands: look it up again in frame order. */
export const FLOW_RECHECK = -2;
export const FLOW_DEFAULT_EVICT_SAMPLE = 8;
/** Largest capacity: 16M entries is 2 GiB of records, beyond any one shard's budget. */
export const FLOW_TABLE_MAX_CAPACITY = 1 << 24;

// ---- record layout (u32 word offsets within a record; see the essay) ---------------------------
/** Words per record, hot and cold alike (each record is 64 bytes, one cache line). */
export const FLOW_RECORD_WORDS = 16;
export const FLOW_RECORD_SIZE = FLOW_RECORD_WORDS * 4;
/** Hot record: the key words a lookup compares first, then what a hit reads and touch writes. */
export const FLOW_HOT_KEY = 0; // key words 0, 4, 8, 9, 10, 11 (FLOW_HOT_KEY_WORDS) at 0..5
export const FLOW_HOT_STATE = 6;
export const FLOW_HOT_ACTION = 7;
export const FLOW_HOT_LAST_SEEN = 8; // Float64
export const FLOW_HOT_TTL = 10; // Float64
export const FLOW_HOT_PACKETS = 12; // low 32 bits
export const FLOW_HOT_BYTES = 13; // low 32 bits
export const FLOW_HOT_GENERATION = 14;
export const FLOW_HOT_USER_DATA = 15;
/** Cold record: what only the slow path, removal, dumps and rare cases read. */
export const FLOW_COLD_HASH = 0;
export const FLOW_COLD_KEY = 1; // key words 1, 2, 3, 5, 6, 7 (FLOW_COLD_KEY_WORDS) at 1..6
export const FLOW_COLD_PEER = 7;
export const FLOW_COLD_NEXT_FREE = 8;
export const FLOW_COLD_PACKETS_HIGH = 9;
export const FLOW_COLD_BYTES_HIGH = 10;
export const FLOW_COLD_OWNER = 11; // 0: no owner; else the owner id given to setOwner
export const FLOW_COLD_CREATED = 12; // Float64
export const FLOW_COLD_CLOSE_EXPIRY = 14; // Float64: the pair's expiry once it is closing
/** Which key word each hot / cold key slot holds. */
export const FLOW_HOT_KEY_WORDS: readonly number[] = [0, 4, 8, 9, 10, 11];
export const FLOW_COLD_KEY_WORDS: readonly number[] = [1, 2, 3, 5, 6, 7];
/** State bit: the key has a non-zero word among FLOW_COLD_KEY_WORDS (IPv6), kept in the cold record. */
export const FLOW_STATE_WIDE = 1 << 16;

// Local literals for the hot paths: word offsets (H_*, C_*) and Float64 indices (HF_*, CF_* = word / 2).
const RS = 4; // log2(FLOW_RECORD_WORDS): record h starts at word h << RS
const FS = 3; // ... and at Float64 index h << FS
const H_STATE = 6;
const H_ACTION = 7;
const H_PACKETS = 12;
const H_BYTES = 13;
const H_GENERATION = 14;
const H_USER_DATA = 15;
const HF_LAST_SEEN = 4;
const HF_TTL = 5;
const C_HASH = 0;
const C_PEER = 7;
const C_NEXT_FREE = 8;
const C_PACKETS_HIGH = 9;
const C_BYTES_HIGH = 10;
const C_OWNER = 11;
const CF_CREATED = 6;
const CF_CLOSE_EXPIRY = 7;
const STATE_WIDE = FLOW_STATE_WIDE;
const TWO_32 = 4294967296;
/** Byte alignment of record 0 (a record is one line). */
const RECORD_ALIGN = 64;
/** Where the fallback ArrayBuffer puts record 0: glibc serves large buffers from mmap at page + 16. */
const FALLBACK_OFFSET = RECORD_ALIGN - 16;
const WASM_PAGE = 65536;

/** Capacity up to which lookupMany probes frame by frame (records and index, ~280 KiB, stay in L2). */
const LOOKUP_MANY_DIRECT = 2048;
/** Occupied slots of the new key's probe run offered as eviction candidates (they are in cache). */
const PROBE_SAMPLE = 16;
/** log2 of the slots an index starts with (one 4 KiB page of slots, one of slot hashes). */
const INITIAL_SLOT_BITS = 10;
/** Slots in use past which the index grows to its full size at once rather than doubling (256 KiB of slots). */
const GROW_STEP_LIMIT = 1 << 16;
/**
 * The load at which a partly used index grows: sparser than maxLoad, so that the hits of a few
 * thousand flows mostly find their entry in its home slot (at load 0.5 the fast stage cost
 * ~4 ns a frame more on 4,096 flows than with the full, nearly empty index) while the index
 * stays small enough for the cache and for few first touches.
 */
const GROW_LOAD = 0.25;
/** Bits of the insert marks (a power of two): 512 inserts in a batch set about 6% of them. */
const INSERT_MARK_BITS = 8192;
const FIB = 0x9e3779b1 | 0;
const W = FLOW_KEY_WORDS;

export interface FlowTableOptions {
  /** Number of entries (a pair uses two). */
  readonly capacity: number;
  readonly whenFull: FlowWhenFull;
  /** Seconds a pair lives after a TCP RST at most (default 5, DASH). */
  readonly rstTimeout?: number;
  /** Upper bound of index occupancy, 0.25..0.75 (default 0.75): lower makes shorter probe runs and a larger index. */
  readonly maxLoad?: number;
  /** Pool entries the eviction clock hand offers per eviction (default 8). */
  readonly evictSample?: number;
  /**
   * lookupMany's index and record passes: 'wasm' (default) runs them in the WebAssembly kernel
   * when the engine has WebAssembly, 'js' always in JavaScript (the same answers: tests, A/B).
   */
  readonly probeKernel?: FlowProbeKernel;
}

interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number }): { readonly buffer: ArrayBuffer };
}

/** Frames per call of the probe kernel: the size of its two scratch arrays (lookupMany goes in chunks). */
const KERNEL_CHUNK = 1024;

/** The probe kernel's export (src/flow/probe.wat): byte offsets, counts and the index's constants. */
type ProbeKernel = (hashes: number, handles: number, n: number, slots: number, shift: number, mask: number, hb: number, tm: number, hm: number, hot: number) => number;

interface WasmApi {
  Memory: WasmMemoryConstructor;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: { readonly probe?: unknown } };
}

let probeModule: object | null | undefined;

/** The compiled probe kernel module, once per process; null when this engine has no WebAssembly. */
function kernelModule(wasm: WasmApi | undefined): object | null {
  if (probeModule !== undefined) return probeModule;
  try {
    probeModule = wasm ? new wasm.Module(PROBE_WASM) : null;
  } catch {
    probeModule = null;
  }
  return probeModule;
}

/**
 * The table's memory (constructor only): `recordBytes` of records, then `slotBytes` of index, then
 * the kernel's two scratch arrays. A WebAssembly.Memory when the engine gives one (page-aligned,
 * and the probe kernel can run over it); else an ordinary buffer with the records at byte 48, the
 * index and scratch separate, and no kernel (lookupMany then runs its JavaScript passes).
 */
function allocateTable(recordBytes: number, slotBytes: number, stateBytes: number, useKernel: boolean): { buffer: ArrayBuffer; offset: number; slots: number; kernel: ProbeKernel | null } {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  // (the slot hashes and the state words follow the kernel's scratch: a WebAssembly memory is
  // mapped, zero and untouched, where large typed arrays come from the heap, zeroed when made)
  const size = recordBytes + slotBytes + 8 * KERNEL_CHUNK + slotBytes + stateBytes;
  const pages = Math.ceil(size / WASM_PAGE);
  if (wasm?.Memory && pages <= 65536) {
    let memory: { readonly buffer: ArrayBuffer } | null = null;
    try {
      memory = new wasm.Memory({ initial: pages, maximum: pages });
    } catch {
      // address space or memory limits: fall back to an ordinary buffer
    }
    if (memory !== null) {
      let kernel: ProbeKernel | null = null;
      const mod = kernelModule(wasm);
      if (mod !== null && useKernel) {
        try {
          const probe = new wasm.Instance(mod, { table: { memory } }).exports.probe;
          if (typeof probe === 'function') kernel = probe as ProbeKernel;
        } catch {
          kernel = null;
        }
      }
      return { buffer: memory.buffer, offset: 0, slots: recordBytes, kernel };
    }
  }
  const buffer = new ArrayBuffer(recordBytes + FALLBACK_OFFSET);
  return { buffer, offset: FALLBACK_OFFSET, slots: -1, kernel: null };
}

/** Bytes at the start of each table region left to 4 KiB pages (see the constructor). */
const SMALL_PAGE_PREFIX = 2 << 20;

/** adviseHugePages over a view's bytes after its first SMALL_PAGE_PREFIX. */
function adviseBeyondPrefix(view: Uint32Array): void {
  if (view.byteLength > SMALL_PAGE_PREFIX) adviseHugePages(view.buffer as ArrayBuffer, view.byteOffset + SMALL_PAGE_PREFIX, view.byteLength - SMALL_PAGE_PREFIX);
}

export class FlowTable {
  readonly capacity: number;
  readonly whenFull: FlowWhenFull;
  readonly rstTimeout: number;
  /** Live entries. */
  count = 0;
  /** FLOW_COUNTERS slots (Float64: exact to 2^53). */
  readonly counters: Float64Array;

  // ---- records (see the essay): hot and cold, three views each, record h at word h * 16 ---------
  /** Hot records, Uint32 view: key words, packets and bytes (low 32 bits), generation. Read-only for callers. */
  readonly hotWords: Uint32Array;
  /** Hot records, Int32 view: state, action, userData. Read-only for callers. */
  readonly hotInts: Int32Array;
  /** Hot records, Float64 view (index h * 8 + word / 2): lastSeen, ttl. Read-only for callers. */
  readonly hotFloats: Float64Array;
  /** Cold records, Uint32 view: hash, the wide key words, counter high words. Read-only for callers. */
  readonly coldWords: Uint32Array;
  /** Cold records, Int32 view: peer, nextFree. Read-only for callers. */
  readonly coldInts: Int32Array;
  /** Cold records, Float64 view: created, close expiry. Read-only for callers. */
  readonly coldFloats: Float64Array;

  // ---- index and pool bookkeeping -------------------------------------------------------------
  /** One word per slot: (tag << handleBits) | (handle + 1); 0 marks an empty slot. */
  readonly slots: Uint32Array;
  /** The full hash of each slot's entry, beside the index (deletion reads it; lookups never do). */
  private readonly slotHashes: Uint32Array;
  /** The index's full size: what it grows to (a power of two >= capacity / maxLoad). */
  readonly slotCount: number;
  /**
   * Slots in use now: the index starts at INITIAL_SLOTS (or slotCount, if smaller) and doubles
   * (a rehash of the live entries) whenever an insert would take it past maxLoad, up to
   * slotCount. The rest of the index is never touched: a table that holds a few thousand flows
   * faults in and caches a few pages of index, not the whole of it.
   */
  activeSlots: number;
  /** Bits of a slot word holding handle + 1 (the rest, up to 32, hold the tag). */
  private readonly handleBits: number;
  private readonly handleMask: number;
  private readonly tagMask: number;
  /** activeSlots - 1. */
  private slotMask: number;
  /** 32 - log2(activeSlots): the home slot is the top bits of hash * FIB. */
  private slotShift: number;
  /** Live entries past which an insert first grows the index: activeSlots * maxLoad (Infinity at full size). */
  private growAt: number;
  private readonly maxLoad: number;
  /** Head of the free list threaded through the cold records' nextFree word (-1: none freed). */
  private freeHead = -1;
  /** Handles ever handed out: those at or above are untouched (zero) and free. */
  private bump = 0;
  /** Free handles: the free list plus capacity - bump. */
  private freeCount: number;
  /** Per-flow state words, FLOW_STATE_WORDS per handle (the caller's; see the essay). */
  readonly states: Int32Array;
  /**
   * A bit per (hash mod INSERT_MARK_BITS) of the entries installed since `clearInsertMarks`: a
   * caller that probed a batch and then installed flows asks `insertedSince(hash)` whether a miss
   * the probe reported may have become a hit (false: it certainly has not).
   */
  private readonly insertMarks = new Uint32Array(INSERT_MARK_BITS / 32);
  /** Removal rows of owned entries since the last clearRemovals (FLOW_REMOVAL_WORDS each). */
  removals: Int32Array = new Int32Array(64 * FLOW_REMOVAL_WORDS);
  removalCount = 0;
  private readonly evictSample: number;
  private evictHand = 0;
  private sweepHand = 0;
  /** Where lookupMany's touching pass leaves its sum, so the JIT cannot drop those loads. */
  private touchedSink = 0;
  /** The WebAssembly probe kernel over this table's memory (src/flow/probe.wat), or null: JS passes. */
  private readonly kernel: ProbeKernel | null;
  /** The kernel's scratch in the table's memory: hashes in, handles out (views and byte offsets). */
  private readonly kernelHashes: Uint32Array;
  private readonly kernelHandles: Int32Array;
  private readonly kernelHashesAt: number;
  private readonly kernelHandlesAt: number;
  /** A key rebuilt from a record (validate). */
  private readonly scratchKey = new Uint32Array(W);

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
    if (options.probeKernel !== undefined && !(FLOW_PROBE_KERNELS as readonly string[]).includes(options.probeKernel)) {
      throw new RangeError(`flow table probeKernel must be one of ${FLOW_PROBE_KERNELS.join(', ')}, got ${String(options.probeKernel)}`);
    }
    this.capacity = capacity;
    this.whenFull = whenFull;
    this.rstTimeout = rstTimeout;
    this.evictSample = evictSample;
    this.counters = new Float64Array(FLOW_COUNTER_COUNT);

    // At least 2 slots: a shift of 32 would be a shift of 0 in JS.
    let bits = 1;
    while (1 << bits < capacity / maxLoad) bits++;
    this.slotCount = 1 << bits;
    this.maxLoad = maxLoad;
    const active = Math.min(bits, INITIAL_SLOT_BITS);
    this.activeSlots = 1 << active;
    this.slotMask = this.activeSlots - 1;
    this.slotShift = 32 - active;
    this.growAt = this.activeSlots === this.slotCount ? Infinity : Math.floor(this.activeSlots * Math.min(maxLoad, GROW_LOAD));
    let hb = 1;
    while (1 << hb <= capacity) hb++; // handle + 1 <= capacity fits
    this.handleBits = hb;
    this.handleMask = (1 << hb) - 1;
    this.tagMask = hb >= 32 ? 0 : 2 ** (32 - hb) - 1;

    // One buffer: the hot records, then the cold ones (both start on a line boundary), then (in a
    // WebAssembly memory) the index and the probe kernel's scratch.
    const { buffer, offset, slots, kernel } = allocateTable(2 * capacity * FLOW_RECORD_SIZE, this.slotCount * 4, capacity * FLOW_STATE_WORDS * 4, (options.probeKernel ?? 'wasm') === 'wasm');
    const words = capacity * FLOW_RECORD_WORDS;
    const cold = offset + capacity * FLOW_RECORD_SIZE;
    this.hotWords = new Uint32Array(buffer, offset, words);
    this.hotInts = new Int32Array(buffer, offset, words);
    this.hotFloats = new Float64Array(buffer, offset, words / 2);
    this.coldWords = new Uint32Array(buffer, cold, words);
    this.coldInts = new Int32Array(buffer, cold, words);
    this.coldFloats = new Float64Array(buffer, cold, words / 2);
    this.kernel = kernel;
    if (slots >= 0) {
      this.slots = new Uint32Array(buffer, slots, this.slotCount);
      this.kernelHashesAt = slots + this.slotCount * 4;
      this.kernelHandlesAt = this.kernelHashesAt + 4 * KERNEL_CHUNK;
      this.kernelHashes = new Uint32Array(buffer, this.kernelHashesAt, KERNEL_CHUNK);
      this.kernelHandles = new Int32Array(buffer, this.kernelHandlesAt, KERNEL_CHUNK);
    } else {
      this.slots = new Uint32Array(this.slotCount);
      this.kernelHashesAt = 0;
      this.kernelHandlesAt = 0;
      this.kernelHashes = new Uint32Array(0);
      this.kernelHandles = new Int32Array(0);
    }
    if (slots >= 0) {
      const hashesAt = this.kernelHandlesAt + 4 * KERNEL_CHUNK;
      this.slotHashes = new Uint32Array(buffer, hashesAt, this.slotCount);
      this.states = new Int32Array(buffer, hashesAt + this.slotCount * 4, capacity * FLOW_STATE_WORDS);
    } else {
      this.slotHashes = new Uint32Array(this.slotCount);
      this.states = new Int32Array(capacity * FLOW_STATE_WORDS);
    }
    // Before any page is touched: 2 MiB pages where the kernel has them on request (THP
    // "madvise"), so first touches cost a fault per 2 MiB instead of per 4 KiB and random probes
    // miss the TLB less (native-shim; nothing happens without it). Not for the first 2 MiB of each
    // region (hot records, cold records, index, slot hashes), which the bump pointer and the
    // growing index fill first: a table of a few thousand flows then faults in the few 4 KiB pages
    // it uses (~12 µs each here) rather than four whole huge pages (~4 ms each to clear).
    adviseBeyondPrefix(this.hotWords);
    adviseBeyondPrefix(this.coldWords);
    adviseBeyondPrefix(this.slots);
    adviseBeyondPrefix(this.slotHashes);
    // Everything starts zeroed (free state, empty index): nothing to write until an entry is used.
    this.freeCount = capacity;
  }

  /** Where lookupMany's index and record passes run: 'wasm' (the kernel) or 'js'. */
  get probeKernel(): FlowProbeKernel {
    return this.kernel !== null ? 'wasm' : 'js';
  }

  /** Live entries (alias of `count`, for Map-like callers). */
  get size(): number {
    return this.count;
  }

  /** Bytes the table holds: the records' buffer (with its alignment slack), index and counters. */
  get memorySize(): number {
    // (with a kernel, the index, its hashes and the state words are in the records' buffer)
    const own = (a: Uint32Array | Int32Array): number => (a.buffer === this.hotWords.buffer ? 0 : a.byteLength);
    return this.hotWords.buffer.byteLength + own(this.slots) + own(this.slotHashes) + own(this.states) + this.counters.byteLength;
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
    return this.hotInts[(h << RS) + H_ACTION]!;
  }
  /** Policy generation entry h was installed (or last rewritten) under. */
  generationOf(h: number): number {
    return this.hotWords[(h << RS) + H_GENERATION]!;
  }
  /** Caller's word of entry h (0 at insert). */
  userDataOf(h: number): number {
    return this.hotInts[(h << RS) + H_USER_DATA]!;
  }
  /** Handle of the other entry of h's pair, -1 for a single entry. */
  peerOf(h: number): number {
    return this.coldInts[(h << RS) + C_PEER]!;
  }
  /** Packets counted on entry h (this direction only). */
  packetsOf(h: number): number {
    return this.hotWords[(h << RS) + H_PACKETS]! + this.coldWords[(h << RS) + C_PACKETS_HIGH]! * TWO_32;
  }
  /** Bytes counted on entry h (this direction only). */
  bytesOf(h: number): number {
    return this.hotWords[(h << RS) + H_BYTES]! + this.coldWords[(h << RS) + C_BYTES_HIGH]! * TWO_32;
  }
  /** Packet-clock time of the latest packet counted on entry h (its insert time until then). */
  lastSeenOf(h: number): number {
    return this.hotFloats[(h << FS) + HF_LAST_SEEN]!;
  }
  /** Packet-clock time entry h was inserted. */
  createdAtOf(h: number): number {
    return this.coldFloats[(h << FS) + CF_CREATED]!;
  }
  /** Idle timeout of entry h in seconds. */
  ttlOf(h: number): number {
    return this.hotFloats[(h << FS) + HF_TTL]!;
  }
  /** OR of the TCP flags counted on entry h. */
  tcpFlagsOf(h: number): number {
    return (this.hotInts[(h << RS) + H_STATE]! >>> 8) & 0xff;
  }
  /** State bits of entry h: FLOW_STATE_FREE, or FLOW_STATE_LIVE | FLOW_STATE_CLOSING. */
  stateOf(h: number): number {
    return this.hotInts[(h << RS) + H_STATE]! & 0xff;
  }
  /** The caller's hash entry h was installed with. */
  hashOf(h: number): number {
    return this.coldWords[(h << RS) + C_HASH]!;
  }
  /**
   * Entry h's own expiry: lastSeen + ttl, or once the pair is closing the cut expiry both
   * entries share.
   */
  ownExpiryOf(h: number): number {
    return (this.hotInts[(h << RS) + H_STATE]! & FLOW_STATE_CLOSING) !== 0
      ? this.coldFloats[(h << FS) + CF_CLOSE_EXPIRY]!
      : this.hotFloats[(h << FS) + HF_LAST_SEEN]! + this.hotFloats[(h << FS) + HF_TTL]!;
  }
  /**
   * The packet-clock second after which h's pair is dead: the later of the two entries' own
   * expiries (reads the peer: for dumps and tests; lookup reads the peer only when it must).
   */
  expiryOf(h: number): number {
    const e = this.ownExpiryOf(h);
    const p = this.coldInts[(h << RS) + C_PEER]!;
    if (p < 0) return e;
    const pe = this.ownExpiryOf(p);
    return pe > e ? pe : e;
  }
  /** Rewrite the action of live entry h (resimulation with an unchanged verdict). */
  setAction(h: number, action: number): void {
    this.hotInts[(h << RS) + H_ACTION] = action;
  }
  /** Rewrite the generation of live entry h. */
  setGeneration(h: number, generation: number): void {
    this.hotWords[(h << RS) + H_GENERATION] = generation;
  }
  /** Set the caller's word of live entry h. */
  /** The owner id of live entry h (0: none). */
  ownerOf(h: number): number {
    return this.coldInts[(h << RS) + C_OWNER]!;
  }

  /** Name the owner of live entry h's per-flow state (> 0), so its removal is reported; 0 takes it back. */
  setOwner(h: number, owner: number): void {
    this.coldInts[(h << RS) + C_OWNER] = owner;
  }

  /** Start a new window for insertedSince. */
  clearInsertMarks(): void {
    this.insertMarks.fill(0);
  }

  /** Whether an entry whose hash is `hash` may have been installed since clearInsertMarks (false: none was). */
  insertedSince(hash: number): boolean {
    const b = hash & (INSERT_MARK_BITS - 1);
    return (this.insertMarks[b >>> 5]! & (1 << (b & 31))) !== 0;
  }

  /** Forget the removal rows (the owner has read them). */
  clearRemovals(): void {
    this.removalCount = 0;
  }

  setUserData(h: number, value: number): void {
    this.hotInts[(h << RS) + H_USER_DATA] = value;
  }

  // ---- fast path --------------------------------------------------------------------------------

  /**
   * Handle of the live entry for the key, or -1. A pair found dead (both expiries < now) is
   * removed (counted `expired`) and the lookup misses. Reads the index and the hot record (the
   * cold one only for a wide key, a closing entry or when the entry's own expiry has passed).
   */
  lookup(keys: Uint32Array, k: number, hash: number, now: number): number {
    const c = this.counters;
    c[C_LOOKUPS]++;
    const h = this.find(keys, k, hash);
    if (h < 0) return -1;
    if (this.ownExpiryOf(h) < now && !this.peerAlive(h, now)) {
      c[C_EXPIRED] += this.removeFlow(h, this.deathReason(h, FLOW_REMOVED_EXPIRED));
      return -1;
    }
    c[C_HITS]++;
    return h;
  }

  /**
   * `lookup` for a selection of a batch's frames: for j < count, frame i = idx[j] has its key at
   * keys[i * FLOW_KEY_WORDS], its hash at hashes[i] and its packet time at times[i]; the answer
   * goes to out[i]: the handle of the live entry, -1 when there is none, or FLOW_RECHECK when the
   * entry is expired at times[i] as the table stands. Returns the number of handles given.
   *
   * Nothing is removed here. An expired entry may still be alive for frame i once the caller has
   * touched it for an earlier frame of the batch (a touch moves lastSeen on), so its fate is the
   * caller's to settle in frame order: look a FLOW_RECHECK frame up again with `lookupAgain`
   * after the touches of the frames before it, which removes the entry if it is still expired
   * (counted `expired`). After a `lookupAgain` that removes entries (count falls) or a touch with
   * a RST on, the rest of the batch must be looked up again one by one as well: a later frame's
   * handle may name a removed entry, or one the RST cut. (Removing here, as this did until
   * 2026-12-02, made a batch differ from frame-by-frame processing: a reply admitted by a flow
   * that an earlier frame of the same batch had just refreshed was dropped, and the earlier
   * frame's touch then wrote into a freed record.) Without touches in between this gives the same answers
   * and counters as calling `lookup` for j = 0..count-1 in order (`lookupAgain` takes back what
   * was counted here for the frames it looks up again).
   *
   * It is faster than one `lookup` per frame on tables larger than the cache: the first pass walks
   * every frame's probe run comparing tags only (a miss is decided there: nothing is inserted
   * during the call), the second touches each candidate's hot record, so the cache misses of the
   * whole batch overlap instead of being paid one frame after another (JS has no prefetch
   * instruction; independent loads in a tight loop are the next best thing); the third compares
   * keys and expiries (`confirm`), re-probing only when a candidate's key differs (equal tags).
   * The lines touched by a batch stay in L2 for the third pass. Tables of up to
   * LOOKUP_MANY_DIRECT entries live in L2 anyway and are probed frame by frame.
   *
   * The first two passes run in WebAssembly when the table has its kernel (src/flow/probe.wat;
   * option `probeKernel`, default 'wasm'), KERNEL_CHUNK frames per call: the hashes are copied
   * into the kernel's scratch in the table's memory, its handles read back. What bounds these
   * passes is how many of their loads are in flight at once, and the JIT's code for the same
   * loops carries map checks, typed-array base and length reloads and an interrupt check per
   * iteration (30-odd instructions), so fewer iterations fit the core's out-of-order window; an
   * iteration of the kernel is a handful of instructions. Measured on acl-hit with paired passes
   * in one process (12 of 12 won each): 1.20x with 64k flows, 1.35x with 1M. The JavaScript
   * passes remain for probeKernel 'js' and for an engine without WebAssembly; both give the
   * same answers (tests run both).
   */
  lookupMany(keys: Uint32Array, idx: Int32Array, count: number, hashes: Uint32Array, times: Float64Array, out: Int32Array): number {
    let hits = 0;
    let deferred = 0;
    if (this.capacity <= LOOKUP_MANY_DIRECT) {
      // Records and index stay in L2: the first two passes would only add work.
      for (let j = 0; j < count; j++) {
        const i = idx[j]!;
        let h = this.find(keys, i * W, hashes[i]!);
        if (h >= 0) {
          const now = times[i]!;
          if (this.ownExpiryOf(h) < now && !this.peerAlive(h, now)) {
            deferred++;
            h = FLOW_RECHECK;
          } else hits++;
        }
        out[i] = h;
      }
      const c = this.counters;
      c[C_LOOKUPS] += count - deferred;
      c[C_HITS] += hits;
      return hits;
    }
    const kernel = this.kernel;
    if (kernel !== null) {
      // The index and record passes in WebAssembly (src/flow/probe.wat), a chunk at a time: hashes
      // into its scratch, handles back out; then the compare below, per frame, in the same order.
      const kh = this.kernelHashes;
      const kd = this.kernelHandles;
      for (let base = 0; base < count; base += KERNEL_CHUNK) {
        const m = count - base < KERNEL_CHUNK ? count - base : KERNEL_CHUNK;
        for (let jj = 0; jj < m; jj++) kh[jj] = hashes[idx[base + jj]!]!;
        this.touchedSink = kernel(this.kernelHashesAt, this.kernelHandlesAt, m, this.slots.byteOffset, this.slotShift, this.slotMask, this.handleBits, this.tagMask, this.handleMask, this.hotWords.byteOffset);
        for (let jj = 0; jj < m; jj++) {
          const i = idx[base + jj]!;
          const h = this.confirm(keys, i * W, kd[jj]!, hashes[i]!, times[i]!);
          if (h === FLOW_RECHECK) deferred++;
          else if (h >= 0) hits++;
          out[i] = h;
        }
      }
    } else {
      const slots = this.slots;
      const hw = this.hotWords;
      const mask = this.slotMask;
      const shift = this.slotShift;
      const hb = this.handleBits;
      const hm = this.handleMask;
      const tm = this.tagMask;
      for (let j = 0; j < count; j++) {
        const i = idx[j]!;
        const hs = hashes[i]!;
        const tag = hs & tm;
        let s = Math.imul(hs, FIB) >>> shift;
        let v = slots[s]!;
        while (v !== 0 && v >>> hb !== tag) {
          s = (s + 1) & mask;
          v = slots[s]!;
        }
        out[i] = (v & hm) - 1;
      }
      let touched = 0;
      for (let j = 0; j < count; j++) {
        const h = out[idx[j]!]!;
        if (h >= 0) touched += hw[h << RS]!;
      }
      this.touchedSink = touched;
      for (let j = 0; j < count; j++) {
        const i = idx[j]!;
        const h = this.confirm(keys, i * W, out[i]!, hashes[i]!, times[i]!);
        if (h === FLOW_RECHECK) deferred++;
        else if (h >= 0) hits++;
        out[i] = h;
      }
    }
    const c = this.counters;
    c[C_LOOKUPS] += count - deferred;
    c[C_HITS] += hits;
    return hits;
  }

  /**
   * lookupMany's last pass for one frame: `h` is the handle the index walk stopped at (the first
   * slot with the key's tag, -1 for none), its record line already on its way. The key compared
   * (walking the run on if another key shares the tag), then the expiry: the entry, -1, or
   * FLOW_RECHECK for an entry that looks expired (left in place: see lookupMany).
   */
  private confirm(keys: Uint32Array, k: number, h: number, hash: number, now: number): number {
    if (h < 0) return -1;
    const hw = this.hotWords;
    const hi = this.hotInts;
    const hf = this.hotFloats;
    // matches(), inline: the hot words, then the wide words (cold) or the probe's zeros.
    let b = h << RS;
    let st = hi[b + H_STATE]!;
    let same =
      st !== FLOW_STATE_FREE &&
      hw[b] === keys[k] &&
      hw[b + 1] === keys[k + 4] &&
      hw[b + 2] === keys[k + 8] &&
      hw[b + 3] === keys[k + 9] &&
      hw[b + 4] === keys[k + 10] &&
      hw[b + 5] === keys[k + 11];
    if (same) same = (st & STATE_WIDE) === 0 ? (keys[k + 1]! | keys[k + 2]! | keys[k + 3]! | keys[k + 5]! | keys[k + 6]! | keys[k + 7]!) === 0 : this.matches(h, keys, k);
    if (!same) {
      // equal tags, another key: walk the run for this one
      h = this.find(keys, k, hash);
      if (h < 0) return -1;
      b = h << RS;
      st = hi[b + H_STATE]!;
    }
    const e = (st & FLOW_STATE_CLOSING) !== 0 ? this.coldFloats[(h << FS) + CF_CLOSE_EXPIRY]! : hf[(h << FS) + HF_LAST_SEEN]! + hf[(h << FS) + HF_TTL]!;
    return e < now && !this.peerAlive(h, now) ? FLOW_RECHECK : h;
  }

  /**
   * Look a frame of a lookupMany call up again (see there: a FLOW_RECHECK frame, or any frame
   * after a removal or a RST in its batch): `lookup`, with what lookupMany counted for it, `given`
   * being its answer there, taken back, so every frame is counted once.
   */
  lookupAgain(keys: Uint32Array, k: number, hash: number, now: number, given: number): number {
    if (given !== FLOW_RECHECK) {
      const c = this.counters;
      c[C_LOOKUPS]--;
      if (given >= 0) c[C_HITS]--;
    }
    return this.lookup(keys, k, hash, now);
  }

  /** Handle of the entry for the key regardless of expiry, or -1; no counter, no side effect. */
  find(keys: Uint32Array, k: number, hash: number): number {
    const slots = this.slots;
    const mask = this.slotMask;
    const hb = this.handleBits;
    const tag = hash & this.tagMask;
    let s = Math.imul(hash | 0, FIB) >>> this.slotShift;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) return -1;
      if (v >>> hb === tag) {
        const h = (v & this.handleMask) - 1;
        if (this.matches(h, keys, k)) return h;
      }
      s = (s + 1) & mask;
    }
  }

  /**
   * Whether live entry h holds the 12-word key at keys[k]: the six hot words, then either the
   * six cold ones (a wide entry) or the probe's own (a narrow entry's are zero).
   */
  private matches(h: number, keys: Uint32Array, k: number): boolean {
    const hw = this.hotWords;
    const b = h << RS;
    const st = this.hotInts[b + H_STATE]!;
    if (
      st === FLOW_STATE_FREE ||
      hw[b] !== keys[k] ||
      hw[b + 1] !== keys[k + 4] ||
      hw[b + 2] !== keys[k + 8] ||
      hw[b + 3] !== keys[k + 9] ||
      hw[b + 4] !== keys[k + 10] ||
      hw[b + 5] !== keys[k + 11]
    ) {
      return false;
    }
    if ((st & STATE_WIDE) === 0) return (keys[k + 1]! | keys[k + 2]! | keys[k + 3]! | keys[k + 5]! | keys[k + 6]! | keys[k + 7]!) === 0;
    const cw = this.coldWords;
    return cw[b + 1] === keys[k + 1] && cw[b + 2] === keys[k + 2] && cw[b + 3] === keys[k + 3] && cw[b + 4] === keys[k + 5] && cw[b + 5] === keys[k + 6] && cw[b + 6] === keys[k + 7];
  }

  /**
   * Count one packet of `bytes` bytes (< 2^32) with TCP flags `flags` (0 for non-TCP) on a live
   * entry. Writes only h's hot record: lastSeen moves to now (never backwards, so an out-of-order
   * timestamp cannot shorten a flow), and with it the entry's own expiry, which keeps the whole
   * pair alive. A RST cuts both entries to at most now + rstTimeout and marks the pair closing,
   * after which packets no longer extend the expiry. The 32-bit packet and byte counts carry into
   * the cold record when they wrap.
   */
  touch(h: number, now: number, bytes: number, flags: number): void {
    const hw = this.hotWords;
    const hi = this.hotInts;
    const hf = this.hotFloats;
    const b = h << RS;
    const packets = (hw[b + H_PACKETS]! + 1) >>> 0;
    hw[b + H_PACKETS] = packets;
    if (packets === 0) this.coldWords[b + C_PACKETS_HIGH]!++;
    const sum = hw[b + H_BYTES]! + bytes;
    if (sum >= TWO_32) {
      hw[b + H_BYTES] = sum - TWO_32;
      this.coldWords[b + C_BYTES_HIGH]!++;
    } else hw[b + H_BYTES] = sum;
    hi[b + H_STATE] = hi[b + H_STATE]! | ((flags & 0xff) << 8);
    if ((flags & TCP_FLAG_RST) !== 0) this.cut(h, now);
    const f = (h << FS) + HF_LAST_SEEN;
    if (now > hf[f]!) hf[f] = now;
  }

  // ---- slow path: install -----------------------------------------------------------------------

  /**
   * Install a single entry; returns its handle, or -1 when the table is full (counted `full`).
   * An existing entry for the key is replaced, with its peer (counted `replaced`).
   */
  insert(keys: Uint32Array, k: number, hash: number, now: number, ttl: number, action: number, generation: number, absent = false): number {
    const old = absent ? -1 : this.find(keys, k, hash);
    if (old >= 0) this.counters[C_REPLACED] += this.removeFlow(old, FLOW_REMOVED_REPLACED);
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
   * fAction is made. `forwardAbsent`: the caller has just looked the forward key up and found
   * nothing (a new flow), so it is not looked for again.
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
    forwardAbsent = false,
  ): number {
    if ((fHash | 0) === (rHash | 0) && keysEqual(fKeys, fk, rKeys, rk)) {
      return this.insert(fKeys, fk, fHash, now, ttl, fAction, generation, forwardAbsent);
    }
    const c = this.counters;
    let old = forwardAbsent ? -1 : this.find(fKeys, fk, fHash);
    if (old >= 0) c[C_REPLACED] += this.removeFlow(old, FLOW_REMOVED_REPLACED);
    old = this.find(rKeys, rk, rHash);
    if (old >= 0) c[C_REPLACED] += this.removeFlow(old, FLOW_REMOVED_REPLACED);
    if (this.freeCount < 2 && !this.makeRoom(fHash, now, 2)) {
      c[C_FULL]++;
      return -1;
    }
    const f = this.allocate(fKeys, fk, fHash, now, ttl, fAction, generation);
    const r = this.allocate(rKeys, rk, rHash, now, ttl, rAction, generation);
    const ci = this.coldInts;
    ci[(f << RS) + C_PEER] = r;
    ci[(r << RS) + C_PEER] = f;
    c[C_INSERTED] += 2;
    return f;
  }

  // ---- removal ----------------------------------------------------------------------------------

  /** Remove a live entry and its peer; returns the entries removed (0 if h is not live). */
  remove(h: number): number {
    if (!this.isLive(h)) return 0;
    const n = this.removeFlow(h, FLOW_REMOVED_REMOVED);
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
    const used = this.bump; // handles at or above were never used
    const hi = this.hotInts;
    let n = budget < used ? budget : used;
    let hand = this.sweepHand < used ? this.sweepHand : 0;
    let removed = 0;
    while (n-- > 0) {
      const h = hand;
      hand = hand + 1 === used ? 0 : hand + 1;
      if (hi[(h << RS) + H_STATE] !== FLOW_STATE_FREE && this.ownExpiryOf(h) < now && !this.peerAlive(h, now)) removed += this.removeFlow(h, this.deathReason(h, FLOW_REMOVED_SWEPT));
    }
    this.sweepHand = hand;
    this.counters[C_EXPIRED] += removed;
    return removed;
  }

  /** Remove every entry (counted `removed`; the other counters keep their history). */
  clear(): void {
    this.counters[C_REMOVED] += this.count;
    const ci = this.coldInts;
    for (let h = 0; h < this.bump; h++) {
      if (this.hotInts[(h << RS) + H_STATE] !== FLOW_STATE_FREE && ci[(h << RS) + C_OWNER] !== 0) this.report(h, FLOW_REMOVED_CLEARED);
    }
    this.resetPool();
  }

  // ---- dumps (not hot) --------------------------------------------------------------------------

  /** Whether h names a live entry. */
  isLive(h: number): boolean {
    return Number.isInteger(h) && h >= 0 && h < this.capacity && this.hotInts[(h << RS) + H_STATE] !== FLOW_STATE_FREE;
  }

  /** Call fn(handle) for every live entry in handle order. fn may remove entries, not insert. */
  forEachEntry(fn: (handle: number) => void): void {
    for (let h = 0; h < this.bump; h++) if (this.hotInts[(h << RS) + H_STATE] !== FLOW_STATE_FREE) fn(h);
  }

  /** Copy entry h's key words into out at word offset o. */
  copyKey(h: number, out: Uint32Array, o: number): void {
    const b = h << RS;
    for (let i = 0; i < FLOW_HOT_KEY_WORDS.length; i++) out[o + FLOW_HOT_KEY_WORDS[i]!] = this.hotWords[b + FLOW_HOT_KEY + i]!;
    for (let i = 0; i < FLOW_COLD_KEY_WORDS.length; i++) out[o + FLOW_COLD_KEY_WORDS[i]!] = this.coldWords[b + FLOW_COLD_KEY + i]!;
  }

  /**
   * Check every invariant of the essay by brute force (tests and debugging; O(slots + capacity)).
   * Returns null when consistent, otherwise the first problem found.
   */
  validate(): string | null {
    const slots = this.slots;
    const key = this.scratchKey;
    const seen = new Uint8Array(this.capacity);
    let indexed = 0;
    for (let s = 0; s < this.slotCount; s++) {
      const v = slots[s]!;
      if (v === 0) continue;
      if (s >= this.activeSlots) return `slot ${s}: beyond the ${this.activeSlots} slots in use`;
      const h = (v & this.handleMask) - 1;
      if (h >= this.capacity) return `slot ${s}: handle ${h} out of range`;
      if (this.stateOf(h) === FLOW_STATE_FREE) return `slot ${s}: handle ${h} is free`;
      if (seen[h]) return `handle ${h} indexed twice`;
      seen[h] = 1;
      indexed++;
      if (v >>> this.handleBits !== (this.hashOf(h) & this.tagMask)) return `slot ${s}: stored tag differs from entry ${h}'s hash`;
      if (this.slotHashes[s] !== this.hashOf(h)) return `slot ${s}: slotHashes holds ${this.slotHashes[s]}, entry ${h}'s hash is ${this.hashOf(h)}`;
      // Reachability: no empty slot between the home slot and s.
      for (let t = this.home(this.hashOf(h)); t !== s; t = (t + 1) & this.slotMask) {
        if (slots[t] === 0) return `entry ${h} at slot ${s} is cut off from its home by empty slot ${t}`;
      }
      this.copyKey(h, key, 0);
      if (this.find(key, 0, this.hashOf(h)) !== h) return `entry ${h} not found by its own key`;
    }
    let live = 0;
    for (let h = 0; h < this.capacity; h++) {
      const st = this.hotInts[(h << RS) + H_STATE]!;
      if (st === FLOW_STATE_FREE) continue;
      if (h >= this.bump) return `entry ${h} is live above the bump pointer ${this.bump}`;
      live++;
      if ((st & 0xff & ~(FLOW_STATE_LIVE | FLOW_STATE_CLOSING)) !== 0 || (st & FLOW_STATE_LIVE) === 0 || (st & ~STATE_WIDE) >>> 16 !== 0) return `entry ${h}: bad state word ${st}`;
      let wide = 0;
      for (let i = 0; i < FLOW_COLD_KEY_WORDS.length; i++) wide |= this.coldWords[(h << RS) + FLOW_COLD_KEY + i]!;
      if ((wide !== 0) !== ((st & STATE_WIDE) !== 0)) return `entry ${h}: wide bit ${(st & STATE_WIDE) !== 0} but cold key words ${wide !== 0 ? 'non-zero' : 'zero'}`;
      if (!seen[h]) return `live entry ${h} not indexed`;
      const p = this.peerOf(h);
      if (p >= 0) {
        if (p === h) return `entry ${h} is its own peer`;
        if (p >= this.capacity || this.stateOf(p) === FLOW_STATE_FREE) return `entry ${h}'s peer ${p} is free`;
        if (this.peerOf(p) !== h) return `entry ${h}'s peer ${p} names ${this.peerOf(p)}`;
        const closing = this.stateOf(h) & FLOW_STATE_CLOSING;
        if (closing !== (this.stateOf(p) & FLOW_STATE_CLOSING)) return `pair ${h}/${p}: only one side is closing`;
        if (closing && this.ownExpiryOf(h) !== this.ownExpiryOf(p)) return `closing pair ${h}/${p}: expiries differ`;
      }
    }
    if (live !== indexed) return `live ${live} != indexed ${indexed}`;
    if (live !== this.count) return `live ${live} != count ${this.count}`;
    let free = 0;
    for (let h = this.freeHead; h >= 0; h = this.coldInts[(h << RS) + C_NEXT_FREE]!) {
      if (h >= this.capacity) return `free list holds handle ${h} out of range`;
      if (this.stateOf(h) !== FLOW_STATE_FREE) return `free list holds live handle ${h}`;
      if (h >= this.bump) return `free list holds handle ${h}, above the bump pointer ${this.bump}`;
      if (++free > this.freeCount) return 'free list longer than freeCount (a cycle?)';
    }
    if (free + this.capacity - this.bump !== this.freeCount) return `free list has ${free} handles and ${this.capacity - this.bump} were never used, freeCount ${this.freeCount}`;
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
   * Grow the slots in use and re-place every live entry (off the per-packet path: at most 8
   * times over a table's life, each O(handles ever used)). The entries come from the
   * records (each keeps its full hash), not from a copy of the old slots, so growing needs no
   * memory beyond the doubled index: on this project's VM a fresh page costs ~12 µs, and a copy
   * of a 16 MiB index cost more than the re-placing.
   */
  private growIndex(): void {
    const slots = this.slots;
    const hashes = this.slotHashes;
    slots.fill(0, 0, this.activeSlots);
    hashes.fill(0, 0, this.activeSlots);
    // Doubling while small; past GROW_STEP_LIMIT, straight to full size (one more re-placing of at
    // most ~49k entries), so that a large table pays for no series of rehashes of its millions of
    // entries (each a random write into an index far beyond the cache).
    const active = this.activeSlots < GROW_STEP_LIMIT ? this.activeSlots * 2 : this.slotCount;
    this.activeSlots = active;
    this.slotMask = active - 1;
    this.slotShift = 1 + Math.clz32(active); // 32 - log2(active)
    this.growAt = active === this.slotCount ? Infinity : Math.floor(active * Math.min(this.maxLoad, GROW_LOAD));
    const mask = this.slotMask;
    const hi = this.hotInts;
    const cw = this.coldWords;
    const tm = this.tagMask;
    const tagUnit = 2 ** this.handleBits;
    for (let h = 0; h < this.bump; h++) {
      const b = h << RS;
      if (hi[b + H_STATE] === FLOW_STATE_FREE) continue;
      const hash = cw[b + C_HASH]!;
      let s = this.home(hash);
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = ((hash & tm) * tagUnit + h + 1) >>> 0;
      hashes[s] = hash;
    }
  }

  /** Whether h's peer keeps the pair alive at `now` (h's own expiry has passed). Rare. */
  private peerAlive(h: number, now: number): boolean {
    const p = this.coldInts[(h << RS) + C_PEER]!;
    return p >= 0 && !(this.ownExpiryOf(p) < now);
  }

  /** RST on h: both entries closing, both expiries cut to min(pair expiry, now + rstTimeout). */
  private cut(h: number, now: number): void {
    const hi = this.hotInts;
    const cf = this.coldFloats;
    let e = this.expiryOf(h);
    const cut = now + this.rstTimeout;
    if (e > cut) e = cut;
    hi[(h << RS) + H_STATE] = hi[(h << RS) + H_STATE]! | FLOW_STATE_CLOSING;
    cf[(h << FS) + CF_CLOSE_EXPIRY] = e;
    const p = this.coldInts[(h << RS) + C_PEER]!;
    if (p >= 0) {
      hi[(p << RS) + H_STATE] = hi[(p << RS) + H_STATE]! | FLOW_STATE_CLOSING;
      cf[(p << FS) + CF_CLOSE_EXPIRY] = e;
    }
  }

  /** Every used record free again, no free list, the bump pointer at 0, the index empty (clear). */
  private resetPool(): void {
    const hi = this.hotInts;
    for (let h = 0; h < this.bump; h++) hi[(h << RS) + H_STATE] = FLOW_STATE_FREE;
    this.bump = 0;
    this.freeHead = -1;
    this.freeCount = this.capacity;
    this.slots.fill(0, 0, this.activeSlots);
    this.slotHashes.fill(0, 0, this.activeSlots);
    this.count = 0;
    this.evictHand = 0;
    this.sweepHand = 0;
  }

  /** Take a free handle (the caller checked freeCount), fill its records and index it. */
  private allocate(keys: Uint32Array, k: number, hash: number, now: number, ttl: number, action: number, generation: number): number {
    if (this.count >= this.growAt) this.growIndex();
    const hw = this.hotWords;
    const hi = this.hotInts;
    const hf = this.hotFloats;
    const cw = this.coldWords;
    const ci = this.coldInts;
    let h = this.freeHead;
    if (h >= 0) this.freeHead = ci[(h << RS) + C_NEXT_FREE]!;
    else h = this.bump++;
    const b = h << RS;
    const f = h << FS;
    this.freeCount--;
    hw[b] = keys[k]!;
    hw[b + 1] = keys[k + 4]!;
    hw[b + 2] = keys[k + 8]!;
    hw[b + 3] = keys[k + 9]!;
    hw[b + 4] = keys[k + 10]!;
    hw[b + 5] = keys[k + 11]!;
    cw[b + 1] = keys[k + 1]!;
    cw[b + 2] = keys[k + 2]!;
    cw[b + 3] = keys[k + 3]!;
    cw[b + 4] = keys[k + 5]!;
    cw[b + 5] = keys[k + 6]!;
    cw[b + 6] = keys[k + 7]!;
    const wide = (keys[k + 1]! | keys[k + 2]! | keys[k + 3]! | keys[k + 5]! | keys[k + 6]! | keys[k + 7]!) !== 0;
    hi[b + H_STATE] = wide ? FLOW_STATE_LIVE | STATE_WIDE : FLOW_STATE_LIVE;
    hi[b + H_ACTION] = action;
    hf[f + HF_LAST_SEEN] = now;
    hf[f + HF_TTL] = ttl;
    hw[b + H_PACKETS] = 0;
    hw[b + H_BYTES] = 0;
    hw[b + H_GENERATION] = generation;
    hi[b + H_USER_DATA] = 0;
    cw[b + C_HASH] = hash;
    ci[b + C_PEER] = -1;
    ci[b + C_NEXT_FREE] = -1;
    cw[b + C_PACKETS_HIGH] = 0;
    cw[b + C_BYTES_HIGH] = 0;
    ci[b + C_OWNER] = 0;
    this.coldFloats[f + CF_CREATED] = now;
    this.coldFloats[f + CF_CLOSE_EXPIRY] = 0;
    // The index is never more than maxLoad full (grown above when needed), so the probe ends.
    const slots = this.slots;
    const mask = this.slotMask;
    let s = this.home(hash);
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = ((hash & this.tagMask) * 2 ** this.handleBits + h + 1) >>> 0;
    this.slotHashes[s] = hash;
    const mb = hash & (INSERT_MARK_BITS - 1);
    this.insertMarks[mb >>> 5] = this.insertMarks[mb >>> 5]! | (1 << (mb & 31));
    this.count++;
    return h;
  }

  /** Unindex and free h and its peer, reporting owned ones with `reason`; returns 1 or 2. Counting is the caller's. */
  private removeFlow(h: number, reason: number): number {
    const ci = this.coldInts;
    const p = ci[(h << RS) + C_PEER]!;
    if (ci[(h << RS) + C_OWNER] !== 0) this.report(h, reason);
    if (p >= 0 && ci[(p << RS) + C_OWNER] !== 0) this.report(p, reason);
    this.release(h);
    if (p >= 0) {
      this.release(p);
      return 2;
    }
    return 1;
  }

  /** A dead entry's removal reason: `reason`, or closed when a RST had cut its pair. */
  private deathReason(h: number, reason: number): number {
    return (this.hotInts[(h << RS) + H_STATE]! & FLOW_STATE_CLOSING) !== 0 ? FLOW_REMOVED_CLOSED : reason;
  }

  /** Append owned entry h's removal row (before it is freed). */
  private report(h: number, reason: number): void {
    let rows = this.removals;
    let at = this.removalCount * FLOW_REMOVAL_WORDS;
    if (at + FLOW_REMOVAL_WORDS > rows.length) {
      const grown = new Int32Array(rows.length * 2);
      grown.set(rows);
      this.removals = rows = grown;
    }
    const ci = this.coldInts;
    const b = h << RS;
    rows[at + FLOW_REMOVAL_HANDLE] = h;
    rows[at + FLOW_REMOVAL_OWNER] = ci[b + C_OWNER]!;
    rows[at + FLOW_REMOVAL_REASON] = reason;
    rows[at + FLOW_REMOVAL_PEER] = ci[b + C_PEER]!;
    const st = this.states;
    const s = h * FLOW_STATE_WORDS;
    at += FLOW_REMOVAL_STATE;
    for (let w = 0; w < FLOW_STATE_WORDS; w++) rows[at + w] = st[s + w]!;
    this.removalCount++;
  }

  /** Unindex one live entry (backward-shift deletion) and push its handle on the free list. */
  private release(h: number): void {
    const slots = this.slots;
    const mask = this.slotMask;
    const hm = this.handleMask;
    const hashes = this.slotHashes;
    let i = this.home(this.coldWords[(h << RS) + C_HASH]!);
    while ((slots[i]! & hm) !== h + 1) i = (i + 1) & mask;
    // Walk the run after the hole; an entry moves back into the hole unless its home lies
    // cyclically in (hole, j], where moving it would put it before its home. (A slot keeps only
    // part of the hash: the home comes from slotHashes, beside the index.)
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const vj = slots[j]!;
      if (vj === 0) break;
      const homeJ = this.home(hashes[j]!);
      if (((j - homeJ) & mask) >= ((j - i) & mask)) {
        slots[i] = vj;
        hashes[i] = hashes[j]!;
        i = j;
      }
    }
    slots[i] = 0;
    const b = h << RS;
    this.hotInts[b + H_STATE] = FLOW_STATE_FREE;
    const ci = this.coldInts;
    ci[b + C_PEER] = -1;
    ci[b + C_NEXT_FREE] = this.freeHead;
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
    const hi = this.hotInts;
    const cap = this.bump; // the hand walks the handles ever used (freeCount < need: nearly all are live)
    while (this.freeCount < need) {
      let best = -1;
      let bestExpiry = Infinity;
      let s = this.home(hash);
      for (let i = 0; i < PROBE_SAMPLE; i++) {
        const v = slots[s]!;
        if (v === 0) break;
        const h = (v & this.handleMask) - 1;
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
        if (hi[(h << RS) + H_STATE] !== FLOW_STATE_FREE) {
          const e = this.expiryOf(h);
          if (e <= bestExpiry) {
            best = h;
            bestExpiry = e;
          }
        }
      }
      this.evictHand = hand;
      if (bestExpiry < now) this.counters[C_EXPIRED] += this.removeFlow(best, this.deathReason(best, FLOW_REMOVED_EXPIRED));
      else if (this.whenFull === 'evict-idle') this.counters[C_EVICTED] += this.removeFlow(best, FLOW_REMOVED_EVICTED);
      else return false;
    }
    return true;
  }
}

function keysEqual(a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
  for (let i = 0; i < W; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
