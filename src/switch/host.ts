/**
 * The host behind a host vNIC port (`host:<network>`): what the host's own stack answers for the
 * gateway addresses it owns. The switch delivers frames to the vNIC port like to any other port;
 * the pipeline then asks `hostReply` whether the host answers, and injects the reply as a frame
 * entering the switch from the vNIC port (so it crosses the endpoint's inbound layers and its flow
 * like any reply would).
 *
 * Answered: ARP requests for a gateway IPv4 address (reply from the vNIC MAC), and ICMP echo
 * requests (IPv4 type 8, ICMPv6 type 128) to a gateway address (echo reply: addresses and MACs
 * swapped, TTL/hop limit 128 as Windows sends, same identifier, sequence and payload, checksum
 * updated per RFC 1624). Not answered (yet): IPv6 neighbour solicitation, DHCP, DNS, TCP to the
 * gateway (the NAT issue routes through the host).
 *
 * Frames reaching a vNIC port are untagged (access port), so the Ethernet header is 14 bytes. Every
 * read is bounded by the frame's captured length; a short or odd frame gets no answer.
 */
import { checksumUpdate16 } from '../base/checksum.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../wire/headers.js';

/** Answer kinds, for counters and comments. */
export const HOST_REPLY_NONE = 0;
export const HOST_REPLY_ARP = 1;
export const HOST_REPLY_ECHO = 2;

/** TTL / hop limit of the host's replies (Windows' default). */
export const HOST_TTL = 128;

/**
 * The gateway addresses a vNIC owns, as words: IPv4 addresses in `v4`, IPv6 addresses as four
 * words each in `v6`.
 */
export interface HostAddresses {
  v4: Uint32Array;
  v6: Uint32Array;
  macHi: number;
  macLo: number;
}

/**
 * If the frame d[o, o + len) delivered to a host vNIC asks the host something it answers, write
 * the answer at out[at..] (at least `len` + 60 bytes of room) and return its kind; the answer's
 * length is left in `replyLength`.
 */
export class HostResponder {
  replyLength = 0;

  reply(d: Uint8Array, o: number, len: number, host: HostAddresses, out: Uint8Array, at: number): number {
    if (len < 14) return HOST_REPLY_NONE;
    const type = (d[o + 12]! << 8) | d[o + 13]!;
    if (type === ETHERTYPE_ARP) return this.arp(d, o, len, host, out, at);
    if (type === ETHERTYPE_IPV4) return this.echo4(d, o, len, host, out, at);
    if (type === ETHERTYPE_IPV6) return this.echo6(d, o, len, host, out, at);
    return HOST_REPLY_NONE;
  }

  private arp(d: Uint8Array, o: number, len: number, host: HostAddresses, out: Uint8Array, at: number): number {
    const a = o + 14;
    if (len < 14 + 28) return HOST_REPLY_NONE;
    // Ethernet / IPv4 / 6 / 4 / request
    if (d[a] !== 0 || d[a + 1] !== 1 || d[a + 2] !== 0x08 || d[a + 3] !== 0 || d[a + 4] !== 6 || d[a + 5] !== 4 || d[a + 6] !== 0 || d[a + 7] !== 1) return HOST_REPLY_NONE;
    const tpa = ((d[a + 24]! << 24) | (d[a + 25]! << 16) | (d[a + 26]! << 8) | d[a + 27]!) >>> 0;
    if (!ownsV4(host, tpa)) return HOST_REPLY_NONE;
    // Ethernet: to the asker, from the vNIC.
    for (let b = 0; b < 6; b++) out[at + b] = d[a + 8 + b]!;
    putMac(out, at + 6, host.macHi, host.macLo);
    out[at + 12] = 0x08;
    out[at + 13] = 0x06;
    const r = at + 14;
    for (let b = 0; b < 6; b++) out[r + b] = d[a + b]!; // htype, ptype, hlen, plen
    out[r + 6] = 0;
    out[r + 7] = 2; // reply
    putMac(out, r + 8, host.macHi, host.macLo); // sha
    for (let b = 0; b < 4; b++) out[r + 14 + b] = d[a + 24 + b]!; // spa = the asked address
    for (let b = 0; b < 10; b++) out[r + 18 + b] = d[a + 8 + b]!; // tha, tpa = the asker's sha, spa
    for (let b = r + 28; b < at + 60; b++) out[b] = 0; // pad to the 60-byte minimum
    this.replyLength = 60;
    return HOST_REPLY_ARP;
  }

  private echo4(d: Uint8Array, o: number, len: number, host: HostAddresses, out: Uint8Array, at: number): number {
    const l3 = o + 14;
    if (len < 14 + 20) return HOST_REPLY_NONE;
    const vihl = d[l3]!;
    const ihl = (vihl & 15) * 4;
    if (vihl >>> 4 !== 4 || ihl < 20 || d[l3 + 9] !== IPPROTO_ICMP) return HOST_REPLY_NONE;
    if ((((d[l3 + 6]! << 8) | d[l3 + 7]!) & 0x3fff) !== 0) return HOST_REPLY_NONE; // fragment
    const l4 = l3 + ihl;
    if (l4 + 8 > o + len || d[l4] !== ICMP_ECHO_REQUEST || d[l4 + 1] !== 0) return HOST_REPLY_NONE;
    const dst = ((d[l3 + 16]! << 24) | (d[l3 + 17]! << 16) | (d[l3 + 18]! << 8) | d[l3 + 19]!) >>> 0;
    if (!ownsV4(host, dst)) return HOST_REPLY_NONE;
    copyBytes(d, o, len, out, at);
    swapMacs(d, o, out, at, host);
    const r3 = at + 14;
    for (let b = 0; b < 4; b++) {
      out[r3 + 12 + b] = d[l3 + 16 + b]!;
      out[r3 + 16 + b] = d[l3 + 12 + b]!;
    }
    // TTL and the header checksum: the address swap leaves the sum unchanged; the TTL word changes.
    const oldTtlWord = (d[l3 + 8]! << 8) | d[l3 + 9]!;
    out[r3 + 8] = HOST_TTL;
    const ipSum = checksumUpdate16((d[l3 + 10]! << 8) | d[l3 + 11]!, oldTtlWord, (HOST_TTL << 8) | d[l3 + 9]!);
    out[r3 + 10] = ipSum >>> 8;
    out[r3 + 11] = ipSum & 255;
    const r4 = r3 + ihl;
    out[r4] = ICMP_ECHO_REPLY;
    const icmpSum = checksumUpdate16((d[l4 + 2]! << 8) | d[l4 + 3]!, ICMP_ECHO_REQUEST << 8, ICMP_ECHO_REPLY << 8);
    out[r4 + 2] = icmpSum >>> 8;
    out[r4 + 3] = icmpSum & 255;
    this.replyLength = len;
    return HOST_REPLY_ECHO;
  }

  private echo6(d: Uint8Array, o: number, len: number, host: HostAddresses, out: Uint8Array, at: number): number {
    const l3 = o + 14;
    if (len < 14 + 40 + 8 || d[l3]! >>> 4 !== 6 || d[l3 + 6] !== IPPROTO_ICMPV6) return HOST_REPLY_NONE;
    const l4 = l3 + 40;
    if (d[l4] !== ICMPV6_ECHO_REQUEST || d[l4 + 1] !== 0) return HOST_REPLY_NONE;
    if (!ownsV6(host, d, l3 + 24)) return HOST_REPLY_NONE;
    copyBytes(d, o, len, out, at);
    swapMacs(d, o, out, at, host);
    const r3 = at + 14;
    for (let b = 0; b < 16; b++) {
      out[r3 + 8 + b] = d[l3 + 24 + b]!;
      out[r3 + 24 + b] = d[l3 + 8 + b]!;
    }
    out[r3 + 7] = HOST_TTL;
    const r4 = r3 + 40;
    out[r4] = ICMPV6_ECHO_REPLY;
    // The pseudo-header sum is symmetric in the addresses: only the type byte changes the sum.
    const sum = checksumUpdate16((d[l4 + 2]! << 8) | d[l4 + 3]!, ICMPV6_ECHO_REQUEST << 8, ICMPV6_ECHO_REPLY << 8);
    out[r4 + 2] = sum >>> 8;
    out[r4 + 3] = sum & 255;
    this.replyLength = len;
    return HOST_REPLY_ECHO;
  }
}

function ownsV4(host: HostAddresses, a: number): boolean {
  const v4 = host.v4;
  for (let i = 0; i < v4.length; i++) if (v4[i] === a) return true;
  return false;
}

function ownsV6(host: HostAddresses, d: Uint8Array, o: number): boolean {
  const v6 = host.v6;
  for (let i = 0; i + 4 <= v6.length; i += 4) {
    let same = true;
    for (let w = 0; w < 4 && same; w++) {
      const x = ((d[o + 4 * w]! << 24) | (d[o + 4 * w + 1]! << 16) | (d[o + 4 * w + 2]! << 8) | d[o + 4 * w + 3]!) >>> 0;
      same = x === v6[i + w];
    }
    if (same) return true;
  }
  return false;
}

function putMac(out: Uint8Array, o: number, hi: number, lo: number): void {
  out[o] = hi >>> 8;
  out[o + 1] = hi & 255;
  out[o + 2] = lo >>> 24;
  out[o + 3] = (lo >>> 16) & 255;
  out[o + 4] = (lo >>> 8) & 255;
  out[o + 5] = lo & 255;
}

function swapMacs(d: Uint8Array, o: number, out: Uint8Array, at: number, host: HostAddresses): void {
  for (let b = 0; b < 6; b++) out[at + b] = d[o + 6 + b]!;
  putMac(out, at + 6, host.macHi, host.macLo);
}

function copyBytes(d: Uint8Array, o: number, len: number, out: Uint8Array, at: number): void {
  if (d === out) out.copyWithin(at, o, o + len);
  else for (let b = 0; b < len; b++) out[at + b] = d[o + b]!;
}
