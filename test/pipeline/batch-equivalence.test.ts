/**
 * Property: a capture gives the same result whatever the batch size. Random streams on the
 * NAT sample (pings and ARP answered by the host vNIC, container to container) and on the
 * Transparent sample topology (web, db, app on VLAN 100, the uplink): TCP flows with random flags
 * (RST and FIN included) in both directions, allowed and blocked ports, UDP, ICMP echo, bridged
 * traffic, broadcast ARP, VLAN-tagged frames, on a clock that mostly ticks and sometimes jumps
 * past the flow timeout or the RST cut; once more with a policy change mid-stream (a new
 * generation blocking HTTPS and DNS out: cached flows go stale and are resimulated). Each stream runs in batches of 1, 2, 3, 7, 16 and 512
 * frames; every run must give the same output frames (bytes, ports, verdicts, reasons, flow-cache
 * hit or not), the same engine counters, the same flow-table counters and the same live flows.
 * Two things are allowed to differ, and are left out: the table's `lookups` and `hits` (they count
 * probes: a frame that misses the batched probe, or finds a stale entry there, is probed again by
 * its slow path, while a frame deferred past the batch's first slow path is probed once; the
 * engine's flow-hits, flow-misses and flow-stale are compared) and when a dead entry
 * goes (the budgeted sweep runs once per batch, so smaller batches sweep further; a dead entry is
 * never used, and leaves as `expired` when swept or met, or `replaced` when its key is installed
 * again first), so `expired` + `replaced` + the dead entries still present is compared instead.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { Engine } from '../../src/pipeline/engine.js';
import { APP, DB, NAT_API, NAT_VNIC, NAT_WEB, natTopology, policyOf, ROUTER, runFrames, transparentTopology, WEB } from './helpers.js';
import type { Sent } from './helpers.js';

const STREAMS = 150;
const FRAMES = 90;
const SIZES = [1, 2, 3, 7, 16, 512];
const FLAGS = [0x02, 0x12, 0x10, 0x10, 0x10, 0x18, 0x11, 0x04, 0x14];
const REMOTES = ['198.51.100.7', '198.51.100.8'];

/** Seconds after the start of each next frame: mostly < 1 s apart, now and then 3-9 s (past a RST cut) or 100-400 s (past the timeout). */
function packetClock(rng: Prng): () => number {
  let t = 0;
  return () => {
    const jump = rng.below(20);
    t += jump === 0 ? 100 + rng.below(300) : jump === 1 ? 3 + rng.below(6) : rng.below(1000) / 1000;
    return Math.round(t * 1000) / 1000;
  };
}

function stream(seed: number): Sent[] {
  const rng = new Prng(seed);
  const out: Sent[] = [];
  const clock = packetClock(rng);
  for (let n = 0; n < FRAMES; n++) {
    const at = clock();
    const remote = REMOTES[rng.below(REMOTES.length)]!;
    const port = 50500 + rng.below(3);
    const service = [443, 80, 25, 22][rng.below(4)]!;
    const flags = FLAGS[rng.below(FLAGS.length)]!;
    switch (rng.below(10)) {
      case 0:
      case 1:
      case 2: // web -> remote
        out.push({ from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: remote }, tcp: { sport: port, dport: service, flags } } });
        break;
      case 3:
      case 4:
      case 5: // remote -> web: replies, or new connections to :80 / :22
        out.push({ from: 'eth0', at, frame: { src: ROUTER, dst: WEB, ip: { src: remote, dst: '10.10.0.10' }, tcp: { sport: service, dport: port, flags } } });
        break;
      case 6: // DNS, either way
        out.push(
          rng.below(2) === 0
            ? { from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '10.10.0.1' }, udp: { sport: 53000 + rng.below(2), dport: 53, payload: 'q' } } }
            : { from: 'eth0', at, frame: { src: ROUTER, dst: WEB, ip: { src: '10.10.0.1', dst: '10.10.0.10' }, udp: { sport: 53, dport: 53000 + rng.below(2), payload: 'a' } } },
        );
        break;
      case 7: // web <-> db, bridged; ping either way
        out.push(
          rng.below(2) === 0
            ? { from: 'web', at, frame: { src: WEB, dst: DB, ip: { src: '10.10.0.10', dst: '10.10.0.20' }, icmp: { request: true, id: 7, seq: n } } }
            : { from: 'db', at, frame: { src: DB, dst: WEB, ip: { src: '10.10.0.20', dst: '10.10.0.10' }, icmp: { request: false, id: 7, seq: n } } },
        );
        break;
      case 8: // app behind VLAN 100: tagged from the wire, untagged from app
        out.push(
          rng.below(2) === 0
            ? { from: 'eth0', at, frame: { src: ROUTER, dst: APP, vlan: 100, ip: { src: '10.10.0.50', dst: '10.10.100.30' }, tcp: { sport: 40000 + rng.below(2), dport: 8080, flags } } }
            : { from: 'app', at, frame: { src: APP, dst: ROUTER, ip: { src: '10.10.100.30', dst: '10.10.0.50' }, tcp: { sport: 8080, dport: 40000 + rng.below(2), flags } } },
        );
        break;
      default: // broadcast ARP who-has web
        out.push({ from: 'eth0', at, frame: { src: ROUTER, dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, spa: '10.10.0.1', tpa: '10.10.0.10' } } });
    }
  }
  return out;
}

/** On the NAT sample: pings and ARP to the gateway (the host vNIC answers), web <-> api over TCP and ICMP, broadcasts. */
function natStream(seed: number): Sent[] {
  const rng = new Prng(seed);
  const out: Sent[] = [];
  const clock = packetClock(rng);
  for (let n = 0; n < FRAMES; n++) {
    const at = clock();
    const [from, mac, ip, peerMac, peerIp] = rng.below(2) === 0 ? ['web', NAT_WEB, '172.20.0.10', NAT_API, '172.20.0.11'] : ['api', NAT_API, '172.20.0.11', NAT_WEB, '172.20.0.10'];
    const flags = FLAGS[rng.below(FLAGS.length)]!;
    switch (rng.below(5)) {
      case 0: // ping the gateway: answered by the host
        out.push({ from, at, frame: { src: mac, dst: NAT_VNIC, ip: { src: ip, dst: '172.20.0.1' }, icmp: { request: true, id: 1 + rng.below(2), seq: n } } });
        break;
      case 1: // ARP for the gateway, broadcast
        out.push({ from, at, frame: { src: mac, dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, spa: ip, tpa: '172.20.0.1' } } });
        break;
      case 2:
      case 3: // container to container, TCP
        out.push({ from, at, frame: { src: mac, dst: peerMac, ip: { src: ip, dst: peerIp }, tcp: { sport: rng.below(2) === 0 ? 8080 : 41000 + rng.below(2), dport: rng.below(2) === 0 ? 8080 : 41000 + rng.below(2), flags } } });
        break;
      default: // container to container, ping or reply
        out.push({ from, at, frame: { src: mac, dst: peerMac, ip: { src: ip, dst: peerIp }, icmp: { request: rng.below(2) === 0, id: 9, seq: n } } });
    }
  }
  return out;
}

interface Outcome {
  outs: string[];
  engine: number[];
  table: number[];
  flows: string[];
}

const TRANSPARENT = policyOf(transparentTopology());
const NAT = policyOf(natTopology());
/** Generation 2 of the Transparent sample, for a policy change mid-stream: HTTPS out and DNS blocked, the rest as before. */
const TRANSPARENT_2 = policyOf(
  transparentTopology([
    { Action: 'Allow', Direction: 'In', Protocols: '6', LocalPorts: '80', Priority: 100 },
    { Action: 'Block', Direction: 'Out', Protocols: '6', RemotePorts: '443', Priority: 150 },
    { Action: 'Block', Direction: 'Out', Protocols: '17', RemotePorts: '53', Priority: 160 },
    { Action: 'Block', Direction: 'Out', Protocols: '6', RemotePorts: '25', Priority: 200 },
    { Action: 'Allow', Direction: 'Out', Priority: 1000 },
  ]),
  {},
  2,
);

/** The stream through a fresh engine in batches of `batchSize`; with `change`, the policy becomes `next` before frame `change` (0-based). */
function run(policy: typeof TRANSPARENT, sent: Sent[], batchSize: number, change?: { at: number; next: typeof TRANSPARENT }): Outcome {
  // 4,096 entries: above the size the table probes frame by frame, so the batched passes run
  const engine = new Engine(policy, { flowCapacity: 4096 });
  const parts = change ? [runFrames(engine, sent.slice(0, change.at), batchSize)] : [];
  if (change) engine.setPolicy(change.next);
  parts.push(change ? runFrames(engine, sent.slice(change.at), batchSize, change.at + 1) : runFrames(engine, sent, batchSize));
  const outs = parts.flatMap((p) => p.outs).map((o) => `${o.number}:${o.kind}:${o.port}:${o.reason ?? ''}:${o.hit}:${Buffer.from(o.bytes).toString('hex')}`);
  const t = engine.flows;
  const end = 1_700_000_000 + sent[sent.length - 1]!.at!;
  const flows: string[] = [];
  let present = 0;
  let dead = 0;
  t.forEachEntry((h) => {
    present++;
    if (t.expiryOf(h) >= end) flows.push(`${t.packetsOf(h)}/${t.bytesOf(h)}/${t.lastSeenOf(h).toFixed(3)}/${t.expiryOf(h).toFixed(3)}`);
    else dead++;
  });
  expect(present, 'every entry present is counted').toBe(t.count);
  expect(t.validate()).toBeNull();
  return {
    outs,
    engine: (['in', 'out', 'dropped', 'emitted', 'flow-hits', 'flow-misses', 'flow-stale', 'uncached', 'host-generated', 'host-forwarded', 'host-dropped'] as const).map((c) => engine.counter(c)),
    table: [...(['inserted', 'removed', 'evicted', 'full'] as const).map((c) => t.counter(c)), t.counter('expired') + t.counter('replaced') + dead],
    flows: flows.sort(),
  };
}

describe('pipeline: batch size does not change the result', () => {
  it.each([
    ['Transparent', TRANSPARENT, stream, false],
    ['Transparent, policy changed mid-stream (stale flows resimulated)', TRANSPARENT, stream, true],
    ['NAT (host vNIC answers)', NAT, natStream, false],
  ] as const)(`%s: ${STREAMS} random streams of ${FRAMES} frames, batches of ${SIZES.join(', ')}`, (_name, policy, make, changes) => {
    let hits = 0;
    let expired = 0;
    let generated = 0;
    let stale = 0;
    for (let seed = 1; seed <= STREAMS; seed++) {
      const sent = make(seed);
      const change = changes ? { at: 20 + (seed % 50), next: TRANSPARENT_2 } : undefined;
      const want = run(policy, sent, 512, change);
      hits += want.engine[4]!;
      stale += want.engine[6]!;
      generated += want.engine[8]!;
      expired += want.table[4]!;
      for (const size of SIZES) {
        if (size === 512) continue;
        const got = run(policy, sent, size, change);
        if (JSON.stringify(got) !== JSON.stringify(want)) expect(got, `stream ${seed}, batches of ${size}`).toEqual(want);
      }
    }
    // the streams do exercise the cache, its expiry and (NAT) the host's answers
    expect(hits).toBeGreaterThan(STREAMS * 10);
    expect(expired).toBeGreaterThan(STREAMS / 4);
    if (policy === NAT) expect(generated).toBeGreaterThan(STREAMS * 5);
    if (changes) expect(stale).toBeGreaterThan(STREAMS);
  });
});
