/**
 * Stage `tx`: a decided frame leaves. A drop is counted with its reason and appended to the
 * output vector on its ingress port; a forward goes through the rewrite stage, once per output
 * port (a flood makes several copies, each decided on its own; a flood with no copy allowed is a
 * drop with the first copy's reason). The output vector goes to the sink once per input batch
 * (engine.ts), in frame order; a sink that writes per port (live mode, --split) groups the items
 * by their `ports` column.
 *
 * Counters: an input frame counts once in `out` or `dropped` (by reason); a frame the host
 * generated counts in `host-forwarded` or `host-dropped` instead. `emitted` counts every copy.
 */
import { DropReasonId } from '../base/reasons.js';
import type { FrameBatch } from '../frame/batch.js';
import { EMIT_DROP, SLAB_INPUT, SLAB_SCRATCH } from './output.js';
import { rewriteStage } from './rewrite.js';
import { C_DROPPED, C_EMITTED, C_HOST_DROPPED, C_HOST_FORWARDED, C_OUT, COMP_FLOOD, COMP_NONE, NEXT_DONE, NEXT_TX } from './state.js';
import type { ShardState } from './state.js';

/** Frame i leaves (or is dropped); returns the egress port of a single forward, else -1. */
export function txStage(st: ShardState, batch: FrameBatch, i: number, generated: number): number {
  const cols = st.cols;
  const c = cols.comps[i]!;
  cols.next[i] = NEXT_DONE;
  const cs = st.composites;
  if (c === COMP_NONE) {
    drop(st, batch, i, cols.reasons[i]!, -1, generated, true);
    return -1;
  }
  if (c === COMP_FLOOD) {
    const start = cols.floodStart[i]!;
    const count = cols.floodCount[i]!;
    let sent = 0;
    let firstReason = 0;
    for (let j = 0; j < count; j++) {
      const sc = cols.floodItems[start + j]!;
      if (cs.verdicts[sc] !== 0) {
        if (firstReason === 0) firstReason = cs.verdicts[sc]!;
        continue;
      }
      rewriteStage(st, batch, i, sc, true, generated);
      sent++;
    }
    if (sent > 0) st.counters[generated !== 0 ? C_HOST_FORWARDED : C_OUT]++;
    else drop(st, batch, i, firstReason, -1, generated, false);
    if (st.tracer) st.tracer.verdictFlood(sent, count, firstReason);
    return -1;
  }
  const verdict = cs.verdicts[c]!;
  if (verdict !== 0) {
    drop(st, batch, i, verdict, c, generated, true);
    return -1;
  }
  st.counters[generated !== 0 ? C_HOST_FORWARDED : C_OUT]++;
  rewriteStage(st, batch, i, c, false, generated);
  return cs.egress[c]!;
}

/**
 * The common case without a call per stage: frames [from, to) of an untraced input batch that
 * are NEXT_TX with a composite forwarding unchanged (plain) to a port that is not a host vNIC, or
 * dropping, are handed out here, and those already handed out (NEXT_DONE) skipped; returns the
 * first frame that is neither (to when all were).
 */
export function txPlainRun(st: ShardState, batch: FrameBatch, from: number, to: number, vnicKind: number): number {
  const cols = st.cols;
  const next = cols.next;
  const comps = cols.comps;
  const hits = cols.hits;
  const cs = st.composites;
  const verdicts = cs.verdicts;
  const plainOf = cs.plain;
  const egressOf = cs.egress;
  const kinds = st.policy.vswitch.kinds;
  const portTx = st.portTx;
  const drops = st.drops;
  const out = st.out;
  const ports = batch.ports;
  out.reserveItems(to - from);
  let forwarded = 0;
  let dropped = 0;
  let i = from;
  for (; i < to; i++) {
    const step = next[i]!;
    if (step === NEXT_DONE) continue;
    if (step !== NEXT_TX) break;
    const c = comps[i]!;
    if (c < 0) break;
    const reason = verdicts[c]!;
    if (reason !== 0) {
      dropped++;
      drops[reason]!++;
      out.addInputFrame(i, ports[i]!, c, reason, hits[i]!);
    } else {
      if (plainOf[c] !== 1) break;
      const egress = egressOf[c]!;
      if (kinds[egress] === vnicKind) break;
      forwarded++;
      portTx[egress]!++;
      out.addInputFrame(i, egress, c, 0, hits[i]!);
    }
    next[i] = NEXT_DONE;
  }
  const counters = st.counters;
  counters[C_OUT] += forwarded;
  counters[C_EMITTED] += forwarded;
  counters[C_DROPPED] += dropped;
  return i;
}

const UNKNOWN_PORT = DropReasonId['unknown-port'];

function drop(st: ShardState, batch: FrameBatch, i: number, reason: number, c: number, generated: number, trace: boolean): void {
  const cols = st.cols;
  if (generated !== 0) st.counters[C_HOST_DROPPED]++;
  else {
    st.counters[C_DROPPED]++;
    st.drops[reason]!++;
  }
  // A recirculated frame's bytes are reused by the next answer: a dropped one is copied out.
  let slab = SLAB_INPUT;
  let o = batch.offsets[i]!;
  const len = batch.lengths[i]!;
  if (generated !== 0) {
    const at = st.out.reserve(len);
    st.out.scratch.set(batch.data.subarray(o, o + len), at);
    st.out.commit(at + len);
    o = at;
    slab = SLAB_SCRATCH;
  }
  // A frame no port could take (no uplink to default to) is dropped on no port.
  const port = reason === UNKNOWN_PORT ? -1 : batch.ports[i]!;
  st.out.add(EMIT_DROP, cols.origins[i]!, port, port, slab, o, len, batch.wireLengths[i]!, c, reason, c === -1 ? 0 : cols.hits[i]!, generated !== 0 ? st.recirculatedKinds[i]! : 0);
  if (trace && st.tracer) st.tracer.verdictDrop(reason);
}
