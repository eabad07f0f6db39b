/**
 * Stage `ingress`: each frame of a parsed batch gets its ingress port (the `ports` column, and the
 * high half of key word KEY_PORT_ETHERTYPE, so the same 5-tuple on two ports is two flows) and
 * its first `next`: NEXT_DROP for a frame with no port or a parse error (the reason in `reasons`),
 * else NEXT_SLOW with its time on the packet clock (`times`: the latest timestamp so far, so time
 * never runs backwards for the flow table); unicast IP frames are also listed for the flow probe
 * with their table hash.
 *
 * The port of an input frame: the capture interface's port when the interface names one; else
 * the forced port (`--ingress`); else the port owning the source MAC; else the first uplink.
 * The stage tells the tracer which of these applied (INGRESS_*). Recirculated
 * frames (generated) keep the port their producer wrote.
 */
import { DropReasonId, parseErrorDropReason } from '../base/reasons.js';
import { FLOW_KEY_WORDS, KEY_PORT_ETHERTYPE, KEY_PROTO, L3_KIND_IPV4, L3_KIND_IPV6, keyKind, keyWithPort } from '../frame/batch.js';
import type { FrameBatch } from '../frame/batch.js';
import { tableHash } from '../flow/keys.js';
import { C_IN, COMP_NONE, NEXT_DROP, NEXT_SLOW } from './state.js';
import type { IngressMap, ShardState } from './state.js';

export const INGRESS_BY_INTERFACE = 0;
export const INGRESS_FORCED = 1;
export const INGRESS_BY_MAC = 2;
export const INGRESS_FIRST_UPLINK = 3;
export const INGRESS_NONE = 4;
export const INGRESS_RECIRCULATED = 5;

/** Run the stage on frames [0, batch.count); `generated` is 0 for input frames. Returns the frames listed for the probe. */
export function ingressStage(st: ShardState, batch: FrameBatch, ingress: IngressMap, generated: number): number {
  const n = batch.count;
  const cols = st.cols;
  const next = cols.next;
  const comps = cols.comps;
  const reasons = cols.reasons;
  const hits = cols.hits;
  const probe = cols.probe;
  const tHashes = cols.tableHashes;
  const times = cols.times;
  const keys = batch.keys;
  const hashes = batch.hashes;
  const errors = batch.errors;
  const offsets = batch.offsets;
  const ports = batch.ports;
  const seconds = batch.timestampSeconds;
  const nanos = batch.timestampNanos;
  const d = batch.data;
  const portRx = st.portRx;
  const tracer = st.tracer;
  let probeCount = 0;
  let slow = 0;
  let clock = st.clock;
  if (generated === 0) st.counters[C_IN] += n;
  const byInterface = ingress.byInterface;
  const interfaces = byInterface.length;
  const forced = ingress.forced;
  const vs = st.policy.vswitch;
  const firstUplink = st.policy.firstUplink;
  const sources = batch.sources;
  const lengths = batch.lengths;
  const v = batch.view;
  for (let i = 0; i < n; i++) {
    const k = i * FLOW_KEY_WORDS;
    if (generated !== 0) {
      // A recirculated frame happens at the time of the frame that caused it (this batch level
      // runs inside the input batch's loop, whose clock ingress has already moved to its end).
      times[i] = st.outer.times[cols.origins[i]!]!;
    } else {
      // Every input frame moves the clock, dropped ones too.
      const t = seconds[i]! + nanos[i]! * 1e-9;
      if (t > clock) clock = t;
      times[i] = clock;
    }
    let port: number;
    if (generated !== 0) {
      port = ports[i]!;
      if (tracer) tracer.begin(batch, i, port, st.recirculatedKinds[i]!, INGRESS_RECIRCULATED);
    } else {
      // The one ingress rule: the capture interface's port, --ingress, the source MAC's port, the
      // first uplink; `how` says which applied (the tracer reports it).
      const src = sources[i]!;
      port = src < interfaces ? byInterface[src]! : -1;
      let how = INGRESS_BY_INTERFACE;
      if (port < 0) {
        port = forced;
        how = INGRESS_FORCED;
      }
      if (port < 0 && lengths[i]! >= 12) {
        const o = offsets[i]!;
        port = vs.portOfMac((d[o + 6]! << 8) | d[o + 7]!, v.getUint32(o + 8));
        how = INGRESS_BY_MAC;
      }
      if (port < 0) {
        port = firstUplink;
        how = port < 0 ? INGRESS_NONE : INGRESS_FIRST_UPLINK;
      }
      ports[i] = port < 0 ? 0 : port;
      if (tracer) tracer.begin(batch, i, port, 0, how);
    }
    hits[i] = 0;
    if (port < 0) {
      next[i] = NEXT_DROP;
      comps[i] = COMP_NONE;
      reasons[i] = DropReasonId['unknown-port'];
      continue;
    }
    if (generated === 0) portRx[port]!++;
    keys[k + KEY_PORT_ETHERTYPE] = keyWithPort(keys[k + KEY_PORT_ETHERTYPE]!, port);
    const err = errors[i]!;
    if (err !== 0) {
      next[i] = NEXT_DROP;
      comps[i] = COMP_NONE;
      reasons[i] = parseErrorDropReason(err);
      if (tracer) tracer.parseError(err);
      continue;
    }
    next[i] = NEXT_SLOW;
    slow++;
    const kind = keyKind(keys[k + KEY_PROTO]!);
    if ((kind !== L3_KIND_IPV4 && kind !== L3_KIND_IPV6) || (d[offsets[i]!]! & 0x01) !== 0) continue; // not cached: the slow path
    tHashes[i] = tableHash(hashes[i]!, port);
    probe[probeCount++] = i;
  }
  st.clock = clock;
  cols.slowCount = slow;
  cols.probeCount = probeCount;
  return probeCount;
}
