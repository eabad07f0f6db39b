/**
 * Byte-order helpers for the few places that are not per-packet (file headers, formatting).
 * Per-packet code reads bytes inline (`(d[o] << 8) | d[o + 1]`), which V8 compiles to plain loads.
 */

export function u16be(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}
export function u32be(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}
export function u16le(d: Uint8Array, o: number): number {
  return d[o]! | (d[o + 1]! << 8);
}
export function u32le(d: Uint8Array, o: number): number {
  return (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
}

/** A DataView over exactly the bytes of `u8` (correct for pool-backed Buffers with a byteOffset). */
export function viewOf(u8: Uint8Array): DataView {
  return new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** A small deterministic PRNG (mulberry32) for synth, fuzz and benches: same seed, same stream. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Next uniformly distributed u32. */
  nextU32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.nextU32() / 4294967296) * n);
  }
}
