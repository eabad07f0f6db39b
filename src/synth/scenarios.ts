/**
 * Seeded, deterministic traffic for tests, benches and the README demo (`vfp synth`).
 *
 * `synthesize(scenario, options, emit)` builds frames one at a time in a reusable scratch buffer
 * and hands each to `emit` (which normally writes it to a capture); the same scenario, options
 * and seed always give byte-identical frames. Timestamps start at `startSeconds` (default
 * 1,700,000,000) and advance by 1 µs per frame (1 ms in the `sample` scenario, to read easily).
 *
 * Sizes are Ethernet frames as captured, without the 4-byte FCS: a "64-byte frame" on the wire is
 * 60 bytes here, and the IMIX sizes 64/594/1518 are 60/590/1514.
 *
 * This module is in layer 2: it knows frames, not files; the CLI joins it to a writer.
 */
import { Prng } from '../base/bytes.js';
import { FrameBuilder, ip4, ip6, mac } from './builder.js';

export const SYNTH_SCENARIOS = {
  mix64: '64-byte frames (60 captured), UDP and TCP flows alternating, both directions, TCP with SYN/SYN-ACK then ACK|PSH',
  imix: 'Simple IMIX 7:4:1 of 64/594/1518-byte frames (60/590/1514 captured), UDP and TCP over --flows flows',
  vxlan: 'VXLAN-encapsulated TCP: outer IPv4/UDP 4789 between hosts, VNIs 4096-4099, inner 64-byte TCP frames',
  'new-flows': 'one new TCP flow per packet: every frame a SYN from a new (source address, port) pair',
  sample: 'the README demo: ARP, ICMP echo, a TCP handshake with data, DNS over UDP, IPv6, a VLAN tag, VXLAN and one truncated frame',
} as const;
export type SynthScenario = keyof typeof SYNTH_SCENARIOS;

export function isSynthScenario(name: string): name is SynthScenario {
  return Object.prototype.hasOwnProperty.call(SYNTH_SCENARIOS, name);
}

export interface SynthOptions {
  packets: number;
  flows: number;
  seed: number;
  startSeconds?: number;
}

/** Receives each frame: bytes[offset, offset+length), original length, timestamp, source name. */
export type SynthEmit = (bytes: Uint8Array, offset: number, length: number, wireLength: number, seconds: number, nanos: number, source: string) => void;

/** Names of the capture interfaces a scenario emits on, in order of first use. */
export function synthSources(scenario: SynthScenario): string[] {
  return scenario === 'sample' ? ['eth0', 'web'] : ['eth0'];
}

const HOST_MAC = mac(0x00, 0x15, 0x5d, 0x00, 0x00, 0x01); // the uplink (Hyper-V OUI)
const GATEWAY_MAC = mac(0x02, 0x00, 0x0a, 0x63, 0x00, 0x01); // the next hop on the wire
const REMOTE_HOST_MAC = mac(0x00, 0x15, 0x5d, 0x00, 0x00, 0x02);

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;

export function synthesize(scenario: SynthScenario, options: SynthOptions, emit: SynthEmit): void {
  if (!Number.isInteger(options.packets) || options.packets < 0) throw new RangeError('packets must be a whole number >= 0');
  if (!Number.isInteger(options.flows) || options.flows < 1) throw new RangeError('flows must be a whole number >= 1');
  const b = new FrameBuilder();
  const rng = new Prng(options.seed);
  const start = options.startSeconds ?? 1_700_000_000;
  switch (scenario) {
    case 'mix64':
      return mixed(b, rng, options, start, emit, false);
    case 'imix':
      return mixed(b, rng, options, start, emit, true);
    case 'vxlan':
      return vxlan(b, rng, options, start, emit);
    case 'new-flows':
      return newFlows(b, options, start, emit);
    case 'sample':
      return sample(b, start, emit);
  }
}

/** Client and server of flow f: 10.1.x.y:port <-> 192.168.x.y:80 (TCP) or :53 (UDP). */
function flowClient(f: number): number {
  return ip4(10, 1 + ((f >>> 16) & 0x3f), (f >>> 8) & 0xff, f & 0xff);
}
function flowServer(f: number): number {
  return ip4(192, 168, (f >>> 4) & 0xff, 1 + (f & 0x0f));
}
function flowClientPort(f: number): number {
  return 1024 + (f % 64000);
}
function clientMac(f: number): Uint8Array {
  return mac(0x00, 0x15, 0x5d, (f >>> 16) & 0xff, (f >>> 8) & 0xff, f & 0xff);
}

const IMIX_SIZES = [60, 590, 1514] as const;

function timeOf(start: number, i: number, stepNanos: number): [number, number] {
  const total = i * stepNanos;
  const s = Math.floor(total / 1e9);
  return [start + s, total - s * 1e9];
}

function mixed(b: FrameBuilder, rng: Prng, opt: SynthOptions, start: number, emit: SynthEmit, imix: boolean): void {
  const seen = new Uint8Array(opt.flows); // packets seen per flow, saturating at 2
  const macs: Uint8Array[] = [];
  for (let i = 0; i < opt.packets; i++) {
    const f = rng.below(opt.flows);
    let size = 60;
    if (imix) {
      const r = rng.below(12); // 7:4:1
      size = IMIX_SIZES[r < 7 ? 0 : r < 11 ? 1 : 2];
    }
    const tcp = (f & 1) === 1;
    const state = seen[f]!;
    // TCP: the first packet of a flow is the client's SYN, the second the server's SYN-ACK.
    const reply = tcp ? (state === 1 ? true : state === 0 ? false : rng.below(2) === 1) : rng.below(2) === 1;
    if (state < 2) seen[f] = state + 1;
    const client = flowClient(f);
    const server = flowServer(f);
    const cport = flowClientPort(f);
    const sport = tcp ? 80 : 53;
    const cmac = macs[f & 1023] ?? (macs[f & 1023] = clientMac(f & 1023));
    const o = b.ethernet(0, reply ? cmac : HOST_MAC, reply ? HOST_MAC : cmac, 0x0800);
    const l3 = o;
    const l4 = l3 + 20;
    const l4Header = tcp ? 20 : 8;
    const payload = size - 14 - 20 - l4Header;
    b.ipv4(l3, reply ? server : client, reply ? client : server, tcp ? PROTO_TCP : PROTO_UDP, l4Header + payload, reply ? 57 : 64, i & 0xffff);
    if (tcp) {
      const flags = state === 0 ? TCP_SYN : state === 1 ? TCP_SYN | TCP_ACK : TCP_ACK | TCP_PSH;
      b.tcp(l4, reply ? sport : cport, reply ? cport : sport, 1000 + i, state === 0 ? 0 : 5000 + i, flags);
    } else {
      b.udp(l4, reply ? sport : cport, reply ? cport : sport, payload);
    }
    const end = b.payload(l4 + l4Header, payload, i);
    b.finishL4(l3, l4, end, tcp ? PROTO_TCP : PROTO_UDP);
    const [s, ns] = timeOf(start, i, 1000);
    emit(b.bytes, 0, size, size, s, ns, 'eth0');
  }
}

function vxlan(b: FrameBuilder, rng: Prng, opt: SynthOptions, start: number, emit: SynthEmit): void {
  const innerSize = 60;
  const total = 14 + 20 + 8 + 8 + innerSize;
  for (let i = 0; i < opt.packets; i++) {
    const f = rng.below(opt.flows);
    const reply = rng.below(2) === 1;
    const vni = 4096 + (f & 3);
    const podA = ip4(10, 244, 1, 2 + (f % 250)); // on this host
    const podB = ip4(10, 244, 2, 2 + ((f >>> 3) % 250)); // on the remote host
    const src = reply ? podB : podA;
    const dst = reply ? podA : podB;
    const sport = reply ? 8080 : 32768 + (f % 28000);
    const dport = reply ? 32768 + (f % 28000) : 8080;
    // Outer UDP source port from the inner flow (as Linux does), for ECMP entropy.
    const entropy = 49152 + (((podA ^ podB) + (f * 2654435761)) >>> 0) % 16384;
    let o = b.ethernet(0, reply ? HOST_MAC : REMOTE_HOST_MAC, reply ? REMOTE_HOST_MAC : HOST_MAC, 0x0800);
    const outerL3 = o;
    b.ipv4(outerL3, reply ? ip4(10, 99, 0, 3) : ip4(10, 99, 0, 2), reply ? ip4(10, 99, 0, 2) : ip4(10, 99, 0, 3), PROTO_UDP, 8 + 8 + innerSize, 64, i & 0xffff);
    o = b.udp(outerL3 + 20, entropy, 4789, 8 + innerSize); // outer UDP checksum 0, as Linux sends
    o = b.vxlan(o, vni);
    const innerSrcMac = mac(0x0e, 0x2a, 10, 244, reply ? 2 : 1, (reply ? 2 + ((f >>> 3) % 250) : 2 + (f % 250)) & 0xff);
    const innerDstMac = mac(0x0e, 0x2a, 10, 244, reply ? 1 : 2, (reply ? 2 + (f % 250) : 2 + ((f >>> 3) % 250)) & 0xff);
    o = b.ethernet(o, innerDstMac, innerSrcMac, 0x0800);
    const l3 = o;
    b.ipv4(l3, src, dst, PROTO_TCP, 20 + 6, 64, i & 0xffff);
    b.tcp(l3 + 20, sport, dport, 1 + i, 1 + i, TCP_ACK | TCP_PSH);
    const end = b.payload(l3 + 40, 6, i);
    b.finishL4(l3, l3 + 20, end, PROTO_TCP);
    const [s, ns] = timeOf(start, i, 1000);
    emit(b.bytes, 0, total, total, s, ns, 'eth0');
  }
}

function newFlows(b: FrameBuilder, opt: SynthOptions, start: number, emit: SynthEmit): void {
  const server = ip4(192, 168, 1, 10);
  for (let i = 0; i < opt.packets; i++) {
    const client = (ip4(10, 64, 0, 0) + Math.floor(i / 50000)) >>> 0;
    const cport = 10000 + (i % 50000);
    const o = b.ethernet(0, HOST_MAC, clientMac(i & 0xffffff), 0x0800);
    b.ipv4(o, client, server, PROTO_TCP, 20 + 6, 64, i & 0xffff);
    b.tcp(o + 20, cport, 80, i * 7919, 0, TCP_SYN);
    const end = b.payload(o + 40, 6, i);
    b.finishL4(o, o + 20, end, PROTO_TCP);
    const [s, ns] = timeOf(start, i, 1000);
    emit(b.bytes, 0, 60, 60, s, ns, 'eth0');
  }
}

/**
 * The README demo: a container `web` (172.20.0.10, MAC 00:15:5d:aa:10:0a) on a NAT network whose
 * gateway is 172.20.0.1 (host vNIC 00:15:5d:00:10:01), and the uplink `eth0` (10.99.0.2).
 * External addresses are from the documentation ranges (203.0.113.0/24, 2001:db8::/32).
 */
function sample(b: FrameBuilder, start: number, emit: SynthEmit): void {
  const web = mac(0x00, 0x15, 0x5d, 0xaa, 0x10, 0x0a);
  const gw = mac(0x00, 0x15, 0x5d, 0x00, 0x10, 0x01);
  const broadcast = mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  const zero = mac(0, 0, 0, 0, 0, 0);
  const webIp = ip4(172, 20, 0, 10);
  const gwIp = ip4(172, 20, 0, 1);
  const ext = ip4(203, 0, 113, 80);
  const dns = ip4(10, 99, 0, 53);
  let n = 0;
  const put = (length: number, source: string, wire: number = length): void => {
    const [s, ns] = timeOf(start, n++, 1_000_000);
    emit(b.bytes, 0, length, wire, s, ns, source);
  };
  // 1-2. ARP for the gateway, and the host vNIC's answer.
  let o = b.ethernet(0, broadcast, web, 0x0806);
  o = b.arp(o, 1, web, webIp, zero, gwIp);
  put(pad60(b, o), 'web');
  o = b.ethernet(0, web, gw, 0x0806);
  o = b.arp(o, 2, gw, gwIp, web, webIp);
  put(pad60(b, o), 'web');
  // 3-4. ping 203.0.113.80 and its reply.
  for (const reply of [false, true]) {
    o = b.ethernet(0, reply ? web : gw, reply ? gw : web, 0x0800);
    const l3 = o;
    b.ipv4(l3, reply ? ext : webIp, reply ? webIp : ext, 1, 8 + 32, reply ? 117 : 128, 0x1c46);
    o = b.icmpEcho(l3 + 20, reply ? 0 : 8, 0x0001, 0x0007);
    const end = b.payload(o, 32, 0, 'abcdefghijklmnopqrstuvwabcdefghi');
    b.finishIcmp4(l3 + 20, end);
    put(end, 'web');
  }
  // 5-8. TCP handshake to 203.0.113.80:80 and a request.
  const request = 'GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n';
  const steps: Array<[boolean, number, number]> = [
    [false, TCP_SYN, 0],
    [true, TCP_SYN | TCP_ACK, 0],
    [false, TCP_ACK, 0],
    [false, TCP_ACK | TCP_PSH, request.length],
  ];
  for (const [reply, flags, size] of steps) {
    o = b.ethernet(0, reply ? web : gw, reply ? gw : web, 0x0800);
    const l3 = o;
    b.ipv4(l3, reply ? ext : webIp, reply ? webIp : ext, PROTO_TCP, 20 + size, reply ? 52 : 128, 0x4000 + n);
    b.tcp(l3 + 20, reply ? 80 : 49200, reply ? 49200 : 80, reply ? 3000000000 : 1000 + (flags === TCP_SYN ? 0 : 1), flags === TCP_SYN ? 0 : reply ? 1001 : 3000000001, flags);
    const end = b.payload(l3 + 40, size, 0, request);
    b.finishL4(l3, l3 + 20, end, PROTO_TCP);
    put(Math.max(end, pad60(b, end)), 'web');
  }
  // 9. A DNS query for www.example.com (type A) to 10.99.0.53.
  const query = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0, 0, 1, 0, 1];
  o = b.ethernet(0, gw, web, 0x0800);
  b.ipv4(o, webIp, dns, PROTO_UDP, 8 + query.length, 128, 0x5000);
  let p = b.udp(o + 20, 53001, 53, query.length);
  b.bytes.set(query, p);
  p += query.length;
  b.finishL4(o, o + 20, p, PROTO_UDP);
  put(p, 'web');
  // 10. IPv6: a TCP SYN from 2001:db8:20::10 to 2001:db8:1::80 port 443.
  o = b.ethernet(0, gw, web, 0x86dd);
  b.ipv6(o, ip6(0x2001, 0xdb8, 0x20, 0, 0, 0, 0, 0x10), ip6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x80), PROTO_TCP, 20);
  b.tcp(o + 40, 49300, 443, 77, 0, TCP_SYN);
  b.finishL4(o, o + 40, o + 60, PROTO_TCP);
  put(o + 60, 'web');
  // 11. On the uplink, VLAN 100: an external host opens TCP to the host's port 8080.
  o = b.ethernet(0, HOST_MAC, GATEWAY_MAC, 0x0800, [100]);
  b.ipv4(o, ext, ip4(10, 99, 0, 2), PROTO_TCP, 20, 60, 0x6000);
  b.tcp(o + 20, 51000, 8080, 555, 0, TCP_SYN);
  b.finishL4(o, o + 20, o + 40, PROTO_TCP);
  put(pad60(b, o + 40), 'eth0');
  // 12. On the uplink, VXLAN VNI 4096 from the remote host 10.99.0.3: pod 10.244.2.5 -> 10.244.1.10:80.
  o = b.ethernet(0, HOST_MAC, REMOTE_HOST_MAC, 0x0800);
  const outer = o;
  b.ipv4(outer, ip4(10, 99, 0, 3), ip4(10, 99, 0, 2), PROTO_UDP, 8 + 8 + 54, 64, 0x7000);
  o = b.udp(outer + 20, 51234, 4789, 8 + 54);
  o = b.vxlan(o, 4096);
  o = b.ethernet(o, mac(0x0e, 0x2a, 10, 244, 1, 10), mac(0x0e, 0x2a, 10, 244, 2, 5), 0x0800);
  b.ipv4(o, ip4(10, 244, 2, 5), ip4(10, 244, 1, 10), PROTO_TCP, 20, 64, 0x7001);
  b.tcp(o + 20, 40000, 80, 42, 0, TCP_SYN);
  b.finishL4(o, o + 20, o + 40, PROTO_TCP);
  put(o + 40, 'eth0');
  // 13. A frame cut by a 30-byte snaplen in the middle of its IPv4 header: truncated-ipv4.
  o = b.ethernet(0, gw, web, 0x0800);
  b.ipv4(o, webIp, ext, PROTO_TCP, 20, 128, 0x4100);
  b.tcp(o + 20, 49200, 80, 1042, 3000000001, TCP_ACK);
  b.finishL4(o, o + 20, o + 40, PROTO_TCP);
  put(30, 'web', 60);
}

/** Pad a frame to the 60-byte Ethernet minimum with zeros; returns the padded length. */
function pad60(b: FrameBuilder, end: number): number {
  if (end >= 60) return end;
  b.bytes.fill(0, end, 60);
  return 60;
}
