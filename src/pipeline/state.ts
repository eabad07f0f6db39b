/**
 * What the stages of one shard share (the driver, engine.ts, owns it): the policy in force, the
 * flow table, the composite table, the counters, the per-frame columns the stages talk through,
 * the output vector, and the recirculation batch. A stage is a file of functions (or a small
 * class) over this state and a FrameBatch; none calls another stage: the driver sequences them.
 *
 * Per-frame columns (FrameColumns, one set per batch level: input frames, and the frames the
 * recirculation path feeds back in, which run inside the input batch's loop). The `next` column
 * says where each frame goes (VPP's nexts[]): NEXT_DROP (a reason in `reasons`, no composite),
 * NEXT_SLOW (the slow path decides it), NEXT_TX (`comps` holds its composite, or COMP_FLOOD with
 * its copies' composites in the flood columns), NEXT_DONE (already handed out).
 */
import { DROP_REASON_COUNT } from '../base/reasons.js';
import { FrameBatch } from '../frame/batch.js';
import { FlowTable } from '../flow/table.js';
import type { FlowWhenFull } from '../flow/table.js';
import { PKT_WORDS } from '../vfp/model.js';
import { CompositeTable, DecisionTexts } from './composite.js';
import { EmitBatch } from './output.js';
import type { Policy } from './policy.js';
import type { Tracer } from './trace.js';

export const ENGINE_COUNTERS = [
  'in', // input frames
  'out', // input frames forwarded to at least one port
  'dropped', // input frames dropped (by reason in `drops`)
  'emitted', // frames handed to the sink's forward (a flood counts each copy; host answers included)
  'flow-hits',
  'flow-misses', // slow-path runs for cacheable frames (stale hits included)
  'flow-stale', // hits of an older policy generation, re-run on the slow path
  'uncached', // frames that never use the flow table: non-IP (ARP ...), broadcast and multicast
  'host-generated', // answers made by host vNICs (ARP replies, echo replies)
  'host-forwarded',
  'host-dropped',
  'flows-released', // owned flow entries whose removal was reported to their owner
] as const;
export type EngineCounter = (typeof ENGINE_COUNTERS)[number];
export const C_IN = 0;
export const C_OUT = 1;
export const C_DROPPED = 2;
export const C_EMITTED = 3;
export const C_HITS = 4;
export const C_MISSES = 5;
export const C_STALE = 6;
export const C_UNCACHED = 7;
export const C_HOST_GENERATED = 8;
export const C_HOST_FORWARDED = 9;
export const C_HOST_DROPPED = 10;
export const C_RELEASED = 11;

/** `next` column values. */
export const NEXT_DONE = 0;
export const NEXT_DROP = 1;
export const NEXT_SLOW = 2;
export const NEXT_TX = 3;

/** Composite id marks in the `comps` column. */
export const COMP_NONE = -1; // no composite (NEXT_DROP)
export const COMP_FLOOD = -2; // flooded: the copies' composites in floodItems

export interface EngineOptions {
  /** Flow table entries (a pair uses two). Default 262,144. */
  flowCapacity?: number;
  /** What a full flow table does with a new flow: drop it (`table-full`, default) or evict the idlest. */
  whenFull?: FlowWhenFull;
  /** Idle timeout of cached flows no stateful rule decided (seconds). Default 240. */
  uftTtl?: number;
  /** Seconds a flow lives after a TCP RST at most (default 5). */
  rstTimeout?: number;
  /** Flow-table entries examined for expiry per batch (default 64). */
  sweepBudget?: number;
}

/** Ingress resolution for one input: the port of each capture interface (by pcapng name), a forced port, else by source MAC, else the first uplink. */
export interface IngressMap {
  /** Port id per capture interface index, -1 when the interface names no port. */
  byInterface: Int32Array;
  /** `--ingress PORT`: the port of frames whose interface names none (-1: none). */
  forced: number;
}

/** Per-frame scratch columns of one batch level, grown to the largest batch seen. */
export class FrameColumns {
  /** NEXT_* per frame. */
  next: Uint8Array = new Uint8Array(0);
  /** Composite id per frame, or COMP_NONE / COMP_FLOOD. */
  comps: Int32Array = new Int32Array(0);
  /** Drop reason of NEXT_DROP frames. */
  reasons: Uint8Array = new Uint8Array(0);
  /** 1 when the frame took the fast path. */
  hits: Uint8Array = new Uint8Array(0);
  /** Frames probed in the flow table, their table hashes and the handles found; `times` is every frame's packet clock (ingress sets it). */
  probe: Int32Array = new Int32Array(0);
  probeCount = 0;
  tableHashes: Uint32Array = new Uint32Array(0);
  times: Float64Array = new Float64Array(0);
  found: Int32Array = new Int32Array(0);
  /** 1 for a probed frame whose hit the fast path left to the slow path (after the batch's first miss); the slow path clears it. */
  deferred: Uint8Array = new Uint8Array(0);
  /** The input frame an item of this level stands for (identity for input frames; the answered frame for recirculated ones). */
  origins: Int32Array = new Int32Array(0);
  /** A flooded frame's copies' composites: floodItems[floodStart[i], + floodCount[i]). */
  floodStart: Int32Array = new Int32Array(0);
  floodCount: Int32Array = new Int32Array(0);
  floodItems: Int32Array = new Int32Array(64);
  floodUsed = 0;
  /** Frames still NEXT_SLOW (the slow path's work left in this batch). */
  slowCount = 0;

  ensure(n: number): void {
    if (this.next.length >= n) return;
    this.next = new Uint8Array(n);
    this.comps = new Int32Array(n);
    this.reasons = new Uint8Array(n);
    this.hits = new Uint8Array(n);
    this.probe = new Int32Array(n);
    this.tableHashes = new Uint32Array(n);
    this.times = new Float64Array(n);
    this.found = new Int32Array(n);
    this.deferred = new Uint8Array(n);
    this.origins = new Int32Array(n);
    this.floodStart = new Int32Array(n);
    this.floodCount = new Int32Array(n);
  }
}

export class ShardState {
  policy: Policy;
  readonly flows: FlowTable;
  readonly composites: CompositeTable;
  /** Texts of the decisions composites are made of, shared by every policy generation. */
  readonly decisions: DecisionTexts;
  readonly counters = new Float64Array(ENGINE_COUNTERS.length);
  readonly drops = new Float64Array(DROP_REASON_COUNT);
  readonly portRx: Float64Array;
  readonly portTx: Float64Array;
  /** Packets and bytes per meter (by engine meter id: `meterNames`). */
  readonly meterPackets = new Float64Array(32);
  readonly meterBytes = new Float64Array(32);
  /** Meter names by engine meter id, stable across policy generations. */
  readonly meterNames: string[] = [];
  tracer: Tracer | null = null;
  readonly uftTtl: number;
  readonly sweepBudget: number;
  /** Columns of the input batch, and of the recirculated frames' batch (run inside the input batch's loop). */
  outer = new FrameColumns();
  inner = new FrameColumns();
  /** The columns of the batch level running now. */
  cols: FrameColumns;
  readonly out = new EmitBatch();
  /** Frames fed back in (host answers now; decapsulated, hairpinned and host-routed frames next). */
  readonly recirculated = new FrameBatch(512, new Uint8Array(512 * 128));
  /** HOST_REPLY_* of each recirculated frame. */
  readonly recirculatedKinds = new Uint8Array(512);
  recirculatedSize = 0;
  /**
   * The packet clock (seconds): the latest frame timestamp seen. Expiry is judged on it, not on
   * each frame's own timestamp, so a capture whose timestamps step back (merged interfaces) gives
   * the same decisions whatever the batch size: time never runs backwards for the flow table.
   */
  clock = 0;
  /** Scratch packet words for the slow path's deciders. */
  readonly pkt = new Uint32Array(PKT_WORDS);

  constructor(policy: Policy, options: EngineOptions) {
    this.policy = policy;
    this.flows = new FlowTable({
      capacity: options.flowCapacity ?? 262144,
      whenFull: options.whenFull ?? 'drop',
      ...(options.rstTimeout !== undefined ? { rstTimeout: options.rstTimeout } : {}),
    });
    this.uftTtl = options.uftTtl ?? 240;
    this.sweepBudget = options.sweepBudget ?? 64;
    this.composites = new CompositeTable(policy.portNames);
    this.decisions = new DecisionTexts();
    this.portRx = new Float64Array(policy.ports.length);
    this.portTx = new Float64Array(policy.ports.length);
    this.cols = this.outer;
  }

  /** The engine id of meter `name` (made on first use; at most 32). */
  meterId(name: string): number {
    let m = this.meterNames.indexOf(name);
    if (m < 0) {
      m = this.meterNames.length;
      if (m >= 32) return -1;
      this.meterNames.push(name);
    }
    return m;
  }
}
