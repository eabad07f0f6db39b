/**
 * Byte copies between frames, without `subarray`: the one primitive the length-changing
 * transpositions (VLAN push/pop, VXLAN encap) need to move a frame into another slab.
 *
 * Why not `dst.set(src.subarray(a, b), o)`: the subarray is an object per call (the house rule:
 * no allocation per frame), and `TypedArray.prototype.set` has no offset/length form that would
 * avoid it. What is left without allocating:
 *
 * - the same typed array on both sides: `copyWithin`, V8's memmove (overlap-safe);
 * - different arrays: a loop. A byte loop is the slowest choice; a loop of 32-bit DataView
 *   loads/stores, four per iteration, little-endian (no byte swap: the bytes only move), is the
 *   fastest measured.
 *
 * Measured on this machine (Node 20, x64, a shared 2-core box: ±30% between runs), ns per copy of
 * one frame, 1,024 frames 2 KiB apart per iteration:
 *
 *   in bench/micro-action.ts (one process, every case; what the engine will see)   64 B   1514 B
 *     copyBytes across slabs (DataView words)                                       30-38  430-530
 *     copyBytes within one slab (copyWithin)                                        21-23   53-54
 *     set(subarray) across slabs (allocates one view per copy)                         44   94
 *   one function per process (best case for each)
 *     byte loop                                                                       138   3222
 *     DataView u32 loop, 4 per iteration                                            9-22  165-405
 *     copyWithin (same array)                                                      19-35   45-100
 *     Buffer.prototype.copy.call (allocates: 289 GCs in 3M copies)                     84   109
 *
 * So: `copyWithin` when source and destination are one array (a single arena holding input and
 * output regions makes every copy this cheap); the unrolled DataView loop otherwise, which beats
 * the allocating `set(subarray)` for small frames and is 2-5x slower than it for full-size ones
 * (the price of allocating nothing). Inside one array, disjoint copies of up to 64 bytes also take
 * the loop (cheaper than the call into the runtime). The bench keeps these cases so the choice can
 * be re-checked.
 *
 * Invariants. Reads exactly src[srcOffset, srcOffset + size) and writes exactly
 * dst[dstOffset, dstOffset + size); the caller guarantees both ranges lie inside their arrays
 * (the action functions check before calling). `sv`/`dv` are DataViews over exactly the bytes of
 * `src`/`dst` (same byteOffset: see base/bytes.ts `viewOf`). Overlap is handled when source and
 * destination are the same array (overlapping ranges always go to `copyWithin`). Two
 * *different* views of one buffer must not overlap: detecting that needs `src.buffer`, and that
 * property load alone was measured at ~45 ns per call (more than a whole 64-byte copy), so it is
 * the caller's guarantee instead (slabs and output arenas are distinct, or one array is used).
 */

/** Up to this size a disjoint copy inside one array uses the word loop rather than copyWithin. */
const SMALL_COPY_SIZE = 64;

/**
 * Copy `size` bytes from src[srcOffset..] to dst[dstOffset..]: memmove semantics when src === dst;
 * otherwise the two ranges must not overlap. `sv` and `dv` are DataViews over exactly `src` and `dst`.
 */
export function copyBytes(src: Uint8Array, sv: DataView, srcOffset: number, dst: Uint8Array, dv: DataView, dstOffset: number, size: number): void {
  if (src === dst) {
    // One array: copyWithin is memmove (any overlap) at a flat ~20-45 ns; below ~64 bytes the
    // word loop is cheaper than the call into the runtime, when the ranges are disjoint.
    if (size > SMALL_COPY_SIZE || (dstOffset < srcOffset + size && srcOffset < dstOffset + size)) {
      src.copyWithin(dstOffset, srcOffset, srcOffset + size);
      return;
    }
  }
  let i = 0;
  // Four words per iteration: measured ~2x faster than one word, ~7x faster than bytes.
  for (; i + 16 <= size; i += 16) {
    dv.setInt32(dstOffset + i, sv.getInt32(srcOffset + i, true), true);
    dv.setInt32(dstOffset + i + 4, sv.getInt32(srcOffset + i + 4, true), true);
    dv.setInt32(dstOffset + i + 8, sv.getInt32(srcOffset + i + 8, true), true);
    dv.setInt32(dstOffset + i + 12, sv.getInt32(srcOffset + i + 12, true), true);
  }
  for (; i + 4 <= size; i += 4) dv.setInt32(dstOffset + i, sv.getInt32(srcOffset + i, true), true);
  for (; i < size; i++) dst[dstOffset + i] = src[srcOffset + i]!;
}
