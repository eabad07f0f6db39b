/**
 * The reference interpreter of a layer's IR: the oracle that the generated classifier
 * (codegen.ts) must agree with on every packet, and the engine of `vfp trace`.
 *
 * It walks the IR literally, with plain loops and no index: the groups of the packet's direction
 * in evaluation order, those of the packet's family only (a non-IP packet matches no group), the
 * group's own conditions, then its rules in evaluation order; the first matching rule is the
 * group's best. A group's best becomes the decision (a later group overrides an earlier one);
 * a terminating best ends the layer at once. The result is the deciding flat rule index, or -1
 * when no rule decides (the caller applies the layer default: allow, or drop with its reason).
 *
 * Being obviously right matters more here than speed: a 10,000-rule group costs 10,000 condition
 * checks per packet. It allocates nothing per call either, so tests can run it millions of times.
 *
 * LayerTrace is a reusable record of one evaluation (arrays pushed to, cleared by each call
 * that is given it): only `vfp trace` and tests pass one.
 */
import type { ConditionsIR, LayerIR } from './ir.js';
import type { DirectionId } from './model.js';
import { PKT_DST, PKT_DST_MAC_HI, PKT_DST_MAC_LO, PKT_PORTS, PKT_PROTO, PKT_SRC, PKT_SRC_MAC_HI, PKT_SRC_MAC_LO, PKT_VNI } from './model.js';

/** What one layer evaluation visited; one entry per group of the packet's direction and family. */
export interface LayerTrace {
  /** Group names, in visiting order. */
  groups: string[];
  /** Group definition indices (`LayerIR.groups`). */
  groupIndices: number[];
  /** Whether the group's own conditions held. */
  matched: boolean[];
  /** The group's best rule (flat index), -1 when none matched or the group was skipped. */
  best: number[];
  /** Whether evaluation stopped at this group (its best was terminating). */
  stopped: boolean[];
  /** The layer's result: the deciding flat rule index, or -1. */
  decision: number;
}

export function createLayerTrace(): LayerTrace {
  return { groups: [], groupIndices: [], matched: [], best: [], stopped: [], decision: -1 };
}

export function clearLayerTrace(t: LayerTrace): void {
  t.groups.length = 0;
  t.groupIndices.length = 0;
  t.matched.length = 0;
  t.best.length = 0;
  t.stopped.length = 0;
  t.decision = -1;
}

/** Family of the packet: 4, 6, or something else (ARP 1, other 0) that no group matches. */
export function packetFamily(pkt: Uint32Array, o: number): number {
  return pkt[o + PKT_PROTO]! >>> 24;
}

function inList(list: readonly number[], v: number): boolean {
  for (const x of list) if (x === v) return true;
  return false;
}

function inRanges(list: readonly number[], v: number): boolean {
  for (let i = 0; i < list.length; i += 2) if (v >= list[i]! && v <= list[i + 1]!) return true;
  return false;
}

function prefixesHold(list: ConditionsIR['srcPrefixes'], pkt: Uint32Array, at: number): boolean {
  for (const p of list) {
    let all = true;
    for (let i = 0; i < 4; i++) {
      if (((pkt[at + i]! & p.masks[i]!) >>> 0) !== p.words[i]) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

function macsHold(list: readonly number[], hi: number, lo: number): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === hi && list[i + 1] === lo) return true;
  return false;
}

/** Whether `c` holds for the packet (its family already checked by the caller). */
export function conditionsHold(c: ConditionsIR, pkt: Uint32Array, o: number): boolean {
  if (c.never) return false;
  const protoWord = pkt[o + PKT_PROTO]!;
  const proto = (protoWord >>> 16) & 0xff;
  if (c.protocols.length > 0 && !inList(c.protocols, proto)) return false;
  if (c.srcPrefixes.length > 0 && !prefixesHold(c.srcPrefixes, pkt, o + PKT_SRC)) return false;
  if (c.dstPrefixes.length > 0 && !prefixesHold(c.dstPrefixes, pkt, o + PKT_DST)) return false;
  if (c.srcPorts.length > 0 || c.dstPorts.length > 0) {
    // Ports exist only for TCP and UDP; the ports word of an ICMP packet holds type/code/id.
    if (proto !== 6 && proto !== 17) return false;
    const ports = pkt[o + PKT_PORTS]!;
    if (c.srcPorts.length > 0 && !inRanges(c.srcPorts, ports >>> 16)) return false;
    if (c.dstPorts.length > 0 && !inRanges(c.dstPorts, ports & 0xffff)) return false;
  }
  if (c.srcMacs.length > 0 && !macsHold(c.srcMacs, pkt[o + PKT_SRC_MAC_HI]!, pkt[o + PKT_SRC_MAC_LO]!)) return false;
  if (c.dstMacs.length > 0 && !macsHold(c.dstMacs, pkt[o + PKT_DST_MAC_HI]!, pkt[o + PKT_DST_MAC_LO]!)) return false;
  if (c.vlans.length > 0 && !inList(c.vlans, protoWord & 0xffff)) return false;
  if (c.vnis.length > 0 && !inList(c.vnis, pkt[o + PKT_VNI]! & 0xffffff)) return false;
  return true;
}

/**
 * Classify one packet (PKT_WORDS words at `o`) in direction `dir`: the deciding flat rule index,
 * or -1 when no rule decides.
 */
export function interpretLayer(ir: LayerIR, pkt: Uint32Array, o: number, dir: DirectionId, trace?: LayerTrace): number {
  if (trace !== undefined) clearLayerTrace(trace);
  const family = packetFamily(pkt, o);
  let decision = -1;
  for (const gi of ir.directions[dir]) {
    const g = ir.groups[gi]!;
    if (g.family !== family) continue;
    const matched = conditionsHold(g.conditions, pkt, o);
    let best = -1;
    if (matched) {
      for (const ri of g.rules) {
        if (conditionsHold(ir.rules[ri]!.conditions, pkt, o)) {
          best = ri;
          break;
        }
      }
    }
    const stopped = best >= 0 && ir.rules[best]!.terminating;
    if (trace !== undefined) {
      trace.groups.push(g.name);
      trace.groupIndices.push(g.index);
      trace.matched.push(matched);
      trace.best.push(best);
      trace.stopped.push(stopped);
    }
    if (best >= 0) decision = best;
    if (stopped) break;
  }
  if (trace !== undefined) trace.decision = decision;
  return decision;
}
