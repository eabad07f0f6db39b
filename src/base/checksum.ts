/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * `checksumPartial` returns an unfolded 32-bit-safe sum of 16-bit big-endian words so that
 * pseudo-headers and payloads can be summed separately and combined; `checksumFold` folds the
 * carries and complements. Sums are kept below 2^31 by folding inside the loop, so any length up
 * to the 4 GiB a Uint8Array allows is safe.
 *
 * Incremental update (RFC 1624 eqn. 3): HC' = ~(~HC + ~m + m'), in one's complement arithmetic.
 * Used by NAT rewrites so that a translated packet costs a few adds, not a full recompute.
 * Note RFC 1624's point: eqn. 3 never yields 0x0000 from a non-zero input the way eqn. 2 could,
 * which matters for UDP where 0 means "no checksum".
 */

/** Sum of the 16-bit big-endian words of bytes[offset, offset+length), plus `initial`. Not folded. */
export function checksumPartial(bytes: Uint8Array, offset: number, length: number, initial: number = 0): number {
  let sum = initial;
  let i = offset;
  const end = offset + length - 1;
  // 64 words per round before folding keeps `sum` far below 2^31.
  while (i < end) {
    const stop = Math.min(end, i + 128);
    while (i < stop) {
      sum += (bytes[i]! << 8) | bytes[i + 1]!;
      i += 2;
    }
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i === end) sum += bytes[i]! << 8; // odd trailing byte, padded with zero
  return sum;
}

/** Fold carries into 16 bits and complement: the value to store in a checksum field. */
export function checksumFold(sum: number): number {
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Checksum of a byte range, ready to store. A range whose stored checksum is right yields 0. */
export function checksum(bytes: Uint8Array, offset: number, length: number, initial: number = 0): number {
  return checksumFold(checksumPartial(bytes, offset, length, initial));
}

/**
 * RFC 1624 eqn. 3: the new checksum after a 16-bit word of the covered data changed from
 * `oldWord` to `newWord`.
 */
export function checksumUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  let sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** As `checksumUpdate16` for a 32-bit field (an IPv4 address), as two word updates in one step. */
export function checksumUpdate32(oldChecksum: number, oldValue: number, newValue: number): number {
  let sum =
    (~oldChecksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    ((newValue >>> 16) & 0xffff) +
    (newValue & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Pseudo-header sum for TCP/UDP over IPv4 (not folded). */
export function pseudoHeaderSum4(src: number, dst: number, protocol: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Length;
}

/** Pseudo-header sum for upper layers over IPv6, addresses read from bytes (not folded). */
export function pseudoHeaderSum6(
  bytes: Uint8Array,
  srcOffset: number,
  dstOffset: number,
  nextHeader: number,
  l4Length: number,
): number {
  let sum = checksumPartial(bytes, srcOffset, 16) + checksumPartial(bytes, dstOffset, 16);
  sum += (l4Length >>> 16) + (l4Length & 0xffff) + nextHeader;
  return sum;
}
