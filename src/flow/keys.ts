/**
 * Flow-key helpers shared by every stage that installs or finds flows (pipeline/, and nat/,
 * load balancers and overlay next): the table's hash of a key entering on a port, the digest of
 * a destination MAC kept in an entry's user word, the reply key of a flow, and the TCP flags of a
 * batch's keyed header. Keys are laid out as in frame/batch.ts (KEY_* word offsets).
 */
import { FLOW_KEY_WORDS, KEY_DST, KEY_PORT_ETHERTYPE, KEY_PORTS, KEY_PROTO, KEY_SRC, KEY_VNI, keyProtocol } from '../frame/batch.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/headers.js';

/** The flow table's hash: the parse's symmetric flow hash, with the ingress port mixed in. */
export function tableHash(h: number, port: number): number {
  return (h ^ Math.imul(port + 1, 0x85ebca6b)) >>> 0;
}

/**
 * A 32-bit digest of a MAC, kept in a flow entry's userData: the flow key has no MACs, and a frame
 * of the same 5-tuple to another destination MAC is not the same flow (it takes the slow path).
 */
export function macHash(hi: number, lo: number): number {
  return (Math.imul(lo ^ (hi << 16), 0x9e3779b1) ^ hi) | 0;
}

/**
 * TCP flags of frame i's keyed header (0 when not TCP or not captured), from batch columns passed
 * one by one (hot loops hold them in locals); `end` is the frame's end offset.
 */
export function keyedTcpFlags(keys: Uint32Array, i: number, innerL4Offsets: Int32Array, l4Offsets: Int32Array, d: Uint8Array, end: number): number {
  if (keyProtocol(keys[i * FLOW_KEY_WORDS + KEY_PROTO]!) !== IPPROTO_TCP) return 0;
  const il4 = innerL4Offsets[i]!;
  const l4 = il4 >= 0 ? il4 : l4Offsets[i]!;
  return l4 >= 0 && l4 + 14 <= end ? d[l4 + 13]! : 0;
}

/**
 * The key of the reply to the flow keyed at keys[k..]: addresses and ports swapped, an ICMP echo
 * request turned into its reply, the VLAN it carries on the egress side, entering on `egress`.
 */
export function reverseKey(keys: Uint32Array, k: number, rev: Uint32Array, vlan: number, egress: number): void {
  for (let w = 0; w < 4; w++) {
    rev[KEY_SRC + w] = keys[k + KEY_DST + w]!;
    rev[KEY_DST + w] = keys[k + KEY_SRC + w]!;
  }
  const w9 = keys[k + KEY_PROTO]!;
  const proto = keyProtocol(w9);
  const ports = keys[k + KEY_PORTS]!;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    rev[KEY_PORTS] = ((ports << 16) | (ports >>> 16)) >>> 0;
  } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    const type = ports >>> 24;
    let rt = type;
    if (proto === IPPROTO_ICMP && type === ICMP_ECHO_REQUEST) rt = ICMP_ECHO_REPLY;
    else if (proto === IPPROTO_ICMP && type === ICMP_ECHO_REPLY) rt = ICMP_ECHO_REQUEST;
    else if (proto === IPPROTO_ICMPV6 && type === ICMPV6_ECHO_REQUEST) rt = ICMPV6_ECHO_REPLY;
    else if (proto === IPPROTO_ICMPV6 && type === ICMPV6_ECHO_REPLY) rt = ICMPV6_ECHO_REQUEST;
    rev[KEY_PORTS] = ((rt << 24) | (ports & 0x00ffffff)) >>> 0;
  } else {
    rev[KEY_PORTS] = ports;
  }
  rev[KEY_PROTO] = ((w9 & 0xffff0000) | (vlan & 0xffff)) >>> 0;
  rev[KEY_VNI] = keys[k + KEY_VNI]!;
  rev[KEY_PORT_ETHERTYPE] = ((keys[k + KEY_PORT_ETHERTYPE]! & 0xffff) | (egress << 16)) >>> 0;
}
