/**
 * Seeded, deterministic traffic for tests, benches and the README demo (`vfp synth`).
 *
 * `synthesize(scenario, options, emit)` builds frames one at a time into ONE scratch buffer
 * (allocated per call, never per frame) and hands each to `emit`, which normally writes it to a
 * capture. The bytes passed to `emit` are valid only during the call. Same scenario, options and
 * seed: byte-identical frames (a test pins this, and another that the committed samples under
 * pcaps/ regenerate exactly). The only randomness is base/bytes.ts's Prng seeded with `seed`.
 *
 * Sizes. Frames are Ethernet frames as a capture holds them: without the 4-byte FCS. A "64-byte
 * frame" (RFC 2544, IMIX) is therefore 60 bytes here, and Simple IMIX 64/594/1518 is 60/590/1514.
 * Frames shorter than 60 bytes are zero-padded to 60 like a NIC does (IP lengths exclude it).
 *
 * Time. Frame i is stamped startSeconds (default 1,700,000,000 = 2023-11-14T22:13:20Z) + i µs;
 * the `sample` scenario steps 1 ms so that its timestamps read easily.
 *
 * Flows (mix64, imix, vxlan). Flow f's client is container host f >> 6 (64 flows per host) with
 * source port 49152 + 256 * (f & 63) + random(256) (32768 + ... inside VXLAN), so every flow has a
 * distinct 5-tuple by construction. Frames visit the flows in rounds: in each round every flow
 * sends its next frame, in the order j -> (a*j + b) mod flows (a coprime with flows, so a
 * permutation), so with packets >= 2 * flows every flow is seen in both directions. A TCP flow's
 * k-th frame follows a real conversation: SYN (with MSS) / SYN-ACK / ACK, then request and reply
 * segments alternating with correct sequence and acknowledgement numbers, and, when the flow has
 * at least 7 frames, FIN / FIN / ACK as its last three. UDP flows alternate directions.
 *
 * Addressing. Containers: 172.16.0.10 + host (Hyper-V MACs 00:15:5d:10:xx:xx) talking through the
 * host vNIC 00:15:5d:00:10:01 to servers in the documentation ranges 198.51.100.0/24 and
 * 203.0.113.0/24. The uplink is 00:15:5d:00:00:01 / 10.99.0.2 with next hop 02:00:0a:63:00:01.
 * Checksums: IPv4 header, TCP, UDP and ICMP are all correct, except the outer UDP checksum of
 * VXLAN, which is 0 ("none") as Linux sends it by default over IPv4.
 *
 * transparent-flows and transparent-syns are bulk traffic for the sample topology
 * pcaps/transparent.json (remote clients and the container web): see their section below.
 *
 * This module is layer 2: it knows frames, not files; the CLI and bench/ join it to a writer.
 */
import { Prng } from '../base/bytes.js';
import { parseIPv4 } from '../wire/format.js';
import {
  ETH_HEADER_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_HEADER_SIZE,
  IPV6_HEADER_SIZE,
  TCP_ACK_FLAG,
  TCP_FIN,
  TCP_HEADER_SIZE,
  TCP_PSH,
  TCP_SYN,
  UDP_HEADER_SIZE,
  VXLAN_DEFAULT_PORT,
  VXLAN_HEADER_SIZE,
} from '../wire/headers.js';
import {
  finishIcmp4,
  finishIPv4,
  finishL4v4,
  finishL4v6,
  ipv6,
  writeArp,
  writeEth,
  writeIcmpEcho,
  writeIPv4,
  writeIPv6,
  writeTcp,
  writeUdp,
  writeVlanTag,
  writeVxlan,
  zero,
} from './build.js';
import { buildFrame } from './frame.js';
import { NAT_HOST_SCRIPT, NAT_HOST_SOURCES, TRANSPARENT_SCRIPT, TRANSPARENT_SOURCES } from './transparent.js';
import type { ScriptedFrame } from './transparent.js';

import { isSynthScenario } from './catalog.js';
import type { SynthScenario } from './catalog.js';

/** The names and descriptions live in catalog.ts (loaded by the command line without the generators). */
export { isSynthScenario, SYNTH_SCENARIOS } from './catalog.js';
export type { SynthScenario } from './catalog.js';

export interface SynthOptions {
  /** Frames to emit (ignored by `sample`, which has a fixed script). */
  packets: number;
  /** Distinct flows (mix64, imix, vxlan). */
  flows: number;
  seed: number;
  /** First timestamp, whole seconds since the Unix epoch (default SYNTH_START_SECONDS). */
  startSeconds?: number;
}

/**
 * Receives each frame: bytes[offset, offset+length), its original length (larger only for the
 * sample's snapped frame), timestamp, and the name of the capture interface it belongs to (one
 * of `synthSources(scenario)`; a constant string, not allocated per frame).
 */
export type SynthEmit = (bytes: Uint8Array, offset: number, length: number, wireLength: number, seconds: number, nanos: number, source: string) => void;

export const SYNTH_START_SECONDS = 1_700_000_000;
/** Captured size of a minimum (64-byte on the wire) Ethernet frame. */
export const SYNTH_MIN_FRAME_SIZE = 60;
/** Simple IMIX frame sizes as captured (64/594/1518 on the wire, FCS included), ratio 7:4:1. */
export const IMIX_FRAME_SIZES = [60, 590, 1514] as const;
/** One IMIX block of 12 frames: indices into IMIX_FRAME_SIZES, 7 x 60, 4 x 590, 1 x 1514, spread out. */
const IMIX_PATTERN = [0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 0, 1] as const;

/** Capture interfaces a scenario emits on; writers add them in this order. */
export function synthSources(scenario: SynthScenario): string[] {
  if (scenario === 'transparent') return [...TRANSPARENT_SOURCES];
  if (scenario === 'nat-host') return [...NAT_HOST_SOURCES];
  if (scenario === 'transparent-flows') return [UPLINK, ENDPOINT];
  return scenario === 'sample' ? [UPLINK, ENDPOINT] : [UPLINK];
}

const UPLINK = 'eth0';
const ENDPOINT = 'web';

// MACs as (high 16 bits, low 32 bits).
const OUI_HI = 0x0015; // 00:15:5d: Hyper-V
const VNIC_LO = 0x5d001001; // host vNIC of the NAT network (the containers' gateway)
const UPLINK_LO = 0x5d000001; // this host's uplink
const ROUTER_HI = 0x0200; // next hop on the uplink: 02:00:0a:63:00:01
const ROUTER_LO = 0x0a630001;
const containerMacLo = (host: number): number => (0x5d100000 + (host & 0xfffff)) >>> 0;
const remoteMacLo = (host: number): number => (0x5d200000 + (host & 0xfffff)) >>> 0;

const TCP_SYNACK = TCP_SYN | TCP_ACK_FLAG;
const TCP_PSHACK = TCP_PSH | TCP_ACK_FLAG;
const TCP_FINACK = TCP_FIN | TCP_ACK_FLAG;
/** MSS option (kind 2, length 4); the value is patched per scenario. */
const MSS_1460 = Uint8Array.of(2, 4, 0x05, 0xb4);
const MSS_1410 = Uint8Array.of(2, 4, 0x05, 0x82);
const CLIENT_WINDOW = 64240; // Windows' initial receive window
const SERVER_WINDOW = 65160; // Linux's
const CLIENT_TTL = 128; // Windows containers
const SERVER_TTL = 57; // a Linux server a few hops away

const SCRATCH_SIZE = 2048;

export function synthesize(scenario: SynthScenario, options: SynthOptions, emit: SynthEmit): void {
  if (!isSynthScenario(scenario)) throw new RangeError(`unknown synth scenario '${String(scenario)}'`);
  if (!Number.isInteger(options.packets) || options.packets < 0) throw new RangeError('packets must be a whole number >= 0');
  if (!Number.isInteger(options.flows) || options.flows < 1) throw new RangeError('flows must be a whole number >= 1');
  const start = options.startSeconds ?? SYNTH_START_SECONDS;
  const rng = new Prng(options.seed);
  const d = new Uint8Array(SCRATCH_SIZE);
  switch (scenario) {
    case 'mix64':
      return flowTraffic(d, rng, options.packets, options.flows, start, emit, MODE_MIX64);
    case 'imix':
      return flowTraffic(d, rng, options.packets, options.flows, start, emit, MODE_IMIX);
    case 'vxlan':
      return flowTraffic(d, rng, options.packets, options.flows, start, emit, MODE_VXLAN);
    case 'new-flows':
      return newFlows(d, rng, options.packets, start, emit);
    case 'sample':
      return sample(d, start, emit);
    case 'transparent':
      return scripted(TRANSPARENT_SCRIPT, start, emit);
    case 'nat-host':
      return scripted(NAT_HOST_SCRIPT, start, emit);
    case 'transparent-flows':
      return transparentFlows(d, rng, options.packets, options.flows, start, emit);
    case 'transparent-syns':
      return transparentSyns(d, rng, options.packets, start, emit);
  }
}

/** A fixed script of frames, 1 ms apart (frames are built once per call, not per packet: scripts are short). */
function scripted(script: readonly ScriptedFrame[], start: number, emit: SynthEmit): void {
  script.forEach((f, n) => {
    const bytes = buildFrame(f.frame);
    emit(bytes, 0, Math.min(f.snap ?? bytes.length, bytes.length), bytes.length, start + Math.floor(n / 1000), (n % 1000) * 1_000_000, f.source);
  });
}

// ---- flow-based scenarios ----------------------------------------------------------------------

const MODE_MIX64 = 0;
const MODE_IMIX = 1;
const MODE_VXLAN = 2;

const TCP_PORTS = [443, 443, 443, 80, 80, 8080, 22, 5432] as const;
const UDP_PORTS = [53, 53, 53, 123, 443, 4500, 5201, 514] as const;
const VXLAN_PORTS = [80, 443, 8080, 6379] as const;
const VXLAN_REMOTES = 4;
const VXLAN_VNIS = 8;
const VXLAN_LOCAL_VTEP = 0x0a630002; // 10.99.0.2
const VXLAN_PAYLOAD_MAX = 1410; // inner MSS with a 1450-byte inner MTU (1500 - 50 bytes of VXLAN)

/** Per-flow columns, built once per synthesize call from the PRNG. */
interface FlowTable {
  clients: Uint32Array;
  servers: Uint32Array;
  clientPorts: Uint16Array;
  serverPorts: Uint16Array;
  tcp: Uint8Array;
  /** VXLAN only: VNI and remote host index. */
  vnis: Uint32Array;
  remotes: Uint8Array;
  /** Next sequence number each side sends (TCP). */
  clientSeqs: Uint32Array;
  serverSeqs: Uint32Array;
  /** VXLAN outer UDP source port (from the inner flow's hash). */
  entropyPorts: Uint16Array;
}

function makeFlows(rng: Prng, flows: number, mode: number): FlowTable {
  const t: FlowTable = {
    clients: new Uint32Array(flows),
    servers: new Uint32Array(flows),
    clientPorts: new Uint16Array(flows),
    serverPorts: new Uint16Array(flows),
    tcp: new Uint8Array(flows),
    vnis: new Uint32Array(flows),
    remotes: new Uint8Array(flows),
    clientSeqs: new Uint32Array(flows),
    serverSeqs: new Uint32Array(flows),
    entropyPorts: new Uint16Array(flows),
  };
  const serverBase = [parseIPv4('198.51.100.10'), parseIPv4('203.0.113.10')];
  const clientBase = mode === MODE_VXLAN ? parseIPv4('10.244.1.10') : parseIPv4('172.16.0.10');
  for (let f = 0; f < flows; f++) {
    t.clients[f] = (clientBase + (f >>> 6)) >>> 0;
    t.clientPorts[f] = (mode === MODE_VXLAN ? 32768 : 49152) + ((f & 63) << 8) + rng.below(256);
    if (mode === MODE_VXLAN) {
      const r = rng.below(VXLAN_REMOTES);
      t.remotes[f] = r;
      t.vnis[f] = 4096 + rng.below(VXLAN_VNIS);
      t.servers[f] = (parseIPv4('10.244.2.0') + (r << 8) + 10 + rng.below(240)) >>> 0;
      t.serverPorts[f] = VXLAN_PORTS[rng.below(VXLAN_PORTS.length)]!;
      t.tcp[f] = 1;
      t.entropyPorts[f] = linuxUdpSourcePort(t.clients[f]!, t.servers[f]!, t.clientPorts[f]!, t.serverPorts[f]!, IPPROTO_TCP);
    } else {
      const s = rng.below(16);
      t.servers[f] = (serverBase[s >>> 3]! + (s & 7)) >>> 0;
      const tcp = rng.below(10) < 6;
      t.tcp[f] = tcp ? 1 : 0;
      t.serverPorts[f] = tcp ? TCP_PORTS[rng.below(TCP_PORTS.length)]! : UDP_PORTS[rng.below(UDP_PORTS.length)]!;
    }
    // ISNs; imix starts mid-stream, so its "next" sequence numbers are the ISNs themselves.
    t.clientSeqs[f] = rng.nextU32();
    t.serverSeqs[f] = rng.nextU32();
  }
  return t;
}

/**
 * The outer UDP source port Linux's VXLAN driver picks: udp_flow_src_port() scales the skb's
 * flow hash into the local port range [32768, 60999). The flow dissector's hash is symmetric
 * (__flow_hash_consistentify orders addresses and ports), so both directions of an inner flow
 * share the port. The hash itself is ours (murmur3-style mixing of the ordered tuple), not jhash.
 */
function linuxUdpSourcePort(a: number, b: number, pa: number, pb: number, proto: number): number {
  const swap = a > b || (a === b && pa > pb);
  let h = 0x2f1a3b4c ^ proto;
  h = mix32(h, swap ? b : a);
  h = mix32(h, swap ? a : b);
  h = mix32(h, swap ? ((pb << 16) | pa) >>> 0 : ((pa << 16) | pb) >>> 0);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const min = 32768;
  const max = 60999;
  return min + Math.floor(((h >>> 0) * (max - min)) / 4294967296);
}

function mix32(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function flowTraffic(d: Uint8Array, rng: Prng, packets: number, flows: number, start: number, emit: SynthEmit, mode: number): void {
  const t = makeFlows(rng, flows, mode);
  // The visiting order inside a round: j -> (a*j + b) mod flows, a permutation when gcd(a, flows) = 1.
  let a = 1;
  if (flows > 2) {
    do a = 1 + rng.below(flows - 1);
    while (gcd(a, flows) !== 1);
  }
  const b = rng.below(flows);
  const rounds = Math.floor(packets / flows);
  const extra = packets % flows;
  for (let i = 0; i < packets; i++) {
    const k = Math.floor(i / flows); // the flow's k-th frame
    const j = i - k * flows;
    const f = (a * j + b) % flows;
    const count = rounds + (j < extra ? 1 : 0); // frames this flow will send in all
    let length: number;
    if (mode === MODE_VXLAN) {
      length = vxlanFrame(d, rng, t, f, k, count, i);
    } else {
      const size = mode === MODE_IMIX ? IMIX_FRAME_SIZES[IMIX_PATTERN[i % 12]!] : SYNTH_MIN_FRAME_SIZE;
      length = t.tcp[f] === 1 ? tcpFrame(d, 0, rng, t, f, k, count, mode === MODE_IMIX, size, 0) : udpFrame(d, rng, t, f, k, size);
    }
    const s = Math.floor(i / 1e6);
    emit(d, 0, length, length, start + s, (i - s * 1e6) * 1000, UPLINK);
  }
}

/**
 * Frame k of TCP flow f as an Ethernet frame at offset o; inside VXLAN when `vxlanPayload` > 0
 * (then data segments carry that many bytes and the frame is not padded: padding is the outer
 * NIC's business). Returns the end offset (padded frames start at 0, so it is also the length). `midStream`: every frame is a
 * PSH|ACK data segment (imix: frame sizes are prescribed, so no handshake).
 */
function tcpFrame(
  d: Uint8Array,
  o: number,
  rng: Prng,
  t: FlowTable,
  f: number,
  k: number,
  count: number,
  midStream: boolean,
  size: number,
  vxlanPayload: number,
): number {
  const inner = vxlanPayload > 0;
  const fromClient = midStream ? (k & 1) === 0 : clientSends(k, count);
  let flags: number;
  let payload = 0;
  let options: Uint8Array | null = null;
  if (midStream) {
    flags = TCP_PSHACK;
    payload = size - ETH_HEADER_SIZE - IPV4_HEADER_SIZE - TCP_HEADER_SIZE;
  } else if (k === 0) {
    flags = TCP_SYN;
    options = inner ? MSS_1410 : MSS_1460;
  } else if (k === 1) {
    flags = TCP_SYNACK;
    options = inner ? MSS_1410 : MSS_1460;
  } else if (k === 2) {
    flags = TCP_ACK_FLAG;
  } else if (count >= 7 && k >= count - 3) {
    flags = k === count - 1 ? TCP_ACK_FLAG : TCP_FINACK; // active close by the client: FIN, FIN, last ACK
  } else {
    flags = TCP_PSHACK;
    payload = inner ? vxlanPayload : size - ETH_HEADER_SIZE - IPV4_HEADER_SIZE - TCP_HEADER_SIZE;
  }
  const client = t.clients[f]!;
  const server = t.servers[f]!;
  const cmac = containerMacLo(f >>> 6);
  const smacLo = inner ? remoteMacLo((t.remotes[f]! << 8) | (server & 0xff)) : VNIC_LO;
  let p = fromClient ? writeEth(d, o, OUI_HI, smacLo, OUI_HI, cmac, ETHERTYPE_IPV4) : writeEth(d, o, OUI_HI, cmac, OUI_HI, smacLo, ETHERTYPE_IPV4);
  const l3 = p;
  const optionsSize = options === null ? 0 : options.length;
  const l4Size = TCP_HEADER_SIZE + optionsSize + payload;
  // Sequence numbers: each side's next byte; SYN and FIN count as one.
  let seq: number;
  let ack: number;
  if (fromClient) {
    seq = t.clientSeqs[f]!;
    ack = flags === TCP_SYN ? 0 : t.serverSeqs[f]!;
  } else {
    seq = t.serverSeqs[f]!;
    ack = t.clientSeqs[f]!;
  }
  const consumed = payload + ((flags & (TCP_SYN | TCP_FIN)) !== 0 ? 1 : 0);
  if (fromClient) t.clientSeqs[f] = (seq + consumed) >>> 0;
  else t.serverSeqs[f] = (seq + consumed) >>> 0;
  const id = ((fromClient ? t.clientPorts[f]! : t.serverPorts[f]! * 131) + k) & 0xffff;
  p = writeIPv4(d, p, fromClient ? client : server, fromClient ? server : client, IPPROTO_TCP, l4Size, fromClient ? CLIENT_TTL : SERVER_TTL, id, true);
  const l4 = p;
  p = fromClient
    ? writeTcp(d, p, t.clientPorts[f]!, t.serverPorts[f]!, seq, ack, flags, CLIENT_WINDOW, options)
    : writeTcp(d, p, t.serverPorts[f]!, t.clientPorts[f]!, seq, ack, flags, SERVER_WINDOW, options);
  p = fillPayload(d, p, payload, rng);
  finishIPv4(d, l3);
  finishL4v4(d, l3, l4, l4Size);
  return inner ? p : padTo60(d, o, p);
}

/** Whether frame k of a TCP conversation of `count` frames is the client's (see the essay). */
function clientSends(k: number, count: number): boolean {
  if (k < 3) return k !== 1; // SYN, SYN-ACK, ACK
  if (count >= 7 && k >= count - 3) return k !== count - 2; // FIN, FIN, ACK
  return ((k - 3) & 1) === 0; // request, reply, ...
}

function udpFrame(d: Uint8Array, rng: Prng, t: FlowTable, f: number, k: number, size: number): number {
  const fromClient = (k & 1) === 0;
  const cmac = containerMacLo(f >>> 6);
  let p = fromClient ? writeEth(d, 0, OUI_HI, VNIC_LO, OUI_HI, cmac, ETHERTYPE_IPV4) : writeEth(d, 0, OUI_HI, cmac, OUI_HI, VNIC_LO, ETHERTYPE_IPV4);
  const payload = size - ETH_HEADER_SIZE - IPV4_HEADER_SIZE - UDP_HEADER_SIZE;
  const l3 = p;
  const client = t.clients[f]!;
  const server = t.servers[f]!;
  const id = ((fromClient ? t.clientPorts[f]! : t.serverPorts[f]! * 131) + k) & 0xffff;
  p = writeIPv4(d, p, fromClient ? client : server, fromClient ? server : client, IPPROTO_UDP, UDP_HEADER_SIZE + payload, fromClient ? CLIENT_TTL : SERVER_TTL, id, false);
  const l4 = p;
  p = fromClient ? writeUdp(d, p, t.clientPorts[f]!, t.serverPorts[f]!, payload) : writeUdp(d, p, t.serverPorts[f]!, t.clientPorts[f]!, payload);
  p = fillPayload(d, p, payload, rng);
  finishIPv4(d, l3);
  finishL4v4(d, l3, l4, UDP_HEADER_SIZE + payload);
  return p;
}

/**
 * Frame k of inner TCP flow f wrapped in VXLAN between this host (10.99.0.2) and the flow's remote
 * VTEP (10.99.0.3 + remote). Client requests carry 64-600 bytes, server replies mostly a full
 * 1410-byte segment: outer frames from 104 to 1514 bytes.
 */
function vxlanFrame(d: Uint8Array, rng: Prng, t: FlowTable, f: number, k: number, count: number, i: number): number {
  // Which side sends frame k (same rule as tcpFrame) decides the outer direction and the size.
  const fromClient = clientSends(k, count);
  const dataSize = fromClient ? 64 + rng.below(537) : rng.below(4) === 0 ? 1 + rng.below(VXLAN_PAYLOAD_MAX) : VXLAN_PAYLOAD_MAX;
  const remote = t.remotes[f]!;
  const remoteVtep = (VXLAN_LOCAL_VTEP + 1 + remote) >>> 0;
  const outerL3 = fromClient
    ? writeEth(d, 0, OUI_HI, (UPLINK_LO + 1 + remote) >>> 0, OUI_HI, UPLINK_LO, ETHERTYPE_IPV4)
    : writeEth(d, 0, OUI_HI, UPLINK_LO, OUI_HI, (UPLINK_LO + 1 + remote) >>> 0, ETHERTYPE_IPV4);
  const outerL4 = outerL3 + IPV4_HEADER_SIZE;
  const innerL2 = outerL4 + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE;
  writeVxlan(d, innerL2 - VXLAN_HEADER_SIZE, t.vnis[f]!);
  const end = tcpFrame(d, innerL2, rng, t, f, k, count, false, 0, dataSize);
  const udpPayload = end - outerL4 - UDP_HEADER_SIZE;
  // Linux: no DF by default (vxlan df unset), TTL 64, and no outer UDP checksum over IPv4.
  writeIPv4(d, outerL3, fromClient ? VXLAN_LOCAL_VTEP : remoteVtep, fromClient ? remoteVtep : VXLAN_LOCAL_VTEP, IPPROTO_UDP, UDP_HEADER_SIZE + udpPayload, 64, i & 0xffff, false);
  writeUdp(d, outerL4, t.entropyPorts[f]!, VXLAN_DEFAULT_PORT, udpPayload);
  finishIPv4(d, outerL3);
  return end;
}

// ---- new-flows -----------------------------------------------------------------------------------

const NEW_FLOW_HOSTS = 256;
const NEW_FLOW_PORTS = 64512; // 1024..65535
const NEW_FLOW_STRIDE = 40507; // coprime with 64512 = 2^10 * 3^2 * 7: idx -> port is a permutation

function newFlows(d: Uint8Array, rng: Prng, packets: number, start: number, emit: SynthEmit): void {
  if (packets > NEW_FLOW_HOSTS * NEW_FLOW_PORTS) throw new RangeError(`new-flows makes at most ${NEW_FLOW_HOSTS * NEW_FLOW_PORTS} distinct flows`);
  const clientBase = parseIPv4('172.16.0.10');
  const serverBase = parseIPv4('198.51.100.10');
  const portOffset = rng.below(NEW_FLOW_PORTS);
  for (let i = 0; i < packets; i++) {
    // Host i mod 256, port index i / 256: every (address, port) pair is used once.
    const host = i & (NEW_FLOW_HOSTS - 1);
    const index = Math.floor(i / NEW_FLOW_HOSTS);
    const sport = 1024 + ((index * NEW_FLOW_STRIDE + portOffset) % NEW_FLOW_PORTS);
    const server = (serverBase + rng.below(16)) >>> 0;
    const dport = rng.below(4) === 0 ? 80 : 443;
    let p = writeEth(d, 0, OUI_HI, VNIC_LO, OUI_HI, containerMacLo(host), ETHERTYPE_IPV4);
    const l3 = p;
    const l4Size = TCP_HEADER_SIZE + MSS_1460.length;
    p = writeIPv4(d, p, (clientBase + host) >>> 0, server, IPPROTO_TCP, l4Size, CLIENT_TTL, (index + host * 97) & 0xffff, true);
    const l4 = p;
    p = writeTcp(d, p, sport, dport, rng.nextU32(), 0, TCP_SYN, CLIENT_WINDOW, MSS_1460);
    finishIPv4(d, l3);
    finishL4v4(d, l3, l4, l4Size);
    const length = padTo60(d, 0, p);
    const s = Math.floor(i / 1e6);
    emit(d, 0, length, length, start + s, (i - s * 1e6) * 1000, UPLINK);
  }
}

// ---- transparent-flows, transparent-syns ------------------------------------------------------------

/*
 * Bulk traffic for the sample topology pcaps/transparent.json (what `vfp bench`'s replay scenario
 * replays): remote clients behind the uplink's router (02:00:0a:0a:00:01) talk to the container
 * `web` (10.10.0.10, 00:15:5d:0a:00:0a), whose ACLs allow inbound TCP 80 statefully. Client c
 * (flow f = c) is host f mod 500 of 198.51.100.0/24 and 203.0.113.0/24 (.2 to .251, the two
 * ranges alternating) with the ephemeral port 49152 + ((f div 500) * 9973 + offset) mod 16384
 * (9973 is odd, so a permutation of the 16,384 ports): every flow a distinct 5-tuple, up to
 * 8,192,000 flows. In a classic pcap the frames enter by source MAC (web's frames on port web,
 * the router's on the first uplink, eth0); in pcapng on the interfaces eth0 and web.
 *
 * transparent-flows: established connections joined mid-stream, every frame a PSH|ACK segment
 * with 6 bytes of data (14 + 20 + 20 + 6 = 60 bytes, no padding), sequence and acknowledgement
 * numbers following the conversation. Frames visit the flows in rounds as in mix64 (a permutation
 * j -> (a*j + b) mod flows), even rounds client -> web (ingress eth0), odd rounds web -> client
 * (ingress web): the first frame of each flow installs its flow pair, every later one, either
 * way, is a flow-cache hit.
 *
 * transparent-syns: frame i is the SYN (with MSS 1460) of client i: each one a new flow pair.
 */
const T_WEB_IP = 0x0a0a000a; // 10.10.0.10
const T_WEB_LO = 0x5d0a000a; // 00:15:5d:0a:00:0a
const T_ROUTER_HI = 0x0200; // 02:00:0a:0a:00:01, the uplink's gateway
const T_ROUTER_LO = 0x0a0a0001;
const T_CLIENT_HOSTS = 500;
const T_CLIENT_PORTS = 16384; // 49152..65535
const T_PORT_STRIDE = 9973; // odd: coprime with 2^14
const T_MAX_FLOWS = T_CLIENT_HOSTS * T_CLIENT_PORTS;
const T_DATA = 6; // bytes of data per segment: 60-byte frames exactly
const T_CLIENT_BASES = [parseIPv4('198.51.100.2'), parseIPv4('203.0.113.2')] as const;

function tClientIp(f: number): number {
  const h = f % T_CLIENT_HOSTS;
  return (T_CLIENT_BASES[h & 1]! + (h >>> 1)) >>> 0;
}

function tClientPort(f: number, offset: number): number {
  return 49152 + ((Math.floor(f / T_CLIENT_HOSTS) * T_PORT_STRIDE + offset) % T_CLIENT_PORTS);
}

function transparentFlows(d: Uint8Array, rng: Prng, packets: number, flows: number, start: number, emit: SynthEmit): void {
  if (flows > T_MAX_FLOWS) throw new RangeError(`transparent-flows makes at most ${T_MAX_FLOWS} distinct flows`);
  const offset = rng.below(T_CLIENT_PORTS);
  const clientSeqs = new Uint32Array(flows);
  const serverSeqs = new Uint32Array(flows);
  for (let f = 0; f < flows; f++) {
    clientSeqs[f] = rng.nextU32();
    serverSeqs[f] = rng.nextU32();
  }
  let a = 1;
  if (flows > 2) {
    do a = 1 + rng.below(flows - 1);
    while (gcd(a, flows) !== 1);
  }
  const b = rng.below(flows);
  for (let i = 0; i < packets; i++) {
    const k = Math.floor(i / flows);
    const f = (a * (i - k * flows) + b) % flows;
    const fromClient = (k & 1) === 0;
    const client = tClientIp(f);
    const port = tClientPort(f, offset);
    let p = fromClient ? writeEth(d, 0, OUI_HI, T_WEB_LO, T_ROUTER_HI, T_ROUTER_LO, ETHERTYPE_IPV4) : writeEth(d, 0, T_ROUTER_HI, T_ROUTER_LO, OUI_HI, T_WEB_LO, ETHERTYPE_IPV4);
    const l3 = p;
    const l4Size = TCP_HEADER_SIZE + T_DATA;
    p = writeIPv4(d, p, fromClient ? client : T_WEB_IP, fromClient ? T_WEB_IP : client, IPPROTO_TCP, l4Size, fromClient ? SERVER_TTL : CLIENT_TTL, (port + k) & 0xffff, true);
    const l4 = p;
    const cs = clientSeqs[f]!;
    const ss = serverSeqs[f]!;
    p = fromClient ? writeTcp(d, p, port, 80, cs, ss, TCP_PSHACK, CLIENT_WINDOW, null) : writeTcp(d, p, 80, port, ss, cs, TCP_PSHACK, SERVER_WINDOW, null);
    if (fromClient) clientSeqs[f] = (cs + T_DATA) >>> 0;
    else serverSeqs[f] = (ss + T_DATA) >>> 0;
    p = fillPayload(d, p, T_DATA, rng);
    finishIPv4(d, l3);
    finishL4v4(d, l3, l4, l4Size);
    const s = Math.floor(i / 1e6);
    emit(d, 0, p, p, start + s, (i - s * 1e6) * 1000, fromClient ? UPLINK : ENDPOINT);
  }
}

function transparentSyns(d: Uint8Array, rng: Prng, packets: number, start: number, emit: SynthEmit): void {
  if (packets > T_MAX_FLOWS) throw new RangeError(`transparent-syns makes at most ${T_MAX_FLOWS} distinct flows`);
  const offset = rng.below(T_CLIENT_PORTS);
  for (let i = 0; i < packets; i++) {
    let p = writeEth(d, 0, OUI_HI, T_WEB_LO, T_ROUTER_HI, T_ROUTER_LO, ETHERTYPE_IPV4);
    const l3 = p;
    const l4Size = TCP_HEADER_SIZE + MSS_1460.length;
    const port = tClientPort(i, offset);
    p = writeIPv4(d, p, tClientIp(i), T_WEB_IP, IPPROTO_TCP, l4Size, SERVER_TTL, (port * 31 + i) & 0xffff, true);
    const l4 = p;
    p = writeTcp(d, p, port, 80, rng.nextU32(), 0, TCP_SYN, CLIENT_WINDOW, MSS_1460);
    finishIPv4(d, l3);
    finishL4v4(d, l3, l4, l4Size);
    const length = padTo60(d, 0, p);
    const s = Math.floor(i / 1e6);
    emit(d, 0, length, length, start + s, (i - s * 1e6) * 1000, UPLINK);
  }
}

// ---- sample ---------------------------------------------------------------------------------------

/**
 * The README demo, 17 frames, 1 ms apart, as seen by a Windows host with a NAT network: frames
 * from the container `web` (172.20.0.10, 00:15:5d:aa:10:0a; gateway = host vNIC 172.20.0.1,
 * 00:15:5d:00:10:01) are on interface `web`; frames arriving from the network at the uplink
 * `eth0` (10.99.0.2, 00:15:5d:00:00:01; next hop 02:00:0a:63:00:01) are on `eth0`, addressed to the
 * host as WinNAT's translations of the container's flows (ports kept). External addresses are from
 * the documentation ranges (203.0.113.0/24, 2001:db8::/32). Frame 12 is cut by a 30-byte snaplen
 * in the middle of its IPv4 header (caplen 30, original length 60): `truncated-ipv4`.
 */
function sample(d: Uint8Array, start: number, emit: SynthEmit): void {
  const WEB_LO = 0x5daa100a; // 00:15:5d:aa:10:0a
  const webIp = parseIPv4('172.20.0.10');
  const gatewayIp = parseIPv4('172.20.0.1');
  const hostIp = parseIPv4('10.99.0.2');
  const dnsIp = parseIPv4('10.99.0.53');
  const serverIp = parseIPv4('203.0.113.80');
  let n = 0;
  const put = (length: number, source: string, wireLength: number = length): void => {
    emit(d, 0, length, wireLength, start + Math.floor(n / 1000), (n % 1000) * 1_000_000, source);
    n++;
  };
  /** Ethernet + IPv4 + UDP/TCP/ICMP from the container (out) or to the host's uplink (in). */
  const ip4Frame = (out: boolean, src: number, dst: number, proto: number, l4Size: number, ttl: number, id: number): number => {
    const p = out ? writeEth(d, 0, OUI_HI, VNIC_LO, OUI_HI, WEB_LO, ETHERTYPE_IPV4) : writeEth(d, 0, OUI_HI, UPLINK_LO, ROUTER_HI, ROUTER_LO, ETHERTYPE_IPV4);
    writeIPv4(d, p, src, dst, proto, l4Size, ttl, id, proto === IPPROTO_TCP);
    return p;
  };
  const text = (o: number, s: string): number => {
    for (let i = 0; i < s.length; i++) d[o + i] = s.charCodeAt(i);
    return o + s.length;
  };
  const tcp = (out: boolean, flags: number, seq: number, ack: number, options: Uint8Array | null, payload: string): number => {
    const l4Size = TCP_HEADER_SIZE + (options === null ? 0 : options.length) + payload.length;
    const l3 = ip4Frame(out, out ? webIp : serverIp, out ? serverIp : hostIp, IPPROTO_TCP, l4Size, out ? 128 : 52, out ? 0x2c40 + n : 0x8e00 + n);
    const l4 = l3 + IPV4_HEADER_SIZE;
    let p = writeTcp(d, l4, out ? 49200 : 80, out ? 80 : 49200, seq, ack, flags, out ? 513 : 502, options);
    p = text(p, payload);
    finishIPv4(d, l3);
    finishL4v4(d, l3, l4, l4Size);
    return padTo60(d, 0, p);
  };

  // 1. web asks for its gateway's MAC.
  let p = writeEth(d, 0, 0xffff, 0xffffffff, OUI_HI, WEB_LO, ETHERTYPE_ARP);
  p = writeArp(d, p, 1, OUI_HI, WEB_LO, webIp, 0, 0, gatewayIp);
  put(padTo60(d, 0, p), ENDPOINT);

  // 2-3. ping 203.0.113.80 (Windows' 32-byte payload) and the reply to the NAT address.
  const PING = 'abcdefghijklmnopqrstuvwabcdefghi';
  for (const out of [true, false]) {
    const l3 = ip4Frame(out, out ? webIp : serverIp, out ? serverIp : hostIp, IPPROTO_ICMP, 8 + PING.length, out ? 128 : 117, out ? 0x1c46 : 0x4bd2);
    const l4 = l3 + IPV4_HEADER_SIZE;
    writeIcmpEcho(d, l4, out ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY, 1, 7);
    const end = text(l4 + 8, PING);
    finishIPv4(d, l3);
    finishIcmp4(d, l4, end - l4);
    put(end, out ? ENDPOINT : UPLINK);
  }

  // 4-5. DNS: A www.example.com from web, and the answer (203.0.113.80, TTL 300) to the NAT address.
  const QUESTION = [3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0, 0, 1, 0, 1];
  const query = [0x1a, 0x2b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...QUESTION];
  const answer = [0x1a, 0x2b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...QUESTION, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 203, 0, 113, 80];
  for (const out of [true, false]) {
    const msg = out ? query : answer;
    const l3 = ip4Frame(out, out ? webIp : dnsIp, out ? dnsIp : hostIp, IPPROTO_UDP, UDP_HEADER_SIZE + msg.length, out ? 128 : 64, out ? 0x1c47 : 0x0d31);
    const l4 = l3 + IPV4_HEADER_SIZE;
    writeUdp(d, l4, out ? 53001 : 53, out ? 53 : 53001, msg.length);
    d.set(msg, l4 + UDP_HEADER_SIZE);
    finishIPv4(d, l3);
    finishL4v4(d, l3, l4, UDP_HEADER_SIZE + msg.length);
    put(padTo60(d, 0, l4 + UDP_HEADER_SIZE + msg.length), out ? ENDPOINT : UPLINK);
  }

  // 6-8. TCP handshake web:49200 -> 203.0.113.80:80 (Windows SYN options; Linux SYN-ACK options).
  const C = 0x3c1a5b2e; // client ISN
  const S = 0x9e2f4d10; // server ISN
  const WINDOWS_SYN = Uint8Array.of(2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2); // MSS 1460, WS 8, SACK-permitted
  const LINUX_SYNACK = Uint8Array.of(2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7); // MSS 1460, SACK-permitted, WS 7
  put(tcp(true, TCP_SYN, C, 0, WINDOWS_SYN, ''), ENDPOINT);
  put(tcp(false, TCP_SYNACK, S, C + 1, LINUX_SYNACK, ''), UPLINK);
  put(tcp(true, TCP_ACK_FLAG, C + 1, S + 1, null, ''), ENDPOINT);

  // 9. IPv6 on the uplink: 2001:db8:1::80 opens TCP to the host's 2001:db8:99::2 port 443.
  {
    const v6src = ipv6('2001:db8:1::80');
    const v6dst = ipv6('2001:db8:99::2');
    const l3 = writeEth(d, 0, OUI_HI, UPLINK_LO, ROUTER_HI, ROUTER_LO, ETHERTYPE_IPV6);
    const l4 = writeIPv6(d, l3, v6src, v6dst, IPPROTO_TCP, TCP_HEADER_SIZE + 12, 58, 0x5b1e2);
    const end = writeTcp(d, l4, 51514, 443, 0x1b2c3d4e, 0, TCP_SYN, 64800, Uint8Array.of(2, 4, 0x05, 0xa0, 1, 1, 4, 2, 1, 3, 3, 7));
    finishL4v6(d, l3, l4, end - l4, IPPROTO_TCP, 16);
    put(end, UPLINK);
  }

  // 10. VLAN 100 on the uplink: 203.0.113.7 opens TCP to the host's port 8080 (a port mapping, later).
  {
    let q = writeEth(d, 0, OUI_HI, UPLINK_LO, ROUTER_HI, ROUTER_LO, ETHERTYPE_IPV4);
    q = writeVlanTag(d, q, 100, 0, ETHERTYPE_IPV4);
    const l3 = q;
    const l4 = writeIPv4(d, l3, parseIPv4('203.0.113.7'), hostIp, IPPROTO_TCP, TCP_HEADER_SIZE + 4, 52, 0x6001, true);
    const end = writeTcp(d, l4, 51000, 8080, 0x00c0ffee, 0, TCP_SYN, 64240, MSS_1460);
    finishIPv4(d, l3);
    finishL4v4(d, l3, l4, end - l4);
    put(padTo60(d, 0, end), UPLINK);
  }

  // 11. VXLAN VNI 4096 from the remote host 10.99.0.3: pod 10.244.2.5 -> pod 10.244.1.10:80, a SYN.
  {
    const outerL3 = writeEth(d, 0, OUI_HI, UPLINK_LO, OUI_HI, UPLINK_LO + 1, ETHERTYPE_IPV4);
    const outerL4 = outerL3 + IPV4_HEADER_SIZE;
    const innerL2 = outerL4 + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE;
    const podA = parseIPv4('10.244.2.5');
    const podB = parseIPv4('10.244.1.10');
    const l3 = writeEth(d, innerL2, OUI_HI, 0x5d10000a, OUI_HI, 0x5d200205, ETHERTYPE_IPV4);
    const l4 = writeIPv4(d, l3, podA, podB, IPPROTO_TCP, TCP_HEADER_SIZE + 4, 128, 0x7001, true);
    const end = writeTcp(d, l4, 40000, 80, 0x2a2a2a2a, 0, TCP_SYN, 64240, MSS_1410);
    finishIPv4(d, l3);
    finishL4v4(d, l3, l4, end - l4);
    writeVxlan(d, innerL2 - VXLAN_HEADER_SIZE, 4096);
    const udpSize = end - outerL4;
    writeIPv4(d, outerL3, parseIPv4('10.99.0.3'), hostIp, IPPROTO_UDP, udpSize, 64, 0x7000, false);
    writeUdp(d, outerL4, linuxUdpSourcePort(podA, podB, 40000, 80, IPPROTO_TCP), VXLAN_DEFAULT_PORT, udpSize - UDP_HEADER_SIZE);
    finishIPv4(d, outerL3);
    put(end, UPLINK);
  }

  // 12. A copy of the next ACK cut by a 30-byte snaplen inside its IPv4 header.
  tcp(true, TCP_ACK_FLAG, C + 1, S + 1, null, '');
  put(30, ENDPOINT, 60);

  // 13-17. The HTTP request and answer, then the client closes.
  const GET = 'GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.4.0\r\nAccept: */*\r\n\r\n';
  const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n';
  put(tcp(true, TCP_PSHACK, C + 1, S + 1, null, GET), ENDPOINT);
  put(tcp(false, TCP_PSHACK, S + 1, C + 1 + GET.length, null, OK), UPLINK);
  put(tcp(true, TCP_FINACK, C + 1 + GET.length, S + 1 + OK.length, null, ''), ENDPOINT);
  put(tcp(false, TCP_FINACK, S + 1 + OK.length, C + 2 + GET.length, null, ''), UPLINK);
  put(tcp(true, TCP_ACK_FLAG, C + 2 + GET.length, S + 2 + OK.length, null, ''), ENDPOINT);
}

// ---- helpers ----------------------------------------------------------------------------------------

/** Deterministic payload bytes from the PRNG, 4 per draw. */
function fillPayload(d: Uint8Array, o: number, size: number, rng: Prng): number {
  const end = o + size;
  let p = o;
  while (p + 4 <= end) {
    const r = rng.nextU32();
    d[p] = r >>> 24;
    d[p + 1] = (r >>> 16) & 0xff;
    d[p + 2] = (r >>> 8) & 0xff;
    d[p + 3] = r & 0xff;
    p += 4;
  }
  if (p < end) {
    const r = rng.nextU32();
    for (let s = 24; p < end; s -= 8) d[p++] = (r >>> s) & 0xff;
  }
  return end;
}

/** Zero-pad the frame starting at `o` and ending at `end` to 60 bytes; returns its length. */
function padTo60(d: Uint8Array, o: number, end: number): number {
  const length = end - o;
  if (length >= SYNTH_MIN_FRAME_SIZE) return length;
  zero(d, end, SYNTH_MIN_FRAME_SIZE - length);
  return SYNTH_MIN_FRAME_SIZE;
}
