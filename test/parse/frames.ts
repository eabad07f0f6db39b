/**
 * Hand-built frames with the description `vfp parse --json` must give for each: one case per
 * header stack and one per parse error. Used by the unit tests and as fuzz seeds. Built from
 * bytes here (not by synth) so that the parser is checked against an independent construction.
 */
import { checksum } from '../../src/base/checksum.js';
import type { FrameDescription } from '../../src/parse/describe.js';

export interface EdgeCase {
  name: string;
  bytes: Uint8Array;
  wireLength?: number;
  /** Expected keys of the description (compared with toMatchObject; `error` exactly). */
  expect: Partial<FrameDescription>;
  /** Keys that must be absent. */
  absent?: Array<keyof FrameDescription>;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x01];
const MAC_B = [0x02, 0, 0, 0, 0, 0x02];
const A = '02:00:00:00:00:01';
const B = '02:00:00:00:00:02';

const u16 = (v: number) => [(v >>> 8) & 0xff, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const ip = (s: string) => s.split('.').map(Number);

function eth(type: number, ...tags: Array<[number, number]>): number[] {
  const out = [...MAC_B, ...MAC_A];
  for (const [tpid, vid] of tags) out.push(...u16(tpid), ...u16(vid));
  out.push(...u16(type));
  return out;
}

function ipv4(src: string, dst: string, proto: number, payload: number, opts: { ihl?: number; total?: number; ff?: number; ttl?: number; version?: number } = {}): number[] {
  const ihl = opts.ihl ?? 5;
  const h = [((opts.version ?? 4) << 4) | ihl, 0, ...u16(opts.total ?? ihl * 4 + payload), 0x12, 0x34, ...u16(opts.ff ?? 0x4000), opts.ttl ?? 64, proto, 0, 0, ...ip(src), ...ip(dst)];
  for (let i = 20; i < ihl * 4; i++) h.push(1); // NOP options
  const c = checksum(Uint8Array.from(h), 0, Math.min(h.length, 20));
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return h;
}

function v6addr(last: number): number[] {
  return [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last];
}

function ipv6(nh: number, payload: number, opts: { version?: number } = {}): number[] {
  return [(opts.version ?? 6) << 4, 0, 0, 0, ...u16(payload), nh, 64, ...v6addr(1), ...v6addr(2)];
}

function tcp(sport: number, dport: number, flags: number, doff: number = 5): number[] {
  const h = [...u16(sport), ...u16(dport), ...u32(1), ...u32(0), doff << 4, flags, ...u16(65535), 0, 0, 0, 0];
  for (let i = 20; i < doff * 4; i++) h.push(1);
  return h;
}

function udp(sport: number, dport: number, payload: number, len?: number): number[] {
  return [...u16(sport), ...u16(dport), ...u16(len ?? 8 + payload), 0, 0];
}

const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());
const pad = (n: number) => new Array<number>(n).fill(0);

const ipA = { v: 4 as const, src: '10.0.0.1', dst: '10.0.0.2', ttl: 64, frag: false };
const ip6A = { v: 6 as const, src: '2001:db8::1', dst: '2001:db8::2', ttl: 64, frag: false };

export function edgeCaseFrames(): EdgeCase[] {
  const cases: EdgeCase[] = [];
  const add = (c: EdgeCase) => cases.push(c);

  add({
    name: 'eth/ipv4/tcp SYN',
    bytes: bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 20), tcp(1234, 80, 0x02)),
    expect: { eth: { src: A, dst: B, type: 2048 }, ip: { ...ipA, proto: 6 }, l4: { sport: 1234, dport: 80, flags: 'S' } },
    absent: ['vlan', 'icmp', 'arp', 'vxlan', 'inner', 'error'],
  });
  add({
    name: 'eth/ipv4/udp (padded to 60)',
    bytes: bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 17, 8 + 4), udp(5353, 53, 4), [1, 2, 3, 4], pad(10)),
    expect: { ip: { ...ipA, proto: 17 }, l4: { sport: 5353, dport: 53 } },
    absent: ['error'],
  });
  add({
    name: 'eth/vlan 100/ipv4/udp',
    bytes: bytes(eth(0x0800, [0x8100, 100]), ipv4('10.0.0.1', '10.0.0.2', 17, 8), udp(1, 2, 0), pad(10)),
    expect: { eth: { src: A, dst: B, type: 2048 }, vlan: [100], l4: { sport: 1, dport: 2 } },
  });
  add({
    name: 'QinQ 802.1ad 10 + 802.1Q 20',
    bytes: bytes(eth(0x0800, [0x88a8, 10], [0x8100, 0x2000 | 20]), ipv4('10.0.0.1', '10.0.0.2', 6, 20), tcp(1, 2, 0x12)),
    expect: { vlan: [10, 20], l4: { sport: 1, dport: 2, flags: 'AS' } },
  });
  add({
    name: 'old QinQ TPID 0x9100',
    bytes: bytes(eth(0x86dd, [0x9100, 7]), ipv6(6, 20), tcp(443, 50000, 0x18)),
    expect: { vlan: [7], ip: { ...ip6A, proto: 6 }, l4: { sport: 443, dport: 50000, flags: 'AP' } },
  });
  add({
    name: 'ARP request',
    bytes: bytes(eth(0x0806), [0, 1, 8, 0, 6, 4, 0, 1], MAC_A, ip('10.0.0.1'), pad(6), ip('10.0.0.254'), pad(18)),
    expect: { eth: { src: A, dst: B, type: 2054 }, arp: { op: 1, spa: '10.0.0.1', tpa: '10.0.0.254' } },
    absent: ['ip', 'error'],
  });
  add({
    name: 'ICMP echo request',
    bytes: bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 1, 8), [8, 0, 0, 0, 0, 7, 0, 1], pad(18)),
    expect: { ip: { ...ipA, proto: 1 }, icmp: { type: 8, code: 0 } },
    absent: ['l4', 'error'],
  });
  add({
    name: 'IGMPv2 membership report',
    bytes: bytes(eth(0x0800), ipv4('10.0.0.1', '224.0.0.251', 2, 8, { ttl: 1 }), [0x16, 0, 0, 0, 224, 0, 0, 251], pad(18)),
    expect: { ip: { v: 4, src: '10.0.0.1', dst: '224.0.0.251', proto: 2, ttl: 1, frag: false }, igmp: { type: 0x16 } },
    absent: ['error'],
  });
  add({
    name: 'ICMPv6 echo reply',
    bytes: bytes(eth(0x86dd), ipv6(58, 8), [129, 0, 0, 0, 0, 1, 0, 2]),
    expect: { ip: { ...ip6A, proto: 58 }, icmp: { type: 129, code: 0 } },
    absent: ['error'],
  });
  // hop-by-hop (8) -> routing (8) -> fragment (8, first, M set) -> dst-opts (8) -> UDP
  add({
    name: 'IPv6 extension chain to UDP',
    bytes: bytes(eth(0x86dd), ipv6(0, 32 + 8), [43, 0, 1, 4, 0, 0, 0, 0], [44, 0, 0, 0, 0, 0, 0, 0], [60, 0, 0, 1, 0, 0, 0, 9], [17, 0, 1, 4, 0, 0, 0, 0], udp(7, 9, 0)),
    expect: { ip: { ...ip6A, proto: 17, frag: true }, l4: { sport: 7, dport: 9 } },
    absent: ['error'],
  });
  add({
    name: 'IPv6 non-first fragment: no L4',
    bytes: bytes(eth(0x86dd), ipv6(44, 8 + 8), [17, 0, 0, 8 << 3, 0, 0, 0, 9], udp(7, 9, 0)),
    expect: { ip: { ...ip6A, proto: 17, frag: true } },
    absent: ['l4', 'error'],
  });
  add({
    name: 'IPv4 with options (IHL 6)',
    bytes: bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 20, { ihl: 6 }), tcp(5, 6, 0x01)),
    expect: { ip: { ...ipA, proto: 6 }, l4: { sport: 5, dport: 6, flags: 'F' } },
    absent: ['error'],
  });
  add({
    name: 'IPv4 first fragment (MF)',
    bytes: bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 17, 16, { ff: 0x2000 }), udp(1, 2, 8), pad(8)),
    expect: { ip: { ...ipA, proto: 17, frag: true }, l4: { sport: 1, dport: 2 } },
    absent: ['error'],
  });
  add({
    name: 'IPv4 later fragment: no L4',
    bytes: bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 17, 16, { ff: 100 }), pad(16)),
    expect: { ip: { ...ipA, proto: 17, frag: true } },
    absent: ['l4', 'error'],
  });
  const inner = bytes([0x0e, 0x2a, 0, 0, 0, 2], [0x0e, 0x2a, 0, 0, 0, 1], u16(0x0800), ipv4('10.244.1.2', '10.244.2.3', 6, 20), tcp(40000, 8080, 0x02));
  add({
    name: 'VXLAN over IPv4',
    bytes: bytes(eth(0x0800), ipv4('10.99.0.2', '10.99.0.3', 17, 16 + inner.length), udp(49152, 4789, 8 + inner.length), [8, 0, 0, 0, 0, 0x10, 0x00, 0], Array.from(inner)),
    expect: {
      ip: { v: 4, src: '10.99.0.2', dst: '10.99.0.3', proto: 17, ttl: 64, frag: false },
      l4: { sport: 49152, dport: 4789 },
      vxlan: { vni: 4096 },
      inner: { eth: { src: '0e:2a:00:00:00:01', dst: '0e:2a:00:00:00:02', type: 2048 }, ip: { v: 4, src: '10.244.1.2', dst: '10.244.2.3', proto: 6, ttl: 64, frag: false }, l4: { sport: 40000, dport: 8080, flags: 'S' } },
    },
    absent: ['error'],
  });
  add({
    name: 'VXLAN over IPv6',
    bytes: bytes(eth(0x86dd), ipv6(17, 16 + inner.length), udp(49153, 4789, 8 + inner.length), [8, 0, 0, 0, 0x12, 0x34, 0x56, 0], Array.from(inner)),
    expect: { ip: { ...ip6A, proto: 17 }, vxlan: { vni: 0x123456 }, inner: { l4: { sport: 40000, dport: 8080, flags: 'S' } } },
    absent: ['error'],
  });
  add({
    name: '802.3 length frame (LLC)',
    bytes: bytes([...MAC_B, ...MAC_A, 0, 46, 0x42, 0x42, 0x03], pad(43)),
    expect: { eth: { src: A, dst: B, type: 46 } },
    absent: ['ip', 'error'],
  });
  const big = new Uint8Array(70_000);
  big.set(bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 0, { total: 0 }), tcp(1, 2, 0x10)));
  add({ name: 'BIG TCP: IPv4 total length 0, 70,000-byte frame', bytes: big, expect: { ip: { ...ipA, proto: 6 }, l4: { sport: 1, dport: 2, flags: 'A' } }, absent: ['error'] });

  // ---- one per parse error ----
  const err = (name: string, error: string, b: Uint8Array, expect: Partial<FrameDescription> = {}) => add({ name, bytes: b, expect: { ...expect, error } });
  err('truncated Ethernet', 'truncated-ethernet', bytes(MAC_B, MAC_A.slice(0, 4)));
  err('truncated VLAN tag', 'truncated-vlan', bytes([...MAC_B, ...MAC_A], u16(0x8100), [0, 5]));
  err('too many VLAN tags', 'too-many-vlan-tags', bytes(eth(0x0800, ...Array.from({ length: 9 }, () => [0x8100, 1] as [number, number])), pad(40)));
  err('truncated ARP', 'truncated-arp', bytes(eth(0x0806), [0, 1, 8, 0, 6, 4, 0, 1], MAC_A));
  err('truncated IPv4', 'truncated-ipv4', bytes(eth(0x0800), [0x45, 0, 0, 40, 0, 0]));
  err('IPv4 version 5', 'bad-ipv4-version', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 20, { version: 5 }), tcp(1, 2, 2)));
  err('IPv4 IHL 3', 'bad-ipv4-header-length', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 20, { ihl: 3 }), pad(40)));
  err('IPv4 total length 10', 'bad-ipv4-total-length', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 20, { total: 10 }), tcp(1, 2, 2)), { ip: { ...ipA, proto: 6 } });
  err('truncated IPv6', 'truncated-ipv6', bytes(eth(0x86dd), ipv6(6, 20).slice(0, 30)));
  err('IPv6 version 4 in an IPv6 ethertype', 'bad-ipv6-version', bytes(eth(0x86dd), ipv6(6, 20, { version: 4 }), tcp(1, 2, 2)));
  err('truncated IPv6 extension', 'truncated-ipv6-extension', bytes(eth(0x86dd), ipv6(0, 16), [6, 3, 0, 0, 0, 0, 0, 0]));
  err('IPv6 extension longer than the payload length', 'bad-ipv6-extension', bytes(eth(0x86dd), ipv6(0, 8), [6, 1, 0, 0, 0, 0, 0, 0], pad(16)));
  err('too many IPv6 extensions', 'too-many-ipv6-extensions', bytes(eth(0x86dd), ipv6(60, 41 * 8 + 8), ...Array.from({ length: 41 }, () => [60, 0, 0, 0, 0, 0, 0, 0]), udp(1, 2, 0)));
  err('truncated TCP', 'truncated-tcp', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 10), tcp(1, 2, 2).slice(0, 10)), { l4: { sport: 1, dport: 2 } });
  err('TCP data offset 4', 'bad-tcp-data-offset', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 20), tcp(1, 2, 2, 4), pad(4)));
  err('truncated UDP', 'truncated-udp', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 17, 6), udp(1, 2, 0).slice(0, 6)));
  err('UDP length 5', 'bad-udp-length', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 17, 8), udp(1, 2, 0, 5), pad(10)));
  err('truncated ICMP echo', 'truncated-icmp', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 1, 6), [8, 0, 0, 0, 0, 7]));
  err('truncated ICMPv6', 'truncated-icmpv6', bytes(eth(0x86dd), ipv6(58, 2), [128, 0]));
  err('truncated IGMP', 'truncated-igmp', bytes(eth(0x0800), ipv4('10.0.0.1', '224.0.0.1', 2, 4), [0x11, 0, 0, 0]));
  err('truncated VXLAN', 'truncated-vxlan', bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 17, 12), udp(1, 4789, 4), [8, 0, 0, 0]));
  const snapped = bytes(eth(0x0800), ipv4('10.0.0.1', '10.0.0.2', 6, 20), tcp(1, 2, 2)).slice(0, 30);
  add({ name: 'snaplen cut inside IPv4 (caplen 30, len 54)', bytes: snapped, wireLength: 54, expect: { caplen: 30, len: 54, error: 'truncated-ipv4' }, absent: ['ip'] });
  return cases;
}
