/**
 * Stage `rewrite`: a composite's transpositions applied to one decided frame, in a fixed order
 * (addresses and ports with their checksums, MSS clamp, MACs, then the VLAN tag; the VXLAN outer
 * header will come last), and the frame appended to the output vector for its egress port.
 *
 * Where the bytes are written. A frame forwarded unchanged is not touched (the output item points
 * into the input slab). A transposition that keeps the length is done in place when the batch's
 * slab is writable (a file reader's chunk buffer) and the frame has one output; otherwise (a
 * length change such as a VLAN push or pop, a flood's copies, a lent slab, a recirculated frame)
 * the frame is copied into the output vector's scratch slab with HEADROOM bytes before it and
 * transposed there. A frame too short for its transposition leaves as it came.
 */
import { FLOW_KEY_WORDS, KEY_PROTO, L3_KIND_IPV4, L3_KIND_IPV6, keyKind, keyProtocol } from '../frame/batch.js';
import type { FrameBatch } from '../frame/batch.js';
import { copyBytes } from '../action/copy.js';
import { mssClamp } from '../action/mss.js';
import { rewriteDstMac, rewriteIPv4Dst, rewriteIPv4Src, rewriteIPv6Dst, rewriteIPv6Src, rewriteL4DstPort, rewriteL4SrcPort, rewriteSrcMac } from '../action/rewrite.js';
import { vlanPopInPlace, vlanPushInPlace } from '../action/vlan.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/headers.js';
import { MAC_OP_DST, MAC_OP_SRC, REWRITE_DST_ADDR, REWRITE_DST_PORT, REWRITE_SRC_ADDR, REWRITE_SRC_PORT, VLAN_OP_NONE, VLAN_OP_POP, VLAN_OP_PUSH } from './composite.js';
import type { CompositeTable } from './composite.js';
import { EMIT_FORWARD, SLAB_INPUT, SLAB_SCRATCH } from './output.js';
import { C_EMITTED } from './state.js';
import type { ShardState } from './state.js';

/**
 * Apply composite c to frame i of `batch` and append it to the output vector as a forward on the
 * composite's egress port; returns the item's index. `copy`: the frame has several outputs (a
 * flood), so each is transposed from the frame as it arrived.
 */
export function rewriteStage(st: ShardState, batch: FrameBatch, i: number, c: number, copy: boolean, generated: number): number {
  const cs = st.composites;
  const out = st.out;
  const egress = cs.egress[c]!;
  let d = batch.data;
  let o = batch.offsets[i]!;
  let len = batch.lengths[i]!;
  let wire = batch.wireLengths[i]!;
  let slab = SLAB_INPUT;
  const op = cs.vlanOps[c]!;
  const macOps = cs.macOps[c]!;
  const rewrites = cs.rewrites[c]!;
  const mss = cs.mssDeltas[c]!;
  const transposed = op !== VLAN_OP_NONE || macOps !== 0 || rewrites !== 0 || mss !== 0;
  if (transposed || copy || generated !== 0) {
    let v = batch.view;
    let shift = 0;
    if (op !== VLAN_OP_NONE || copy || generated !== 0 || !batch.writable) {
      // Into the scratch slab, HEADROOM bytes in: the input frame stays as it was.
      const at = out.reserve(len);
      copyBytes(d, batch.view, o, out.scratch, out.scratchView, at, len);
      shift = at - o;
      d = out.scratch;
      v = out.scratchView;
      o = at;
      slab = SLAB_SCRATCH;
    }
    const end = o + len;
    if (rewrites !== 0 || mss !== 0) rewriteL3L4(cs, batch, i, c, d, v, shift, end);
    if (macOps & MAC_OP_DST) rewriteDstMac(d, v, o, end, cs.dstMacHi[c]!, cs.dstMacLo[c]!);
    if (macOps & MAC_OP_SRC) rewriteSrcMac(d, v, o, end, cs.srcMacHi[c]!, cs.srcMacLo[c]!);
    let start = o;
    if (op === VLAN_OP_PUSH) {
      const s2 = vlanPushInPlace(d, v, o, end, cs.vlanIds[c]!, 0);
      if (s2 >= 0) start = s2;
    } else if (op === VLAN_OP_POP) {
      const s2 = vlanPopInPlace(d, v, o, end);
      if (s2 >= 0) start = s2;
    }
    if (slab === SLAB_SCRATCH) out.commit(end);
    wire += end - start - len;
    len = end - start;
    o = start;
  }
  const meters = cs.meters[c]!;
  if (meters !== 0) {
    for (let m = 0; m < 32; m++) {
      if ((meters & (1 << m)) === 0) continue;
      st.meterPackets[m]!++;
      st.meterBytes[m]! += len;
    }
  }
  st.counters[C_EMITTED]++;
  st.portTx[egress]!++;
  const cols = st.cols;
  const j = out.add(EMIT_FORWARD, cols.origins[i]!, egress, batch.ports[i]!, slab, o, len, wire, c, 0, cols.hits[i]!, generated !== 0 ? st.recirculatedKinds[i]! : 0);
  if (st.tracer) st.tracer.emitted(egress, d, o, len, wire);
  return j;
}

/**
 * The composite's address, port and MSS transpositions on frame i in `d` (the frame's parse
 * offsets plus `shift`), with every checksum fixed incrementally (action/).
 */
function rewriteL3L4(cs: CompositeTable, batch: FrameBatch, i: number, c: number, d: Uint8Array, v: DataView, shift: number, end: number): void {
  const vx = batch.innerL3Offsets[i]! >= 0;
  const l3o = vx ? batch.innerL3Offsets[i]! : batch.l3Offsets[i]!;
  if (l3o < 0) return;
  const l4o = vx ? batch.innerL4Offsets[i]! : batch.l4Offsets[i]!;
  const l3 = l3o + shift;
  const l4 = l4o >= 0 ? l4o + shift : -1;
  const w9 = batch.keys[i * FLOW_KEY_WORDS + KEY_PROTO]!;
  const family = keyKind(w9);
  const proto = keyProtocol(w9);
  const rw = cs.rewrites[c]!;
  const ns = cs.newSrc;
  const nd = cs.newDst;
  const b = c * 4;
  if (family === L3_KIND_IPV4) {
    if (rw & REWRITE_SRC_ADDR) rewriteIPv4Src(d, v, l3, l4, end, ns[b]!);
    if (rw & REWRITE_DST_ADDR) rewriteIPv4Dst(d, v, l3, l4, end, nd[b]!);
  } else if (family === L3_KIND_IPV6) {
    if (rw & REWRITE_SRC_ADDR) rewriteIPv6Src(d, v, l3, l4, end, proto, ns[b]!, ns[b + 1]!, ns[b + 2]!, ns[b + 3]!);
    if (rw & REWRITE_DST_ADDR) rewriteIPv6Dst(d, v, l3, l4, end, proto, nd[b]!, nd[b + 1]!, nd[b + 2]!, nd[b + 3]!);
  }
  if (l4 >= 0 && (proto === IPPROTO_TCP || proto === IPPROTO_UDP)) {
    if (rw & REWRITE_SRC_PORT) rewriteL4SrcPort(d, v, l4, end, proto, cs.newSport[c]!);
    if (rw & REWRITE_DST_PORT) rewriteL4DstPort(d, v, l4, end, proto, cs.newDport[c]!);
    const mss = cs.mssDeltas[c]!;
    if (mss !== 0 && proto === IPPROTO_TCP) mssClamp(d, v, l4, end, mss, 65535);
  }
}
