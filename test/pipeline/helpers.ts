/**
 * Test helpers for the pipeline: topologies as plain objects, frames from FrameSpecs, and an
 * engine run that records everything the sink receives.
 */
import { loadTopology } from '../../src/config/topology.js';
import { FrameBatch } from '../../src/frame/batch.js';
import { Engine } from '../../src/pipeline/engine.js';
import type { EngineOptions, FrameSink, IngressMap } from '../../src/pipeline/engine.js';
import { EMIT_FORWARD } from '../../src/pipeline/output.js';
import type { EmitBatch } from '../../src/pipeline/output.js';
import { compilePolicy } from '../../src/pipeline/policy.js';
import type { Policy, PolicyOptions } from '../../src/pipeline/policy.js';
import { buildFrame } from '../../src/synth/frame.js';
import type { FrameSpec } from '../../src/synth/frame.js';
import { DROP_REASONS } from '../../src/base/reasons.js';
import { describeFrame } from '../../src/parse/describe.js';
import type { FrameDescription } from '../../src/parse/describe.js';
import { parseBatch } from '../../src/parse/parse.js';

/** Parse one frame on its own (VXLAN off): its description and L3/L4 offsets. */
export function decodeFrame(bytes: Uint8Array): { d: FrameDescription; l3: number; l4: number } {
  const b = new FrameBatch(1, bytes);
  b.offsets[0] = 0;
  b.lengths[0] = bytes.length;
  b.wireLengths[0] = bytes.length;
  b.numbers[0] = 1;
  b.count = 1;
  parseBatch(b, -1);
  return { d: describeFrame(b, 0), l3: b.l3Offsets[0]!, l4: b.l4Offsets[0]! };
}

export interface Out {
  kind: 'forward' | 'drop';
  /** Egress port name (forward) or ingress port name (drop). */
  port: string;
  from: string;
  number: number;
  reason?: string;
  hit: boolean;
  generated: number;
  bytes: Uint8Array;
  wireLength: number;
}

export class RecordingSink implements FrameSink {
  readonly outs: Out[] = [];
  constructor(private readonly names: () => readonly string[]) {}
  emit(out: EmitBatch): void {
    const names = this.names();
    const input = out.input!;
    for (let j = 0; j < out.count; j++) {
      const d = out.dataOf(j);
      const o = out.offsetOf(j);
      const bytes = d.slice(o, o + out.lengthOf(j));
      const number = input.numbers[out.frames[j]!]!;
      const port = out.ports[j]!;
      const common = { number, hit: out.hitOf(j) === 1, generated: out.generatedOf(j), bytes, wireLength: out.wireLengthOf(j) };
      if (out.kindOf(j) === EMIT_FORWARD) this.outs.push({ kind: 'forward', port: names[port]!, from: names[out.ingressOf(j)]!, ...common });
      else this.outs.push({ kind: 'drop', port: names[port] ?? '-', from: names[port] ?? '-', reason: DROP_REASONS[out.reasons[j]!], ...common });
    }
  }
}

export interface Sent {
  /** Ingress port name. */
  from: string;
  frame: FrameSpec;
  /** Seconds after the start. */
  at?: number;
  snap?: number;
}

export function policyOf(doc: object, options: PolicyOptions = {}, generation = 1): Policy {
  return compilePolicy(loadTopology(doc, 'test topology'), generation, options);
}

/** Run frames through an engine in batches of `batchSize`; returns the recording sink. */
export function runFrames(engine: Engine, sent: readonly Sent[], batchSize = 512, startNumber = 1): RecordingSink {
  const sink = new RecordingSink(() => engine.policy.portNames);
  const frames = sent.map((s) => buildFrame(s.frame));
  const total = frames.reduce((a, f) => a + f.length, 0);
  for (let start = 0; start < sent.length; start += batchSize) {
    const end = Math.min(sent.length, start + batchSize);
    const slab = new Uint8Array(total + 64);
    const batch = new FrameBatch(batchSize, slab);
    let at = 7; // not at offset 0: offsets are absolute
    for (let i = start; i < end; i++) {
      const f = frames[i]!;
      slab.set(f, at);
      const j = i - start;
      batch.offsets[j] = at;
      batch.lengths[j] = Math.min(sent[i]!.snap ?? f.length, f.length);
      batch.wireLengths[j] = f.length;
      const t = 1_700_000_000 + (sent[i]!.at ?? i * 0.001);
      batch.timestampSeconds[j] = Math.floor(t);
      batch.timestampNanos[j] = Math.round((t - Math.floor(t)) * 1e9);
      batch.numbers[j] = startNumber + i;
      batch.sources[j] = engine.policy.portNames.indexOf(sent[i]!.from);
      at += f.length;
    }
    batch.count = end - start;
    const map: IngressMap = { byInterface: Int32Array.from(engine.policy.portNames.map((_, p) => p)), forced: -1 };
    engine.process(batch, map, sink);
  }
  return sink;
}

export function engineOf(doc: object, options: EngineOptions = {}, policyOptions: PolicyOptions = {}): Engine {
  return new Engine(policyOf(doc, policyOptions), options);
}

// ---- topologies ---------------------------------------------------------------------------------

export const WEB = '00:15:5d:0a:00:0a';
export const DB = '00:15:5d:0a:00:14';
export const APP = '00:15:5d:0a:64:1e';
export const CLIENT = '02:00:0a:0a:00:32';
export const ROUTER = '02:00:0a:0a:00:01';

/** The transparent sample's topology, with extra ACLs for web when given. */
export function transparentTopology(webAcls?: object[], extra: { firewall?: object } = {}): object {
  const acls = webAcls ?? [
    { Action: 'Allow', Direction: 'In', Protocols: '6', LocalPorts: '80', RuleType: 'Switch', Priority: 100 },
    { Action: 'Block', Direction: 'Out', Protocols: '6', RemotePorts: '25', RuleType: 'Switch', Priority: 200 },
    { Action: 'Allow', Direction: 'Out', RuleType: 'Switch', Priority: 1000 },
  ];
  return {
    host: { name: 'h', uplinks: [{ name: 'eth0', mac: '00-15-5D-00-00-01', ip: '10.10.0.2/24' }], ...extra },
    networks: [
      {
        Name: 'ext',
        Type: 'Transparent',
        Ipams: [
          {
            Type: 'Static',
            Subnets: [
              { IpAddressPrefix: '10.10.0.0/24', Routes: [{ NextHop: '10.10.0.1', DestinationPrefix: '0.0.0.0/0' }] },
              { IpAddressPrefix: '10.10.100.0/24', Routes: [{ NextHop: '10.10.100.1', DestinationPrefix: '0.0.0.0/0' }], Policies: [{ Type: 'VLAN', Settings: { IsolationId: 100 } }] },
            ],
          },
        ],
      },
    ],
    endpoints: [
      { Name: 'web', HostComputeNetwork: 'ext', MacAddress: WEB, IpConfigurations: [{ IpAddress: '10.10.0.10', PrefixLength: 24 }], Policies: acls.map((s) => ({ Type: 'ACL', Settings: { RuleType: 'Switch', ...s } })) },
      { Name: 'db', HostComputeNetwork: 'ext', MacAddress: DB, IpConfigurations: [{ IpAddress: '10.10.0.20', PrefixLength: 24 }] },
      { Name: 'app', HostComputeNetwork: 'ext', MacAddress: APP, IpConfigurations: [{ IpAddress: '10.10.100.30', PrefixLength: 24 }] },
    ],
  };
}

export const NAT_WEB = '00:15:5d:aa:10:0a';
export const NAT_API = '00:15:5d:aa:10:0b';
export const NAT_VNIC = '00:15:5d:00:10:01';

/** A NAT network with a host vNIC (the gateway 172.20.0.1) and two containers, plus an internal network of its own. */
export function natTopology(): object {
  return {
    host: { name: 'h', uplinks: [{ name: 'eth0', mac: '00-15-5D-00-00-01', ip: '10.99.0.2/24' }], vnics: [{ network: 'nat', mac: NAT_VNIC }] },
    networks: [
      { Name: 'nat', Type: 'NAT', Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: '172.20.0.0/16', Routes: [{ NextHop: '172.20.0.1', DestinationPrefix: '0.0.0.0/0' }] }] }] },
      { Name: 'priv', Type: 'Private', Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: '192.168.50.0/24' }] }] },
    ],
    endpoints: [
      { Name: 'web', HostComputeNetwork: 'nat', MacAddress: NAT_WEB, IpConfigurations: [{ IpAddress: '172.20.0.10', PrefixLength: 16 }] },
      { Name: 'api', HostComputeNetwork: 'nat', MacAddress: NAT_API, IpConfigurations: [{ IpAddress: '172.20.0.11', PrefixLength: 16 }] },
      { Name: 'lone', HostComputeNetwork: 'priv', MacAddress: '00:15:5d:bb:00:01', IpConfigurations: [{ IpAddress: '192.168.50.5', PrefixLength: 24 }] },
    ],
  };
}
