/**
 * TCP MSS clamp (a VFP rule action: vfpctrl shows `MSS delta: 50,0` on NAT rules, see
 * kubernetes/kubernetes#79359): in a SYN or SYN-ACK, lower the Maximum Segment Size option so that
 * segments fit the path after an encapsulation (VXLAN adds 50 bytes) or a smaller MTU, and fix the
 * TCP checksum incrementally.
 *
 * The option walk (RFC 9293 §3.1, "Options") is written for hostile input:
 * - it runs over [l4 + 20, min(l4 + data offset × 4, end)): never past the TCP header, never past
 *   the captured end, whatever the data offset says;
 * - kind 0 (end of list) stops; kind 1 (no-op) is one byte; every other option needs a length
 *   byte inside the range, a length of at least 2 (0 and 1 would loop forever or overlap, so they
 *   stop the walk, as Linux's tcp_parse_options does) and must fit the range entirely;
 * - an MSS option (kind 2) whose length is not 4 is malformed: the walk stops without changing
 *   anything. The first well-formed MSS option wins;
 * - every step advances by at least one byte, so the loop ends after at most 40 steps.
 *
 * The new MSS is min(mss − delta, maximum), never raised (a peer's smaller MSS is kept) and never
 * lowered below 88 bytes by the subtraction (Linux's TCP_MIN_MSS: a clamp must not make the
 * connection unusable); `maximum` is taken as given. The option may sit at an odd offset in the
 * header (after a single NOP): its two bytes then fall in different 16-bit words of the checksum,
 * and the update uses the byte-swapped values (RFC 1071 §2(B): the sum is byte-order independent).
 *
 * Calling convention as in rewrite.ts: `(d, v, l4, end, …)`, `v` a DataView over exactly `d`,
 * offsets absolute. Touches only [l4, end). Not handled: MSS in non-SYN segments (ignored by
 * receivers), IPv4/IPv6-specific maxima (the caller computes `maximum` from its MTU).
 */
import { checksumUpdate16 } from '../base/checksum.js';
import { TCP_CHECKSUM, TCP_DATA_OFFSET, TCP_FLAGS, TCP_HEADER_SIZE, TCP_SYN } from '../wire/headers.js';

/** TCP option kinds and sizes used here (RFC 9293). */
export const TCP_OPTION_END = 0;
export const TCP_OPTION_NOP = 1;
export const TCP_OPTION_MSS = 2;
export const TCP_OPTION_MSS_SIZE = 4; // kind, length, 2-byte value
/** The smallest MSS the subtraction may produce (Linux TCP_MIN_MSS). */
export const MSS_FLOOR = 88;

/**
 * Offset of the 2-byte value of the first well-formed MSS option of the TCP header at `l4`, or -1
 * when there is none (or the options are malformed before it). Reads only [l4, end).
 */
export function mssFind(d: Uint8Array, l4: number, end: number): number {
  if (l4 < 0 || l4 + TCP_HEADER_SIZE > end) return -1;
  const headerEnd = l4 + ((d[l4 + TCP_DATA_OFFSET]! >>> 4) << 2);
  const stop = headerEnd < end ? headerEnd : end; // a data offset < 5 gives stop < start: no walk
  let i = l4 + TCP_HEADER_SIZE;
  while (i < stop) {
    const kind = d[i]!;
    if (kind === TCP_OPTION_END) return -1;
    if (kind === TCP_OPTION_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= stop) return -1; // no room for the length byte
    const size = d[i + 1]!;
    if (size < 2 || i + size > stop) return -1; // malformed: cannot step over it safely
    if (kind === TCP_OPTION_MSS) return size === TCP_OPTION_MSS_SIZE ? i + 2 : -1;
    i += size;
  }
  return -1;
}

/**
 * In a SYN or SYN-ACK (SYN flag set), lower the MSS option to min(mss − delta, maximum) (never
 * below MSS_FLOOR by the subtraction, never raised) and fix the TCP checksum. Returns true when
 * the option was changed; false (frame untouched) when it is not a SYN, has no well-formed MSS
 * option, the MSS is already small enough, or the header is cut short. Pass delta 0 to clamp to
 * `maximum` only, maximum 65535 to subtract only.
 */
export function mssClamp(d: Uint8Array, v: DataView, l4: number, end: number, delta: number, maximum: number): boolean {
  if (l4 < 0 || l4 + TCP_HEADER_SIZE > end) return false;
  if ((d[l4 + TCP_FLAGS]! & TCP_SYN) === 0) return false;
  const at = mssFind(d, l4, end);
  if (at < 0) return false;
  const mss = v.getUint16(at);
  let next = mss - delta;
  if (next < MSS_FLOOR) next = MSS_FLOOR;
  if (next > maximum) next = maximum;
  if (next >= mss || next < 0) return false;
  v.setUint16(at, next);
  const sumAt = l4 + TCP_CHECKSUM;
  const hc = v.getUint16(sumAt);
  // At an odd offset from the header start the value straddles two checksum words.
  const updated = ((at - l4) & 1) === 0 ? checksumUpdate16(hc, mss, next) : checksumUpdate16(hc, swap16(mss), swap16(next));
  v.setUint16(sumAt, updated);
  return true;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}
