/**
 * WinNAT's external-port allocator: which source port (or ICMP echo identifier) an outbound
 * session gets on the host's external address. The NAT driver (src/nat/, wired into the slow path
 * later) asks for a port when it creates a session and gives it back when the session's flow pair
 * leaves the flow table (the table's removal rows, src/flow/table.ts, report that exactly once).
 * This module only books ports: it knows nothing of frames, flows or timeouts.
 *
 * Scope. One allocator per external address (the host's uplink address, the NetNat external
 * address). Protocols are separate spaces: TCP, UDP and ICMP query, where the echo identifier
 * plays the port (NAT_PROTO_TCP, NAT_PROTO_UDP, NAT_PROTO_ICMP; not IP protocol numbers). A
 * remote address is an IPv4 address as a u32 (WinNAT's NetNat prefixes are IPv4; a caller with
 * IPv6 remotes may pass a 32-bit digest: two remotes with one digest then share one port space,
 * which costs ports, never correctness).
 *
 * What is taken. A booking is the triple (protocol, external port, remote address). An external
 * port may be handed out again toward a DIFFERENT remote address, never twice toward the same
 * one: replies from the two remotes still reach their own sessions (the session key on the
 * outside is external port + remote), and the number of sessions is not capped by the range
 * size (16,384 ports toward each of many remotes). This is what VFP's SNAT is observed to do:
 * users see Windows reuse the same SNAT port toward different peers
 * (https://github.com/microsoft/SDN/issues/250). It is not RFC 4787's "port overloading"
 * (https://www.rfc-editor.org/rfc/rfc4787, §4.2.1), which would give one external port to two
 * sessions toward the same remote. The remote's port is not part of the triple: one external
 * port serves at most one session per remote address, whatever the remote port (the stricter
 * choice; WinNAT's filtering default is address-dependent, Get-NetNat's
 * TcpFilteringBehavior/UdpFilteringBehavior, https://learn.microsoft.com/en-us/powershell/module/netnat).
 *
 * The allowed set. Ports are handed out only from the host's dynamic port range
 * (`host.dynamicPortRange` of the topology, default 49152 + 16384: the IANA dynamic range,
 * Windows' default since Vista, Microsoft KB 929851; `netsh int ipv4 show dynamicportrange tcp`)
 * minus the ports of reserved chunks (below), for all three protocols alike. A port outside the
 * range is never handed out, not even to keep an internal port, so static mappings and host
 * services outside it never collide with a dynamic session (config/lint.ts warns about a static
 * mapping inside the range for the same reason, docker/for-win#3171).
 *
 * acquire(proto, internalPort, remote) returns an external port, or -1 when none can be given:
 *  1. Capacity: `size === capacity` -> -1 (the caller reports `table-full`). O(1).
 *  2. Exhausted remote: every allowed port is taken toward (proto, remote) -> -1 (below). O(1)
 *     once known.
 *  3. Port preservation (`preserve`, default on): if the internal port is in the allowed set and
 *     (proto, internalPort, remote) is free, it is returned. Windows keeps the source port when
 *     it can [I: WinNAT's algorithm is not documented; keeping the port is the common NAT
 *     behaviour RFC 4787 §4.2.1 calls port preservation, and what the emulator assumes].
 *  4. Otherwise the strategy scans the range for the first port free toward (proto, remote):
 *     'sequential' (default) starts at a cursor kept per protocol and moves the cursor past the
 *     port it hands out (preserved ports leave it alone): the classic ephemeral-port walk;
 *     'random' starts at a port drawn from a seeded Prng (src/base/bytes.ts), one draw per
 *     scan, and walks on from there: RFC 6056 §3.3.1's Algorithm 1, "simple port randomization"
 *     (https://www.rfc-editor.org/rfc/rfc6056). Both are deterministic: the same options, seed
 *     and sequence of calls give the same ports. The four combinations of `strategy` and
 *     `preserve` are all allowed: preserve + sequential (the default), sequential alone,
 *     preserve + random, random alone.
 * Cost: a hash probe for the preservation check and one per port the scan examines (`scanned`
 * counts those). A scan skips reserved chunks 64 ports at a time and stops at the first free
 * port, so it examines at most `available` ports: the worst case of a successful acquire is one
 * remote already holding all but one of the allowed ports, the free one just behind the cursor
 * (16,383 probes: 0.29 ms on this project's VM); with many remotes and the sequential cursor a
 * scan is one probe (1,000,000 acquires toward as many remotes: ~300 ns each, first page touches
 * included). When a scan finds nothing, the (proto, remote) pair is recorded as exhausted (when
 * `available` >= 64; below that a scan is at most 63 probes anyway) and later acquires toward it
 * are refused by one probe of that small set, until a release toward it (or a chunk release)
 * clears the mark.
 * So a run of refused acquires costs one scan then O(1) each: a refusal's scan is paid once per
 * release toward that remote, which is O(1) amortised per call (a per-remote count would make
 * the first refusal O(1) too, but costs 8 bytes per distinct remote, i.e. per entry when every
 * session has its own remote; the marks need only capacity / 64 slots, see Memory).
 *
 * release(proto, externalPort, remote) frees the triple and returns true; for a triple that is
 * not taken (a double release, or a port never handed out) it returns false and changes
 * nothing. That is the caller's bug: the NAT driver should count it (and a test should fail on
 * it), but the allocator's books stay right, so it does not throw in the middle of a batch.
 *
 * OutboundNAT chunks. HNS/VFP's SNAT (OutBoundNAT policies) reserves ports from the host's dynamic
 * range in blocks of 64 contiguous ports (kubernetes/website#17930; the SDN log collector
 * emulates it by reserving ten such ranges). `reserveChunk()` reserves the lowest free chunk and
 * returns its first port, or -1; chunks are aligned to 64 from the range start (chunk c is ports
 * start + 64c .. start + 64c + 63; a range whose count is not a multiple of 64 has a tail of
 * ports in no chunk, always available to acquire). A chunk is free when it is not reserved and no
 * port of it is taken toward any remote in any protocol (a reservation is for all protocols:
 * HNS reserves the TCP/UDP range). So a loaded range may have no free chunk: the emulator's
 * version of "exhaustion of the ephemeral range breaks policy creation". Ports of a reserved
 * chunk are never handed out by acquire (neither preserved nor scanned); `releaseChunk(first)`
 * gives the chunk back (false when `first` does not start a reserved chunk). What the caller does
 * with a chunk's ports is its business: this allocator does not book them per remote.
 *
 * Data layout. The taken triples live in an open-addressing table with linear probing over one
 * Uint32Array, two words per slot: word 0 the remote address, word 1 ((proto + 1) << 16) | port
 * (never 0, so 0 marks an empty slot; bits 18-31 are zero). No per-entry object, no Map or Set.
 * The slot count is ceil(capacity / maxLoad), not a power of two: a power of two would have cost
 * up to 2x for a capacity just above one (16.8 bytes per entry at the default 1,000,000). The home
 * slot is the high 26 bits of a murmur3-finalised mix of both words, scaled to the slot count by
 * one multiply (exact in a double: < 2^53). Deletion shifts the following run back (no
 * tombstones), so a probe's length depends only on the live entries, and a free-check that misses
 * ends at the very slot an insert uses. The exhausted marks are a second, small table of the same
 * kind (word 1 = proto + 1), sized for the most pairs that can be exhausted at once: each holds
 * `available` >= 64 triples, so at most capacity / 64. Chunks: a Uint8Array of reserved flags and
 * a Uint32Array of how many taken triples fall in each chunk.
 *
 * Memory. `memorySize` bytes, `bytesPerEntry` = memorySize / capacity: 8 / maxLoad for the main
 * table (10.67 at the default 0.75) plus 8 * 2 / 64 for the marks (0.25) plus the chunk arrays
 * (5 bytes per 64 ports): 10.92 bytes per triple at the default capacity of 1,000,000
 * (10,917,972 bytes, measured by the scale test).
 * Typed arrays come zeroed from the system and their pages are mapped on first touch, but the
 * home slots are spread over the whole table, so a few thousand sessions already touch most
 * pages: count the full size as resident.
 *
 * Invariants (checked by `validate()`).
 *  - Every taken triple is in the table exactly once, reachable from its home slot without
 *    crossing an empty slot; `size` is the number of occupied slots and never exceeds `capacity`.
 *  - Every taken port is in the range and outside the reserved chunks; no reserved chunk has a
 *    taken port; a chunk's use count is the number of taken triples (any proto, any remote) in it.
 *  - An exhausted mark for (proto, remote) exists only while every allowed port is taken toward
 *    it, and only when `available` >= 64 (so there are at most capacity / 64 of them). Marks are
 *    cleared by a release toward their pair and all at once by `releaseChunk` (`available`
 *    grows); `reserveChunk` cannot succeed while a mark exists (every unreserved chunk then has a
 *    taken port), so marks never go stale.
 *  - The sequential cursors are offsets in the range.
 *  - Nothing allocates per call: acquire, release, has, reserveChunk and releaseChunk use typed
 *    arrays and integers only (the constructor and validate allocate, and a protocol outside
 *    NAT_PROTO_* throws a RangeError: a programming error, checked because it is cheap).
 *
 * Thread ownership: one allocator per external address, owned by whoever owns the NAT state; no
 * locks. Not handled here: expiry (the flow table's), static mappings (the NAT driver keeps their
 * ports out of the range or checks `has`), excluded port ranges (`netsh ... excludedportrange`:
 * reserved chunks can approximate one), per-endpoint limits (OutBoundNAT's MaxPortPoolUsage).
 */
import { Prng } from '../base/bytes.js';

/** Protocol spaces (indices, not IP protocol numbers). */
export const NAT_PROTO_TCP = 0;
export const NAT_PROTO_UDP = 1;
/** ICMP query (echo): the identifier plays the port. */
export const NAT_PROTO_ICMP = 2;
export const NAT_PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export type NatProtocol = (typeof NAT_PROTOCOLS)[number];

export const NAT_PORT_STRATEGIES = ['sequential', 'random'] as const;
export type NatPortStrategy = (typeof NAT_PORT_STRATEGIES)[number];

/** The host's dynamic port range when the topology gives none (the same as config/topology.ts's default). */
export const NAT_DEFAULT_PORT_RANGE = { start: 49152, count: 16384 } as const;
export const NAT_DEFAULT_PORT_CAPACITY = 1_000_000;
/** Largest capacity: 32M triples (~350 MB); the slot count must stay <= 2^26 (see `home`). */
export const NAT_MAX_PORT_CAPACITY = 1 << 25;
export const NAT_DEFAULT_PORT_MAX_LOAD = 0.75;
/** Ports per OutboundNAT chunk. */
export const NAT_CHUNK_PORTS = 64;
/** Exhausted (proto, remote) pairs are remembered only when at least this many ports are available. */
export const NAT_EXHAUSTED_MIN_AVAILABLE = 64;

export interface NatPortAllocatorOptions {
  /** The dynamic port range: ports start .. start + count - 1 (default 49152 + 16384). */
  range?: { start: number; count: number };
  /** How a port is picked when the internal port cannot be kept (default 'sequential'). */
  strategy?: NatPortStrategy;
  /** Keep the internal port when it is in the range and free toward the remote (default true). */
  preserve?: boolean;
  /** Seed of the 'random' strategy's Prng (default 1). */
  seed?: number;
  /** Most triples taken at once (default 1,000,000). */
  capacity?: number;
  /** Highest load of the table at capacity, 0.5..0.9 (default 0.75). */
  maxLoad?: number;
}

const SLOT_WORDS = 2;
/** Home slot: the high 26 bits of the mix times slotCount / 2^26 (exact below 2^53). */
const HOME_BITS = 26;
const HOME_UNIT = 2 ** HOME_BITS;

/** murmur3's finaliser over the two key words (the second pre-multiplied by the golden ratio). */
function mix(w0: number, w1: number): number {
  let h = w0 ^ Math.imul(w1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Home slot of a key in a table of `n` slots, `scale` = n / 2^26. */
function homeOf(w0: number, w1: number, scale: number): number {
  return ((mix(w0, w1) >>> (32 - HOME_BITS)) * scale) | 0;
}

/** The slot holding (w0, w1), or ~slot of the empty slot where it would go. The table must have an empty slot. */
function probe(slots: Uint32Array, n: number, scale: number, w0: number, w1: number): number {
  let i = homeOf(w0, w1, scale);
  for (;;) {
    const t = slots[i * SLOT_WORDS + 1]!;
    if (t === 0) return ~i;
    if (t === w1 && slots[i * SLOT_WORDS]! === w0) return i;
    if (++i === n) i = 0;
  }
}

/** Empty slot i, shifting the rest of its run back so that every entry stays reachable from its home. */
function removeAt(slots: Uint32Array, n: number, scale: number, i: number): void {
  let hole = i;
  let j = i;
  for (;;) {
    if (++j === n) j = 0;
    const t = slots[j * SLOT_WORDS + 1]!;
    if (t === 0) break;
    const w0 = slots[j * SLOT_WORDS]!;
    const k = homeOf(w0, t, scale);
    // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
    const stays = hole <= j ? k > hole && k <= j : k > hole || k <= j;
    if (!stays) {
      slots[hole * SLOT_WORDS] = w0;
      slots[hole * SLOT_WORDS + 1] = t;
      hole = j;
    }
  }
  slots[hole * SLOT_WORDS] = 0;
  slots[hole * SLOT_WORDS + 1] = 0;
}

/** validate's check of the entry at slot s: no empty slot between its home and s, and a probe for its key ends at s (no duplicate before it). */
function checkReachable(slots: Uint32Array, n: number, scale: number, s: number, what: string): string | null {
  const w0 = slots[s * SLOT_WORDS]!;
  const w1 = slots[s * SLOT_WORDS + 1]!;
  for (let t = homeOf(w0, w1, scale); t !== s; t = t + 1 === n ? 0 : t + 1) {
    if (slots[t * SLOT_WORDS + 1] === 0) return `${what} at slot ${s} is cut off from its home by empty slot ${t}`;
  }
  if (probe(slots, n, scale, w0, w1) !== s) return `${what} at slot ${s} is found at slot ${probe(slots, n, scale, w0, w1)} (a duplicate?)`;
  return null;
}

function checkProto(proto: number): void {
  if (proto !== NAT_PROTO_TCP && proto !== NAT_PROTO_UDP && proto !== NAT_PROTO_ICMP) throw new RangeError(`NAT protocol must be 0 (tcp), 1 (udp) or 2 (icmp), got ${proto}`);
}

export class NatPortAllocator {
  /** First port of the range. */
  readonly rangeStart: number;
  /** Ports in the range. */
  readonly rangeCount: number;
  readonly strategy: NatPortStrategy;
  readonly preserve: boolean;
  /** Most triples taken at once. */
  readonly capacity: number;
  /** Whole 64-port chunks in the range (the tail beyond them is in none). */
  readonly chunkCount: number;
  /** Ports examined by strategy scans (not the preservation check): a diagnostic counter, for tests and dumps. */
  scanned = 0;

  private readonly slots: Uint32Array;
  private readonly slotCount: number;
  private readonly scale: number;
  private count = 0;
  /** Exhausted (proto, remote) marks: word 0 remote, word 1 proto + 1. */
  private readonly marks: Uint32Array;
  private readonly markSlots: number;
  private readonly markScale: number;
  private readonly markCapacity: number;
  private markCount = 0;
  private readonly chunkReserved: Uint8Array;
  private readonly chunkUse: Uint32Array;
  /** Offsets below this are in a chunk (chunkCount * 64). */
  private readonly chunkLimit: number;
  private reservedCount = 0;
  /** Sequential cursors, one offset per protocol. */
  private readonly cursors = new Int32Array(NAT_PROTOCOLS.length);
  private readonly rng: Prng;
  private readonly random: boolean;

  constructor(options: NatPortAllocatorOptions = {}) {
    const { start, count } = options.range ?? NAT_DEFAULT_PORT_RANGE;
    const capacity = options.capacity ?? NAT_DEFAULT_PORT_CAPACITY;
    const maxLoad = options.maxLoad ?? NAT_DEFAULT_PORT_MAX_LOAD;
    const strategy = options.strategy ?? 'sequential';
    const seed = options.seed ?? 1;
    if (!Number.isInteger(start) || start < 1 || start > 65535) throw new RangeError(`NAT port range start must be an integer in 1..65535, got ${start}`);
    if (!Number.isInteger(count) || count < 1 || start + count > 65536) {
      throw new RangeError(`NAT port range count must be an integer in 1..${65536 - start} (the range ends at 65535), got ${count}`);
    }
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > NAT_MAX_PORT_CAPACITY) {
      throw new RangeError(`NAT port capacity must be an integer in 1..${NAT_MAX_PORT_CAPACITY}, got ${capacity}`);
    }
    if (!(maxLoad >= 0.5 && maxLoad <= 0.9)) throw new RangeError(`NAT port maxLoad must be in 0.5..0.9, got ${maxLoad}`);
    if (!(NAT_PORT_STRATEGIES as readonly string[]).includes(strategy)) {
      throw new RangeError(`NAT port strategy must be one of ${NAT_PORT_STRATEGIES.join(', ')}, got ${String(strategy)}`);
    }
    if (!Number.isInteger(seed)) throw new RangeError(`NAT port seed must be an integer, got ${seed}`);
    this.rangeStart = start;
    this.rangeCount = count;
    this.capacity = capacity;
    this.strategy = strategy;
    this.random = strategy === 'random';
    this.preserve = options.preserve ?? true;
    this.rng = new Prng(seed);

    // At least one slot more than capacity: a probe always meets an empty slot.
    this.slotCount = Math.max(capacity + 1, Math.ceil(capacity / maxLoad));
    this.scale = this.slotCount / HOME_UNIT;
    this.slots = new Uint32Array(this.slotCount * SLOT_WORDS);
    // Marks: at most floor(capacity / 64) pairs at once, at a load of at most 1/2.
    this.markCapacity = Math.floor(capacity / NAT_EXHAUSTED_MIN_AVAILABLE);
    this.markSlots = Math.max(8, 2 * this.markCapacity + 1);
    this.markScale = this.markSlots / HOME_UNIT;
    this.marks = new Uint32Array(this.markSlots * SLOT_WORDS);

    this.chunkCount = Math.floor(count / NAT_CHUNK_PORTS);
    this.chunkLimit = this.chunkCount * NAT_CHUNK_PORTS;
    this.chunkReserved = new Uint8Array(this.chunkCount);
    this.chunkUse = new Uint32Array(this.chunkCount);
  }

  /** Triples taken. */
  get size(): number {
    return this.count;
  }

  /** Ports of the range outside reserved chunks (what each (proto, remote) pair can get). */
  get available(): number {
    return this.rangeCount - this.reservedCount * NAT_CHUNK_PORTS;
  }

  /** Chunks reserved. */
  get reservedChunks(): number {
    return this.reservedCount;
  }

  /** (proto, remote) pairs currently known to be exhausted. */
  get exhaustedCount(): number {
    return this.markCount;
  }

  /** Bytes the allocator holds in typed arrays (the table, the marks, the chunk arrays, the cursors). */
  get memorySize(): number {
    return this.slots.byteLength + this.marks.byteLength + this.chunkReserved.byteLength + this.chunkUse.byteLength + this.cursors.byteLength;
  }

  /** Bytes per triple of capacity (memorySize / capacity). */
  get bytesPerEntry(): number {
    return this.memorySize / this.capacity;
  }

  /**
   * An external port for a new session of protocol `proto` (NAT_PROTO_*) from internal port (or
   * echo identifier) `internalPort` toward `remoteAddr` (u32), or -1 when the allocator is full
   * or every allowed port is taken toward that remote. See the module comment for the order.
   */
  acquire(proto: number, internalPort: number, remoteAddr: number): number {
    checkProto(proto);
    if (this.count >= this.capacity) return -1;
    const available = this.rangeCount - this.reservedCount * NAT_CHUNK_PORTS;
    if (available === 0) return -1;
    const remote = remoteAddr >>> 0;
    if (this.markCount !== 0 && probe(this.marks, this.markSlots, this.markScale, remote, proto + 1) >= 0) return -1;
    const slots = this.slots;
    const n = this.slotCount;
    const scale = this.scale;
    const tag = (proto + 1) << 16;
    const start = this.rangeStart;
    const count = this.rangeCount;
    const limit = this.chunkLimit;
    const reserved = this.chunkReserved;
    if (this.preserve) {
      const o = internalPort - start;
      if (o >= 0 && o < count && (o | 0) === o && (o >= limit || reserved[o >>> 6] === 0)) {
        const r = probe(slots, n, scale, remote, tag | internalPort);
        if (r < 0) {
          this.take(~r, remote, tag | internalPort, o);
          return internalPort;
        }
      }
    }
    let o = this.random ? this.rng.below(count) : this.cursors[proto]!;
    let left = count;
    while (left > 0) {
      if (o < limit && reserved[o >>> 6] !== 0) {
        const skip = NAT_CHUNK_PORTS - (o & (NAT_CHUNK_PORTS - 1));
        o += skip;
        left -= skip;
        if (o === count) o = 0;
        continue;
      }
      this.scanned++;
      const port = start + o;
      const r = probe(slots, n, scale, remote, tag | port);
      if (r < 0) {
        this.take(~r, remote, tag | port, o);
        if (!this.random) this.cursors[proto] = o + 1 === count ? 0 : o + 1;
        return port;
      }
      if (++o === count) o = 0;
      left--;
    }
    // Nothing free toward (proto, remote): remember it, so that the next refusals cost one probe.
    if (available >= NAT_EXHAUSTED_MIN_AVAILABLE && this.markCount < this.markCapacity) {
      const m = probe(this.marks, this.markSlots, this.markScale, remote, proto + 1);
      this.marks[~m * SLOT_WORDS] = remote;
      this.marks[~m * SLOT_WORDS + 1] = proto + 1;
      this.markCount++;
    }
    return -1;
  }

  /** Free (proto, externalPort, remoteAddr): true, or false (nothing changed) when it was not taken. */
  release(proto: number, externalPort: number, remoteAddr: number): boolean {
    checkProto(proto);
    const o = externalPort - this.rangeStart;
    if (!(o >= 0 && o < this.rangeCount) || (o | 0) !== o) return false;
    const remote = remoteAddr >>> 0;
    const i = probe(this.slots, this.slotCount, this.scale, remote, ((proto + 1) << 16) | externalPort);
    if (i < 0) return false;
    removeAt(this.slots, this.slotCount, this.scale, i);
    this.count--;
    if (o < this.chunkLimit) this.chunkUse[o >>> 6]!--;
    if (this.markCount !== 0) {
      const m = probe(this.marks, this.markSlots, this.markScale, remote, proto + 1);
      if (m >= 0) {
        removeAt(this.marks, this.markSlots, this.markScale, m);
        this.markCount--;
      }
    }
    return true;
  }

  /** Whether (proto, port, remoteAddr) is taken. */
  has(proto: number, port: number, remoteAddr: number): boolean {
    checkProto(proto);
    const o = port - this.rangeStart;
    if (!(o >= 0 && o < this.rangeCount) || (o | 0) !== o) return false;
    return probe(this.slots, this.slotCount, this.scale, remoteAddr >>> 0, ((proto + 1) << 16) | port) >= 0;
  }

  /** Whether `port` lies in a reserved chunk. */
  isReserved(port: number): boolean {
    const o = port - this.rangeStart;
    return o >= 0 && o < this.chunkLimit && (o | 0) === o && this.chunkReserved[o >>> 6] !== 0;
  }

  /** Reserve the lowest free 64-port chunk (unreserved, no port taken in it): its first port, or -1. */
  reserveChunk(): number {
    for (let c = 0; c < this.chunkCount; c++) {
      if (this.chunkReserved[c] === 0 && this.chunkUse[c] === 0) {
        this.chunkReserved[c] = 1;
        this.reservedCount++;
        return this.rangeStart + c * NAT_CHUNK_PORTS;
      }
    }
    return -1;
  }

  /** Give back the chunk starting at `first`: true, or false (nothing changed) when no reserved chunk starts there. */
  releaseChunk(first: number): boolean {
    const o = first - this.rangeStart;
    if (!(o >= 0 && o < this.chunkLimit) || (o | 0) !== o || (o & (NAT_CHUNK_PORTS - 1)) !== 0) return false;
    const c = o / NAT_CHUNK_PORTS;
    if (this.chunkReserved[c] === 0) return false;
    this.chunkReserved[c] = 0;
    this.reservedCount--;
    // More ports are available: no pair is exhausted any more.
    if (this.markCount !== 0) {
      this.marks.fill(0);
      this.markCount = 0;
    }
    return true;
  }

  /** Free everything (triples, marks, chunks) and reset the cursors; the Prng goes on. */
  clear(): void {
    this.slots.fill(0);
    this.count = 0;
    this.marks.fill(0);
    this.markCount = 0;
    this.chunkReserved.fill(0);
    this.chunkUse.fill(0);
    this.reservedCount = 0;
    this.cursors.fill(0);
  }

  /**
   * A brute-force check of every invariant of the module comment (tests): O(slots) plus O(range)
   * per exhausted mark. Returns null when consistent, otherwise the first problem found.
   */
  validate(): string | null {
    const slots = this.slots;
    const n = this.slotCount;
    const use = new Uint32Array(this.chunkCount);
    let occupied = 0;
    for (let s = 0; s < n; s++) {
      const w1 = slots[s * SLOT_WORDS + 1]!;
      if (w1 === 0) {
        if (slots[s * SLOT_WORDS] !== 0) return `empty slot ${s} has a remote word`;
        continue;
      }
      occupied++;
      const proto = (w1 >>> 16) - 1;
      const port = w1 & 0xffff;
      if (proto < 0 || proto > 2) return `slot ${s}: bad protocol word ${w1}`;
      const o = port - this.rangeStart;
      if (o < 0 || o >= this.rangeCount) return `slot ${s}: port ${port} outside the range`;
      if (o < this.chunkLimit) {
        if (this.chunkReserved[o >>> 6] !== 0) return `slot ${s}: port ${port} is in a reserved chunk`;
        use[o >>> 6]!++;
      }
      const bad = checkReachable(slots, n, this.scale, s, `triple (${NAT_PROTOCOLS[proto]}, ${port}, ${slots[s * SLOT_WORDS]})`);
      if (bad !== null) return bad;
    }
    if (occupied !== this.count) return `${occupied} occupied slots, size ${this.count}`;
    if (this.count > this.capacity) return `size ${this.count} above capacity ${this.capacity}`;
    let reserved = 0;
    for (let c = 0; c < this.chunkCount; c++) {
      if (this.chunkReserved[c]! > 1) return `chunk ${c}: reserved flag ${this.chunkReserved[c]}`;
      reserved += this.chunkReserved[c]!;
      if (use[c] !== this.chunkUse[c]) return `chunk ${c}: use ${this.chunkUse[c]}, ${use[c]} taken ports in it`;
    }
    if (reserved !== this.reservedCount) return `${reserved} reserved chunks, reservedCount ${this.reservedCount}`;
    for (let p = 0; p < this.cursors.length; p++) {
      const c = this.cursors[p]!;
      if (c < 0 || c >= this.rangeCount) return `cursor of ${NAT_PROTOCOLS[p]} at ${c}, outside the range`;
    }
    let marks = 0;
    for (let s = 0; s < this.markSlots; s++) {
      const w1 = this.marks[s * SLOT_WORDS + 1]!;
      if (w1 === 0) continue;
      marks++;
      const remote = this.marks[s * SLOT_WORDS]!;
      if (w1 > 3) return `mark slot ${s}: bad protocol word ${w1}`;
      const bad = checkReachable(this.marks, this.markSlots, this.markScale, s, `mark (${NAT_PROTOCOLS[w1 - 1]}, ${remote})`);
      if (bad !== null) return bad;
      if (this.available < NAT_EXHAUSTED_MIN_AVAILABLE) return `mark (${NAT_PROTOCOLS[w1 - 1]}, ${remote}) with only ${this.available} ports available`;
      for (let o = 0; o < this.rangeCount; o++) {
        if (o < this.chunkLimit && this.chunkReserved[o >>> 6] !== 0) continue;
        const port = this.rangeStart + o;
        if (probe(slots, n, this.scale, remote, (w1 << 16) | port) < 0) return `mark (${NAT_PROTOCOLS[w1 - 1]}, ${remote}) but port ${port} is free toward it`;
      }
    }
    if (marks !== this.markCount) return `${marks} marks, markCount ${this.markCount}`;
    if (marks > this.markCapacity) return `${marks} marks above their capacity ${this.markCapacity}`;
    return null;
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** Book the triple at empty slot i (offset o in the range). */
  private take(i: number, remote: number, w1: number, o: number): void {
    this.slots[i * SLOT_WORDS] = remote;
    this.slots[i * SLOT_WORDS + 1] = w1;
    this.count++;
    if (o < this.chunkLimit) this.chunkUse[o >>> 6]!++;
  }
}
