/**
 * Stage `slow`: the frames the fast path did not decide, one at a time in frame order (each
 * frame's slow path, tx and host answer come before the next frame's slow path: an earlier frame
 * may install, replace or evict the flow of a later one).
 *
 * For a cacheable frame (unicast IP) the flow is looked up again first (an earlier frame of the
 * batch may have installed it; a deferred frame's probe answer is taken back). Otherwise the
 * deciders run on the packet words (the flow key and the MACs):
 *   switch  -> the vSwitch chooses the egress port(s) (switch/): a port, a flood, or a drop;
 *              an ARP request for an address a port owns goes to that port alone;
 *   layers  -> the ingress port's layers outbound (first to last), then the egress port's inbound
 *              (last to first), each the generated classifier (vfp/codegen.ts) or, when tracing,
 *              the IR interpreter; a rewritten destination MAC re-runs the switch;
 *   (next: NAT, load balancer, encap/decap, each a decider writing the same fields)
 * and the result is interned as a composite (composite.ts). A cacheable frame then installs a
 * flow: a pair when a stateful rule decided on the path (the reverse entry, keyed as the reply
 * will arrive, admits replies without rules), a single entry otherwise, or a drop entry. A reply
 * that hits the reverse entry of a pair decided under an older policy generation resimulates the
 * connection's forward direction under the current one (VFP's resimulation).
 *
 * Allocation: none for a known composite; a new composite makes its strings once, and a decision
 * seen for the first time in a policy generation makes its text once.
 */
import { DropReasonId } from '../base/reasons.js';
import { FLOW_KEY_WORDS, KEY_DST, KEY_PORT_ETHERTYPE, KEY_PROTO, L3_KIND_ARP, L3_KIND_IPV4, L3_KIND_IPV6, keyKind, keyPort, keyProtocol } from '../frame/batch.js';
import type { FrameBatch } from '../frame/batch.js';
import { keyedTcpFlags, macHash, reverseKey, tableHash } from '../flow/keys.js';
import { flowHash } from '../parse/parse.js';
import { FORWARD_DROP, FORWARD_FLOOD, PORT_KIND_UPLINK } from '../switch/vswitch.js';
import type { CompiledLayer } from '../vfp/codegen.js';
import { createLayerTrace, interpretLayer } from '../vfp/interp.js';
import type { LayerTrace } from '../vfp/interp.js';
import { DIR_IN, DIR_OUT, PKT_DST, PKT_DST_MAC_HI, PKT_DST_MAC_LO, PKT_PORTS, PKT_PROTO, PKT_SRC, PKT_SRC_MAC_HI, PKT_SRC_MAC_LO, PKT_WORDS } from '../vfp/model.js';
import type { DirectionId, RuleAction } from '../vfp/model.js';
import {
  COMP_DST_MAC_HI,
  COMP_DST_MAC_LO,
  COMP_EGRESS,
  COMP_FIELDS,
  COMP_MAC_OPS,
  COMP_METERS,
  COMP_MSS_DELTA,
  COMP_NEW_DPORT,
  COMP_NEW_DST,
  COMP_NEW_SPORT,
  COMP_NEW_SRC,
  COMP_NOTE,
  COMP_REVERSE,
  COMP_REWRITE,
  COMP_SRC_MAC_HI,
  COMP_SRC_MAC_LO,
  COMP_VERDICT,
  COMP_VLAN_ID,
  COMP_VLAN_OP,
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
import type { CompositeDescriber, CompositeTable } from './composite.js';
import type { Policy } from './policy.js';
import { C_HITS, C_MISSES, C_STALE, C_UNCACHED, COMP_FLOOD, NEXT_TX } from './state.js';
import type { ShardState } from './state.js';

export class SlowPath implements CompositeDescriber {
  private readonly st: ShardState;
  /** The packet words as the frame arrived (the reverse entry undoes the rewrites). */
  private readonly pkt0 = new Uint32Array(PKT_WORDS);
  private readonly floodPkt = new Uint32Array(PKT_WORDS);
  private readonly rev = new Uint32Array(FLOW_KEY_WORDS);
  private readonly fwd = new Uint32Array(FLOW_KEY_WORDS);
  private readonly layerTrace: LayerTrace = createLayerTrace();
  private readonly fields = new Int32Array(COMP_FIELDS);
  private dec = new Int32Array(32);
  private decCount = 0;
  private slowVerdict = 0;
  private slowStateful = false;
  private slowTtl = 0;
  /**
   * Decision ids of the policy in force, per (port, layer): index dir * (rules + 1) + rule + 1
   * (rule -1: the layer's default); -1 until first used. Rebuilt empty for each generation.
   */
  private decisionIds: Int32Array[][] = [];
  private decisionPolicy: Policy | null = null;

  constructor(st: ShardState) {
    this.st = st;
  }

  /** The slow path for frame i: decide, intern the composite, install the flow; the frame becomes NEXT_TX. */
  run(batch: FrameBatch, i: number): void {
    const st = this.st;
    const cols = st.cols;
    cols.next[i] = NEXT_TX;
    cols.slowCount--;
    const policy = st.policy;
    const flows = st.flows;
    const vs = policy.vswitch;
    const d = batch.data;
    const v = batch.view;
    const o = batch.offsets[i]!;
    const k = i * FLOW_KEY_WORDS;
    const keys = batch.keys;
    const port = batch.ports[i]!;
    const kind = keyKind(keys[k + KEY_PROTO]!);
    const dstHi = (d[o]! << 8) | d[o + 1]!;
    const dstLo = v.getUint32(o + 2);
    const cacheable = (kind === L3_KIND_IPV4 || kind === L3_KIND_IPV6) && (dstHi & 0x0100) === 0;
    const now = cols.times[i]!;
    const tracer = st.tracer;
    /** The flow's key was just looked up and is not in the table: installs need not look for it. */
    let absent = false;
    if (cacheable) {
      // An earlier frame of this batch may have installed, replaced or evicted the flow: look it
      // up now. A frame the fast path deferred (it came after the batch's first slow path) has not
      // been judged yet, so its stale count and trace step are made here.
      const deferred = cols.deferred[i] === 1;
      cols.deferred[i] = 0;
      const h = tableHash(batch.hashes[i]!, port);
      // (a deferred frame's answer from the batched probe is taken back from the counters; a miss
      // stays a miss unless a flow of its hash was installed since the probe)
      let e: number;
      if (!deferred) e = flows.lookup(keys, k, h, now);
      else if (cols.found[i] === -1 && !flows.insertedSince(h)) e = -1;
      else e = flows.lookupAgain(keys, k, h, now, cols.found[i]!);
      absent = e < 0;
      if (e >= 0) {
        const c = flows.actionOf(e);
        if (flows.generationOf(e) === policy.generation && flows.userDataOf(e) === macHash(dstHi, dstLo)) {
          flows.touch(e, now, batch.lengths[i]!, tcpFlagsOf(batch, i));
          cols.comps[i] = c;
          cols.hits[i] = 1;
          st.counters[C_HITS]++;
          if (tracer) tracer.flowHit(e, flows, st.composites, c);
          return;
        }
        if (deferred) {
          const stale = flows.generationOf(e) !== policy.generation;
          if (stale) st.counters[C_STALE]++;
          if (tracer) tracer.flowStale(e, flows, stale);
        }
        if (flows.generationOf(e) !== policy.generation && st.composites.reverse[c] === 1 && this.resimulate(batch, i, e)) return;
        if (tracer) tracer.flowMiss(policy.generation);
      } else if (deferred && tracer) tracer.flowMiss(policy.generation);
      st.counters[C_MISSES]++;
    } else {
      st.counters[C_UNCACHED]++;
      if (tracer) tracer.notCached(kind === L3_KIND_IPV4 || kind === L3_KIND_IPV6 ? 'broadcast or multicast destination' : 'not IP');
    }
    // Packet words: the flow key, then the MACs.
    const pkt = st.pkt;
    for (let w = 0; w < FLOW_KEY_WORDS; w++) pkt[w] = keys[k + w]!;
    pkt[PKT_DST_MAC_HI] = dstHi;
    pkt[PKT_DST_MAC_LO] = dstLo;
    pkt[PKT_SRC_MAC_HI] = (d[o + 6]! << 8) | d[o + 7]!;
    pkt[PKT_SRC_MAC_LO] = v.getUint32(o + 8);
    const vid = batch.vlanCounts[i]! > 0 ? ((d[o + 14]! << 8) | d[o + 15]!) & 0x0fff : 0;

    let egress: number;
    if (kind === L3_KIND_ARP && keyProtocol(keys[k + KEY_PROTO]!) === 1 && (dstHi & 0x0100) !== 0 && (vid === 0 || vs.kinds[port] === PORT_KIND_UPLINK)) {
      // ARP request: delivered to the port owning the target address (the gateway's vNIC answers).
      // (A tagged one from an access port is the switch's to drop: vlan-mismatch.)
      egress = this.arpOwner(port, vid, keys[k + KEY_DST]!);
      if (egress < 0) egress = vs.forward(port, dstHi, dstLo, vid);
      else if (tracer) tracer.note(`switch: ARP request for ${policy.portNames[egress]}'s address delivered to it alone`);
    } else {
      egress = vs.forward(port, dstHi, dstLo, vid);
    }
    if (egress === FORWARD_DROP) {
      if (tracer) tracer.switchDrop(vs.lastReason);
      const c = this.dropComposite(vs.lastReason, NOTE_SWITCH);
      cols.comps[i] = c;
      if (cacheable) this.cache(flows.insert(keys, k, tableHash(batch.hashes[i]!, port), now, st.uftTtl, c, policy.generation, absent), dstHi, dstLo, batch, i, now);
      return;
    }
    if (egress === FORWARD_FLOOD) {
      this.flood(batch, i, port, vid, kind);
      return;
    }
    if (tracer) tracer.switchTo([egress]);
    const c = this.decide(port, egress, vid, kind);
    cols.comps[i] = c;
    if (!cacheable) return;
    const h = tableHash(batch.hashes[i]!, port);
    const cs = st.composites;
    if (cs.verdicts[c] !== 0) {
      this.cache(flows.insert(keys, k, h, now, st.uftTtl, c, policy.generation, absent), dstHi, dstLo, batch, i, now);
      return;
    }
    let installed: number;
    if (this.slowStateful) {
      // The reverse key: the frame as it leaves `egress`, reversed; it enters on `egress`.
      const rev = this.rev;
      const out = cs.egress[c]!;
      reverseKey(pkt, 0, rev, egressVlanOf(cs, c, vid), out);
      const rc = this.reverseComposite(c, port, vid);
      installed = flows.insertPair(keys, k, h, rev, 0, tableHash(flowHash(rev, 0), out), now, this.slowTtl, c, rc, policy.generation, absent);
      if (installed >= 0) {
        this.cache(installed, dstHi, dstLo, batch, i, now);
        // The reply is addressed to the forward frame's source MAC as it left.
        flows.setUserData(flows.peerOf(installed), macHash(pkt[PKT_SRC_MAC_HI]!, pkt[PKT_SRC_MAC_LO]!));
      }
      if (tracer) tracer.installed(installed, flows, true, this.slowTtl);
    } else {
      installed = flows.insert(keys, k, h, now, st.uftTtl, c, policy.generation, absent);
      this.cache(installed, dstHi, dstLo, batch, i, now);
      if (tracer) tracer.installed(installed, flows, false, st.uftTtl);
    }
    if (installed < 0) {
      cols.comps[i] = this.dropComposite(DropReasonId['table-full'], NOTE_TABLE_FULL);
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
    const st = this.st;
    const flows = st.flows;
    const f = flows.peerOf(e);
    const tracer = st.tracer;
    if (f < 0) return false;
    const policy = st.policy;
    const vs = policy.vswitch;
    const fwd = this.fwd;
    flows.copyKey(f, fwd, 0);
    const fport = keyPort(fwd[KEY_PORT_ETHERTYPE]!);
    const d = batch.data;
    const o = batch.offsets[i]!;
    const pkt = st.pkt;
    for (let w = 0; w < FLOW_KEY_WORDS; w++) pkt[w] = fwd[w]!;
    // The forward frame went from this frame's destination MAC to its source MAC.
    pkt[PKT_SRC_MAC_HI] = (d[o]! << 8) | d[o + 1]!;
    pkt[PKT_SRC_MAC_LO] = batch.view.getUint32(o + 2);
    pkt[PKT_DST_MAC_HI] = (d[o + 6]! << 8) | d[o + 7]!;
    pkt[PKT_DST_MAC_LO] = batch.view.getUint32(o + 8);
    const fvid = vs.kinds[fport] === PORT_KIND_UPLINK ? fwd[KEY_PROTO]! & 0x0fff : 0;
    const kind = keyKind(fwd[KEY_PROTO]!);
    const egress = vs.forward(fport, pkt[PKT_DST_MAC_HI]!, pkt[PKT_DST_MAC_LO]!, fvid);
    flows.remove(e);
    if (egress < 0) {
      if (tracer) tracer.note(`resimulated the connection from ${policy.portNames[fport]}: the switch no longer forwards it`);
      return false;
    }
    const fc = this.decide(fport, egress, fvid, kind);
    const cs = st.composites;
    if (cs.verdicts[fc] !== 0 || !this.slowStateful) {
      if (tracer) tracer.note(`resimulated the connection from ${policy.portNames[fport]} under generation ${policy.generation}: ${cs.verdicts[fc] !== 0 ? 'no longer allowed' : 'no longer stateful'}; this frame is decided on its own`);
      return false;
    }
    const rev = this.rev;
    reverseKey(pkt, 0, rev, egressVlanOf(cs, fc, fvid), cs.egress[fc]!);
    const k = i * FLOW_KEY_WORDS;
    for (let w = 0; w < FLOW_KEY_WORDS; w++) if (rev[w] !== batch.keys[k + w]) return false;
    const rc = this.reverseComposite(fc, fport, fvid);
    const now = st.cols.times[i]!;
    const fh = tableHash(flowHash(fwd, 0), fport);
    const handle = flows.insertPair(fwd, 0, fh, rev, 0, tableHash(batch.hashes[i]!, batch.ports[i]!), now, this.slowTtl, fc, rc, policy.generation);
    if (handle < 0) return false;
    const r = flows.peerOf(handle);
    flows.setUserData(handle, macHash(this.pkt0[PKT_DST_MAC_HI]!, this.pkt0[PKT_DST_MAC_LO]!));
    flows.setUserData(r, macHash(pkt[PKT_SRC_MAC_HI]!, pkt[PKT_SRC_MAC_LO]!));
    flows.touch(r, now, batch.lengths[i]!, tcpFlagsOf(batch, i));
    st.cols.comps[i] = rc;
    st.counters[C_MISSES]++;
    if (tracer) {
      tracer.note(`resimulated the connection from ${policy.portNames[fport]} under generation ${policy.generation}: still allowed (${cs.specs[fc]!.decisions.join('; ')})`);
      tracer.installed(handle, flows, true, this.slowTtl);
    }
    return true;
  }

  /** Tag a freshly inserted entry with the destination MAC it was decided for, and count the frame that made it. */
  private cache(handle: number, dstHi: number, dstLo: number, batch: FrameBatch, i: number, now: number): void {
    if (handle < 0) return;
    const flows = this.st.flows;
    flows.setUserData(handle, macHash(dstHi, dstLo));
    flows.touch(handle, now, batch.lengths[i]!, tcpFlagsOf(batch, i));
  }

  /** Start describing a composite: every field cleared, no decisions. */
  private resetFields(): Int32Array {
    const f = this.fields;
    f.fill(0);
    f[COMP_EGRESS] = -1;
    this.decCount = 0;
    return f;
  }

  private dropComposite(reason: number, note: number): number {
    const f = this.resetFields();
    f[COMP_VERDICT] = reason;
    f[COMP_NOTE] = note;
    return this.st.composites.intern(f, this.dec, 0, this);
  }

  /**
   * Run the layers from `port` to `egress` for the packet words in st.pkt (the ingress port's
   * outbound, then the egress port's inbound); returns the composite. A destination MAC rewritten
   * by an outbound layer sends the frame where the new MAC lives. this.pkt0 keeps the words as
   * the frame arrived (the reverse entry undoes the rewrites).
   */
  private decide(port: number, egress: number, vid: number, kind: number): number {
    const st = this.st;
    const policy = st.policy;
    const vs = policy.vswitch;
    const pkt = st.pkt;
    const f = this.resetFields();
    this.pkt0.set(pkt);
    this.slowVerdict = 0;
    this.slowStateful = false;
    this.slowTtl = Infinity;
    const ip = kind === L3_KIND_IPV4 || kind === L3_KIND_IPV6;
    if (ip) {
      const outLayers = policy.layers[port]!;
      for (let l = 0; l < outLayers.length && this.slowVerdict === 0; l++) this.layer(port, l, outLayers[l]!, DIR_OUT);
      if (this.slowVerdict === 0 && (f[COMP_MAC_OPS]! & MAC_OP_DST) !== 0) {
        const q = vs.forward(port, pkt[PKT_DST_MAC_HI]!, pkt[PKT_DST_MAC_LO]!, vid);
        if (q === FORWARD_DROP) this.slowVerdict = vs.lastReason;
        else if (q === FORWARD_FLOOD) this.slowVerdict = DropReasonId['unknown-mac'];
        else egress = q;
      }
      if (this.slowVerdict === 0) {
        const inLayers = policy.layers[egress]!;
        for (let l = inLayers.length - 1; l >= 0 && this.slowVerdict === 0; l--) this.layer(egress, l, inLayers[l]!, DIR_IN);
      }
    }
    if (this.slowVerdict !== 0) {
      // A drop transposes nothing: keep only what says who decided.
      const decided = this.decCount;
      this.resetFields();
      this.decCount = decided;
      f[COMP_VERDICT] = this.slowVerdict;
      return st.composites.intern(f, this.dec, this.decCount, this);
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
    return st.composites.intern(f, this.dec, this.decCount, this);
  }

  /** One layer's decision on st.pkt; updates the slow-path verdict, statefulness and TTL, and records it. */
  private layer(port: number, index: number, cl: CompiledLayer, dir: DirectionId): void {
    const st = this.st;
    const ir = cl.ir;
    const tracer = st.tracer;
    let r: number;
    if (tracer) {
      r = interpretLayer(ir, st.pkt, 0, dir, this.layerTrace);
      tracer.layer(st.policy.portNames[port]!, dir, ir, this.layerTrace);
    } else {
      r = cl.classify(st.pkt, 0, dir);
    }
    if (this.decCount + 1 > this.dec.length) {
      const g = new Int32Array(this.dec.length * 2);
      g.set(this.dec);
      this.dec = g;
    }
    this.dec[this.decCount++] = this.decisionId(port, index, dir, r);
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

  /** The id of a layer's decision (rule r, or -1 for its default) in the shared DecisionTexts: its text is made once per generation. */
  private decisionId(port: number, index: number, dir: DirectionId, r: number): number {
    const policy = this.st.policy;
    if (this.decisionPolicy !== policy) {
      this.decisionPolicy = policy;
      this.decisionIds = policy.layers.map((ls) => ls.map(() => new Int32Array(0)));
    }
    const ir = policy.layers[port]![index]!.ir;
    let ids = this.decisionIds[port]![index]!;
    if (ids.length === 0) {
      ids = new Int32Array(2 * (ir.rules.length + 1)).fill(-1);
      this.decisionIds[port]![index] = ids;
    }
    const slot = dir * (ir.rules.length + 1) + r + 1;
    let id = ids[slot]!;
    if (id < 0) {
      const where = `${policy.portNames[port]} ${dir === DIR_OUT ? 'OUT' : 'IN'} ${ir.name}`;
      let text: string;
      if (r < 0) text = ir.defaultAllow ? `${where}: default allow` : `${where}: default drop (${ir.defaultReason})`;
      else {
        const rule = ir.rules[r]!;
        text = `${where}: ${rule.id} ${rule.action.type}${rule.stateful ? ' stateful' : ''}`;
      }
      id = this.st.decisions.id(text);
      ids[slot] = id;
    }
    return id;
  }

  /**
   * A rule's transposition: recorded in the composite's fields, and applied to the packet words so
   * that the next layers (and the switch, for a new destination MAC) see the packet as modified.
   */
  private applyAction(a: RuleAction): void {
    const f = this.fields;
    const pkt = this.st.pkt;
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
      case 'meter': {
        const m = this.st.meterId(a.meter);
        if (m >= 0) f[COMP_METERS]! |= 1 << m;
        return;
      }
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
    const cs = this.st.composites;
    // Without rewrites the reverse composite depends on (c, port, vid) alone: remembered per c.
    const memo = cs.rewrites[c] === 0 && cs.macOps[c] === 0;
    if (memo && c < this.reverseOf.length && this.reverseOf[c]! >= 0 && this.reversePort[c] === port && this.reverseVid[c] === vid) return this.reverseOf[c]!;
    const rc = this.makeReverseComposite(c, port, vid);
    if (memo) {
      if (c >= this.reverseOf.length) {
        const n = Math.max(c + 1, this.reverseOf.length * 2);
        const grow = (old: Int32Array, fill: number): Int32Array => {
          const g = new Int32Array(n).fill(fill);
          g.set(old);
          return g;
        };
        this.reverseOf = grow(this.reverseOf, -1);
        this.reversePort = grow(this.reversePort, 0);
        this.reverseVid = grow(this.reverseVid, 0);
      }
      this.reverseOf[c] = rc;
      this.reversePort[c] = port;
      this.reverseVid[c] = vid;
    }
    return rc;
  }

  /** The last reverse composite made for forward composite c (-1: none), and the port and VLAN it was made for. */
  private reverseOf: Int32Array = new Int32Array(64).fill(-1);
  private reversePort: Int32Array = new Int32Array(64);
  private reverseVid: Int32Array = new Int32Array(64);

  private makeReverseComposite(c: number, port: number, vid: number): number {
    const cs = this.st.composites;
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
    const cs = this.st.composites;
    if (f[COMP_REVERSE] === 1) {
      const fwd = cs.specs[f[COMP_NOTE]!];
      const by = fwd ? fwd.decisions.filter((x) => x.endsWith('stateful')).join(', ') : '';
      return [`reply of a flow admitted by ${by || 'a stateful rule'}`];
    }
    const note = f[COMP_NOTE]!;
    if (note === NOTE_SWITCH) return [`switch: ${reasonText(f[COMP_VERDICT]!)}`];
    if (note === NOTE_TABLE_FULL) return ['flow table full'];
    if (note === NOTE_NO_FLOOD_PORT) return ['switch: no other port in the segment'];
    const texts = this.st.decisions.texts;
    const out: string[] = [];
    for (let j = 0; j < count; j++) out.push(texts[dec[j]!]!);
    return out;
  }

  /** Broadcast/multicast: the ingress port's outbound layers once, then each target's inbound layers. */
  private flood(batch: FrameBatch, i: number, port: number, vid: number, kind: number): void {
    const st = this.st;
    const cols = st.cols;
    const vs = st.policy.vswitch;
    const targets = vs.floodPorts(port, vid);
    if (st.tracer) st.tracer.switchTo(Array.from(targets));
    cols.comps[i] = COMP_FLOOD;
    cols.floodStart[i] = cols.floodUsed;
    cols.floodCount[i] = 0;
    if (targets.length === 0) {
      cols.comps[i] = this.dropComposite(DropReasonId['unknown-mac'], NOTE_NO_FLOOD_PORT);
      return;
    }
    const pkt = st.pkt;
    this.floodPkt.set(pkt);
    for (let t = 0; t < targets.length; t++) {
      pkt.set(this.floodPkt); // each copy starts from the frame as it arrived
      const c = this.decide(port, targets[t]!, vid, kind);
      if (cols.floodUsed >= cols.floodItems.length) {
        const g = new Int32Array(cols.floodItems.length * 2);
        g.set(cols.floodItems);
        cols.floodItems = g;
      }
      cols.floodItems[cols.floodUsed++] = c;
      cols.floodCount[i]!++;
    }
  }

  /** A port of the segment of `port` (VLAN `vid` on an uplink) that owns IPv4 address `tpa`, or -1. */
  private arpOwner(port: number, vid: number, tpa: number): number {
    const vs = this.st.policy.vswitch;
    const ports = this.st.policy.ports;
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
}

function reasonText(reason: number): string {
  return reason === DropReasonId['vlan-mismatch'] ? 'VLAN mismatch' : reason === DropReasonId['unknown-mac'] ? 'no port of the segment has the destination MAC' : `drop ${reason}`;
}

/** TCP flags of the keyed frame (0 when not TCP or not captured). */
export function tcpFlagsOf(batch: FrameBatch, i: number): number {
  return keyedTcpFlags(batch.keys, i, batch.innerL4Offsets, batch.l4Offsets, batch.data, batch.offsets[i]! + batch.lengths[i]!);
}

/** VLAN id the forward frame carries as it leaves its egress port. */
function egressVlanOf(cs: CompositeTable, c: number, vid: number): number {
  const op = cs.vlanOps[c]!;
  if (op === VLAN_OP_PUSH) return cs.vlanIds[c]!;
  if (op === VLAN_OP_POP) return 0;
  return vid;
}
