/**
 * The output vector: what one input batch produced, in emission order, handed to the sink once
 * per batch (`FrameSink.emit`). Struct-of-arrays like FrameBatch: item j is a forwarded frame (on
 * its egress port) or a dropped one (on its ingress port, with the reason), its bytes in one of
 * two slabs: the input batch's own (a frame forwarded unchanged, or transposed in place) or the
 * scratch slab (transposed copies whose length changed, flood copies, host answers), each copy
 * with HEADROOM bytes free before it for headers pushed later (VLAN tag, VXLAN outer header).
 * Frame numbers and timestamps are the input frame's (`frames[j]` indexes the input batch; a
 * host answer carries the number of the frame it answers).
 *
 * Columns. Every item has its input frame, port, composite and reason; an item whose bytes are in
 * the scratch slab, or that the host made, also has its own offset, lengths and ingress port
 * (offsetOf and friends read the input frame's otherwise), so a frame forwarded as it came costs
 * five small stores.
 *
 * Lifetime. Items and both slabs are valid during `emit` only: the input slab is refilled by the
 * next read and the scratch slab reused by the next batch. A sink that keeps a frame copies it.
 *
 * Invariants. Filling allocates nothing once the columns and the scratch slab have grown to the
 * largest batch seen (they grow by doubling, off the common path). Every input frame produces at
 * least one item: one drop, or one forward per output port (a flood makes several), followed by
 * the items of the host's answer to it, if any.
 */
import type { FrameBatch } from '../frame/batch.js';

export const EMIT_FORWARD = 0;
export const EMIT_DROP = 1;
/** Slab of an item's bytes. */
export const SLAB_INPUT = 0;
export const SLAB_SCRATCH = 1;
/** Free bytes kept before each copy in the scratch slab: a VXLAN outer header (50) plus a VLAN tag, rounded up. */
export const HEADROOM = 64;

/** Bits of an item's `meta`: its kind (EMIT_FORWARD 0 / EMIT_DROP 1), a flow-cache hit, bytes in the scratch slab, the host-answer kind (2 bits). */
const META_DROP = 1;
const META_HIT = 2;
const META_SCRATCH = 4;
const META_GENERATED_SHIFT = 3;
/** Meta bits that say the item has its own offset, lengths and ingress columns (else they are its input frame's). */
const META_OWN = META_SCRATCH | (3 << META_GENERATED_SHIFT);

export class EmitBatch {
  count = 0;
  /** The batch whose frames these are (numbers and timestamps through `frames`). */
  input: FrameBatch | null = null;
  /** Transposed copies and host answers, each HEADROOM bytes after the previous one's end. */
  scratch = new Uint8Array(1 << 16);
  scratchView = new DataView(this.scratch.buffer);
  scratchUsed = 0;

  // Columns every item has.
  /** Index of the input frame in `input`. */
  frames = new Int32Array(0);
  /** The egress port (forward) or the ingress port (drop; -1 when it has none). */
  ports = new Int32Array(0);
  /** The composite that decided it (pipeline/composite.ts), -1 when none did (parse error, flood drop). */
  composites = new Int32Array(0);
  /** Drop reason (DropReasonId), 0 for a forward. */
  reasons = new Uint8Array(0);
  /** META_* bits: read them with kindOf, hitOf, generatedOf. */
  private meta = new Uint8Array(0);
  // Columns only an item in the scratch slab or made by the host has (read them with offsetOf,
  // lengthOf, wireLengthOf, ingressOf): a frame forwarded from the input slab is its input frame,
  // so the fast path writes five columns per item, not nine.
  private offsets = new Int32Array(0);
  private lengths = new Int32Array(0);
  private wireLengths = new Int32Array(0);
  private ingressPorts = new Int32Array(0);

  constructor(capacity = 1024) {
    this.grow(capacity);
  }

  /** EMIT_FORWARD or EMIT_DROP. */
  kindOf(j: number): number {
    return this.meta[j]! & META_DROP;
  }
  /** 1 when the frame took the fast path (a flow-cache hit). */
  hitOf(j: number): number {
    return (this.meta[j]! & META_HIT) >>> 1;
  }
  /** HOST_REPLY_* of a frame the host made (an answer), 0 for an input frame. */
  generatedOf(j: number): number {
    return (this.meta[j]! >>> META_GENERATED_SHIFT) & 3;
  }
  /** The bytes item j lives in. */
  dataOf(j: number): Uint8Array {
    return (this.meta[j]! & META_SCRATCH) !== 0 ? this.scratch : this.input!.data;
  }
  offsetOf(j: number): number {
    return (this.meta[j]! & META_OWN) !== 0 ? this.offsets[j]! : this.input!.offsets[this.frames[j]!]!;
  }
  lengthOf(j: number): number {
    return (this.meta[j]! & META_OWN) !== 0 ? this.lengths[j]! : this.input!.lengths[this.frames[j]!]!;
  }
  wireLengthOf(j: number): number {
    return (this.meta[j]! & META_OWN) !== 0 ? this.wireLengths[j]! : this.input!.wireLengths[this.frames[j]!]!;
  }
  /** The port the frame entered on (a host answer: its vNIC port). */
  ingressOf(j: number): number {
    return (this.meta[j]! & META_OWN) !== 0 ? this.ingressPorts[j]! : this.input!.ports[this.frames[j]!]!;
  }

  /** Start a batch: no items, scratch empty. */
  reset(input: FrameBatch): void {
    this.input = input;
    this.count = 0;
    this.scratchUsed = 0;
  }

  /** Make room for `n` more items (a loop may then append with addInputFrame without a check per item). */
  reserveItems(n: number): void {
    if (this.count + n > this.frames.length) this.grow(Math.max(this.frames.length * 2, this.count + n));
  }

  /**
   * Append input frame `frame` as it is in the input slab (unchanged or transposed in place),
   * entering on its own port: a forward on `port`, or a drop (`reason` != 0) on its ingress
   * port. The caller reserved room (reserveItems).
   */
  addInputFrame(frame: number, port: number, composite: number, reason: number, hit: number): void {
    const j = this.count++;
    this.frames[j] = frame;
    this.ports[j] = port;
    this.composites[j] = composite;
    this.reasons[j] = reason;
    this.meta[j] = (reason !== 0 ? META_DROP : 0) | (hit !== 0 ? META_HIT : 0);
  }

  /** Append any item; returns its index. */
  add(kind: number, frame: number, port: number, ingress: number, slab: number, offset: number, length: number, wireLength: number, composite: number, reason: number, hit: number, generated: number): number {
    const j = this.count;
    if (j === this.frames.length) this.grow(j * 2);
    this.count = j + 1;
    this.frames[j] = frame;
    this.ports[j] = port;
    this.composites[j] = composite;
    this.reasons[j] = reason;
    this.meta[j] = kind | (hit !== 0 ? META_HIT : 0) | (slab === SLAB_SCRATCH ? META_SCRATCH : 0) | (generated << META_GENERATED_SHIFT);
    this.offsets[j] = offset;
    this.lengths[j] = length;
    this.wireLengths[j] = wireLength;
    this.ingressPorts[j] = ingress;
    return j;
  }

  /**
   * Room for a copy of `length` bytes that may grow by up to HEADROOM at either end: returns the
   * offset in `scratch` where the copy starts (HEADROOM bytes are free before it and after it).
   */
  reserve(length: number): number {
    const at = this.scratchUsed + HEADROOM;
    const end = at + length + HEADROOM;
    if (end > this.scratch.length) {
      const grown = new Uint8Array(Math.max(end, this.scratch.length * 2));
      grown.set(this.scratch.subarray(0, this.scratchUsed));
      this.scratch = grown;
      this.scratchView = new DataView(grown.buffer);
    }
    return at;
  }

  /** The copy reserved at `at` ends at `end` (its final bytes): later reservations go after it. */
  commit(end: number): void {
    this.scratchUsed = end;
  }

  private grow(n: number): void {
    const g = <T extends Int32Array | Uint8Array>(old: T, fresh: T): T => {
      fresh.set(old as never);
      return fresh;
    };
    this.frames = g(this.frames, new Int32Array(n));
    this.ports = g(this.ports, new Int32Array(n));
    this.composites = g(this.composites, new Int32Array(n));
    this.reasons = g(this.reasons, new Uint8Array(n));
    this.meta = g(this.meta, new Uint8Array(n));
    this.offsets = g(this.offsets, new Int32Array(n));
    this.lengths = g(this.lengths, new Int32Array(n));
    this.wireLengths = g(this.wireLengths, new Int32Array(n));
    this.ingressPorts = g(this.ingressPorts, new Int32Array(n));
  }
}

/** Where the engine's output goes: one call per input batch, with every item it produced in order. */
export interface FrameSink {
  emit(out: EmitBatch): void;
}
