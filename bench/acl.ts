/**
 * Bench scenarios through the whole replay pipeline (read from memory -> parse -> ingress ->
 * flow table -> slow path -> tx to a counting sink), on a Transparent network whose endpoint
 * `web` (10.0.0.10) carries ACL policies:
 *
 *   acl-hit   established flows: 65,536 (and 1,048,576 for `flows-1m` mode) client flows to
 *             web:80, both directions, every packet after the warm-up pass a flow-table hit
 *             (forward or reverse entry of the pair). The port has 100 ACL rules (48 specific
 *             blocks inbound and outbound, an inbound allow for TCP 80, an outbound allow-all).
 *             Timed: the best of `runs` passes over the same in-memory capture with the same
 *             engine (flows installed by the warm-up pass; 240 s TTL, the capture spans < 1 s).
 *   acl-miss  the slow path: every packet a new flow (a SYN from a distinct client address and
 *             port to web:80), against 10, 1,000 and 10,000 ACL rules whose allow is the last
 *             to match (realistic rules: remote /24-/32 prefixes, specific remote ports, TCP and
 *             UDP, the lot generated from a fixed seed). Each timed pass uses a fresh engine, so
 *             every packet runs the layers, interns its composite and installs a flow pair.
 *             Reported as Mpps and µs per new flow.
 *
 * Frames are 60 bytes (64 on the wire), TCP, with valid checksums. Every forwarded frame is
 * counted by the sink and its egress port folded into a checksum that is printed (the work cannot
 * be skipped), and the run fails unless every frame was forwarded.
 */
import { Prng } from '../src/base/bytes.js';
import { loadTopology } from '../src/config/topology.js';
import { Engine } from '../src/pipeline/engine.js';
import type { FrameSink, IngressMap } from '../src/pipeline/engine.js';
import { EMIT_FORWARD } from '../src/pipeline/output.js';
import type { EmitBatch } from '../src/pipeline/output.js';
import { compilePolicy } from '../src/pipeline/policy.js';
import { FrameBatch } from '../src/frame/batch.js';
import { CaptureReader } from '../src/io/reader.js';
import { PcapWriter } from '../src/io/writer.js';
import { finishIPv4, finishL4v4, writeEth, writeIPv4, writeTcp } from '../src/synth/build.js';
import { memoryProbe } from './memprobe.js';

const WEB_IP = 0x0a00000a; // 10.0.0.10
const WEB_MAC_LO = 0x5d0a000a; // 00:15:5d:0a:00:0a
const OUI = 0x0015;
const CLIENT_MAC_HI = 0x0200;

export interface AclBenchRun {
  packets: number;
  bytes: number;
  seconds: number;
  checksum: number;
  flows: number;
  rules: number;
  /** bench/memprobe.ts just before the timed passes: extra ns per random read over 8 MiB beyond L1. */
  memoryNs: number;
}

/** The bench topology: one Transparent network, endpoint web with `acls` (HNS ACL policy settings). */
export function benchTopology(acls: object[]): object {
  return {
    host: { name: 'bench', uplinks: [{ name: 'eth0', mac: '00-15-5D-00-00-01', ip: '10.0.0.2/8', gateway: '10.0.0.1', gatewayMac: '02-00-0A-00-00-01' }] },
    networks: [{ Name: 'ext', Type: 'Transparent', Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: '10.0.0.0/8', Routes: [{ NextHop: '10.0.0.1', DestinationPrefix: '0.0.0.0/0' }] }] }] }],
    endpoints: [
      {
        Name: 'web',
        HostComputeNetwork: 'ext',
        MacAddress: '00-15-5D-0A-00-0A',
        IpConfigurations: [{ IpAddress: '10.0.0.10', PrefixLength: 8 }],
        Policies: acls.map((s) => ({ Type: 'ACL', Settings: s })),
      },
    ],
  };
}

const ip4 = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/**
 * `count` ACL rules: specific blocks that the bench traffic never matches (remote prefixes in
 * 192.0.0.0/8-ish space and remote ports 1..1023 other than 80), then an inbound allow TCP 80 and
 * an outbound allow-all at the largest priority numbers, so a new flow is decided by the last.
 */
export function benchAcls(count: number, seed: number): object[] {
  const rng = new Prng(seed);
  const out: object[] = [];
  const specific = Math.max(0, count - 2);
  for (let i = 0; i < specific; i++) {
    const len = 24 + rng.below(9);
    const net = ((0xc0000000 | (rng.nextU32() & 0x3fffffff)) >>> 0) & (len === 32 ? 0xffffffff : ~((1 << (32 - len)) - 1));
    let port = 1 + rng.below(1023);
    if (port === 80) port = 81;
    out.push({
      Action: 'Block',
      Direction: i % 2 === 0 ? 'In' : 'Out',
      Protocols: rng.below(2) === 0 ? '6' : '17',
      RemoteAddresses: `${ip4(net >>> 0)}/${len}`,
      RemotePorts: String(port),
      RuleType: 'Switch',
      Priority: 100 + i,
    });
  }
  out.push({ Action: 'Allow', Direction: 'In', Protocols: '6', LocalPorts: '80', RuleType: 'Switch', Priority: 60000 });
  out.push({ Action: 'Allow', Direction: 'Out', RuleType: 'Switch', Priority: 60001 });
  return out;
}

/** Client f: address 10.128.0.0 + (f >> 6)... spread, port 1024 + (f & 63) * 900 + f % 900 — distinct per flow. */
function clientOf(f: number): [number, number] {
  return [(0x0a800000 + (f >>> 4)) >>> 0, 1024 + (f & 15) * 4000 + ((f >>> 4) % 4000)];
}

/**
 * A classic pcap in memory: `packets` 60-byte TCP frames over `flows` flows to web:80, in
 * rounds, each round every flow once in an order shuffled afresh (seeded Fisher-Yates), even
 * rounds client -> web, odd rounds web -> client; with `newFlows` every frame is a SYN of a new
 * flow instead. The fresh shuffle matters: the flow table hands out records in the order flows
 * are created (round 0), and an order that follows it (an earlier version used f = a * n + round,
 * the creation order rotated) walks the records nearly sequentially, which the hardware
 * prefetchers turn into a figure about 25% better than random traffic gets.
 */
export function aclCapture(packets: number, flows: number, newFlows: boolean, seed: number): Uint8Array {
  const w = PcapWriter.toMemory();
  const d = new Uint8Array(64);
  const rng = new Prng(seed);
  const order = new Int32Array(newFlows ? 0 : flows);
  for (let x = 0; x < order.length; x++) order[x] = x;
  for (let n = 0; n < packets; n++) {
    const round = newFlows ? 0 : Math.floor(n / flows);
    if (!newFlows && n % flows === 0) {
      for (let x = flows - 1; x > 0; x--) {
        const y = rng.below(x + 1);
        const t = order[x]!;
        order[x] = order[y]!;
        order[y] = t;
      }
    }
    const f = newFlows ? n : order[n % flows]!;
    const toWeb = newFlows || round % 2 === 0;
    const [cip, cport] = clientOf(f);
    const [clientLo] = [(0x0a000000 | (f & 0xffffff)) >>> 0];
    let p = toWeb ? writeEth(d, 0, OUI, WEB_MAC_LO, CLIENT_MAC_HI, clientLo, 0x0800) : writeEth(d, 0, CLIENT_MAC_HI, clientLo, OUI, WEB_MAC_LO, 0x0800);
    const l3 = p;
    p = writeIPv4(d, l3, toWeb ? cip : WEB_IP, toWeb ? WEB_IP : cip, 6, 20, toWeb ? 64 : 128, n & 0xffff, true);
    writeTcp(d, p, toWeb ? cport : 80, toWeb ? 80 : cport, 1000 + round, 2000 + round, newFlows || round === 0 ? 0x02 : 0x10, 64240, null);
    finishIPv4(d, l3);
    finishL4v4(d, l3, p, 20);
    w.writeFrame(d, 0, 60, 60, 1_700_000_000, n % 1_000_000_000);
  }
  return w.toBytes();
}

class CountingSink implements FrameSink {
  forwarded = 0;
  dropped = 0;
  x = 0;
  emit(out: EmitBatch): void {
    const ports = out.ports;
    let x = this.x;
    let forwarded = 0;
    for (let j = 0; j < out.count; j++) {
      if (out.kindOf(j) === EMIT_FORWARD) {
        forwarded++;
        x = (x * 31 + ports[j]!) | 0;
      }
    }
    this.x = x;
    this.forwarded += forwarded;
    this.dropped += out.count - forwarded;
  }
}

const NO_INTERFACES: IngressMap = { byInterface: new Int32Array(0), forced: -1 };

function pass(engine: Engine, data: Uint8Array, batch: FrameBatch, sink: CountingSink): number {
  const r = CaptureReader.fromBytes(data, 'acl-bench');
  const t0 = process.hrtime.bigint();
  for (;;) {
    const n = r.read(batch);
    if (n === 0) break;
    engine.process(batch, NO_INTERFACES, sink);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function policyFor(rules: number): ReturnType<typeof compilePolicy> {
  return compilePolicy(loadTopology(benchTopology(benchAcls(rules, 7)), 'bench topology'), 1);
}

/** acl-hit: warm-up pass installs every flow; the best of `runs` further passes is timed. */
export function runAclHit(packets: number, flows: number, runs: number): AclBenchRun {
  const data = aclCapture(packets, flows, false, 1);
  const engine = new Engine(policyFor(100), { flowCapacity: Math.max(1024, flows * 2 + 64) });
  const batch = new FrameBatch();
  const warm = new CountingSink();
  pass(engine, data, batch, warm);
  if (warm.forwarded !== packets) throw new Error(`bench acl-hit: warm-up forwarded ${warm.forwarded} of ${packets} (dropped ${warm.dropped})`);
  const memoryNs = memoryProbe().ns;
  let best = Infinity;
  let checksum = 0;
  for (let r = 0; r < runs; r++) {
    const sink = new CountingSink();
    const s = pass(engine, data, batch, sink);
    if (sink.forwarded !== packets) throw new Error(`bench acl-hit: forwarded ${sink.forwarded} of ${packets}`);
    best = Math.min(best, s);
    checksum = sink.x >>> 0;
  }
  const misses = engine.counter('flow-misses');
  if (misses !== flows) throw new Error(`bench acl-hit: ${misses} slow-path runs, expected ${flows} (one per flow, in the warm-up)`);
  return { packets, bytes: packets * 60, seconds: best, checksum, flows, rules: 100, memoryNs };
}

/** acl-miss: every packet a new flow; a fresh engine per timed pass. */
export function runAclMiss(packets: number, rules: number, runs: number): AclBenchRun {
  const data = aclCapture(packets, packets, true, 1);
  const policy = policyFor(rules);
  const batch = new FrameBatch();
  const memoryNs = memoryProbe().ns;
  let best = Infinity;
  let checksum = 0;
  for (let r = 0; r <= runs; r++) {
    const engine = new Engine(policy, { flowCapacity: packets * 2 + 64 });
    const sink = new CountingSink();
    const s = pass(engine, data, batch, sink);
    if (sink.forwarded !== packets) throw new Error(`bench acl-miss: forwarded ${sink.forwarded} of ${packets} (dropped ${sink.dropped})`);
    if (r > 0) best = Math.min(best, s); // run 0 is the warm-up
    checksum = sink.x >>> 0;
  }
  return { packets, bytes: packets * 60, seconds: best, checksum, flows: packets, rules, memoryNs };
}
