/**
 * The VFP object model: ports, layers, groups, rules, their conditions and actions (the objects
 * vfpctrl lists; the VFP paper, https://www.usenix.org/conference/nsdi17/technical-sessions/presentation/firestone).
 * This is the *policy* stage of the compiler (policy -> IR -> generated JS, see ir.ts and
 * codegen.ts): plain data, built once per policy generation by hns.ts from the topology, never
 * touched per packet.
 *
 * Semantics of one layer for one packet in one direction (the VFP paper's, see docs/defaults.md;
 * checked by the interpreter in interp.ts, which is the oracle for the generated code):
 *   - Only groups of the packet's direction and address family take part (a non-IP packet, e.g.
 *     ARP, matches no group). They are visited in ascending group priority (ties: definition
 *     order). A group whose own conditions do not match is skipped.
 *   - Within a group the matching rule with the lowest priority number wins (ties: definition
 *     order). That rule becomes the layer's decision; a later matching group overrides it
 *     ("the last matching group decides"), unless the rule is terminating, which ends the layer.
 *   - No decision: the layer's default (allow, or drop with the layer's `defaultReason`).
 *   - Conditions: every present condition must hold (AND); a condition holds when any of its
 *     values matches (OR); an absent or empty list holds for every packet. Port conditions hold
 *     only for TCP and UDP packets (an ICMP packet never matches a rule with a port condition).
 *     A prefix holds only for an address of its own family.
 *
 * Packet words (classifier input). A layer classifies PKT_WORDS u32 words starting at an offset
 * in a Uint32Array: words 0..11 are the frame's flow key exactly as frame/batch.ts lays it out
 * (so the pipeline copies the key), followed by the MAC addresses. Direction words are not
 * swapped: rules name `src`/`dst` as the packet carries them; hns.ts turns an ACL's
 * Local/Remote into src/dst according to its direction.
 */
import type { DropReason } from '../base/reasons.js';
import { FLOW_KEY_WORDS, KEY_DST, KEY_PORT_ETHERTYPE, KEY_PORTS, KEY_PROTO, KEY_SRC, KEY_VNI } from '../frame/batch.js';

/** Words of packet metadata a classifier reads, per packet. */
export const PKT_WORDS = 16;
/** Source address: 4 words (IPv4 in the first, others 0). */
export const PKT_SRC = KEY_SRC;
/** Destination address: 4 words. */
export const PKT_DST = KEY_DST;
/** (source port << 16) | destination port (TCP/UDP); ICMP: (type << 8 | code) << 16 | echo id. */
export const PKT_PORTS = KEY_PORTS;
/** (family << 24) | (IP protocol << 16) | VLAN id (0 untagged); family 4, 6, or 1 (ARP) / 0 (other). */
export const PKT_PROTO = KEY_PROTO;
/** VXLAN VNI in the low 24 bits (0 when not encapsulated); bit 31 set for an encapsulated frame. */
export const PKT_VNI = KEY_VNI;
/** EtherType in the low 16 bits; the high 16 bits are the engine port id (ignored by classifiers). */
export const PKT_ETHERTYPE = KEY_PORT_ETHERTYPE;
/** Source MAC: high 16 bits, then low 32 bits. */
export const PKT_SRC_MAC_HI = FLOW_KEY_WORDS;
export const PKT_SRC_MAC_LO = FLOW_KEY_WORDS + 1;
/** Destination MAC: high 16 bits, then low 32 bits. */
export const PKT_DST_MAC_HI = FLOW_KEY_WORDS + 2;
export const PKT_DST_MAC_LO = FLOW_KEY_WORDS + 3;

/** Direction, relative to the port's device: OUT = from the VM/container into the switch, IN = toward it. */
export const DIR_OUT = 0;
export const DIR_IN = 1;
export type DirectionId = typeof DIR_OUT | typeof DIR_IN;
export type Direction = 'out' | 'in';

export interface Prefix {
  family: 4 | 6;
  /** Four u32 words, host bits cleared. */
  words: readonly number[];
  length: number;
}

export interface PortRange {
  from: number;
  to: number;
}

export interface Mac {
  hi: number;
  lo: number;
}

export interface Conditions {
  protocols?: readonly number[];
  srcPrefixes?: readonly Prefix[];
  dstPrefixes?: readonly Prefix[];
  srcPorts?: readonly PortRange[];
  dstPorts?: readonly PortRange[];
  srcMacs?: readonly Mac[];
  dstMacs?: readonly Mac[];
  vlans?: readonly number[];
  vnis?: readonly number[];
}

/** A rule's action. Each is a header transposition (the VFP paper's term) or none, applied when the rule decides. */
export type RuleAction =
  | { type: 'allow' }
  | { type: 'block'; reason: DropReason }
  /** Static address/port rewrite (NAT): any field given is overwritten. */
  | { type: 'rewrite'; srcAddr?: readonly number[]; srcPort?: number; dstAddr?: readonly number[]; dstPort?: number }
  /** Push outer Ethernet + IPv4 + UDP + VXLAN. */
  | { type: 'encap'; vni: number; srcMac: Mac; dstMac: Mac; srcIp: number; dstIp: number; udpPort: number }
  /** Pop the outer headers of a VXLAN frame. */
  | { type: 'decap' }
  | { type: 'mac-rewrite'; src?: Mac; dst?: Mac }
  | { type: 'vlan-push'; vid: number }
  | { type: 'vlan-pop' }
  /** Count packets and bytes under a name; identity transposition. */
  | { type: 'meter'; meter: string }
  /** Reduce the TCP MSS option of SYNs by `delta` bytes. */
  | { type: 'mss-clamp'; delta: number };

export interface Rule {
  /** Unique within the layer (vfpctrl `Rule`). */
  id: string;
  /** Lower number = higher precedence within the group. */
  priority: number;
  conditions: Conditions;
  action: RuleAction;
  /** Ends the layer's evaluation when it decides. */
  terminating: boolean;
  /** Creates a flow pair: later packets and replies are decided by the flow, not by rules. */
  stateful: boolean;
  /** Idle timeout of the flow, seconds (0 for stateless rules). */
  flowTtl: number;
  /** Where it came from (a JSON path of the topology, or a built-in name). */
  origin: string;
}

export interface Group {
  name: string;
  priority: number;
  direction: Direction;
  family: 4 | 6;
  conditions: Conditions;
  rules: Rule[];
}

export interface Layer {
  name: string;
  priority: number;
  /** vfpctrl layer flag 0x1: a packet no rule decides passes. */
  defaultAllow: boolean;
  /** The drop reason of an undecided packet when the layer is not default-allow. */
  defaultReason: DropReason;
  groups: Group[];
}

export type PortKind = 'endpoint' | 'uplink' | 'vnic';

export interface PortPolicy {
  /** Engine port id (the index in the compiled topology's port list). */
  id: number;
  /** Port name: the endpoint name, the uplink name, or `host:<network>`. */
  name: string;
  kind: PortKind;
  /**
   * Layers in outbound order (VM -> wire); a packet leaving the device (DIR_OUT) crosses them
   * first to last, a packet toward the device (DIR_IN) last to first.
   */
  layers: Layer[];
}
