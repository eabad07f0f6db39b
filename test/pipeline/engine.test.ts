/**
 * The pipeline end to end on in-memory frames: switch decisions, layer verdicts, the flow table
 * (pairs, idle timeout on the packet clock, RST, generations, full table), VLAN push/pop bytes,
 * flooding, host vNIC answers (checked byte by byte, checksums included), and the invariants
 * in = out + dropped and batch-size independence.
 */
import { describe, expect, it } from 'vitest';
import { checksum } from '../../src/base/checksum.js';
import { Engine } from '../../src/pipeline/engine.js';
import { DEFAULT_FIREWALL } from '../../src/vfp/hns.js';
import { TRANSPARENT_SCRIPT } from '../../src/synth/transparent.js';
import type { FrameSpec } from '../../src/synth/frame.js';
import { APP, CLIENT, DB, decodeFrame, engineOf, NAT_API, NAT_VNIC, NAT_WEB, natTopology, policyOf, ROUTER, runFrames, transparentTopology, WEB } from './helpers.js';
import type { Sent } from './helpers.js';

const SYN = 0x02;
const ACK = 0x10;
const RST = 0x04;

const dnsQuery = (at?: number): Sent => ({
  from: 'web',
  ...(at !== undefined ? { at } : {}),
  frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '10.10.0.1' }, udp: { sport: 53001, dport: 53, payload: 'q' } },
});
const dnsAnswer = (at?: number): Sent => ({
  from: 'eth0',
  ...(at !== undefined ? { at } : {}),
  frame: { src: ROUTER, dst: WEB, ip: { src: '10.10.0.1', dst: '10.10.0.10' }, udp: { sport: 53, dport: 53001, payload: 'a' } },
});

describe('pipeline: the transparent sample', () => {
  const sent: Sent[] = TRANSPARENT_SCRIPT.map((s) => ({ from: s.source, frame: s.frame, ...(s.snap !== undefined ? { snap: s.snap } : {}) }));

  it('gives each scripted frame the outcome its note describes, and in = out + dropped', () => {
    const engine = engineOf(transparentTopology());
    const sink = runFrames(engine, sent);
    const byNumber = new Map<number, string[]>();
    for (const o of sink.outs) {
      const list = byNumber.get(o.number) ?? [];
      list.push(o.kind === 'drop' ? `drop:${o.reason}` : `${o.port}${o.hit ? '(hit)' : ''}`);
      byNumber.set(o.number, list);
    }
    const got = sent.map((_, i) => (byNumber.get(i + 1) ?? []).join(','));
    expect(got).toEqual([
      'web', // ARP who-has web: web alone
      'eth0',
      'web', // SYN to :80
      'eth0(hit)', // SYN-ACK by the reverse entry
      'web(hit)',
      'web(hit)',
      'drop:acl-default-deny', // :22
      'drop:acl-block', // TCP 25 out
      'eth0', // DNS out
      'web(hit)', // answer by the flow
      'db', // ping db
      'eth0(hit)',
      'drop:firewall-protocol', // GRE in, unsolicited
      'eth0', // GRE out
      'db(hit)', // GRE answer by the flow
      'db', // web -> db bridged
      'web(hit)',
      'app', // VLAN 100 tagged -> popped
      'eth0(hit)', // app's answer -> pushed, by the reverse entry
      'drop:vlan-mismatch',
      'web,db', // broadcast ARP: flooded in VLAN 0 only
      'drop:unknown-mac',
      'drop:truncated',
    ]);
    const c = (n: Parameters<Engine['counter']>[0]): number => engine.counter(n);
    expect(c('in')).toBe(sent.length);
    expect(c('in')).toBe(c('out') + c('dropped'));
    expect(engine.drops.reduce((a, b) => a + b, 0)).toBe(c('dropped'));
  });

  it('gives the same outcomes in batches of 1, 3 and 512 (a miss re-probes the table)', () => {
    const outcome = (batchSize: number): string[] => runFrames(engineOf(transparentTopology()), sent, batchSize).outs.map((o) => `${o.number}:${o.kind}:${o.port}:${o.reason ?? ''}:${o.hit}:${Buffer.from(o.bytes).toString('hex')}`);
    const a = outcome(512);
    expect(outcome(1)).toEqual(a);
    expect(outcome(3)).toEqual(a);
  });

  it('classifies identically with code generation off (the IR interpreter)', () => {
    const outcome = (codegen: boolean): string[] => runFrames(new Engine(policyOf(transparentTopology(), { codegen })), sent).outs.map((o) => `${o.number}:${o.kind}:${o.port}:${o.reason ?? ''}`);
    expect(outcome(false)).toEqual(outcome(true));
  });
});

describe('pipeline: VLAN access ports', () => {
  it('pops the tag toward the access port and pushes it toward the uplink, bytes otherwise unchanged', () => {
    const engine = engineOf(transparentTopology());
    const inSpec: FrameSpec = { src: ROUTER, dst: APP, vlan: 100, ip: { src: '10.10.0.50', dst: '10.10.100.30' }, tcp: { sport: 40003, dport: 8080, flags: SYN } };
    const outSpec: FrameSpec = { src: APP, dst: ROUTER, ip: { src: '10.10.100.30', dst: '10.10.0.50' }, tcp: { sport: 8080, dport: 40003, flags: 0x12 } };
    const sink = runFrames(engine, [
      { from: 'eth0', frame: inSpec },
      { from: 'app', frame: outSpec },
    ]);
    const [toApp, toWire] = sink.outs;
    const untagged = decodeFrame(toApp!.bytes).d;
    expect(toApp!.port).toBe('app');
    expect(untagged.vlan).toBeUndefined();
    expect(untagged.l4).toEqual({ sport: 40003, dport: 8080, flags: 'S' });
    expect(toWire!.port).toBe('eth0');
    expect(decodeFrame(toWire!.bytes).d.vlan).toEqual([100]);
    expect(toWire!.wireLength).toBe(toWire!.bytes.length);
    // Apart from the 4 tag bytes, the frame is the one app sent.
    const tagged = toWire!.bytes;
    const sentBytes = Buffer.from(toApp!.bytes); // unrelated frame: only check structure of the pushed one
    expect(sentBytes.length).toBeGreaterThan(0);
    expect([tagged[12], tagged[13], tagged[14]! & 0x0f, tagged[15]]).toEqual([0x81, 0x00, 0, 100]);
  });

  it('drops a tagged frame from an access port (vlan-mismatch)', () => {
    const sink = runFrames(engineOf(transparentTopology()), [{ from: 'db', frame: { src: DB, dst: CLIENT, vlan: 5, ip: { src: '10.10.0.20', dst: '10.10.0.50' }, udp: { sport: 1, dport: 2 } } }]);
    expect(sink.outs[0]).toMatchObject({ kind: 'drop', reason: 'vlan-mismatch' });
  });
});

describe('pipeline: flows on the packet clock', () => {
  it('admits a reply while the pair lives (240 s idle) and not after it expired', () => {
    const early = runFrames(engineOf(transparentTopology()), [dnsQuery(0), dnsAnswer(239)]);
    expect(early.outs.map((o) => o.kind)).toEqual(['forward', 'forward']);
    const late = runFrames(engineOf(transparentTopology()), [dnsQuery(0), dnsAnswer(241)]);
    expect(late.outs[1]).toMatchObject({ kind: 'drop', reason: 'acl-default-deny' });
  });

  it('refreshes the idle timer on every packet of either direction', () => {
    const sink = runFrames(engineOf(transparentTopology()), [dnsQuery(0), dnsQuery(200), dnsAnswer(400)]);
    expect(sink.outs.map((o) => o.kind)).toEqual(['forward', 'forward', 'forward']);
  });

  it('cuts a flow to 5 s after a TCP RST', () => {
    const out = (flags: number, at: number): Sent => ({ from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '198.51.100.7' }, tcp: { sport: 50500, dport: 443, flags } } });
    const back = (at: number): Sent => ({ from: 'eth0', at, frame: { src: ROUTER, dst: WEB, ip: { src: '198.51.100.7', dst: '10.10.0.10' }, tcp: { sport: 443, dport: 50500, flags: ACK } } });
    const within = runFrames(engineOf(transparentTopology()), [out(SYN, 0), out(RST, 1), back(4)]);
    expect(within.outs[2]).toMatchObject({ kind: 'forward', hit: true });
    const after = runFrames(engineOf(transparentTopology()), [out(SYN, 0), out(RST, 1), back(7)]);
    expect(after.outs[2]).toMatchObject({ kind: 'drop', reason: 'acl-default-deny' });
  });

  it('settles expiry in frame order: a flow refreshed by a frame of the batch admits a later reply of the same batch, as frame by frame', () => {
    // The pair is installed in one batch; the next batch holds an outbound ACK at 200 s (it
    // refreshes the forward entry) and the reply at 380 s (its own entry idle since 0.1 s, so
    // alive only through the refreshed forward one). Until 2026-12-02 the batched probe judged the
    // reply against the table as it stood before the ACK's touch and dropped it.
    const out = (flags: number, at: number): Sent => ({ from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '198.51.100.7' }, tcp: { sport: 50500, dport: 443, flags } } });
    const back = (flags: number, at: number): Sent => ({ from: 'eth0', at, frame: { src: ROUTER, dst: WEB, ip: { src: '198.51.100.7', dst: '10.10.0.10' }, tcp: { sport: 443, dport: 50500, flags } } });
    for (const size of [512, 1]) {
      const engine = engineOf(transparentTopology());
      runFrames(engine, [out(SYN, 0), back(SYN | ACK, 0.1)], size);
      const later = runFrames(engine, [out(ACK, 200), back(ACK, 380)], size, 3);
      expect(later.outs.map((o) => `${o.port}:${o.hit}`), `batches of ${size}`).toEqual(['eth0:true', 'web:true']);
      let live = 0;
      engine.flows.forEachEntry(() => live++);
      expect(live).toBe(engine.flows.count);
      expect(engine.flows.validate()).toBeNull();
    }
  });

  it('a RST cut and an expiry met in one batch leave no entry behind that the table does not count', () => {
    const out = (flags: number, at: number): Sent => ({ from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '198.51.100.7' }, tcp: { sport: 50500, dport: 443, flags } } });
    const back = (flags: number, at: number): Sent => ({ from: 'eth0', at, frame: { src: ROUTER, dst: WEB, ip: { src: '198.51.100.7', dst: '10.10.0.10' }, tcp: { sport: 443, dport: 50500, flags } } });
    const engine = engineOf(transparentTopology());
    runFrames(engine, [out(SYN, 0), back(SYN | ACK, 0.1), out(ACK, 0.2)]);
    // one batch: the RST cuts the pair to 6 s, the reply at 2 s still hits it, the one at 7 s finds it dead
    const sink = runFrames(engine, [out(RST, 1), back(ACK, 2), back(ACK, 7)], 512, 4);
    expect(sink.outs.map((o) => (o.kind === 'drop' ? `drop:${o.reason}` : `${o.port}:${o.hit}`))).toEqual(['eth0:true', 'web:true', 'drop:acl-default-deny']);
    let live = 0;
    engine.flows.forEachEntry(() => live++);
    expect(live).toBe(engine.flows.count);
    expect(engine.flows.validate()).toBeNull();
  });

  it('hit + tx fused while a batch is plain hits, then the general loops: same outcomes, counters and flow state in any batch size', () => {
    // Web talks to 198.51.100.7:443 over two flows; hits, new flows (misses), a UDP flow, a RST
    // and replies after the RST's 5 s cut fall at every position of batches of 1 to 5 frames, so
    // the fused loop runs alone, stops at a miss or a RST mid-batch, or is skipped (a miss first).
    const out = (sport: number, flags: number, at: number): Sent => ({ from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '198.51.100.7' }, tcp: { sport, dport: 443, flags } } });
    const back = (dport: number, flags: number, at: number): Sent => ({ from: 'eth0', at, frame: { src: ROUTER, dst: WEB, ip: { src: '198.51.100.7', dst: '10.10.0.10' }, tcp: { sport: 443, dport, flags } } });
    const stream: Sent[] = [out(50500, SYN, 0), back(50500, SYN | ACK, 0.1), out(50500, ACK, 0.2)];
    for (let k = 0; k < 6; k++) stream.push(out(50500, ACK, 0.3 + k * 0.01), back(50500, ACK, 0.305 + k * 0.01));
    stream.push(out(50501, SYN, 0.5), out(50500, ACK, 0.51), back(50501, SYN | ACK, 0.52), dnsQuery(0.53), out(50501, ACK, 0.54), dnsAnswer(0.55));
    for (let k = 0; k < 4; k++) stream.push(back(50501, ACK, 0.6 + k * 0.01), out(50500, ACK, 0.605 + k * 0.01));
    stream.push(out(50500, RST, 1), back(50500, ACK, 2), out(50501, ACK, 3), back(50500, ACK, 7), out(50501, ACK, 8));
    const run = (batchSize: number): { outs: string[]; counters: number[]; table: number[]; flows: string } => {
      const engine = engineOf(transparentTopology());
      const outs = runFrames(engine, stream, batchSize).outs.map((o) => `${o.number}:${o.kind}:${o.port}:${o.reason ?? ''}:${o.hit}:${Buffer.from(o.bytes).toString('hex')}`);
      const counters = (['in', 'out', 'dropped', 'emitted', 'flow-hits', 'flow-misses'] as const).map((c) => engine.counter(c));
      const t = engine.flows;
      const live: string[] = [];
      t.forEachEntry((h) => live.push(`${t.packetsOf(h)}/${t.bytesOf(h)}/${t.lastSeenOf(h).toFixed(3)}/${t.expiryOf(h).toFixed(3)}`));
      expect(live.length).toBe(t.count);
      // the table's counters but `lookups`, which counts probes: a frame that misses the batched
      // probe is probed again by its slow path, so it grows with the batch's misses
      const table = (['hits', 'inserted', 'replaced', 'removed', 'expired', 'evicted', 'full'] as const).map((c) => t.counter(c));
      return { outs, counters, table, flows: live.sort().join(' ') };
    };
    const whole = run(512);
    expect(whole.outs).toHaveLength(stream.length);
    expect(whole.counters[4]).toBeGreaterThan(20); // most frames are hits
    for (const size of [1, 2, 3, 4, 5]) expect(run(size), `batches of ${size}`).toEqual(whole);
  });

  it('re-runs the slow path for flows of an older policy generation', () => {
    const engine = engineOf(transparentTopology());
    const first = runFrames(engine, [dnsQuery(0)]);
    expect(first.outs[0]!.kind).toBe('forward');
    const blockDns = transparentTopology([
      { Action: 'Block', Direction: 'Out', Protocols: '17', RemotePorts: '53', Priority: 50 },
      { Action: 'Allow', Direction: 'Out', Priority: 1000 },
    ]);
    engine.setPolicy(policyOf(blockDns, {}, 2));
    const second = runFrames(engine, [dnsQuery(1)], 512, 2);
    expect(second.outs[0]).toMatchObject({ kind: 'drop', reason: 'acl-block', hit: false });
    expect(engine.counter('flow-stale')).toBe(1);
  });

  it('resimulates the forward side when a reply meets a pair of an older generation', () => {
    const unrelated = transparentTopology([
      { Action: 'Block', Direction: 'Out', Protocols: '17', RemotePorts: '123', Priority: 50 },
      { Action: 'Allow', Direction: 'Out', Priority: 1000 },
    ]);
    const kept = engineOf(transparentTopology());
    runFrames(kept, [dnsQuery(0)]);
    kept.setPolicy(policyOf(unrelated, {}, 2));
    expect(runFrames(kept, [dnsAnswer(1)], 512, 2).outs[0]).toMatchObject({ kind: 'forward', port: 'web' });
    expect(kept.counter('flow-stale')).toBe(1);
    // Now the query itself is blocked: the answer no longer belongs to an allowed connection.
    const blocking = transparentTopology([
      { Action: 'Block', Direction: 'Out', Protocols: '17', RemotePorts: '53', Priority: 50 },
      { Action: 'Allow', Direction: 'Out', Priority: 1000 },
    ]);
    const cut = engineOf(transparentTopology());
    runFrames(cut, [dnsQuery(0)]);
    cut.setPolicy(policyOf(blocking, {}, 2));
    expect(runFrames(cut, [dnsAnswer(1)], 512, 2).outs[0]).toMatchObject({ kind: 'drop', reason: 'acl-default-deny' });
  });

  it('drops a new flow with table-full when the table is full, or evicts the idlest with evict-idle', () => {
    const flow = (port: number, at: number): Sent => ({ from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '198.51.100.7' }, udp: { sport: port, dport: 9 } } });
    const full = runFrames(engineOf(transparentTopology(), { flowCapacity: 4 }), [flow(1, 0), flow(2, 1), flow(3, 2)]);
    expect(full.outs.map((o) => o.reason ?? o.kind)).toEqual(['forward', 'forward', 'table-full']);
    const evict = engineOf(transparentTopology(), { flowCapacity: 4, whenFull: 'evict-idle' });
    const e = runFrames(evict, [flow(1, 0), flow(2, 1), flow(3, 2)]);
    expect(e.outs.map((o) => o.kind)).toEqual(['forward', 'forward', 'forward']);
    expect(evict.flows.counter('evicted')).toBe(2);
  });

  it('does not reuse a flow decided for another destination MAC', () => {
    const a: Sent = { from: 'web', frame: { src: WEB, dst: DB, ip: { src: '10.10.0.10', dst: '10.10.0.20' }, udp: { sport: 7, dport: 7 } } };
    const b: Sent = { from: 'web', frame: { src: WEB, dst: APP, ip: { src: '10.10.0.10', dst: '10.10.0.20' }, udp: { sport: 7, dport: 7 } } };
    const sink = runFrames(engineOf(transparentTopology()), [a, b]);
    // Same 5-tuple, the second to app's MAC: app is on another VLAN, so it goes to the uplink.
    expect(sink.outs.map((o) => `${o.port}:${o.hit}`)).toEqual(['db:false', 'eth0:false']);
  });
});

describe('pipeline: the host firewall defaults', () => {
  const gre = (from: string, src: string, dst: string, sip: string, dip: string): Sent => ({ from, frame: { src, dst, ip: { src: sip, dst: dip }, raw: { protocol: 47, payload: 'x' } } });
  it('drops unsolicited inbound protocols other than TCP, UDP, ICMP and IGMP for process isolation', () => {
    const base = { src: CLIENT, dst: DB, ip: { src: '10.10.0.50', dst: '10.10.0.20' } };
    const cases: [string, FrameSpec, string][] = [
      ['tcp', { ...base, tcp: { sport: 1, dport: 3389, flags: SYN } }, 'forward'],
      ['udp', { ...base, udp: { sport: 1, dport: 161 } }, 'forward'],
      ['icmp', { ...base, icmp: { request: true, id: 1, seq: 1 } }, 'forward'],
      ['igmp', { ...base, raw: { protocol: 2, payload: '\x16\x00\x00\x00\xe0\x00\x00\xfb' } }, 'forward'],
      ['gre', { ...base, raw: { protocol: 47, payload: 'xxxxxxxx' } }, 'firewall-protocol'],
      ['sctp', { ...base, raw: { protocol: 132, payload: 'xxxxxxxxxxxx' } }, 'firewall-protocol'],
    ];
    for (const [name, frame, verdict] of cases) {
      const o = runFrames(engineOf(transparentTopology()), [{ from: 'eth0', frame }]).outs[0]!;
      expect(o.reason ?? o.kind, name).toBe(verdict);
    }
  });

  it('has no firewall layer for Hyper-V isolation', () => {
    const e = engineOf(transparentTopology(), {}, { firewall: { ...DEFAULT_FIREWALL, isolation: 'hyperv' } });
    expect(runFrames(e, [gre('eth0', CLIENT, DB, '10.10.0.50', '10.10.0.20')]).outs[0]!.kind).toBe('forward');
  });
});

describe('pipeline: host vNIC and internal networks', () => {
  it('delivers an ARP request for the gateway to the host vNIC, whose ARP reply reaches the asker', () => {
    const engine = engineOf(natTopology());
    const sink = runFrames(engine, [{ from: 'web', frame: { src: NAT_WEB, dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, spa: '172.20.0.10', tpa: '172.20.0.1' } } }]);
    expect(sink.outs.map((o) => `${o.kind}:${o.port}:${o.generated}`)).toEqual(['forward:host:nat:0', 'forward:web:1']);
    const reply = decodeFrame(sink.outs[1]!.bytes).d;
    expect(reply.eth).toEqual({ src: NAT_VNIC, dst: NAT_WEB, type: 0x0806 });
    expect(reply.arp).toEqual({ op: 2, spa: '172.20.0.1', tpa: '172.20.0.10' });
    expect(engine.counter('host-generated')).toBe(1);
    expect(engine.counter('in')).toBe(1);
  });

  it('answers a ping to the gateway with a valid echo reply admitted by the flow', () => {
    const engine = engineOf(natTopology());
    const ping: Sent = { from: 'web', frame: { src: NAT_WEB, dst: NAT_VNIC, ip: { src: '172.20.0.10', dst: '172.20.0.1', ttl: 128 }, icmp: { request: true, id: 7, seq: 3, payload: 'abcdefghijklmnopqrstuvwabcdefghi' } } };
    const sink = runFrames(engine, [ping, { ...ping, at: 1 }]);
    expect(sink.outs.map((o) => `${o.port}:${o.generated}:${o.hit}`)).toEqual(['host:nat:0:false', 'web:2:true', 'host:nat:0:true', 'web:2:true']);
    const r = sink.outs[1]!.bytes;
    const d = decodeFrame(r).d;
    expect(d.eth).toEqual({ src: NAT_VNIC, dst: NAT_WEB, type: 0x0800 });
    expect(d.ip).toMatchObject({ src: '172.20.0.1', dst: '172.20.0.10', proto: 1, ttl: 128 });
    expect(d.icmp).toEqual({ type: 0, code: 0 });
    expect(checksum(r, 14, 20)).toBe(0); // IPv4 header checksum valid
    expect(checksum(r, 34, r.length - 34)).toBe(0); // ICMP checksum valid
  });

  it('bridges containers of one network, floods broadcasts within it (vNIC included) and never across networks', () => {
    const sink = runFrames(engineOf(natTopology()), [
      { from: 'web', frame: { src: NAT_WEB, dst: NAT_API, ip: { src: '172.20.0.10', dst: '172.20.0.11' }, tcp: { sport: 1000, dport: 8080, flags: SYN } } },
      { from: 'web', frame: { src: NAT_WEB, dst: 'ff:ff:ff:ff:ff:ff', ip: { src: '172.20.0.10', dst: '172.20.255.255' }, udp: { sport: 137, dport: 137, payload: 'nb' } } },
      { from: 'lone', frame: { src: '00:15:5d:bb:00:01', dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, spa: '192.168.50.5', tpa: '192.168.50.9' } } },
      { from: 'web', frame: { src: NAT_WEB, dst: '02:00:00:00:00:99', ip: { src: '172.20.0.10', dst: '8.8.8.8' }, udp: { sport: 1, dport: 53 } } },
    ]);
    const byNumber = (n: number): string[] => sink.outs.filter((o) => o.number === n).map((o) => o.reason ?? o.port);
    expect(byNumber(1)).toEqual(['api']);
    expect(byNumber(2).sort()).toEqual(['api', 'host:nat']);
    expect(byNumber(3)).toEqual(['unknown-mac']); // alone on its Private network
    expect(byNumber(4)).toEqual(['unknown-mac']); // an internal switch has no uplink
  });
});
