/**
 * The stages of one shard (DESIGN.md layer 5): a batch of parsed frames goes
 *
 *   ingress  -> each frame gets its ingress port (column `ports`, and the high 16 bits of key
 *               word 11, so the flow key includes the port);
 *   fast     -> one probe of the unified flow table per frame; a hit of the current generation
 *               whose destination MAC is the one the flow was decided for takes the cached
 *               composite (pipeline/composite.ts) and counts the packet on the flow;
 *   slow     -> the misses, in order: the vSwitch decides the egress port(s) (switch/), the
 *               ingress port's layers run outbound (DIR_OUT, first to last), the egress port's
 *               inbound (DIR_IN, last to first); the result is interned as a composite and, for
 *               unicast IP frames, cached: a flow pair when a stateful rule decided on the path
 *               (the reverse entry admits replies without rules), a single entry otherwise;
 *   tx       -> in input order: drops are counted with their reason and handed to the sink's
 *               `drop`; forwarded frames get their transposition (VLAN push/pop, MAC rewrite) and
 *               go to the sink's `forward`, one call per egress port (a flood makes several);
 *   host     -> frames delivered to a host vNIC that ask the host something (ARP for the
 *               gateway, ICMP echo to it) get the host's answer, injected right after the frame as
 *               frames entering from the vNIC port (they cross the same layers and flows).
 *
 * Invariants. Every input frame ends in exactly one of `out` (forwarded to at least one port) or
 * `dropped` (one reason, ENGINE_COUNTERS / drops), so in = out + dropped. The fast path and the
 * per-frame parts of tx allocate nothing: typed-array columns, integer handles; the slow path
 * allocates only when it makes a new composite (strings, once per distinct decision). Time is the
 * packet's: `now` is the frame's timestamp, so a replay is deterministic. A miss re-probes the
 * table first (an earlier miss of the same batch may have installed its flow), so a batch gives
 * the same decisions as frames processed one by one.
 *
 * Policy generations. `setPolicy` installs a new generation; flows of an older one are stale: their
 * next packet runs the slow path and installs a new entry (or pair) over the old.
 *
 * Trace. With `tracer` set, every stage also reports to it (trace.ts); layers are then evaluated by
 * the IR interpreter with a LayerTrace (vfp/interp.ts), which the property test keeps identical to
 * the generated code. `vfp trace` runs batches of one frame.
 *
 * Not handled yet (later issues): NAT (WinNAT sessions, OutboundNAT), VXLAN encap/decap on overlay
 * networks, L2Bridge MAC rewrite, ICMP errors matched to the flow of their embedded header,
 * sharding across workers.
 */
import { DROP_REASON_COUNT, DropReasonId, parseErrorDropReason } from '../base/reasons.js';
import { FLOW_KEY_WORDS, FrameBatch, L3_KIND_ARP, L3_KIND_IPV4, L3_KIND_IPV6 } from '../frame/batch.js';
import { FLOW_RECHECK, FlowTable, TCP_FLAG_RST } from '../flow/table.js';
import type { FlowWhenFull } from '../flow/table.js';
import { flowHash, parseBatch } from '../parse/parse.js';
import { FORWARD_DROP, FORWARD_FLOOD, PORT_KIND_UPLINK, PORT_KIND_VNIC } from '../switch/vswitch.js';
import { HOST_REPLY_NONE, HostResponder } from '../switch/host.js';
import type { CompiledLayer } from '../vfp/codegen.js';
import { createLayerTrace, interpretLayer } from '../vfp/interp.js';
import type { LayerTrace } from '../vfp/interp.js';
import { DIR_IN, DIR_OUT, PKT_DST, PKT_DST_MAC_HI, PKT_DST_MAC_LO, PKT_PORTS, PKT_PROTO, PKT_SRC, PKT_SRC_MAC_HI, PKT_SRC_MAC_LO, PKT_WORDS } from '../vfp/model.js';
import type { DirectionId, RuleAction } from '../vfp/model.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/headers.js';
import { copyBytes } from '../action/copy.js';
import { mssClamp } from '../action/mss.js';
import { rewriteDstMac, rewriteIPv4Dst, rewriteIPv4Src, rewriteIPv6Dst, rewriteIPv6Src, rewriteL4DstPort, rewriteL4SrcPort, rewriteSrcMac } from '../action/rewrite.js';
import { vlanPopInPlace, vlanPushInPlace } from '../action/vlan.js';
import {
  COMP_DST_MAC_HI,
  COMP_DST_MAC_LO,
  COMP_EGRESS,
  COMP_FIELDS,
  COMP_GENERATION,
  COMP_MAC_OPS,
  COMP_METERS,
  COMP_MSS_DELTA,
  COMP_NEW_DPORT,
  COMP_NEW_DST,
  COMP_NEW_SPORT,
  COMP_NEW_SRC,
  COMP_NOTE,
  COMP_REWRITE,
  COMP_SRC_MAC_HI,
  COMP_SRC_MAC_LO,
  COMP_REVERSE,
  COMP_VERDICT,
  COMP_VLAN_ID,
  COMP_VLAN_OP,
  CompositeTable,
  MAC_OP_DST,
  MAC_OP_SRC,
  NOTE_NO_FLOOD_PORT,
  NOTE_SWITCH,
  NOTE_TABLE_FULL,
  REWRITE_DST_ADDR,
  REWRITE_DST_PORT,
  REWRITE_SRC_ADDR,
  REWRITE_SRC_PORT,
  VLAN_OP_NONE,
  VLAN_OP_POP,
  VLAN_OP_PUSH,
} from './composite.js';
import type { CompositeDescriber } from './composite.js';
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
] as const;
export type EngineCounter = (typeof ENGINE_COUNTERS)[number];
const C_IN = 0;
const C_OUT = 1;
const C_DROPPED = 2;
const C_EMITTED = 3;
const C_HITS = 4;
const C_MISSES = 5;
const C_STALE = 6;
const C_UNCACHED = 7;
const C_HOST_GENERATED = 8;
const C_HOST_FORWARDED = 9;
const C_HOST_DROPPED = 10;

/** Where the engine's output goes. Both calls hand over bytes valid only during the call. */
export interface FrameSink {
  /**
   * A frame that entered on `ingress` leaves through `port`. `number` is the input frame's number (for a host answer: the
   * number of the frame it answers), `composite` its composite id, `hit` whether it took the fast
   * path, `generated` HOST_REPLY_* (0 for input frames).
   */
  forward(port: number, ingress: number, d: Uint8Array, o: number, len: number, wireLen: number, sec: number, ns: number, number: number, composite: number, hit: boolean, generated: number): void;
  /** A frame is dropped (`port` is its ingress port, -1 when unknown) for `reason` (a DropReasonId). */
  drop(port: number, d: Uint8Array, o: number, len: number, wireLen: number, sec: number, ns: number, number: number, reason: number, composite: number, hit: boolean, generated: number): void;
}

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

/** Composite id marks in the per-frame column. */
const COMP_NONE = -1; // dropped before the slow path (parse error, no port); reason in `reasons`
const COMP_FLOOD = -2; // flooded: sub-composites in floodItems


export class Engine implements CompositeDescriber {
  policy: Policy;
  readonly flows: FlowTable;
  composites: CompositeTable;
  readonly counters = new Float64Array(ENGINE_COUNTERS.length);
  readonly drops = new Float64Array(DROP_REASON_COUNT);
  portRx: Float64Array;
  portTx: Float64Array;
  tracer: Tracer | null = null;

  private readonly uftTtl: number;
  private readonly sweepBudget: number;
  private readonly host = new HostResponder();
  /** Per-frame columns of input batches, and of the host answers' batches (a second set: those run inside tx). */
  private c = new FrameColumns();
  private inner = new FrameColumns();
  // scratch
  private readonly pkt = new Uint32Array(PKT_WORDS);
  private readonly pkt0 = new Uint32Array(PKT_WORDS);
  private readonly floodPkt = new Uint32Array(PKT_WORDS);
  /** Packets and bytes per meter (policy.meters). */
  meterPackets = new Float64Array(32);
  meterBytes = new Float64Array(32);
  private readonly rev = new Uint32Array(FLOW_KEY_WORDS);
  private readonly fwd = new Uint32Array(FLOW_KEY_WORDS);
  private out = new Uint8Array(2048);
  private outView = new DataView(this.out.buffer);
  private readonly injected: FrameBatch;
  private injectedSize = 0;
  private readonly injectedKinds = new Uint8Array(512);
  private readonly layerTrace: LayerTrace = createLayerTrace();
  private readonly ingressScratch: IngressMap = { byInterface: new Int32Array(0), forced: -1 };
  // slow-path results
  private slowVerdict = 0;
  private slowStateful = false;
  private slowTtl = 0;
  private readonly fields = new Int32Array(COMP_FIELDS);
  private dec = new Int32Array(64);
  private decCount = 0;

  constructor(policy: Policy, options: EngineOptions = {}) {
    this.policy = policy;
    this.flows = new FlowTable({
      capacity: options.flowCapacity ?? 262144,
      whenFull: options.whenFull ?? 'drop',
      ...(options.rstTimeout !== undefined ? { rstTimeout: options.rstTimeout } : {}),
    });
    this.uftTtl = options.uftTtl ?? 240;
    this.sweepBudget = options.sweepBudget ?? 64;
    this.composites = new CompositeTable(policy.portNames);
    this.portRx = new Float64Array(policy.ports.length);
    this.portTx = new Float64Array(policy.ports.length);
    this.injected = new FrameBatch(512, new Uint8Array(512 * 128));
  }

  /** Install a new policy generation (its ports must be the same list: names and order). */
  setPolicy(policy: Policy): void {
    if (policy.portNames.join('\n') !== this.policy.portNames.join('\n')) {
      throw new Error('a new policy generation must keep the same ports');
    }
    // Composites stay: flows of the old generation still name them until they are resimulated.
    this.policy = policy;
  }

  counter(name: EngineCounter): number {
    return this.counters[ENGINE_COUNTERS.indexOf(name)]!;
  }

  /** Parse and process one batch of input frames, handing the results to `sink`. */
  process(batch: FrameBatch, ingress: IngressMap, sink: FrameSink): void {
    parseBatch(batch, this.policy.vxlanPort);
    this.run(batch, ingress, sink, 0);
    const n = batch.count;
    if (n > 0) this.flows.sweep(batch.timestampSeconds[n - 1]! + batch.timestampNanos[n - 1]! * 1e-9, this.sweepBudget);
  }


  private run(batch: FrameBatch, ingress: IngressMap, sink: FrameSink, generated: number): void {
    const n = batch.count;
    const cols = this.c;
    cols.ensure(n);
    const policy = this.policy;
    const vs = policy.vswitch;
    const gen = policy.generation;
    const flows = this.flows;
    const cs = this.composites;
    const comp = cols.comp;
    const reasons = cols.reasons;
    const hit = cols.hit;
    const need = cols.need;
    const probe = cols.probe;
    const tHashes = cols.tableHashes;
    const times = cols.times;
    const found = cols.found;
    const keys = batch.keys;
    const hashes = batch.hashes;
    const errors = batch.errors;
    const offsets = batch.offsets;
    const lengths = batch.lengths;
    const ports = batch.ports;
    const seconds = batch.timestampSeconds;
    const nanos = batch.timestampNanos;
    const d = batch.data;
    const v = batch.view;
    const byInterface = ingress.byInterface;
    const sources = batch.sources;
    const tracer = this.tracer;
    let probeCount = 0;
    let needCount = 0;
    cols.floodUsed = 0;
    const counters = this.counters;
    const portRx = this.portRx;
    const l4Offsets = batch.l4Offsets;
    const innerL4Offsets = batch.innerL4Offsets;
    const wireLengths = batch.wireLengths;
    const numbers = batch.numbers;
    if (generated === 0) counters[C_IN] += n;

    // ---- ingress ------------------------------------------------------------------------------
    for (let i = 0; i < n; i++) {
      const k = i * FLOW_KEY_WORDS;
      const o = offsets[i]!;
      let port: number;
      if (generated !== 0) {
        port = ports[i]!;
      } else {
        const src = sources[i]!;
        port = src < byInterface.length ? byInterface[src]! : -1;
        if (port < 0) port = ingress.forced;
        if (port < 0 && lengths[i]! >= 12) port = vs.portOfMac((d[o + 6]! << 8) | d[o + 7]!, v.getUint32(o + 8));
        if (port < 0) port = policy.firstUplink;
        ports[i] = port < 0 ? 0 : port;
      }
      hit[i] = 0;
      need[i] = 0;
      if (tracer) tracer.begin(batch, i, port, generated !== 0 ? this.injectedKinds[i]! : 0, ingress);
      if (port < 0) {
        comp[i] = COMP_NONE;
        reasons[i] = DropReasonId['unknown-port'];
        continue;
      }
      if (generated === 0) portRx[port]!++;
      keys[k + 11] = ((keys[k + 11]! & 0xffff) | (port << 16)) >>> 0;
      const err = errors[i]!;
      if (err !== 0) {
        comp[i] = COMP_NONE;
        reasons[i] = parseErrorDropReason(err);
        if (tracer) tracer.parseError(err);
        continue;
      }
      need[i] = 1;
      needCount++;
      const kind = keys[k + 9]! >>> 24;
      if ((kind !== L3_KIND_IPV4 && kind !== L3_KIND_IPV6) || (d[o]! & 0x01) !== 0) continue; // not cached: the slow path
      tHashes[i] = tableHash(hashes[i]!, port);
      times[i] = seconds[i]! + nanos[i]! * 1e-9;
      probe[probeCount++] = i;
    }

    // ---- fast path: one batched probe, then the hits ------------------------------------------
    const verdicts = cs.verdicts;
    const egressOf = cs.egress;
    const plainOf = cs.plain;
    const kinds = vs.kinds;
    const portTx = this.portTx;
    const drops = this.drops;
    const inline = tracer === null && generated === 0;
    let plain = 0;
    let dropped = 0;
    let hits = 0;
    // Frames before `start` are finished (hit, touched and handed to the sink) by the fused loop.
    let start = 0;
    if (probeCount > 0) {
      flows.lookupMany(keys, probe, probeCount, tHashes, times, found);
      if (inline && probeCount === n) {
        // Every frame was probed (probe[i] === i). While they are plain hits (a live entry of the
        // current generation and destination MAC, no RST, a composite that forwards unchanged to
        // a port that is not a host vNIC), hit and tx are one loop: the frame's columns and
        // record are read once, while they are still in L1 (+3% on acl-hit 64k, 16 paired
        // passes). The first other frame ends it, and it and the rest take the loops below: the
        // sink still sees frame order, and no frame's tx depended on a later frame's slow path.
        for (; start < n; start++) {
          const i = start;
          const e = found[i]!;
          if (e < 0) break; // a miss, or FLOW_RECHECK
          const o = offsets[i]!;
          const c = flows.actionOf(e);
          if (plainOf[c] !== 1 || flows.generationOf(e) !== gen || flows.userDataOf(e) !== macHash((d[o]! << 8) | d[o + 1]!, v.getUint32(o + 2))) break;
          const egress = egressOf[c]!;
          if (kinds[egress] === PORT_KIND_VNIC) break;
          const tcp = keyedTcpFlags(keys, i, innerL4Offsets, l4Offsets, d, o + lengths[i]!);
          if ((tcp & TCP_FLAG_RST) !== 0) break;
          flows.touch(e, times[i]!, lengths[i]!, tcp);
          comp[i] = c;
          hit[i] = 1;
          need[i] = 0;
          needCount--;
          hits++;
          plain++;
          portTx[egress]!++;
          sink.forward(egress, ports[i]!, d, o, lengths[i]!, wireLengths[i]!, seconds[i]!, nanos[i]!, numbers[i]!, c, true, 0);
        }
      }
      // Hits are decided here only up to the first frame that needs the slow path, goes to a host
      // vNIC (the host's answer goes through the table too) or carries a RST (it cuts its pair):
      // that slow path, answer or cut may install, replace, evict or kill entries later frames
      // found, or need an entry alive that a later frame's expiry check would remove. So the
      // frames after it are left to the loop below, which takes them in order, with each frame's
      // slow path, tx and answer before the next, looking each up again (their lines are in the
      // cache from the probe): exactly what frame-by-frame processing does. A frame whose entry
      // looked expired to the probe is looked up again here, after the touches of the frames
      // before it (a touch moves lastSeen on); if that removes the entry, it is a miss and ends
      // the loop too.
      let deferFrom = probeCount;
      for (let j = start; j < probeCount; j++) {
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
        const c = flows.actionOf(e);
        if (flows.generationOf(e) === gen && flows.userDataOf(e) === macHash((d[o]! << 8) | d[o + 1]!, v.getUint32(o + 2))) {
          const tcp = keyedTcpFlags(keys, i, innerL4Offsets, l4Offsets, d, o + lengths[i]!);
          flows.touch(e, times[i]!, lengths[i]!, tcp);
          comp[i] = c;
          hit[i] = 1;
          need[i] = 0;
          needCount--;
          hits++;
          if (tracer) tracer.flowHit(e, flows, cs, c);
          const egress = egressOf[c]!;
          if ((tcp & TCP_FLAG_RST) !== 0 || (egress >= 0 && kinds[egress] === PORT_KIND_VNIC)) {
            deferFrom = j + 1;
            break;
          }
          continue;
        }
        const stale = flows.generationOf(e) !== gen;
        if (stale) counters[C_STALE]++;
        if (tracer) tracer.flowStale(e, flows, stale);
        deferFrom = j + 1;
        break;
      }
      const deferred = cols.deferred;
      for (let j = deferFrom; j < probeCount; j++) deferred[probe[j]!] = 1;
    }
    counters[C_HITS] += hits;

    // ---- slow path and tx, in frame order -------------------------------------------------------
    // One loop, so that each frame's slow path and tx, with the host's answer to it, come before
    // the next frame's slow path: an answer goes through the flow table like any frame, and a
    // frame-by-frame run would have seen it before the later frames. (Frames before `start` have
    // no slow path: the fused loop took them.) The common case of tx is inline: an input frame
    // forwarded unchanged to a port that is not a host vNIC, untraced. Everything else (drops,
    // floods, transpositions, host answers) goes to tx().
    for (let i = start; i < n; i++) {
      if (needCount > 0 && need[i] === 1) this.slow(batch, i);
      const c = comp[i]!;
      if (c >= 0 && inline && verdicts[c] !== 0) {
        // A cached drop (or a decided one): counted by reason, handed to the sink on its ingress port.
        const reason = verdicts[c]!;
        dropped++;
        drops[reason]!++;
        sink.drop(ports[i]!, d, offsets[i]!, lengths[i]!, wireLengths[i]!, seconds[i]!, nanos[i]!, numbers[i]!, reason, c, hit[i] === 1, 0);
        continue;
      }
      if (c >= 0 && inline && plainOf[c] === 1) {
        const egress = egressOf[c]!;
        if (kinds[egress] !== PORT_KIND_VNIC) {
          plain++;
          portTx[egress]!++;
          sink.forward(egress, ports[i]!, d, offsets[i]!, lengths[i]!, wireLengths[i]!, seconds[i]!, nanos[i]!, numbers[i]!, c, hit[i] === 1, 0);
          continue;
        }
      }
      this.tx(batch, i, sink, generated);
      // The host's answer follows the frame it answers, whatever the batch size.
      if (this.injectedSize > 0 && generated === 0) this.flushInjected(sink);
    }
    counters[C_OUT] += plain;
    counters[C_EMITTED] += plain;
    counters[C_DROPPED] += dropped;
  }

  /** The slow path for frame i: decide, intern the composite, install the flow. */
  private slow(batch: FrameBatch, i: number): void {
    const policy = this.policy;
    const vs = policy.vswitch;
    const d = batch.data;
    const v = batch.view;
    const o = batch.offsets[i]!;
    const k = i * FLOW_KEY_WORDS;
    const keys = batch.keys;
    const port = batch.ports[i]!;
    const kind = keys[k + 9]! >>> 24;
    const dstHi = (d[o]! << 8) | d[o + 1]!;
    const dstLo = v.getUint32(o + 2);
    const cacheable = (kind === L3_KIND_IPV4 || kind === L3_KIND_IPV6) && (dstHi & 0x0100) === 0;
    const now = frameTime(batch, i);
    const tracer = this.tracer;
    if (cacheable) {
      // An earlier frame of this batch may have installed, replaced or evicted the flow: look it
      // up now. A frame the fast path deferred (it came after the batch's first slow path) has not
      // been judged yet, so its stale count and trace step are made here.
      const deferred = this.c.deferred[i] === 1;
      this.c.deferred[i] = 0;
      const h = tableHash(batch.hashes[i]!, port);
      // (a deferred frame's answer from the batched probe is taken back from the counters)
      const e = deferred ? this.flows.lookupAgain(keys, k, h, now, this.c.found[i]!) : this.flows.lookup(keys, k, h, now);
      if (e >= 0) {
        const c = this.flows.actionOf(e);
        if (this.flows.generationOf(e) === policy.generation && this.flows.userDataOf(e) === macHash(dstHi, dstLo)) {
          this.flows.touch(e, now, batch.lengths[i]!, tcpFlagsOf(batch, i));
          this.c.comp[i] = c;
          this.c.hit[i] = 1;
          this.counters[C_HITS]++;
          if (tracer) tracer.flowHit(e, this.flows, this.composites, c);
          return;
        }
        if (deferred) {
          const stale = this.flows.generationOf(e) !== policy.generation;
          if (stale) this.counters[C_STALE]++;
          if (tracer) tracer.flowStale(e, this.flows, stale);
        }
        if (this.flows.generationOf(e) !== policy.generation && this.composites.specs[c]!.reverse && this.resimulate(batch, i, e)) return;
        if (tracer) tracer.flowMiss(policy.generation);
      } else if (deferred && tracer) tracer.flowMiss(policy.generation);
      this.counters[C_MISSES]++;
    } else {
      this.counters[C_UNCACHED]++;
      if (tracer) tracer.notCached(kind === L3_KIND_IPV4 || kind === L3_KIND_IPV6 ? 'broadcast or multicast destination' : 'not IP');
    }
    // Packet words: the flow key, then the MACs.
    const pkt = this.pkt;
    for (let w = 0; w < FLOW_KEY_WORDS; w++) pkt[w] = keys[k + w]!;
    pkt[PKT_DST_MAC_HI] = dstHi;
    pkt[PKT_DST_MAC_LO] = dstLo;
    pkt[PKT_SRC_MAC_HI] = (d[o + 6]! << 8) | d[o + 7]!;
    pkt[PKT_SRC_MAC_LO] = v.getUint32(o + 8);
    const vid = batch.vlanCounts[i]! > 0 ? ((d[o + 14]! << 8) | d[o + 15]!) & 0x0fff : 0;

    let egress: number;
    if (kind === L3_KIND_ARP && ((keys[k + 9]! >>> 16) & 0xff) === 1 && (dstHi & 0x0100) !== 0) {
      // ARP request: delivered to the port owning the target address (the gateway's vNIC answers).
      egress = this.arpOwner(port, vid, keys[k + 4]!);
      if (egress < 0) egress = vs.forward(port, dstHi, dstLo, vid);
      else if (tracer) tracer.note(`switch: ARP request for ${policy.portNames[egress]}'s address delivered to it alone`);
    } else {
      egress = vs.forward(port, dstHi, dstLo, vid);
    }
    if (egress === FORWARD_DROP) {
      if (tracer) tracer.switchDrop(vs.lastReason);
      const c = this.dropComposite(vs.lastReason, NOTE_SWITCH);
      this.c.comp[i] = c;
      if (cacheable) this.cache(this.flows.insert(keys, k, tableHash(batch.hashes[i]!, port), now, this.uftTtl, c, policy.generation), dstHi, dstLo, batch, i, now);
      return;
    }
    if (egress === FORWARD_FLOOD) {
      this.flood(batch, i, port, vid, kind);
      return;
    }
    if (tracer) tracer.switchTo([egress]);
    const c = this.decide(port, egress, vid, kind, i, batch);
    this.c.comp[i] = c;
    if (!cacheable) return;
    const h = tableHash(batch.hashes[i]!, port);
    const cs = this.composites;
    if (cs.verdicts[c] !== 0) {
      this.cache(this.flows.insert(keys, k, h, now, this.uftTtl, c, policy.generation), dstHi, dstLo, batch, i, now);
      return;
    }
    let installed: number;
    if (this.slowStateful) {
      // The reverse key: the frame as it leaves `egress`, reversed; it enters on `egress`.
      const rev = this.rev;
      const out = cs.egress[c]!;
      reverseKey(pkt, 0, rev, egressVlanOf(cs, c, vid), out);
      const rc = this.reverseComposite(c, port, vid);
      installed = this.flows.insertPair(keys, k, h, rev, 0, tableHash(flowHash(rev, 0), out), now, this.slowTtl, c, rc, policy.generation);
      if (installed >= 0) {
        this.cache(installed, dstHi, dstLo, batch, i, now);
        // The reply is addressed to the forward frame's source MAC as it left.
        this.flows.setUserData(this.flows.peerOf(installed), macHash(pkt[PKT_SRC_MAC_HI]!, pkt[PKT_SRC_MAC_LO]!));
      }
      if (tracer) tracer.installed(installed, this.flows, true, this.slowTtl);
    } else {
      installed = this.flows.insert(keys, k, h, now, this.uftTtl, c, policy.generation);
      this.cache(installed, dstHi, dstLo, batch, i, now);
      if (tracer) tracer.installed(installed, this.flows, false, this.uftTtl);
    }
    if (installed < 0) {
      this.c.comp[i] = this.dropComposite(DropReasonId['table-full'], NOTE_TABLE_FULL);
      if (tracer) tracer.tableFull();
    }
  }

  /**
   * A reply hit the reverse entry of a pair decided under an older policy generation: as VFP does,
   * resimulate the connection's forward direction under the current policy (the forward entry's
   * key, the MACs of this frame swapped). Still allowed and stateful: a new pair replaces the old
   * one and this frame takes its reverse entry (true). Otherwise the old pair is removed and the
   * frame is decided on its own, like an unsolicited one (false).
   */
  private resimulate(batch: FrameBatch, i: number, e: number): boolean {
    const flows = this.flows;
    const f = flows.peerOf(e);
    const tracer = this.tracer;
    if (f < 0) return false;
    const policy = this.policy;
    const vs = policy.vswitch;
    const fwd = this.fwd;
    flows.copyKey(f, fwd, 0);
    const fport = fwd[11]! >>> 16;
    const d = batch.data;
    const o = batch.offsets[i]!;
    const pkt = this.pkt;
    for (let w = 0; w < FLOW_KEY_WORDS; w++) pkt[w] = fwd[w]!;
    // The forward frame went from this frame's destination MAC to its source MAC.
    pkt[PKT_SRC_MAC_HI] = (d[o]! << 8) | d[o + 1]!;
    pkt[PKT_SRC_MAC_LO] = batch.view.getUint32(o + 2);
    pkt[PKT_DST_MAC_HI] = (d[o + 6]! << 8) | d[o + 7]!;
    pkt[PKT_DST_MAC_LO] = batch.view.getUint32(o + 8);
    const fvid = vs.kinds[fport] === PORT_KIND_UPLINK ? fwd[9]! & 0x0fff : 0;
    const kind = fwd[9]! >>> 24;
    const egress = vs.forward(fport, pkt[PKT_DST_MAC_HI]!, pkt[PKT_DST_MAC_LO]!, fvid);
    flows.remove(e);
    if (egress < 0) {
      if (tracer) tracer.note(`resimulated the connection from ${policy.portNames[fport]}: the switch no longer forwards it`);
      return false;
    }
    const fc = this.decide(fport, egress, fvid, kind, i, batch);
    const cs = this.composites;
    if (cs.verdicts[fc] !== 0 || !this.slowStateful) {
      if (tracer) tracer.note(`resimulated the connection from ${policy.portNames[fport]} under generation ${policy.generation}: ${cs.verdicts[fc] !== 0 ? 'no longer allowed' : 'no longer stateful'}; this frame is decided on its own`);
      return false;
    }
    const rev = this.rev;
    reverseKey(pkt, 0, rev, egressVlanOf(cs, fc, fvid), cs.egress[fc]!);
    const k = i * FLOW_KEY_WORDS;
    for (let w = 0; w < FLOW_KEY_WORDS; w++) if (rev[w] !== batch.keys[k + w]) return false;
    const rc = this.reverseComposite(fc, fport, fvid);
    const now = frameTime(batch, i);
    const fh = tableHash(flowHash(fwd, 0), fport);
    const handle = flows.insertPair(fwd, 0, fh, rev, 0, tableHash(batch.hashes[i]!, batch.ports[i]!), now, this.slowTtl, fc, rc, policy.generation);
    if (handle < 0) return false;
    const r = flows.peerOf(handle);
    flows.setUserData(handle, macHash(this.pkt0[PKT_DST_MAC_HI]!, this.pkt0[PKT_DST_MAC_LO]!));
    flows.setUserData(r, macHash(pkt[PKT_SRC_MAC_HI]!, pkt[PKT_SRC_MAC_LO]!));
    flows.touch(r, now, batch.lengths[i]!, tcpFlagsOf(batch, i));
    this.c.comp[i] = rc;
    this.counters[C_MISSES]++;
    if (tracer) {
      tracer.note(`resimulated the connection from ${policy.portNames[fport]} under generation ${policy.generation}: still allowed (${cs.specs[fc]!.decisions.join('; ')})`);
      tracer.installed(handle, flows, true, this.slowTtl);
    }
    return true;
  }

  /** Tag a freshly inserted entry with the destination MAC it was decided for, and count the frame that made it. */
  private cache(handle: number, dstHi: number, dstLo: number, batch: FrameBatch, i: number, now: number): void {
    if (handle < 0) return;
    this.flows.setUserData(handle, macHash(dstHi, dstLo));
    this.flows.touch(handle, now, batch.lengths[i]!, tcpFlagsOf(batch, i));
  }

  /** Start describing a composite: every field cleared, no decisions. */
  private resetFields(): Int32Array {
    const f = this.fields;
    f.fill(0);
    f[COMP_EGRESS] = -1;
    f[COMP_GENERATION] = this.policy.generation;
    this.decCount = 0;
    return f;
  }

  private dropComposite(reason: number, note: number): number {
    const f = this.resetFields();
    f[COMP_VERDICT] = reason;
    f[COMP_NOTE] = note;
    return this.composites.intern(f, this.dec, 0, this);
  }

  /**
   * Run the layers from `port` to `egress` for the packet words in this.pkt (the ingress port's
   * outbound, then the egress port's inbound); returns the composite. A destination MAC rewritten
   * by an outbound layer sends the frame where the new MAC lives. this.pkt0 keeps the words as
   * the frame arrived (the reverse entry undoes the rewrites).
   */
  private decide(port: number, egress: number, vid: number, kind: number, i: number, batch: FrameBatch): number {
    const policy = this.policy;
    const vs = policy.vswitch;
    const f = this.resetFields();
    this.pkt0.set(this.pkt);
    this.slowVerdict = 0;
    this.slowStateful = false;
    this.slowTtl = Infinity;
    const ip = kind === L3_KIND_IPV4 || kind === L3_KIND_IPV6;
    if (ip) {
      const outLayers = policy.layers[port]!;
      for (let l = 0; l < outLayers.length && this.slowVerdict === 0; l++) this.layer(port, l, outLayers[l]!, DIR_OUT);
      if (this.slowVerdict === 0 && (f[COMP_MAC_OPS]! & MAC_OP_DST) !== 0) {
        const q = vs.forward(port, this.pkt[PKT_DST_MAC_HI]!, this.pkt[PKT_DST_MAC_LO]!, vid);
        if (q === FORWARD_DROP) this.slowVerdict = vs.lastReason;
        else if (q === FORWARD_FLOOD) this.slowVerdict = DropReasonId['unknown-mac'];
        else egress = q;
      }
      if (this.slowVerdict === 0) {
        const inLayers = policy.layers[egress]!;
        for (let l = inLayers.length - 1; l >= 0 && this.slowVerdict === 0; l--) this.layer(egress, l, inLayers[l]!, DIR_IN);
      }
    }
    void i;
    void batch;
    if (this.slowVerdict !== 0) {
      // A drop transposes nothing: keep only what says who decided.
      const decided = this.decCount;
      this.resetFields();
      this.decCount = decided;
      f[COMP_VERDICT] = this.slowVerdict;
      return this.composites.intern(f, this.dec, this.decCount, this);
    }
    f[COMP_EGRESS] = egress;
    if (f[COMP_VLAN_OP] === VLAN_OP_NONE) {
      if (vs.kinds[egress] === PORT_KIND_UPLINK && vs.kinds[port] !== PORT_KIND_UPLINK && vs.vlans[port] !== 0) {
        f[COMP_VLAN_OP] = VLAN_OP_PUSH;
        f[COMP_VLAN_ID] = vs.vlans[port]!;
      } else if (vs.kinds[port] === PORT_KIND_UPLINK && vid !== 0) {
        f[COMP_VLAN_OP] = VLAN_OP_POP;
      }
    }
    return this.composites.intern(f, this.dec, this.decCount, this);
  }

  /** One layer's decision on this.pkt; updates the slow-path verdict, statefulness and TTL, and records it. */
  private layer(port: number, index: number, cl: CompiledLayer, dir: DirectionId): void {
    const ir = cl.ir;
    const tracer = this.tracer;
    let r: number;
    if (tracer) {
      r = interpretLayer(ir, this.pkt, 0, dir, this.layerTrace);
      tracer.layer(this.policy.portNames[port]!, dir, ir, this.layerTrace);
    } else {
      r = cl.classify(this.pkt, 0, dir);
    }
    if (this.decCount + 2 > this.dec.length) {
      const g = new Int32Array(this.dec.length * 2);
      g.set(this.dec);
      this.dec = g;
    }
    this.dec[this.decCount++] = (port << 12) | (index << 1) | dir;
    this.dec[this.decCount++] = r + 1;
    if (r < 0) {
      if (!ir.defaultAllow) this.slowVerdict = DropReasonId[ir.defaultReason];
      return;
    }
    const rule = ir.rules[r]!;
    const a = rule.action;
    if (a.type === 'block') {
      this.slowVerdict = DropReasonId[a.reason];
      return;
    }
    if (rule.stateful) {
      this.slowStateful = true;
      if (rule.flowTtl < this.slowTtl) this.slowTtl = rule.flowTtl;
    }
    if (a.type !== 'allow') this.applyAction(a);
  }

  /**
   * A rule's transposition: recorded in the composite's fields, and applied to the packet words so
   * that the next layers (and the switch, for a new destination MAC) see the packet as modified.
   */
  private applyAction(a: RuleAction): void {
    const f = this.fields;
    const pkt = this.pkt;
    switch (a.type) {
      case 'rewrite':
        if (a.srcAddr) {
          f[COMP_REWRITE]! |= REWRITE_SRC_ADDR;
          for (let w = 0; w < 4; w++) f[COMP_NEW_SRC + w] = pkt[PKT_SRC + w] = (a.srcAddr[w] ?? 0) >>> 0;
        }
        if (a.dstAddr) {
          f[COMP_REWRITE]! |= REWRITE_DST_ADDR;
          for (let w = 0; w < 4; w++) f[COMP_NEW_DST + w] = pkt[PKT_DST + w] = (a.dstAddr[w] ?? 0) >>> 0;
        }
        if (a.srcPort !== undefined) {
          f[COMP_REWRITE]! |= REWRITE_SRC_PORT;
          f[COMP_NEW_SPORT] = a.srcPort;
          pkt[PKT_PORTS] = ((a.srcPort << 16) | (pkt[PKT_PORTS]! & 0xffff)) >>> 0;
        }
        if (a.dstPort !== undefined) {
          f[COMP_REWRITE]! |= REWRITE_DST_PORT;
          f[COMP_NEW_DPORT] = a.dstPort;
          pkt[PKT_PORTS] = ((pkt[PKT_PORTS]! & 0xffff0000) | a.dstPort) >>> 0;
        }
        return;
      case 'mac-rewrite':
        if (a.src) {
          f[COMP_MAC_OPS]! |= MAC_OP_SRC;
          f[COMP_SRC_MAC_HI] = pkt[PKT_SRC_MAC_HI] = a.src.hi;
          f[COMP_SRC_MAC_LO] = pkt[PKT_SRC_MAC_LO] = a.src.lo >>> 0;
        }
        if (a.dst) {
          f[COMP_MAC_OPS]! |= MAC_OP_DST;
          f[COMP_DST_MAC_HI] = pkt[PKT_DST_MAC_HI] = a.dst.hi;
          f[COMP_DST_MAC_LO] = pkt[PKT_DST_MAC_LO] = a.dst.lo >>> 0;
        }
        return;
      case 'vlan-push':
        f[COMP_VLAN_OP] = VLAN_OP_PUSH;
        f[COMP_VLAN_ID] = a.vid & 0x0fff;
        pkt[PKT_PROTO] = ((pkt[PKT_PROTO]! & 0xffff0000) | (a.vid & 0x0fff)) >>> 0;
        return;
      case 'vlan-pop':
        f[COMP_VLAN_OP] = VLAN_OP_POP;
        pkt[PKT_PROTO] = (pkt[PKT_PROTO]! & 0xffff0000) >>> 0;
        return;
      case 'meter':
        f[COMP_METERS]! |= 1 << this.policy.meters.indexOf(a.meter);
        return;
      case 'mss-clamp':
        if (a.delta > f[COMP_MSS_DELTA]!) f[COMP_MSS_DELTA] = a.delta;
        return;
      default:
        // encap/decap never reach here: compilePolicy refuses them until the Overlay driver.
        return;
    }
  }

  /**
   * The reverse entry's composite: back to `port`, the forward transposition undone (VLAN,
   * rewritten addresses and ports, rewritten MACs), the same MSS clamp and meters; replies are
   * admitted by the flow. this.pkt0 holds the forward frame's words as it arrived.
   */
  private reverseComposite(c: number, port: number, vid: number): number {
    const cs = this.composites;
    const p0 = this.pkt0;
    const f = this.resetFields();
    f[COMP_EGRESS] = port;
    f[COMP_REVERSE] = 1;
    f[COMP_NOTE] = c;
    const op = cs.vlanOps[c]!;
    if (op === VLAN_OP_PUSH) f[COMP_VLAN_OP] = VLAN_OP_POP;
    else if (op === VLAN_OP_POP) {
      f[COMP_VLAN_OP] = VLAN_OP_PUSH;
      f[COMP_VLAN_ID] = vid;
    }
    const rw = cs.rewrites[c]!;
    if (rw & REWRITE_SRC_ADDR) {
      f[COMP_REWRITE]! |= REWRITE_DST_ADDR;
      for (let w = 0; w < 4; w++) f[COMP_NEW_DST + w] = p0[PKT_SRC + w]!;
    }
    if (rw & REWRITE_DST_ADDR) {
      f[COMP_REWRITE]! |= REWRITE_SRC_ADDR;
      for (let w = 0; w < 4; w++) f[COMP_NEW_SRC + w] = p0[PKT_DST + w]!;
    }
    if (rw & REWRITE_SRC_PORT) {
      f[COMP_REWRITE]! |= REWRITE_DST_PORT;
      f[COMP_NEW_DPORT] = p0[PKT_PORTS]! >>> 16;
    }
    if (rw & REWRITE_DST_PORT) {
      f[COMP_REWRITE]! |= REWRITE_SRC_PORT;
      f[COMP_NEW_SPORT] = p0[PKT_PORTS]! & 0xffff;
    }
    const mo = cs.macOps[c]!;
    if (mo & MAC_OP_SRC) {
      f[COMP_MAC_OPS]! |= MAC_OP_DST;
      f[COMP_DST_MAC_HI] = p0[PKT_SRC_MAC_HI]!;
      f[COMP_DST_MAC_LO] = p0[PKT_SRC_MAC_LO]!;
    }
    if (mo & MAC_OP_DST) {
      f[COMP_MAC_OPS]! |= MAC_OP_SRC;
      f[COMP_SRC_MAC_HI] = p0[PKT_DST_MAC_HI]!;
      f[COMP_SRC_MAC_LO] = p0[PKT_DST_MAC_LO]!;
    }
    f[COMP_MSS_DELTA] = cs.mssDeltas[c]!;
    f[COMP_METERS] = cs.meters[c]! | 0;
    return cs.intern(f, this.dec, 0, this);
  }

  /** CompositeDescriber: the text of a new composite (once per distinct composite). */
  describeComposite(f: Int32Array, dec: Int32Array, count: number): string[] {
    const policy = this.policy;
    if (f[COMP_REVERSE] === 1) {
      const fwd = this.composites.specs[f[COMP_NOTE]!];
      const by = fwd ? fwd.decisions.filter((x) => x.endsWith('stateful')).join(', ') : '';
      return [`reply of a flow admitted by ${by || 'a stateful rule'}`];
    }
    const note = f[COMP_NOTE]!;
    if (note === NOTE_SWITCH) return [`switch: ${reasonText(f[COMP_VERDICT]!)}`];
    if (note === NOTE_TABLE_FULL) return ['flow table full'];
    if (note === NOTE_NO_FLOOD_PORT) return ['switch: no other port in the segment'];
    const out: string[] = [];
    for (let j = 0; j + 1 < count; j += 2) {
      const w = dec[j]!;
      const port = w >>> 12;
      const ir = policy.layers[port]![(w >>> 1) & 0x7ff]!.ir;
      const where = `${policy.portNames[port]} ${(w & 1) === DIR_OUT ? 'OUT' : 'IN'} ${ir.name}`;
      const r = dec[j + 1]! - 1;
      if (r < 0) out.push(ir.defaultAllow ? `${where}: default allow` : `${where}: default drop (${ir.defaultReason})`);
      else {
        const rule = ir.rules[r]!;
        out.push(`${where}: ${rule.id} ${rule.action.type}${rule.stateful ? ' stateful' : ''}`);
      }
    }
    return out;
  }

  /** Broadcast/multicast: the ingress port's outbound layers once, then each target's inbound layers. */
  private flood(batch: FrameBatch, i: number, port: number, vid: number, kind: number): void {
    const policy = this.policy;
    const vs = policy.vswitch;
    const targets = vs.floodPorts(port, vid);
    if (this.tracer) this.tracer.switchTo(Array.from(targets));
    this.c.comp[i] = COMP_FLOOD;
    this.c.floodStart[i] = this.c.floodUsed;
    this.c.floodCount[i] = 0;
    if (targets.length === 0) {
      this.c.comp[i] = this.dropComposite(DropReasonId['unknown-mac'], NOTE_NO_FLOOD_PORT);
      return;
    }
    this.floodPkt.set(this.pkt);
    for (let t = 0; t < targets.length; t++) {
      this.pkt.set(this.floodPkt); // each copy starts from the frame as it arrived
      const c = this.decide(port, targets[t]!, vid, kind, i, batch);
      if (this.c.floodUsed >= this.c.floodItems.length) {
        const g = new Int32Array(this.c.floodItems.length * 2);
        g.set(this.c.floodItems);
        this.c.floodItems = g;
      }
      this.c.floodItems[this.c.floodUsed++] = c;
      this.c.floodCount[i]!++;
    }
  }

  /** A port of the segment of `port` (VLAN `vid` on an uplink) that owns IPv4 address `tpa`, or -1. */
  private arpOwner(port: number, vid: number, tpa: number): number {
    const vs = this.policy.vswitch;
    const ports = this.policy.ports;
    const fromUplink = vs.kinds[port] === PORT_KIND_UPLINK;
    for (const p of ports) {
      if (p.id === port || p.kind === 'uplink') continue;
      if (fromUplink) {
        if (vs.networkUplink[p.network!] !== port || vs.vlans[p.id] !== vid) continue;
      } else if (p.network !== vs.networks[port] || vs.vlans[p.id] !== vs.vlans[port]) continue;
      for (const ip of p.ips) if (ip.address.family === 4 && ip.address.words[0] === tpa) return p.id;
    }
    return -1;
  }

  // ---- tx ----------------------------------------------------------------------------------------

  private tx(batch: FrameBatch, i: number, sink: FrameSink, generated: number): void {
    const c = this.c.comp[i]!;
    const counters = this.counters;
    const o = batch.offsets[i]!;
    const len = batch.lengths[i]!;
    const wire = batch.wireLengths[i]!;
    const sec = batch.timestampSeconds[i]!;
    const ns = batch.timestampNanos[i]!;
    const num = generated !== 0 ? batch.numbers[i]! : batch.numbers[i]!;
    const gkind = generated !== 0 ? this.injectedKinds[i]! : 0;
    const port = batch.ports[i]!;
    const hit = this.c.hit[i] === 1;
    if (c === COMP_NONE) {
      this.countDrop(this.c.reasons[i]!, generated);
      sink.drop(port, batch.data, o, len, wire, sec, ns, num, this.c.reasons[i]!, -1, false, gkind);
      if (this.tracer) this.tracer.verdictDrop(this.c.reasons[i]!);
      return;
    }
    if (c === COMP_FLOOD) {
      const start = this.c.floodStart[i]!;
      const count = this.c.floodCount[i]!;
      let sent = 0;
      let firstReason = 0;
      for (let j = 0; j < count; j++) {
        const sc = this.c.floodItems[start + j]!;
        if (this.composites.verdicts[sc] !== 0) {
          if (firstReason === 0) firstReason = this.composites.verdicts[sc]!;
          continue;
        }
        this.emit(batch, i, sc, sink, generated, gkind, hit, true);
        sent++;
      }
      if (sent > 0) counters[generated !== 0 ? C_HOST_FORWARDED : C_OUT]++;
      else {
        this.countDrop(firstReason, generated);
        sink.drop(port, batch.data, o, len, wire, sec, ns, num, firstReason, -1, false, gkind);
      }
      if (this.tracer) this.tracer.verdictFlood(sent, count, firstReason);
      return;
    }
    const verdict = this.composites.verdicts[c]!;
    if (verdict !== 0) {
      this.countDrop(verdict, generated);
      sink.drop(port, batch.data, o, len, wire, sec, ns, num, verdict, c, hit, gkind);
      if (this.tracer) this.tracer.verdictDrop(verdict);
      return;
    }
    counters[generated !== 0 ? C_HOST_FORWARDED : C_OUT]++;
    this.emit(batch, i, c, sink, generated, gkind, hit, false);
  }

  private countDrop(reason: number, generated: number): void {
    this.counters[generated !== 0 ? C_HOST_DROPPED : C_DROPPED]++;
    if (generated === 0) this.drops[reason]!++;
  }

  /** Apply composite c to frame i and hand it to the sink; answer for the host on a vNIC port. */
  private emit(batch: FrameBatch, i: number, c: number, sink: FrameSink, generated: number, gkind: number, hit: boolean, copy: boolean): void {
    const cs = this.composites;
    const egress = cs.egress[c]!;
    let d = batch.data;
    let o = batch.offsets[i]!;
    let len = batch.lengths[i]!;
    let wire = batch.wireLengths[i]!;
    const op = cs.vlanOps[c]!;
    const macOps = cs.macOps[c]!;
    const rewrites = cs.rewrites[c]!;
    const mss = cs.mssDeltas[c]!;
    if (op !== VLAN_OP_NONE || macOps !== 0 || rewrites !== 0 || mss !== 0 || copy) {
      // Transform a copy in the scratch slab, 4 bytes in (headroom for a VLAN push): the input
      // frame stays as it was (a flood's copies each start from it).
      const base = 4;
      if (this.out.length < len + base + 4) {
        this.out = new Uint8Array(Math.max(len + base + 4, this.out.length * 2));
        this.outView = new DataView(this.out.buffer);
      }
      const out = this.out;
      const ov = this.outView;
      copyBytes(d, batch.view, o, out, ov, base, len);
      const end = base + len;
      if (rewrites !== 0 || mss !== 0) this.rewriteL3L4(batch, i, c, out, ov, base - o, end);
      if (macOps & MAC_OP_DST) rewriteDstMac(out, ov, base, end, cs.dstMacHi[c]!, cs.dstMacLo[c]!);
      if (macOps & MAC_OP_SRC) rewriteSrcMac(out, ov, base, end, cs.srcMacHi[c]!, cs.srcMacLo[c]!);
      let start = base;
      if (op === VLAN_OP_PUSH) {
        const s2 = vlanPushInPlace(out, ov, base, end, cs.vlanIds[c]!, 0);
        if (s2 >= 0) start = s2;
      } else if (op === VLAN_OP_POP) {
        const s2 = vlanPopInPlace(out, ov, base, end);
        if (s2 >= 0) start = s2;
      }
      // (A frame too short for its transposition leaves as it came.)
      wire += end - start - len;
      len = end - start;
      d = out;
      o = start;
    }
    const meters = cs.meters[c]!;
    if (meters !== 0) {
      for (let m = 0; m < 32; m++) {
        if ((meters & (1 << m)) === 0) continue;
        this.meterPackets[m]!++;
        this.meterBytes[m]! += len;
      }
    }
    this.counters[C_EMITTED]++;
    this.portTx[egress]!++;
    sink.forward(egress, batch.ports[i]!, d, o, len, wire, batch.timestampSeconds[i]!, batch.timestampNanos[i]!, batch.numbers[i]!, c, hit, gkind);
    if (this.tracer) this.tracer.emitted(egress, d, o, len, wire);
    if (generated === 0 && this.policy.vswitch.kinds[egress] === PORT_KIND_VNIC) this.answer(batch, i, egress, d, o, len, wire);
  }

  /**
   * The composite's address, port and MSS transpositions on the copy of frame i in `out` (the
   * frame's parse offsets plus `shift`), with every checksum fixed incrementally (action/).
   */
  private rewriteL3L4(batch: FrameBatch, i: number, c: number, out: Uint8Array, ov: DataView, shift: number, end: number): void {
    const cs = this.composites;
    const vx = batch.innerL3Offsets[i]! >= 0;
    const l3o = vx ? batch.innerL3Offsets[i]! : batch.l3Offsets[i]!;
    if (l3o < 0) return;
    const l4o = vx ? batch.innerL4Offsets[i]! : batch.l4Offsets[i]!;
    const l3 = l3o + shift;
    const l4 = l4o >= 0 ? l4o + shift : -1;
    const w9 = batch.keys[i * FLOW_KEY_WORDS + 9]!;
    const family = w9 >>> 24;
    const proto = (w9 >>> 16) & 0xff;
    const rw = cs.rewrites[c]!;
    const ns = cs.newSrc;
    const nd = cs.newDst;
    const b = c * 4;
    if (family === L3_KIND_IPV4) {
      if (rw & REWRITE_SRC_ADDR) rewriteIPv4Src(out, ov, l3, l4, end, ns[b]!);
      if (rw & REWRITE_DST_ADDR) rewriteIPv4Dst(out, ov, l3, l4, end, nd[b]!);
    } else if (family === L3_KIND_IPV6) {
      if (rw & REWRITE_SRC_ADDR) rewriteIPv6Src(out, ov, l3, l4, end, proto, ns[b]!, ns[b + 1]!, ns[b + 2]!, ns[b + 3]!);
      if (rw & REWRITE_DST_ADDR) rewriteIPv6Dst(out, ov, l3, l4, end, proto, nd[b]!, nd[b + 1]!, nd[b + 2]!, nd[b + 3]!);
    }
    if (l4 >= 0 && (proto === IPPROTO_TCP || proto === IPPROTO_UDP)) {
      if (rw & REWRITE_SRC_PORT) rewriteL4SrcPort(out, ov, l4, end, proto, cs.newSport[c]!);
      if (rw & REWRITE_DST_PORT) rewriteL4DstPort(out, ov, l4, end, proto, cs.newDport[c]!);
      const mss = cs.mssDeltas[c]!;
      if (mss !== 0 && proto === IPPROTO_TCP) mssClamp(out, ov, l4, end, mss, 65535);
    }
  }

  /** The host behind vNIC port `vnic` answers the frame it was handed, if it asks something. */
  private answer(batch: FrameBatch, i: number, vnic: number, d: Uint8Array, o: number, len: number, wire: number): void {
    const hostAddrs = this.policy.hosts[vnic];
    if (!hostAddrs) return;
    const inj = this.injected;
    if (this.injectedSize >= inj.capacity) return; // at most one batch of answers per batch
    let at = this.injectedSize === 0 ? 0 : inj.offsets[this.injectedSize - 1]! + inj.lengths[this.injectedSize - 1]!;
    if (inj.data.length < at + len + 64) {
      const grown = new Uint8Array(Math.max(inj.data.length * 2, at + len + 64));
      grown.set(inj.data.subarray(0, at));
      inj.setData(grown);
    }
    const kind = this.host.reply(d, o, len, hostAddrs, inj.data, at);
    if (kind === HOST_REPLY_NONE) return;
    const j = this.injectedSize++;
    inj.offsets[j] = at;
    inj.lengths[j] = this.host.replyLength;
    inj.wireLengths[j] = Math.max(this.host.replyLength, wire);
    inj.timestampSeconds[j] = batch.timestampSeconds[i]!;
    inj.timestampNanos[j] = batch.timestampNanos[i]!;
    inj.numbers[j] = batch.numbers[i]!;
    inj.ports[j] = vnic;
    inj.sources[j] = 0;
    this.injectedKinds[j] = kind;
    this.counters[C_HOST_GENERATED]++;
    at += this.host.replyLength;
  }

  /** Run the host's answers (a batch of their own) with the second set of per-frame columns. */
  private flushInjected(sink: FrameSink): void {
    const inj = this.injected;
    inj.count = this.injectedSize;
    const outer = this.c;
    this.c = this.inner;
    parseBatch(inj, this.policy.vxlanPort);
    this.run(inj, this.ingressScratch, sink, 1);
    this.c = outer;
    this.injectedSize = 0;
    inj.count = 0;
  }
}

/** Per-frame scratch columns of one batch level, grown to the largest batch seen. */
class FrameColumns {
  /** Composite id per frame, or COMP_NONE / COMP_FLOOD. */
  comp: Int32Array = new Int32Array(0);
  /** Drop reason of COMP_NONE frames. */
  reasons: Uint8Array = new Uint8Array(0);
  /** 1 when the frame took the fast path. */
  hit: Uint8Array = new Uint8Array(0);
  /** 1 while the frame still needs the slow path. */
  need: Uint8Array = new Uint8Array(0);
  /** Frames probed in the flow table, their table hashes, times and the handles found. */
  probe: Int32Array = new Int32Array(0);
  tableHashes: Uint32Array = new Uint32Array(0);
  times: Float64Array = new Float64Array(0);
  found: Int32Array = new Int32Array(0);
  /** 1 for a probed frame whose hit the fast path left to the slow path (after the batch's first miss); slow() clears it. */
  deferred: Uint8Array = new Uint8Array(0);
  /** A flooded frame's sub-composites: floodItems[floodStart[i], + floodCount[i]). */
  floodStart: Int32Array = new Int32Array(0);
  floodCount: Int32Array = new Int32Array(0);
  floodItems: Int32Array = new Int32Array(64);
  floodUsed = 0;

  ensure(n: number): void {
    if (this.comp.length >= n) return;
    this.comp = new Int32Array(n);
    this.reasons = new Uint8Array(n);
    this.hit = new Uint8Array(n);
    this.need = new Uint8Array(n);
    this.probe = new Int32Array(n);
    this.tableHashes = new Uint32Array(n);
    this.times = new Float64Array(n);
    this.found = new Int32Array(n);
    this.deferred = new Uint8Array(n);
    this.floodStart = new Int32Array(n);
    this.floodCount = new Int32Array(n);
  }
}

function reasonText(reason: number): string {
  return reason === DropReasonId['vlan-mismatch'] ? 'VLAN mismatch' : reason === DropReasonId['unknown-mac'] ? 'no port of the segment has the destination MAC' : `drop ${reason}`;
}

/**
 * A 32-bit digest of a MAC, kept in a flow entry's userData: the flow key has no MACs, and a frame
 * of the same 5-tuple to another destination MAC is not the same flow (it takes the slow path).
 */
function macHash(hi: number, lo: number): number {
  return (Math.imul(lo ^ (hi << 16), 0x9e3779b1) ^ hi) | 0;
}

/** The flow table's hash: the parse's symmetric flow hash, with the ingress port mixed in. */
export function tableHash(h: number, port: number): number {
  return (h ^ Math.imul(port + 1, 0x85ebca6b)) >>> 0;
}

function frameTime(batch: FrameBatch, i: number): number {
  return batch.timestampSeconds[i]! + batch.timestampNanos[i]! * 1e-9;
}

/**
 * TCP flags of frame i's keyed header (0 when not TCP or not captured), from the batch columns
 * passed one by one (the hit loops hold them in locals); `end` is the frame's end offset.
 */
function keyedTcpFlags(keys: Uint32Array, i: number, innerL4Offsets: Int32Array, l4Offsets: Int32Array, d: Uint8Array, end: number): number {
  if (((keys[i * FLOW_KEY_WORDS + 9]! >>> 16) & 0xff) !== IPPROTO_TCP) return 0;
  const il4 = innerL4Offsets[i]!;
  const l4 = il4 >= 0 ? il4 : l4Offsets[i]!;
  return l4 >= 0 && l4 + 14 <= end ? d[l4 + 13]! : 0;
}

/** TCP flags of the keyed frame (0 when not TCP or not captured). */
function tcpFlagsOf(batch: FrameBatch, i: number): number {
  return keyedTcpFlags(batch.keys, i, batch.innerL4Offsets, batch.l4Offsets, batch.data, batch.offsets[i]! + batch.lengths[i]!);
}

/** VLAN id the forward frame carries as it leaves its egress port. */
function egressVlanOf(cs: CompositeTable, c: number, vid: number): number {
  const op = cs.vlanOps[c]!;
  if (op === VLAN_OP_PUSH) return cs.vlanIds[c]!;
  if (op === VLAN_OP_POP) return 0;
  return vid;
}

/**
 * The key of the reply to the flow keyed at keys[k..]: addresses and ports swapped, an ICMP echo
 * request turned into its reply, the VLAN it carries on the egress side, entering on `egress`.
 */
export function reverseKey(keys: Uint32Array, k: number, rev: Uint32Array, vlan: number, egress: number): void {
  for (let w = 0; w < 4; w++) {
    rev[w] = keys[k + 4 + w]!;
    rev[4 + w] = keys[k + w]!;
  }
  const w9 = keys[k + 9]!;
  const proto = (w9 >>> 16) & 0xff;
  const ports = keys[k + 8]!;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    rev[8] = ((ports << 16) | (ports >>> 16)) >>> 0;
  } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    const type = ports >>> 24;
    let rt = type;
    if (proto === IPPROTO_ICMP && type === ICMP_ECHO_REQUEST) rt = ICMP_ECHO_REPLY;
    else if (proto === IPPROTO_ICMP && type === ICMP_ECHO_REPLY) rt = ICMP_ECHO_REQUEST;
    else if (proto === IPPROTO_ICMPV6 && type === ICMPV6_ECHO_REQUEST) rt = ICMPV6_ECHO_REPLY;
    else if (proto === IPPROTO_ICMPV6 && type === ICMPV6_ECHO_REPLY) rt = ICMPV6_ECHO_REQUEST;
    rev[8] = ((rt << 24) | (ports & 0x00ffffff)) >>> 0;
  } else {
    rev[8] = ports;
  }
  rev[9] = ((w9 & 0xffff0000) | (vlan & 0xffff)) >>> 0;
  rev[10] = keys[k + 10]!;
  rev[11] = ((keys[k + 11]! & 0xffff) | (egress << 16)) >>> 0;
}

