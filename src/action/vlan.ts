/**
 * VLAN push and pop (VLAN isolation: an access-mode port pushes an 802.1Q tag toward the uplink
 * and pops it inbound, https://learn.microsoft.com/en-us/virtualization/windowscontainers/container-networking/advanced;
 * Push/Pop header transpositions in the VFP paper's terms). The only transpositions here that
 * change the frame's length, by 4 bytes, so each comes in two forms:
 *
 * - copy-transform: read the frame from [start, end) of one slab and write the result into
 *   another (or the same) slab at `dstOffset`, never past `dstLimit`; returns the new length.
 *   This is the form for an output batch built frame by frame.
 * - in place: the caller guarantees the bytes the frame grows into. Push needs 4 bytes of
 *   headroom before the frame: the 12 MAC bytes move back by 4 and the tag goes between them and
 *   the old EtherType, which stays where it is; pop moves the MAC bytes forward by 4 over the
 *   tag. Both return the new start offset; the frame end does not move. Only 12 bytes move
 *   whatever the frame's size, which is why the reader leaves headroom in its slabs.
 *
 * Frame layout (no FCS, as captures hold frames):
 *   untagged  dst(6) src(6) type(2) payload
 *   tagged    dst(6) src(6) 0x8100(2) TCI(2) type(2) payload      TCI = PCP(3) DEI(1) VID(12)
 *
 * Invariants. Reads only [start, end) (plus, for the in-place push, writes [start − 4, start)),
 * writes only the destination range; checks before writing and returns -1, writing nothing, when
 * the frame is shorter than its Ethernet header (or than header + tag, for pop), the outermost
 * EtherType is not a tag (pop), or the result does not fit. Nothing allocates. `d`/`v` pairs are
 * a slab and a DataView over exactly its bytes. Source and destination may be the same slab, even
 * overlapping ranges (the copy forms order their two moves so that neither clobbers the other);
 * two different views over one buffer must not overlap.
 *
 * Push always writes TPID 0x8100 (a C-tag), outermost, whatever tags are already there; pop
 * removes the outermost tag if its TPID is 0x8100, 0x88a8 or 0x9100. The PCP comes from the
 * caller, DEI is 0. Not handled: padding a popped frame back to 60 bytes (a 64-byte tagged frame
 * pops to 60, the minimum, so only already-short captures shrink below it), FCS recomputation.
 */
import { copyBytes } from './copy.js';
import { ETH_HEADER_SIZE, ETH_TYPE, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_VLAN, VLAN_TAG_SIZE } from '../wire/headers.js';

const MAC_PAIR_SIZE = 12; // destination + source MAC

/** The 802.1Q TCI for a VID (12 bits) and PCP (3 bits); DEI 0. */
export function vlanTci(vid: number, pcp: number): number {
  return ((pcp & 7) << 13) | (vid & 0x0fff);
}

/** True when the 16-bit value is a TPID pop recognises (802.1Q, 802.1ad, pre-standard QinQ). */
function isTagType(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD;
}

/**
 * Copy the frame src[start, end) to dst at `dstOffset` with an 802.1Q tag (vid, pcp) pushed as
 * the outermost tag. Returns the new length (end − start + 4), or -1 when the frame has no
 * Ethernet header or dst[dstOffset, dstLimit) cannot hold the result.
 */
export function vlanPushCopy(
  src: Uint8Array,
  sv: DataView,
  start: number,
  end: number,
  dst: Uint8Array,
  dv: DataView,
  dstOffset: number,
  dstLimit: number,
  vid: number,
  pcp: number,
): number {
  const size = end - start;
  if (start < 0 || size < ETH_HEADER_SIZE || dstOffset < 0 || dstOffset + size + VLAN_TAG_SIZE > dstLimit) return -1;
  // Two moves; when dst overlaps src, the piece moved first must not clobber the other's source:
  // moving right, the tail goes first; moving left (or not at all), the MACs.
  if (src === dst && dstOffset > start) {
    copyBytes(src, sv, start + MAC_PAIR_SIZE, dst, dv, dstOffset + MAC_PAIR_SIZE + VLAN_TAG_SIZE, size - MAC_PAIR_SIZE);
    copyBytes(src, sv, start, dst, dv, dstOffset, MAC_PAIR_SIZE);
  } else {
    copyBytes(src, sv, start, dst, dv, dstOffset, MAC_PAIR_SIZE);
    copyBytes(src, sv, start + MAC_PAIR_SIZE, dst, dv, dstOffset + MAC_PAIR_SIZE + VLAN_TAG_SIZE, size - MAC_PAIR_SIZE);
  }
  dv.setUint16(dstOffset + ETH_TYPE, ETHERTYPE_VLAN);
  dv.setUint16(dstOffset + ETH_TYPE + 2, vlanTci(vid, pcp));
  return size + VLAN_TAG_SIZE;
}

/**
 * Copy the frame src[start, end) to dst at `dstOffset` without its outermost VLAN tag. Returns
 * the new length (end − start − 4), or -1 when the frame is not tagged, is shorter than 18 bytes,
 * or dst[dstOffset, dstLimit) cannot hold the result.
 */
export function vlanPopCopy(
  src: Uint8Array,
  sv: DataView,
  start: number,
  end: number,
  dst: Uint8Array,
  dv: DataView,
  dstOffset: number,
  dstLimit: number,
): number {
  const size = end - start;
  if (start < 0 || size < ETH_HEADER_SIZE + VLAN_TAG_SIZE || !isTagType(sv.getUint16(start + ETH_TYPE))) return -1;
  if (dstOffset < 0 || dstOffset + size - VLAN_TAG_SIZE > dstLimit) return -1;
  // As in push: with overlap, moving right copies the tail first, moving left the MACs first.
  if (src === dst && dstOffset > start) {
    copyBytes(src, sv, start + MAC_PAIR_SIZE + VLAN_TAG_SIZE, dst, dv, dstOffset + MAC_PAIR_SIZE, size - MAC_PAIR_SIZE - VLAN_TAG_SIZE);
    copyBytes(src, sv, start, dst, dv, dstOffset, MAC_PAIR_SIZE);
  } else {
    copyBytes(src, sv, start, dst, dv, dstOffset, MAC_PAIR_SIZE);
    copyBytes(src, sv, start + MAC_PAIR_SIZE + VLAN_TAG_SIZE, dst, dv, dstOffset + MAC_PAIR_SIZE, size - MAC_PAIR_SIZE - VLAN_TAG_SIZE);
  }
  return size - VLAN_TAG_SIZE;
}

/**
 * Push an 802.1Q tag in place: the frame [start, end) grows into the 4 bytes before it, which
 * the caller owns (start − 4 >= 0 and those bytes are headroom, not another frame). Returns the
 * new start (start − 4; the end is unchanged), or -1 when there is no headroom or no Ethernet
 * header.
 */
export function vlanPushInPlace(d: Uint8Array, v: DataView, start: number, end: number, vid: number, pcp: number): number {
  if (start < VLAN_TAG_SIZE || end - start < ETH_HEADER_SIZE || end > d.length) return -1;
  const to = start - VLAN_TAG_SIZE;
  // Three words, moving towards lower addresses: each read precedes the write that could clobber it.
  v.setInt32(to, v.getInt32(start));
  v.setInt32(to + 4, v.getInt32(start + 4));
  v.setInt32(to + 8, v.getInt32(start + 8));
  v.setUint16(to + ETH_TYPE, ETHERTYPE_VLAN);
  v.setUint16(to + ETH_TYPE + 2, vlanTci(vid, pcp));
  return to;
}

/**
 * Pop the outermost VLAN tag in place: the MAC bytes move forward by 4 over the tag. Returns the
 * new start (start + 4; the end is unchanged), or -1 when the frame is not tagged or shorter than
 * 18 bytes. The 4 bytes at the old start become headroom.
 */
export function vlanPopInPlace(d: Uint8Array, v: DataView, start: number, end: number): number {
  if (start < 0 || end - start < ETH_HEADER_SIZE + VLAN_TAG_SIZE || end > d.length) return -1;
  if (!isTagType(v.getUint16(start + ETH_TYPE))) return -1;
  const to = start + VLAN_TAG_SIZE;
  // Moving towards higher addresses: copy the last word first.
  v.setInt32(to + 8, v.getInt32(start + 8));
  v.setInt32(to + 4, v.getInt32(start + 4));
  v.setInt32(to, v.getInt32(start));
  return to;
}
