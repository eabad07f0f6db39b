/**
 * A declarative frame builder for scenarios, tests and the replay samples: a `FrameSpec` (MACs,
 * optional VLAN tag, ARP or IPv4/IPv6 with TCP, UDP, ICMP echo or a raw protocol) becomes a valid
 * Ethernet frame with every checksum correct, padded to the 60-byte minimum. Built on the header
 * writers of build.ts. Setup-time code: it allocates (it is not on any per-packet path).
 */
import { parseIPv4 } from '../wire/format.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_HEADER_SIZE,
  UDP_HEADER_SIZE,
} from '../wire/headers.js';
import { finishIcmp4, finishIPv4, finishL4v4, finishL4v6, ipv6, writeArp, writeEth, writeIcmpEcho, writeIPv4, writeIPv6, writeTcp, writeUdp, writeVlanTag } from './build.js';

export interface FrameSpec {
  /** "aa:bb:cc:dd:ee:ff" */
  src: string;
  dst: string;
  /** 802.1Q tag (VID). */
  vlan?: number;
  arp?: { op: 1 | 2; sha?: string; spa: string; tha?: string; tpa: string };
  /** IPv4 or IPv6 addresses (a ':' means IPv6). */
  ip?: { src: string; dst: string; ttl?: number; id?: number };
  tcp?: { sport: number; dport: number; flags: number; seq?: number; ack?: number; window?: number; options?: number[]; payload?: string };
  udp?: { sport: number; dport: number; payload?: string };
  /** Echo request (`request: true`) or reply. */
  icmp?: { request: boolean; id: number; seq: number; payload?: string };
  /** Another IP protocol with an opaque payload (e.g. 47 GRE). */
  raw?: { protocol: number; payload?: string };
}

function macParts(text: string): [number, number] {
  const b = text.split(/[:-]/).map((h) => parseInt(h, 16));
  if (b.length !== 6 || b.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad MAC '${text}'`);
  return [(b[0]! << 8) | b[1]!, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

function text(d: Uint8Array, o: number, s: string | undefined): number {
  if (!s) return o;
  for (let i = 0; i < s.length; i++) d[o + i] = s.charCodeAt(i) & 0xff;
  return o + s.length;
}

/** Build the frame; returns its bytes (a fresh array, at least 60 bytes). */
export function buildFrame(f: FrameSpec): Uint8Array {
  const d = new Uint8Array(2048);
  const [dh, dl] = macParts(f.dst);
  const [sh, sl] = macParts(f.src);
  const v6 = f.ip !== undefined && f.ip.src.includes(':');
  const type = f.arp ? ETHERTYPE_ARP : v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
  let p = writeEth(d, 0, dh, dl, sh, sl, f.vlan !== undefined ? 0x8100 : type);
  if (f.vlan !== undefined) p = writeVlanTag(d, p, f.vlan, 0, type);
  let end: number;
  if (f.arp) {
    const [ah, al] = macParts(f.arp.sha ?? f.src);
    const [th, tl] = f.arp.tha ? macParts(f.arp.tha) : [0, 0];
    end = writeArp(d, p, f.arp.op, ah, al, parseIPv4(f.arp.spa), th, tl, parseIPv4(f.arp.tpa));
  } else if (f.ip) {
    const l3 = p;
    const proto = f.tcp ? IPPROTO_TCP : f.udp ? IPPROTO_UDP : f.icmp ? (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) : (f.raw?.protocol ?? 59);
    const options = f.tcp?.options ? Uint8Array.from(f.tcp.options) : null;
    const payload = f.tcp?.payload ?? f.udp?.payload ?? f.icmp?.payload ?? f.raw?.payload ?? '';
    const l4Size = (f.tcp ? TCP_HEADER_SIZE + (options?.length ?? 0) : f.udp ? UDP_HEADER_SIZE : f.icmp ? 8 : 0) + payload.length;
    const l4 = v6
      ? writeIPv6(d, l3, ipv6(f.ip.src), ipv6(f.ip.dst), proto, l4Size, f.ip.ttl ?? 64, 0)
      : writeIPv4(d, l3, parseIPv4(f.ip.src), parseIPv4(f.ip.dst), proto, l4Size, f.ip.ttl ?? 64, f.ip.id ?? 0, proto === IPPROTO_TCP);
    let q: number;
    if (f.tcp) {
      const t = f.tcp;
      q = writeTcp(d, l4, t.sport, t.dport, t.seq ?? 1000, t.ack ?? 0, t.flags, t.window ?? 64240, options);
    } else if (f.udp) {
      q = writeUdp(d, l4, f.udp.sport, f.udp.dport, payload.length);
    } else if (f.icmp) {
      const ty = v6 ? (f.icmp.request ? ICMPV6_ECHO_REQUEST : ICMPV6_ECHO_REPLY) : f.icmp.request ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY;
      q = writeIcmpEcho(d, l4, ty, f.icmp.id, f.icmp.seq);
    } else {
      q = l4;
    }
    end = text(d, q, payload);
    if (!v6) finishIPv4(d, l3);
    if (f.tcp || f.udp) {
      if (v6) finishL4v6(d, l3, l4, l4Size, proto, proto === IPPROTO_TCP ? 16 : 6);
      else finishL4v4(d, l3, l4, l4Size);
    } else if (f.icmp) {
      if (v6) finishL4v6(d, l3, l4, l4Size, proto, 2);
      else finishIcmp4(d, l4, l4Size);
    }
  } else {
    end = p;
  }
  const size = Math.max(end, 60);
  return d.slice(0, size);
}
