/**
 * Shared fixtures for the flow-table tests: distinct 12-word keys built from a seeded PRNG and
 * two hash functions (a well-mixed one and a deliberately poor one that makes long collision runs).
 */
import { Prng } from '../../src/base/bytes.js';
import { FLOW_KEY_WORDS } from '../../src/frame/batch.js';

export const W = FLOW_KEY_WORDS;

/** A well-mixed hash of a key (murmur3-style finalisation of a word fold). */
export function mixHash(keys: Uint32Array, k: number): number {
  let x = 0x811c9dc5;
  for (let i = 0; i < W; i++) {
    x = Math.imul(x ^ keys[k + i]!, 0x01000193);
    x ^= x >>> 13;
  }
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * `count` distinct keys, packed at i * W. Families of 12 keys share a base and each member changes
 * one word (member m changes word m; member 11 changes only the port-id half of word 11), so many
 * keys differ in exactly one word from their family's others.
 */
export function makeKeys(count: number, seed: number): Uint32Array {
  const rng = new Prng(seed);
  const keys = new Uint32Array(count * W);
  const seen = new Set<string>();
  let base = new Uint32Array(W);
  for (let i = 0; i < count; i++) {
    const m = i % W;
    if (m === 0) {
      base = new Uint32Array(W);
      base[0] = (0x0a000000 | rng.below(1 << 24)) >>> 0;
      base[4] = (0xc0a80000 | rng.below(1 << 16)) >>> 0;
      base[8] = ((1024 + rng.below(60000)) << 16) | 443;
      base[9] = (4 << 24) | (6 << 16);
      base[11] = (rng.below(8) << 16) | 0x0800;
    }
    const o = i * W;
    keys.set(base, o);
    if (m === 11) keys[o + 11] = ((((base[11]! >>> 16) + 1 + rng.below(100)) & 0xffff) << 16 | 0x0800) >>> 0;
    else keys[o + m] = (keys[o + m]! ^ (1 + rng.below(0xffff))) >>> 0;
    let id = Array.from(keys.subarray(o, o + W)).join(',');
    while (seen.has(id)) {
      keys[o + 10] = (keys[o + 10]! + 1) >>> 0;
      id = Array.from(keys.subarray(o, o + W)).join(',');
    }
    seen.add(id);
  }
  return keys;
}

export function keyString(keys: Uint32Array, k: number): string {
  return Array.from(keys.subarray(k, k + W)).join(',');
}
