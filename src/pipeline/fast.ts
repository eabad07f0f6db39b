/**
 * Stage `fast`: one batched probe of the flow table for every frame ingress listed
 * (`lookupMany`: the cache misses of the batch overlap), then the hits. A hit is a live entry of
 * the current policy generation whose destination-MAC digest is the frame's: the frame takes the
 * entry's composite (`comps`, NEXT_TX) and is counted on the flow (`touch`).
 *
 * Frame order. A batch gives exactly what frame-by-frame processing gives, so hits are decided
 * here only up to the first frame that needs the slow path, goes to a host vNIC (the host's answer
 * goes through the table too) or carries a RST (it cuts its pair): that slow path, answer or cut
 * may install, replace, evict or kill entries later frames found. The frames after it stay
 * NEXT_SLOW with `deferred` set, and the slow path looks each up again in order (their lines are
 * in the cache from the probe). A frame whose entry looked expired to the probe (FLOW_RECHECK) is
 * looked up again here, after the touches of the frames before it; if that removes the entry, it
 * is a miss and ends the hits too.
 *
 * Plain hits leave at once. When every frame of an untraced input batch was probed, a hit whose
 * composite drops, or forwards unchanged to a port that is not a host vNIC, is appended to the
 * output vector here (NEXT_DONE), while its columns and record are in L1, until the first hit
 * that needs a transposition (tx's work): no frame before an appended one is still waiting, so
 * the output stays in frame order.
 */
import { FLOW_KEY_WORDS } from '../frame/batch.js';
import type { FrameBatch } from '../frame/batch.js';
import { keyedTcpFlags, macHash } from '../flow/keys.js';
import { FLOW_HOT_ACTION, FLOW_HOT_GENERATION, FLOW_HOT_USER_DATA, FLOW_RECHECK, FLOW_RECORD_WORDS, TCP_FLAG_RST } from '../flow/table.js';
import { PORT_KIND_VNIC } from '../switch/vswitch.js';
import { C_DROPPED, C_EMITTED, C_HITS, C_OUT, C_STALE, NEXT_DONE, NEXT_TX } from './state.js';
import type { ShardState } from './state.js';

/** log2(FLOW_RECORD_WORDS): record h starts at word h << 4 of the table's record views. */
const FLOW_RECORD_SHIFT = 4;
if (1 << FLOW_RECORD_SHIFT !== FLOW_RECORD_WORDS) throw new Error('fast.ts: FLOW_RECORD_SHIFT does not match the flow table record size');

/** Run the stage over the probe list ingress made (`generated` 0: an input batch). */
export function fastStage(st: ShardState, batch: FrameBatch, generated: number): void {
  const cols = st.cols;
  const probeCount = cols.probeCount;
  if (probeCount === 0) return;
  const flows = st.flows;
  const gen = st.policy.generation;
  const kinds = st.policy.vswitch.kinds;
  const egressOf = st.composites.egress;
  const tracer = st.tracer;
  const probe = cols.probe;
  const found = cols.found;
  const times = cols.times;
  const tHashes = cols.tableHashes;
  const next = cols.next;
  const comps = cols.comps;
  const hitCol = cols.hits;
  const keys = batch.keys;
  const offsets = batch.offsets;
  const lengths = batch.lengths;
  const l4Offsets = batch.l4Offsets;
  const innerL4Offsets = batch.innerL4Offsets;
  const d = batch.data;
  const v = batch.view;
  const plainOf = st.composites.plain;
  const out = st.out;
  const portTx = st.portTx;
  const ports = batch.ports;
  const verdicts = st.composites.verdicts;
  const drops = st.drops;
  let fused = tracer === null && generated === 0 && probeCount === batch.count;
  flows.lookupMany(keys, probe, probeCount, tHashes, times, found);
  out.reserveItems(probeCount);
  // Installs from here on are marked, so the slow path can trust a miss of this probe whose hash
  // no install has touched. (Not for a recirculated batch, which runs inside the input batch's
  // loop: the input batch's deferred frames still need the marks made since its own probe.)
  if (generated === 0) flows.clearInsertMarks();
  let hits = 0;
  let sent = 0;
  let dropped = 0;
  let deferFrom = probeCount;
  // The common case in a loop of its own: every frame was probed (probe[j] === j) and the leading
  // frames are live plain hits to a port that is not a host vNIC, without a RST. The first other
  // frame ends it, and it and the rest take the general loop below (same decisions).
  let j0 = 0;
  if (fused) {
    const hotWords = flows.hotWords;
    const hotInts = flows.hotInts;
    for (; j0 < probeCount; j0++) {
      const i = j0;
      const e = found[i]!;
      if (e < 0) break;
      const rec = e << FLOW_RECORD_SHIFT;
      const c = hotInts[rec + FLOW_HOT_ACTION]!;
      if (plainOf[c] !== 1) break;
      const o = offsets[i]!;
      if (hotWords[rec + FLOW_HOT_GENERATION] !== gen || hotInts[rec + FLOW_HOT_USER_DATA] !== macHash((d[o]! << 8) | d[o + 1]!, v.getUint32(o + 2))) break;
      const egress = egressOf[c]!;
      if (kinds[egress] === PORT_KIND_VNIC) break;
      const len = lengths[i]!;
      const tcp = keyedTcpFlags(keys, i, innerL4Offsets, l4Offsets, d, o + len);
      if ((tcp & TCP_FLAG_RST) !== 0) break;
      flows.touch(e, times[i]!, len, tcp);
      comps[i] = c;
      hitCol[i] = 1;
      next[i] = NEXT_DONE;
      portTx[egress]!++;
      out.addInputFrame(i, egress, c, 0, 1);
    }
    hits += j0;
    sent += j0;
  }
  for (let j = j0; j < probeCount; j++) {
    const i = probe[j]!;
    let e = found[i]!;
    if (e === FLOW_RECHECK) {
      e = flows.lookupAgain(keys, i * FLOW_KEY_WORDS, tHashes[i]!, times[i]!, e);
      found[i] = e;
    }
    if (e < 0) {
      if (tracer) tracer.flowMiss(gen);
      deferFrom = j + 1;
      break;
    }
    const o = offsets[i]!;
    if (flows.generationOf(e) === gen && flows.userDataOf(e) === macHash((d[o]! << 8) | d[o + 1]!, v.getUint32(o + 2))) {
      const c = flows.actionOf(e);
      const len = lengths[i]!;
      const tcp = keyedTcpFlags(keys, i, innerL4Offsets, l4Offsets, d, o + len);
      flows.touch(e, times[i]!, len, tcp);
      comps[i] = c;
      hitCol[i] = 1;
      hits++;
      if (tracer) tracer.flowHit(e, flows, st.composites, c);
      const egress = egressOf[c]!;
      if ((tcp & TCP_FLAG_RST) !== 0 || (egress >= 0 && kinds[egress] === PORT_KIND_VNIC)) {
        next[i] = NEXT_TX;
        deferFrom = j + 1;
        break;
      }
      if (fused) {
        const reason = verdicts[c]!;
        if (reason !== 0) {
          next[i] = NEXT_DONE;
          dropped++;
          drops[reason]!++;
          out.addInputFrame(i, ports[i]!, c, reason, 1);
          continue;
        }
        if (plainOf[c] === 1) {
          next[i] = NEXT_DONE;
          sent++;
          portTx[egress]!++;
          out.addInputFrame(i, egress, c, 0, 1);
          continue;
        }
        fused = false; // a transposition is tx's: the frames after it wait for it, in order
      }
      next[i] = NEXT_TX;
      continue;
    }
    const stale = flows.generationOf(e) !== gen;
    if (stale) st.counters[C_STALE]++;
    if (tracer) tracer.flowStale(e, flows, stale);
    deferFrom = j + 1;
    break;
  }
  const deferred = cols.deferred;
  for (let j = deferFrom; j < probeCount; j++) deferred[probe[j]!] = 1;
  cols.slowCount -= hits;
  const counters = st.counters;
  counters[C_HITS] += hits;
  counters[C_OUT] += sent;
  counters[C_EMITTED] += sent;
  counters[C_DROPPED] += dropped;
}
