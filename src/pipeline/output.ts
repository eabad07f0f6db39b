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

export class EmitBatch {
  count = 0;
  /** The batch whose frames these are (numbers and timestamps through `frames`). */
  input: FrameBatch | null = null;
  /** Transposed copies and host answers, each HEADROOM bytes after the previous one's end. */
  scratch = new Uint8Array(1 << 16);
  scratchView = new DataView(this.scratch.buffer);
  scratchUsed = 0;

  /** Index of the input frame in `input`. */
  frames = new Int32Array(0);
  /** EMIT_FORWARD or EMIT_DROP. */
  kinds = new Uint8Array(0);
  /** The egress port (forward) or the ingress port (drop; -1 when it has none). */
  ports = new Int32Array(0);
  /** The port the frame entered on (a host answer: its vNIC port). */
  ingress = new Int32Array(0);
  /** SLAB_INPUT or SLAB_SCRATCH, and where the frame is in it. */
  slabs = new Uint8Array(0);
  offsets = new Int32Array(0);
  lengths = new Int32Array(0);
  wireLengths = new Int32Array(0);
  /** The composite that decided it (pipeline/composite.ts), -1 when none did (parse error, flood drop). */
  composites = new Int32Array(0);
  /** Drop reason (DropReasonId), 0 for a forward. */
  reasons = new Uint8Array(0);
  /** 1 when the frame took the fast path (a flow-cache hit). */
  hits = new Uint8Array(0);
  /** HOST_REPLY_* of a frame the host made (an answer), 0 for an input frame. */
  generated = new Uint8Array(0);

  constructor(capacity = 1024) {
    this.grow(capacity);
  }

  /** The bytes item j lives in. */
  dataOf(j: number): Uint8Array {
    return this.slabs[j] === SLAB_SCRATCH ? this.scratch : this.input!.data;
  }

  /** Start a batch: no items, scratch empty. */
  reset(input: FrameBatch): void {
    this.input = input;
    this.count = 0;
    this.scratchUsed = 0;
  }

  /** Append an item; returns its index. */
  add(kind: number, frame: number, port: number, ingress: number, slab: number, offset: number, length: number, wireLength: number, composite: number, reason: number, hit: number, generated: number): number {
    const j = this.count;
    if (j === this.frames.length) this.grow(j * 2);
    this.count = j + 1;
    this.kinds[j] = kind;
    this.frames[j] = frame;
    this.ports[j] = port;
    this.ingress[j] = ingress;
    this.slabs[j] = slab;
    this.offsets[j] = offset;
    this.lengths[j] = length;
    this.wireLengths[j] = wireLength;
    this.composites[j] = composite;
    this.reasons[j] = reason;
    this.hits[j] = hit;
    this.generated[j] = generated;
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
    this.kinds = g(this.kinds, new Uint8Array(n));
    this.ports = g(this.ports, new Int32Array(n));
    this.ingress = g(this.ingress, new Int32Array(n));
    this.slabs = g(this.slabs, new Uint8Array(n));
    this.offsets = g(this.offsets, new Int32Array(n));
    this.lengths = g(this.lengths, new Int32Array(n));
    this.wireLengths = g(this.wireLengths, new Int32Array(n));
    this.composites = g(this.composites, new Int32Array(n));
    this.reasons = g(this.reasons, new Uint8Array(n));
    this.hits = g(this.hits, new Uint8Array(n));
    this.generated = g(this.generated, new Uint8Array(n));
  }
}

/** Where the engine's output goes: one call per input batch, with every item it produced in order. */
export interface FrameSink {
  emit(out: EmitBatch): void;
}
