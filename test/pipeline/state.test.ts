/**
 * Per-flow state and policy generations through the engine: composites are shared across
 * generations (10,000 policy updates with live traffic leave the composite table and the heap
 * bounded), and a flow owner is told, exactly once, of every owned entry that leaves the table,
 * whatever removed it.
 */
import { describe, expect, it } from 'vitest';
import { FLOW_REMOVAL_HANDLE, FLOW_REMOVAL_REASON, FLOW_REMOVAL_REASONS, FLOW_REMOVAL_STATE, FLOW_STATE_WORDS } from '../../src/flow/table.js';
import type { FlowOwner } from '../../src/pipeline/engine.js';
import { Tracer } from '../../src/pipeline/trace.js';
import { engineOf, policyOf, ROUTER, runFrames, transparentTopology, WEB } from './helpers.js';
import type { Sent } from './helpers.js';

const udpOut = (sport: number, at: number): Sent => ({ from: 'web', at, frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '198.51.100.7' }, udp: { sport, dport: 53 } } });
const udpBack = (dport: number, at: number): Sent => ({ from: 'eth0', at, frame: { src: ROUTER, dst: WEB, ip: { src: '198.51.100.7', dst: '10.10.0.10' }, udp: { sport: 53, dport } } });

describe('policy generations share composites', () => {
  it('10,000 policy updates with live traffic: the composite table, the decision texts and the heap stay bounded', () => {
    const topologies = [
      transparentTopology(),
      transparentTopology([
        { Action: 'Block', Direction: 'Out', Protocols: '17', RemotePorts: '123', Priority: 50 },
        { Action: 'Allow', Direction: 'Out', Priority: 1000 },
        { Action: 'Allow', Direction: 'In', Protocols: '6', LocalPorts: '80', Priority: 100 },
      ]),
    ];
    const compiled = topologies.map((t) => policyOf(t));
    const engine = engineOf(topologies[0]!);
    let at = 0;
    const sizes: number[] = [];
    let heapAt1000 = 0;
    for (let g = 2; g <= 10_001; g++) {
      // A new generation each time (the same two rule sets in turn), then traffic: a new flow,
      // a reply to it (resimulation of an older pair), and a hit.
      engine.setPolicy({ ...compiled[g % 2]!, generation: g });
      const port = 40000 + (g % 50);
      const r = runFrames(engine, [udpOut(port, at), udpBack(port, at + 0.001), udpOut(port, at + 0.002)], 512, g * 3);
      expect(r.outs.map((o) => o.kind)).toEqual(['forward', 'forward', 'forward']);
      at += 0.01;
      if (g % 1000 === 1) sizes.push(engine.composites.size);
      if (g === 1001) heapAt1000 = process.memoryUsage().heapUsed;
    }
    expect(engine.counter('flow-stale')).toBeGreaterThan(9000);
    // Every composite a generation could make exists after the first few: none is added after.
    expect(new Set(sizes).size, `composite table sizes every 1,000 updates: ${sizes.join(', ')}`).toBe(1);
    expect(engine.composites.size).toBeLessThan(20);
    expect(engine.state.decisions.size).toBeLessThan(20);
    const grown = process.memoryUsage().heapUsed - heapAt1000;
    expect(grown, `heap grew by ${(grown / 2 ** 20).toFixed(1)} MiB over 9,000 updates`).toBeLessThan(32 * 2 ** 20);
  });
});

describe('flow owners', () => {
  it('every owned entry that leaves the table is reported once, with its state words, whatever removed it', () => {
    const engine = engineOf(transparentTopology(), { flowCapacity: 8, whenFull: 'evict-idle', uftTtl: 10 });
    const released: string[] = [];
    const owner: FlowOwner = {
      released(rows, at) {
        released.push(`${rows[at + FLOW_REMOVAL_HANDLE]}:${FLOW_REMOVAL_REASONS[rows[at + FLOW_REMOVAL_REASON]!]}:${rows[at + FLOW_REMOVAL_STATE]}`);
      },
    };
    const id = engine.addFlowOwner(owner);
    const flows = engine.flows;
    /** Own every live entry not owned yet, with a serial number as its first state word (as a NAT would keep a port). */
    let serial = 1000;
    const own = (): number => {
      let n = 0;
      flows.forEachEntry((h) => {
        if (flows.ownerOf(h) === 0) {
          flows.setOwner(h, id);
          flows.states[h * FLOW_STATE_WORDS] = serial++;
          n++;
        }
      });
      return n;
    };
    const owned = new Set<string>();
    const track = (): void => {
      flows.forEachEntry((h) => owned.add(`${h}:${flows.states[h * FLOW_STATE_WORDS]}`));
    };
    // Four stateful pairs (the firewall's default outbound allow is stateful): 8 entries, the table is full.
    runFrames(engine, [udpOut(1, 0), udpOut(2, 1), udpOut(3, 2), udpOut(4, 3)]);
    expect(own()).toBe(8);
    track();
    // A fifth pair evicts the idlest (flow 1, both entries).
    runFrames(engine, [udpOut(5, 4)], 512, 5);
    expect(released.map((r) => r.split(':')[1])).toEqual(['evicted', 'evicted']);
    own();
    track();
    // A policy change: a reply on flow 2's stale pair resimulates it (the old pair removed); flow 4's
    // next packet installs a pair over its stale one (replaced); flow 5's reply long after its
    // expiry finds it dead (expired); clear() takes the rest.
    engine.setPolicy({ ...engine.policy, generation: 2 });
    runFrames(engine, [udpBack(2, 5)], 512, 6);
    runFrames(engine, [udpOut(4, 6)], 512, 7);
    own();
    track();
    runFrames(engine, [udpBack(5, 1000)], 512, 8);
    own();
    track();
    flows.clear();
    runFrames(engine, [udpOut(9, 30)], 512, 8); // the rows are drained at the end of a batch
    const reasons = new Set(released.map((r) => r.split(':')[1]));
    for (const want of ['evicted', 'removed', 'replaced', 'expired', 'cleared']) expect(reasons, `released: ${released.join(' ')}`).toContain(want);
    // Exactly once each, with the state words it was given.
    const seen = released.map((r) => `${r.split(':')[0]}:${r.split(':')[2]}`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(owned);
    expect(engine.counter('flows-released')).toBe(released.length);
  });
});

describe('trace: the ingress rule', () => {
  it('names the rule the engine applied: a frame from the uplink\'s own MAC enters by source MAC, not by default', () => {
    const engine = engineOf(transparentTopology());
    const tracer = new Tracer(() => engine.policy);
    engine.tracer = tracer;
    const fromUplinkMac: Sent = { from: '', at: 0, frame: { src: '00:15:5d:00:00:01', dst: WEB, ip: { src: '10.10.0.2', dst: '10.10.0.10' }, udp: { sport: 5, dport: 6 } } };
    const fromClient: Sent = { from: '', at: 0.1, frame: { src: '02:00:0a:0a:00:77', dst: WEB, ip: { src: '10.10.0.77', dst: '10.10.0.10' }, udp: { sport: 5, dport: 6 } } };
    runFrames(engine, [fromUplinkMac, fromClient]);
    tracer.finish();
    expect(tracer.done.map((t) => `${t.ingress.port} by ${t.ingress.by}`)).toEqual(['eth0 by source MAC', 'eth0 by default (first uplink)']);
  });
});
