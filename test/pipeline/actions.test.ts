/**
 * Rule actions other than allow/block, carried out by the pipeline on layers built by hand (the
 * HNS -> VFP stage makes none of them yet; the NAT, Overlay and L2Bridge drivers will): a static
 * rewrite (addresses, ports) undone on the reverse entry of its flow pair, MSS clamp, MAC rewrite
 * (the switch follows the new destination MAC), VLAN push as a rule action, meters; every
 * checksum of the output equal to a full recomputation; encap/decap refused at compile time.
 */
import { describe, expect, it } from 'vitest';
import { checksum, pseudoHeaderSum4 } from '../../src/base/checksum.js';
import { loadTopology } from '../../src/config/topology.js';
import { enumeratePorts } from '../../src/config/ports.js';
import { Engine } from '../../src/pipeline/engine.js';
import { compilePortPolicies } from '../../src/pipeline/policy.js';
import { compileHnsPolicies } from '../../src/vfp/hns.js';
import type { Layer, RuleAction } from '../../src/vfp/model.js';
import { parseIPv4 } from '../../src/wire/format.js';
import { CLIENT, DB, decodeFrame, runFrames, transparentTopology, WEB } from './helpers.js';

/** web gets one extra layer per action (a layer decides one action: its last matching group's rule). */
function engineWith(actions: RuleAction[]): Engine {
  const t = loadTopology(transparentTopology([{ Action: 'Allow', Direction: 'Out', Priority: 1000 }, { Action: 'Allow', Direction: 'In', Priority: 1000 }]), 'test');
  const ports = enumeratePorts(t);
  const hns = compileHnsPolicies(t, ports);
  const policies = hns.ports.map((p) => (p.name === 'web' ? { ...p, layers: [...p.layers, ...actions.map(actionLayer)] } : p));
  return new Engine(compilePortPolicies(t, ports, policies, [], 1));
}

function actionLayer(action: RuleAction, n: number): Layer {
  return {
    name: `TEST_LAYER_${n}`,
    priority: 200 + n,
    defaultAllow: true,
    defaultReason: 'acl-block',
    groups: [
      {
        name: `G${n}`,
        priority: 1,
        direction: 'out',
        family: 4,
        conditions: {},
        rules: [{ id: `R${n}`, priority: 1, conditions: { protocols: [6] }, action, terminating: false, stateful: true, flowTtl: 60, origin: 'test' }],
      },
    ],
  };
}

function checksumsValid(bytes: Uint8Array): void {
  const { l3, l4 } = decodeFrame(bytes);
  expect(checksum(bytes, l3, 20), 'IPv4 header').toBe(0);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const total = v.getUint16(l3 + 2);
  const src = v.getUint32(l3 + 12);
  const dst = v.getUint32(l3 + 16);
  expect(checksum(bytes, l4, total - 20, pseudoHeaderSum4(src, dst, 6, total - 20)), 'TCP').toBe(0);
}

const MSS = [2, 4, 0x05, 0xb4];
const syn = { from: 'web', frame: { src: WEB, dst: CLIENT, ip: { src: '10.10.0.10', dst: '10.10.0.50' }, tcp: { sport: 50000, dport: 80, flags: 0x02, options: MSS } } };
const synAck = { from: 'eth0', frame: { src: CLIENT, dst: WEB, ip: { src: '10.10.0.50', dst: '192.0.2.10' }, tcp: { sport: 80, dport: 40000, flags: 0x12, options: MSS } } };

describe('pipeline: rule actions', () => {
  it('rewrites source address and port (checksums fixed), and the reverse entry undoes it for the reply', () => {
    const e = engineWith([{ type: 'rewrite', srcAddr: [parseIPv4('192.0.2.10'), 0, 0, 0], srcPort: 40000 }]);
    const sink = runFrames(e, [syn, synAck]);
    const [out, back] = sink.outs;
    expect(out).toMatchObject({ kind: 'forward', port: 'eth0' });
    expect(decodeFrame(out!.bytes).d.ip).toMatchObject({ src: '192.0.2.10', dst: '10.10.0.50' });
    expect(decodeFrame(out!.bytes).d.l4).toMatchObject({ sport: 40000, dport: 80 });
    checksumsValid(out!.bytes);
    expect(back).toMatchObject({ kind: 'forward', port: 'web', hit: true });
    expect(decodeFrame(back!.bytes).d.ip).toMatchObject({ src: '10.10.0.50', dst: '10.10.0.10' });
    expect(decodeFrame(back!.bytes).d.l4).toMatchObject({ sport: 80, dport: 50000 });
    checksumsValid(back!.bytes);
  });

  it('clamps the MSS of SYNs in both directions, counts meters, pushes a VLAN tag as a rule action', () => {
    const e = engineWith([{ type: 'mss-clamp', delta: 50 }, { type: 'meter', meter: 'web-out' }, { type: 'vlan-push', vid: 300 }]);
    const reply = { from: 'eth0', frame: { ...synAck.frame, vlan: 300, ip: { src: '10.10.0.50', dst: '10.10.0.10' }, tcp: { sport: 80, dport: 50000, flags: 0x12, options: MSS } } };
    const sink = runFrames(e, [syn, reply]);
    const [out, back] = sink.outs;
    const o = out!.bytes;
    expect(decodeFrame(o).d.vlan).toEqual([300]);
    expect(Array.from(o.subarray(18 + 20 + 20, 18 + 20 + 24))).toEqual([2, 4, 0x05, 0x82]); // 1460 - 50
    const b = back!.bytes;
    expect(back).toMatchObject({ port: 'web', hit: true });
    expect(decodeFrame(b).d.vlan).toBeUndefined();
    expect(Array.from(b.subarray(14 + 20 + 20, 14 + 20 + 24))).toEqual([2, 4, 0x05, 0x82]);
    checksumsValid(b);
    expect(e.policy.meters).toEqual(['web-out']);
    expect(e.meterPackets[0]).toBe(2);
    expect(e.meterBytes[0]).toBe(o.length + b.length);
  });

  it('a destination MAC rewrite sends the frame where that MAC lives', () => {
    const e = engineWith([{ type: 'mac-rewrite', dst: { hi: 0x0015, lo: 0x5d0a0014 } }]);
    const sink = runFrames(e, [syn]);
    expect(sink.outs[0]).toMatchObject({ kind: 'forward', port: 'db' });
    expect(decodeFrame(sink.outs[0]!.bytes).d.eth?.dst).toBe(DB);
  });

  it('refuses encap and decap until the Overlay driver', () => {
    expect(() => engineWith([{ type: 'decap' }])).toThrow(/action 'decap' is carried out by the Overlay driver/);
  });
});
