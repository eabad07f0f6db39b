/**
 * The "round trip at offset" placements: the same frame at offset 0 of
 * an array of exactly its size (a DataView read past the end throws), inside a larger slab at an
 * odd offset with canary bytes around it, and inside a Buffer from Node's shared pool (non-zero
 * byteOffset). Also a one-frame parse through parse/ for checking results the way the engine
 * sees them.
 */
import { Buffer } from 'node:buffer';
import { FrameBatch } from '../../src/frame/batch.js';
import { parseBatch } from '../../src/parse/parse.js';
import { describeFrame } from '../../src/parse/describe.js';
import type { FrameDescription } from '../../src/parse/describe.js';
import type { Built } from './frames.js';

export const PLACEMENTS = ['offset 0', 'inside a slab', 'pool Buffer'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export const CANARY = 0xa5;

export interface Placed {
  d: Uint8Array;
  v: DataView;
  /** Offset the frame was moved by. */
  o: number;
  size: number;
}

/** Copy `size` bytes of frame at scratch[0..] into the placement; returns where it went. */
export function place(scratch: Uint8Array, size: number, where: Placement, headroom: number = 0): Placed {
  let d: Uint8Array;
  let o: number;
  if (where === 'offset 0' && headroom === 0) {
    d = new Uint8Array(size);
    o = 0;
  } else if (where === 'offset 0' || where === 'inside a slab') {
    o = headroom + (where === 'offset 0' ? 0 : 37);
    d = new Uint8Array(o + size + 41).fill(CANARY);
  } else {
    o = headroom + 5;
    const bytes = new Array<number>(o + size + 11).fill(CANARY);
    d = Buffer.from(bytes);
    // The first slice of a fresh pool starts at byteOffset 0; the next one does not.
    if (d.byteOffset === 0) d = Buffer.from(bytes);
    if (d.byteOffset === 0 || d.buffer.byteLength === d.byteLength) throw new Error('expected a pool-backed Buffer');
  }
  for (let i = 0; i < size; i++) d[o + i] = scratch[i]!;
  return { d, v: new DataView(d.buffer, d.byteOffset, d.byteLength), o, size };
}

/** The Built offsets moved by `o`. */
export function shift(b: Built, o: number): Built {
  return { ...b, l2: b.l2 + o, l3: b.l3 + o, l4: b.l4 >= 0 ? b.l4 + o : -1, end: b.end + o, mssAt: b.mssAt >= 0 ? b.mssAt + o : -1 };
}

/** Parse d[o, o + size) as one frame; returns the batch (columns) and its description. */
export function parseOne(d: Uint8Array, o: number, size: number): { batch: FrameBatch; desc: FrameDescription } {
  const batch = new FrameBatch(1, d);
  batch.offsets[0] = o;
  batch.lengths[0] = size;
  batch.wireLengths[0] = size;
  batch.numbers[0] = 1;
  batch.count = 1;
  parseBatch(batch);
  return { batch, desc: describeFrame(batch, 0) };
}

/** Positions outside [from, to) whose byte differs from `before` (canary / neighbour check). */
export function changedOutside(before: Uint8Array, after: Uint8Array, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < after.length; i++) if ((i < from || i >= to) && before[i] !== after[i]) out.push(i);
  return out;
}
