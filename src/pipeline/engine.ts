/**
 * The driver of one shard's stages (layer 5 in docs/architecture.md): read this file to follow a frame's walk.
 * Each stage is a file of this folder working on a FrameBatch and the per-frame columns of
 * ShardState (state.ts), which say where each frame goes next (`next`) and what decided it
 * (`comps`); the driver only sequences them:
 *
 *   parse        -> offsets, flow key, hash (parse/, or done by the caller: `processParsed`)
 *   ingress      -> the ingress port of each frame; parse errors dropped; the probe list (ingress.ts)
 *   fast         -> one batched flow-table probe; hits take their cached composite (fast.ts)
 *   then, in frame order, for each frame not yet handed out:
 *     slow       -> the deciders (switch, VFP layers; NAT, LB, encap next) make a composite and
 *                   install the flow (slow.ts)
 *     tx         -> drops counted; forwards through rewrite (tx.ts, rewrite.ts) into the output
 *                   vector (output.ts); runs of plain frames go in one loop (txPlainRun)
 *     recirculate-> the host's answer to a frame delivered to its vNIC, run through the same
 *                   stages before the next frame (recirculate.ts)
 *   end of batch -> the flow table's sweep; removal rows of owned flows drained to their owners;
 *                   the output vector to the sink (one call per batch)
 *
 * Invariants. Every input frame ends in exactly one of `out` (forwarded to at least one port) or
 * `dropped` (one reason), so in = out + dropped. The fast path, tx and rewrite allocate nothing;
 * the slow path allocates only when it makes a new composite. Time is the packet's. A batch gives
 * the same decisions, outputs and counters as frames processed one by one (fast.ts says how).
 *
 * Policy generations. `setPolicy` installs a new generation; flows of an older one are stale: their
 * next packet runs the slow path and installs a new entry (or pair) over the old. Composites are
 * shared across generations (composite.ts), so updates do not grow the composite table.
 *
 * Per-flow state. A module that keeps state per flow (a NAT port, an LB backend) registers as a
 * FlowOwner, writes the flow table's state words of its entries and names itself their owner;
 * whenever such an entry leaves the table, for whatever reason, the owner's `released` is called
 * once with the removal row (flow/table.ts), at the end of the batch.
 *
 * Trace. With `tracer` set, every stage also reports to it (trace.ts); layers are then evaluated by
 * the IR interpreter (vfp/interp.ts), which the property tests keep identical to the generated
 * code. `vfp trace` runs batches of one frame.
 */
import { FLOW_REMOVAL_OWNER, FLOW_REMOVAL_WORDS } from '../flow/table.js';
import type { FlowTable } from '../flow/table.js';
import type { FrameBatch } from '../frame/batch.js';
import { parseBatch } from '../parse/parse.js';
import { PORT_KIND_VNIC } from '../switch/vswitch.js';
import type { CompositeTable } from './composite.js';
import { fastStage } from './fast.js';
import { ingressStage } from './ingress.js';
import { EMIT_FORWARD } from './output.js';
import type { FrameSink } from './output.js';
import type { Policy } from './policy.js';
import { Recirculator } from './recirculate.js';
import { SlowPath } from './slow.js';
import { C_RELEASED, ENGINE_COUNTERS, NEXT_DROP, NEXT_SLOW, NEXT_TX, ShardState } from './state.js';
import type { EngineCounter, EngineOptions, IngressMap } from './state.js';
import type { Tracer } from './trace.js';
import { txPlainRun, txStage } from './tx.js';

export { ENGINE_COUNTERS };
export type { EngineCounter, EngineOptions, IngressMap };
export type { FrameSink } from './output.js';

/** A module keeping per-flow state: told of each of its entries that leaves the flow table. */
export interface FlowOwner {
  /** One removal row (FLOW_REMOVAL_* word offsets from `at` in `rows`): release what the flow held. */
  released(rows: Int32Array, at: number): void;
}

export class Engine {
  readonly state: ShardState;
  private readonly slow: SlowPath;
  private readonly recirculator: Recirculator;
  private readonly ingressScratch: IngressMap = { byInterface: new Int32Array(0), forced: -1 };
  /** Flow owners by id (index 0 unused: an entry with owner 0 has none). */
  private readonly owners: (FlowOwner | null)[] = [null];

  constructor(policy: Policy, options: EngineOptions = {}) {
    this.state = new ShardState(policy, options);
    this.slow = new SlowPath(this.state);
    this.recirculator = new Recirculator(this.state);
  }

  get policy(): Policy {
    return this.state.policy;
  }
  get flows(): FlowTable {
    return this.state.flows;
  }
  get composites(): CompositeTable {
    return this.state.composites;
  }
  get counters(): Float64Array {
    return this.state.counters;
  }
  get drops(): Float64Array {
    return this.state.drops;
  }
  get portRx(): Float64Array {
    return this.state.portRx;
  }
  get portTx(): Float64Array {
    return this.state.portTx;
  }
  /** Packets and bytes per meter, by `meterNames` index. */
  get meterPackets(): Float64Array {
    return this.state.meterPackets;
  }
  get meterBytes(): Float64Array {
    return this.state.meterBytes;
  }
  get meterNames(): readonly string[] {
    return this.state.meterNames;
  }
  get tracer(): Tracer | null {
    return this.state.tracer;
  }
  set tracer(t: Tracer | null) {
    this.state.tracer = t;
  }

  /** Install a new policy generation (its ports must be the same list: names and order). */
  setPolicy(policy: Policy): void {
    if (policy.portNames.join('\n') !== this.state.policy.portNames.join('\n')) {
      throw new Error('a new policy generation must keep the same ports');
    }
    this.state.policy = policy;
  }

  counter(name: EngineCounter): number {
    return this.state.counters[ENGINE_COUNTERS.indexOf(name)]!;
  }

  /** Register a per-flow state owner; returns its id for `flows.setOwner`. */
  addFlowOwner(owner: FlowOwner): number {
    this.owners.push(owner);
    return this.owners.length - 1;
  }

  /** Parse and process one batch of input frames, handing what it produced to `sink`. */
  process(batch: FrameBatch, ingress: IngressMap, sink: FrameSink): void {
    parseBatch(batch, this.state.policy.vxlanPort);
    this.processParsed(batch, ingress, sink);
  }

  /** Process one batch whose parse columns are filled (parseBatch with this policy's vxlanPort). */
  processParsed(batch: FrameBatch, ingress: IngressMap, sink: FrameSink): void {
    const st = this.state;
    const n = batch.count;
    st.out.reset(batch);
    st.cols = st.outer;
    st.outer.ensure(n);
    const origins = st.outer.origins;
    for (let i = 0; i < n; i++) origins[i] = i;
    this.walk(batch, ingress, 0);
    if (n > 0) st.flows.sweep(st.clock, st.sweepBudget);
    this.releaseRemovedFlows();
    sink.emit(st.out);
  }

  /** The stages over one batch level (`generated` 0: input frames; else recirculated ones). */
  private walk(batch: FrameBatch, ingress: IngressMap, generated: number): void {
    const st = this.state;
    const n = batch.count;
    ingressStage(st, batch, ingress, generated);
    fastStage(st, batch, generated);
    const cols = st.cols;
    const next = cols.next;
    const out = st.out;
    const kinds = st.policy.vswitch.kinds;
    const inline = st.tracer === null && generated === 0;
    for (let i = 0; i < n; i++) {
      if (inline) {
        i = txPlainRun(st, batch, i, n, PORT_KIND_VNIC);
        if (i >= n) break;
      }
      const step = next[i]!;
      if (step === NEXT_SLOW) this.slow.run(batch, i);
      else if (step !== NEXT_TX && step !== NEXT_DROP) continue;
      const first = out.count;
      txStage(st, batch, i, generated);
      if (generated !== 0) continue;
      // A frame delivered to a host vNIC may ask the host something: its answer runs next.
      for (let j = first; j < out.count; j++) {
        const egress = out.ports[j]!;
        if (out.kindOf(j) === EMIT_FORWARD && kinds[egress] === PORT_KIND_VNIC) this.recirculator.answer(batch, i, egress, out.dataOf(j), out.offsetOf(j), out.lengthOf(j), out.wireLengthOf(j));
      }
      if (st.recirculatedSize > 0) this.runRecirculated();
    }
  }

  /** Run the recirculated frames (a batch of their own) with the second set of per-frame columns. */
  private runRecirculated(): void {
    const st = this.state;
    const batch = st.recirculated;
    batch.count = st.recirculatedSize;
    st.cols = st.inner;
    parseBatch(batch, st.policy.vxlanPort);
    this.walk(batch, this.ingressScratch, 1);
    st.cols = st.outer;
    st.recirculatedSize = 0;
    batch.count = 0;
  }

  /** Hand each removal row of an owned flow to its owner (once), then forget the rows. */
  private releaseRemovedFlows(): void {
    const flows = this.state.flows;
    const count = flows.removalCount;
    if (count === 0) return;
    const rows = flows.removals;
    for (let j = 0; j < count; j++) {
      const at = j * FLOW_REMOVAL_WORDS;
      const owner = this.owners[rows[at + FLOW_REMOVAL_OWNER]!];
      if (owner) owner.released(rows, at);
    }
    this.state.counters[C_RELEASED] += count;
    flows.clearRemovals();
  }
}
