/**
 * Random streams for the oracle test, from a seed: a topology (uplinks, networks of every type,
 * subnets with and without VLANs, IPv6 subnets, host vNICs, endpoints), a policy per generation
 * (endpoint and network ACLs with every action, direction, rule type, priorities with ties,
 * protocol, port and address conditions; firewall settings; and in "layers" streams hand-built
 * VFP layers on any port with every rule action: rewrites, MAC rewrites, VLAN push/pop, meters,
 * MSS clamps, stateful or not, terminating or not, with random group and rule priorities and
 * conditions, plus single-purpose layers (a NAT-like source rewrite, an MSS clamp, a MAC
 * rewrite toward another port) so that those paths are common), and traffic between the
 * endpoints, host vNICs and hosts behind the uplinks: conversations of TCP (SYN with MSS
 * options, ACK, FIN, RST ...), UDP, ICMP echo and GRE in both directions, IPv6, ARP, pings to
 * the gateway (now and then broadcast), broadcast and multicast, unknown and own MACs, other
 * EtherTypes, VLAN tags right, wrong and on access ports, QinQ, IPv4 options and fragments,
 * frames snapped anywhere or only into their payload, malformed frames, frames whose capture
 * interface names no port or the wrong port. The packet clock mostly ticks, and sometimes
 * jumps exactly one timeout (UFT TTL, flow TTLs, the RST cut) after the previous frame or after
 * a conversation's last frame, or far past every timeout; it never goes back unless asked
 * (`backwards`: see the known out-of-order bug in oracle.test.ts). Batches of random sizes.
 */
import { Prng } from '../../src/base/bytes.js';
import { loadTopology } from '../../src/config/topology.js';
import { enumeratePorts } from '../../src/config/ports.js';
import { compilePolicy, compilePortPolicies } from '../../src/pipeline/policy.js';
import type { Policy } from '../../src/pipeline/policy.js';
import { buildFrame } from '../../src/synth/frame.js';
import type { FrameSpec } from '../../src/synth/frame.js';
import { compileHnsPolicies } from '../../src/vfp/hns.js';
import type { Conditions, Group, Layer, Mac, PortPolicy, Prefix, Rule, RuleAction } from '../../src/vfp/model.js';
import type { InputFrame, StreamSetup } from './outcome.js';

export interface Stream {
  seed: number;
  mode: 'hns' | 'layers';
  setup: StreamSetup;
  frames: InputFrame[];
  batches: number[];
}

class R {
  private readonly p: Prng;
  constructor(seed: number) {
    this.p = new Prng(seed);
  }
  below(n: number): number {
    return this.p.below(n);
  }
  chance(x: number): boolean {
    return this.p.below(1_000_000) < x * 1_000_000;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.p.below(list.length)]!;
  }
  fork(): R {
    return new R(this.p.nextU32());
  }
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

// ---- topology ----------------------------------------------------------------------------------------

interface NetSkel {
  name: string;
  type: string;
  adapter: string | null;
  subnets: { v4: string; gw: string; vlan: number | null; index: number }[];
  v6: { prefix: string; gw: string; base: string } | null;
  vnic: string | null;
}

interface EpSkel {
  name: string;
  net: number;
  mac: string;
  v4: string;
  v6: string | null;
}

interface Skeleton {
  uplinks: { name: string; mac: string }[];
  nets: NetSkel[];
  eps: EpSkel[];
}

const TYPES = ['Transparent', 'Transparent', 'L2Bridge', 'L2Tunnel', 'NAT', 'ICS', 'Internal', 'Private'];

function skeleton(r: R): Skeleton {
  const uplinks = Array.from({ length: r.pick([0, 1, 1, 1, 2]) }, (_, i) => ({ name: `eth${i}`, mac: `00:15:5d:00:00:0${i + 1}` }));
  const nets: NetSkel[] = [];
  const netCount = 1 + r.below(3);
  for (let n = 0; n < netCount; n++) {
    const type = r.pick(TYPES);
    const subnets = Array.from({ length: 1 + r.below(2) }, (_, s) => ({
      v4: `10.${20 + n}.${s}.0/24`,
      gw: `10.${20 + n}.${s}.1`,
      vlan: r.chance(0.45) ? r.pick([100, 200, 7]) : null,
      index: s,
    }));
    nets.push({
      name: `net${n}`,
      type,
      adapter: uplinks.length > 0 && r.chance(0.7) ? r.pick(uplinks).name : null,
      subnets,
      v6: r.chance(0.6) ? { prefix: `fd00:${n}::/64`, gw: `fd00:${n}::1`, base: `fd00:${n}::` } : null,
      vnic: !['NAT', 'ICS', 'Internal'].includes(type) && r.chance(0.3) ? `00:15:5d:00:7${n}:01` : null,
    });
  }
  const eps: EpSkel[] = [];
  nets.forEach((net, n) => {
    const count = 1 + r.below(3);
    for (let k = 0; k < count; k++) {
      const s = r.pick(net.subnets);
      eps.push({
        name: `e${n}${k}`,
        net: n,
        mac: `00:15:5d:a${n}:${hex2(s.index)}:${hex2(10 + k)}`,
        v4: `10.${20 + n}.${s.index}.${10 + k}`,
        v6: net.v6 && r.chance(0.8) ? `${net.v6.base}${10 + k}` : null,
      });
    }
  });
  return { uplinks, nets, eps };
}

// ---- policy -------------------------------------------------------------------------------------------

const ACL_PORTS = ['80', '443', '22', '53', '8080', '1000-2000', '40000-40010', '80,443', '0-100'];

function aclAddresses(r: R, sk: Skeleton): string {
  const pool = ['10.20.0.0/16', '10.21.0.0/24', '198.51.100.0/24', '203.0.113.7', '0.0.0.0/0', 'fd00::/16', '2001:db8::/32', '10.20.0.0/24,fd00:1::/64', ...sk.eps.map((e) => e.v4)];
  return r.pick(pool);
}

function acl(r: R, sk: Skeleton, n: number): object {
  const s: Record<string, unknown> = {
    Action: r.chance(0.05) ? 'Pass' : r.chance(0.55) ? 'Allow' : 'Block',
    Direction: r.pick(['In', 'Out']),
    RuleType: r.chance(0.8) ? 'Switch' : 'Host',
    Priority: r.pick([100, 100, 200, 300, 1000, 50, 65000]),
    Id: `acl-${n}`,
  };
  if (r.chance(0.6)) s.Protocols = r.pick(['6', '17', '1', '6,17', '58', '47', '6,1']);
  if (r.chance(0.35)) s.LocalPorts = r.pick(ACL_PORTS);
  if (r.chance(0.3)) s.RemotePorts = r.pick(ACL_PORTS);
  if (r.chance(0.25)) s.LocalAddresses = aclAddresses(r, sk);
  if (r.chance(0.3)) s.RemoteAddresses = aclAddresses(r, sk);
  return { Type: 'ACL', Settings: s };
}

function topologyDoc(sk: Skeleton, r: R): object {
  let n = 0;
  const host: Record<string, unknown> = {
    name: 'h',
    uplinks: sk.uplinks.map((u, i) => ({ name: u.name, mac: u.mac, ip: `10.99.${i}.2/24` })),
    vnics: sk.nets.filter((x) => x.vnic !== null).map((x) => ({ network: x.name, mac: x.vnic })),
  };
  if (r.chance(0.25)) {
    host.firewall = r.chance(0.3) ? { isolation: 'hyperv' } : { inboundProtocols: r.pick([[6, 17], [6], [1, 17, 47], [6, 17, 1, 2]]), inboundProtocols6: r.pick([[6, 17, 58], [58]]), flowTtl: r.pick([240, 30, 10]) };
  }
  return {
    host,
    networks: sk.nets.map((net) => ({
      Name: net.name,
      Type: net.type,
      Ipams: [
        {
          Type: 'Static',
          Subnets: [
            ...net.subnets.map((s) => ({ IpAddressPrefix: s.v4, Routes: [{ NextHop: s.gw, DestinationPrefix: '0.0.0.0/0' }], ...(s.vlan !== null ? { Policies: [{ Type: 'VLAN', Settings: { IsolationId: s.vlan } }] } : {}) })),
            ...(net.v6 ? [{ IpAddressPrefix: net.v6.prefix, Routes: [{ NextHop: net.v6.gw, DestinationPrefix: '::/0' }] }] : []),
          ],
        },
      ],
      Policies: [
        ...(net.adapter !== null ? [{ Type: 'NetAdapterName', Settings: { NetworkAdapterName: net.adapter } }] : []),
        ...(r.chance(0.15) ? [{ Type: 'NetworkACL', Settings: (acl(r, sk, n++) as { Settings: object }).Settings }] : []),
      ],
    })),
    endpoints: sk.eps.map((e) => ({
      Name: e.name,
      HostComputeNetwork: sk.nets[e.net]!.name,
      MacAddress: e.mac,
      IpConfigurations: [{ IpAddress: e.v4, PrefixLength: 24 }, ...(e.v6 ? [{ IpAddress: e.v6, PrefixLength: 64 }] : [])],
      Policies: r.chance(0.35) ? [] : Array.from({ length: 1 + r.below(5) }, () => acl(r, sk, n++)),
    })),
  };
}

function v4w(text: string): number {
  return text.split('.').reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);
}

function v6w(text: string): number[] {
  // only the forms used here: `fd00:N::K`, `2001:db8::K`
  const [head, tail] = text.split('::');
  const h = head!.split(':').map((x) => parseInt(x, 16));
  const t = tail ? tail.split(':').map((x) => parseInt(x, 16)) : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
}

function macw(text: string): Mac {
  const b = text.split(':').map((x) => parseInt(x, 16));
  return { hi: (b[0]! << 8) | b[1]!, lo: ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0 };
}

function prefix(r: R, family: 4 | 6, sk: Skeleton): Prefix {
  if (family === 4) {
    const e = r.pick(sk.eps);
    const base = r.pick([v4w(e.v4), v4w('198.51.100.7'), v4w('10.20.0.0'), v4w('10.21.1.0')]);
    const length = r.pick([0, 8, 16, 24, 24, 32, 32]);
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return { family: 4, words: [(base & mask) >>> 0, 0, 0, 0], length };
  }
  const words = r.pick([v6w('fd00:0::10'), v6w('fd00:1::11'), v6w('2001:db8::7'), v6w('fd00:0::1')]);
  const length = r.pick([0, 16, 64, 128, 128]);
  return { family: 6, words: words.map((w, i) => (length >= 32 * (i + 1) ? w : length <= 32 * i ? 0 : (w & ((0xffffffff << (32 - (length - 32 * i))) >>> 0)) >>> 0)), length };
}

function conditions(r: R, family: 4 | 6, sk: Skeleton, macs: string[]): Conditions {
  const c: Conditions = {};
  if (r.chance(0.4)) c.protocols = family === 4 ? r.pick([[6], [17], [1], [6, 17], [47], [6, 1], [58]]) : r.pick([[6], [17], [58], [6, 17], [1]]);
  if (r.chance(0.25)) c.srcPrefixes = [prefix(r, family, sk), ...(r.chance(0.3) ? [prefix(r, r.pick([4, 6] as const), sk)] : [])];
  if (r.chance(0.25)) c.dstPrefixes = [prefix(r, family, sk)];
  if (r.chance(0.2)) c.srcPorts = [r.pick([{ from: 80, to: 80 }, { from: 40000, to: 40010 }, { from: 0, to: 1024 }, { from: 53, to: 53 }])];
  if (r.chance(0.25)) c.dstPorts = [r.pick([{ from: 80, to: 80 }, { from: 443, to: 443 }, { from: 22, to: 22 }, { from: 53, to: 53 }, { from: 1, to: 1024 }, { from: 8080, to: 8080 }])];
  if (r.chance(0.1)) c.srcMacs = [macw(r.pick(macs))];
  if (r.chance(0.1)) c.dstMacs = [macw(r.pick(macs))];
  if (r.chance(0.1)) c.vlans = [r.pick([0, 100, 200, 7])];
  return c;
}

function action(r: R, family: 4 | 6, sk: Skeleton, macs: string[]): RuleAction {
  const x = r.below(100);
  if (x < 40) return { type: 'allow' };
  if (x < 52) return { type: 'block', reason: r.pick(['acl-block', 'acl-default-deny', 'firewall-protocol'] as const) };
  if (x < 72) {
    const a: { type: 'rewrite'; srcAddr?: number[]; dstAddr?: number[]; srcPort?: number; dstPort?: number } = { type: 'rewrite' };
    const addr = (): number[] => (family === 4 ? [v4w(r.pick(['192.0.2.10', '10.20.0.99', ...sk.eps.map((e) => e.v4)]))] : v6w(r.pick(['2001:db8::99', 'fd00:0::99'])));
    if (r.chance(0.5)) a.srcAddr = addr();
    if (r.chance(0.4)) a.dstAddr = addr();
    if (r.chance(0.4)) a.srcPort = r.pick([40000, 5555, 80]);
    if (r.chance(0.3)) a.dstPort = r.pick([8080, 80, 443]);
    return a;
  }
  if (x < 80) {
    const a: { type: 'mac-rewrite'; src?: Mac; dst?: Mac } = { type: 'mac-rewrite' };
    if (r.chance(0.6)) a.src = macw(r.pick(['02:00:00:00:99:01', ...macs]));
    if (r.chance(0.6)) a.dst = macw(r.pick(['02:00:00:00:99:02', '01:00:5e:00:00:01', ...macs]));
    return a;
  }
  if (x < 85) return { type: 'vlan-push', vid: r.pick([100, 200, 300, 7]) };
  if (x < 89) return { type: 'vlan-pop' };
  if (x < 95) return { type: 'meter', meter: r.pick(['m0', 'm1', 'm2']) };
  return { type: 'mss-clamp', delta: r.pick([20, 50, 1400]) };
}

/**
 * A layer of one purpose, outbound, for any packet of one family (or one protocol), stateful: a
 * NAT-like static rewrite of the source (address, sometimes port), an MSS clamp, or a MAC
 * rewrite toward another port of the topology.
 */
function purposeLayer(r: R, n: number, macs: string[]): Layer {
  const family = r.chance(0.5) ? 4 : 6;
  const kind = r.below(10);
  const action: RuleAction =
    kind < 6
      ? { type: 'rewrite', srcAddr: family === 4 ? [v4w(r.pick(['192.0.2.10', '10.20.0.99']))] : v6w(r.pick(['2001:db8::99', 'fd00:1::99'])), ...(r.chance(0.5) ? { srcPort: r.pick([40000, 5555]) } : {}) }
      : kind < 8
        ? { type: 'mss-clamp', delta: r.pick([40, 100]) }
        : { type: 'mac-rewrite', dst: macw(r.pick(macs)), ...(r.chance(0.5) ? { src: macw('02:00:00:00:99:03') } : {}) };
  const rule: Rule = { id: `P${n}`, priority: 1, conditions: r.chance(0.5) ? {} : { protocols: [r.pick([6, 17, family === 4 ? 1 : 58])] }, action, terminating: true, stateful: true, flowTtl: r.pick([240, 30]), origin: 'oracle test' };
  return { name: `TEST_PURPOSE_${n}`, priority: 300 + n, defaultAllow: true, defaultReason: 'acl-block', groups: [{ name: 'NAT', priority: 1, direction: 'out', family, conditions: {}, rules: [rule] }] };
}

function randomLayer(r: R, n: number, sk: Skeleton, macs: string[]): Layer {
  if (r.chance(0.25)) return purposeLayer(r, n, macs);
  const groups: Group[] = [];
  const gcount = 1 + r.below(4);
  for (let g = 0; g < gcount; g++) {
    const family = r.chance(0.65) ? 4 : 6;
    const rules: Rule[] = [];
    const rcount = 1 + r.below(5);
    for (let k = 0; k < rcount; k++) {
      const stateful = r.chance(0.5);
      rules.push({
        id: `L${n}G${g}R${k}`,
        priority: r.pick([1, 1, 2, 5, 10, 100]),
        conditions: conditions(r, family, sk, macs),
        action: action(r, family, sk, macs),
        terminating: r.chance(0.4),
        stateful,
        flowTtl: stateful ? r.pick([240, 30, 5, 0]) : 0,
        origin: 'oracle test',
      });
    }
    groups.push({ name: `G${g}`, priority: r.pick([1, 1, 2, 3]), direction: r.pick(['in', 'out'] as const), family, conditions: r.chance(0.15) ? conditions(r, family, sk, macs) : {}, rules });
  }
  return { name: `TEST_LAYER_${n}`, priority: 200 + n, defaultAllow: r.chance(0.7), defaultReason: r.pick(['acl-default-deny', 'firewall-protocol', 'acl-block'] as const), groups };
}

function policyFor(sk: Skeleton, r: R, generation: number, mode: 'hns' | 'layers'): Policy {
  const t = loadTopology(topologyDoc(sk, r), `oracle topology`);
  if (mode === 'hns') return compilePolicy(t, generation);
  const ports = enumeratePorts(t);
  const hns = compileHnsPolicies(t, ports);
  const macs = [...ports.map((p) => p.mac.text), '02:00:00:00:00:01'];
  let n = 0;
  const policies: PortPolicy[] = hns.ports.map((p) => {
    if (!r.chance(p.kind === 'endpoint' ? 0.5 : 0.25)) return p;
    const layers = [...p.layers];
    const count = 1 + r.below(2);
    for (let i = 0; i < count; i++) layers.splice(r.below(layers.length + 1), 0, randomLayer(r, n++, sk, macs));
    return { ...p, layers };
  });
  return compilePortPolicies(t, ports, policies, [], generation);
}

// ---- traffic ---------------------------------------------------------------------------------------

interface Node {
  name: string;
  /** The port its frames enter from. */
  port: string;
  mac: string;
  v4: string;
  v6: string | null;
  /** Endpoint or vNIC: its access VLAN; external: 0. */
  vlan: number;
  kind: 'endpoint' | 'vnic' | 'external';
  /** Network index (endpoints, vNICs); for externals the networks of their uplink. */
  nets: number[];
  uplink: string | null;
}

interface Conv {
  a: Node;
  b: Node;
  /** Time of its last frame (ms after the start), -1 before the first. */
  last: number;
  v6: boolean;
  proto: 'tcp' | 'udp' | 'icmp' | 'gre';
  sport: number;
  dport: number;
}

const FLAGS = [0x02, 0x12, 0x10, 0x10, 0x10, 0x18, 0x11, 0x04, 0x14, 0x02];
const MSS_OPTIONS = [
  [2, 4, 5, 0xb4],
  [1, 2, 4, 5, 0xb4, 1, 1, 0],
];

function nodesOf(p: Policy, sk: Skeleton): Node[] {
  const nodes: Node[] = [];
  for (const port of p.ports) {
    const v4 = port.ips.find((x) => x.address.family === 4)?.address.text ?? null;
    const v6 = port.ips.find((x) => x.address.family === 6)?.address.text ?? null;
    if (port.kind === 'endpoint' || port.kind === 'vnic') {
      if (v4 === null) continue;
      nodes.push({ name: port.name, port: port.name, mac: port.mac.text, v4, v6, vlan: port.vlan ?? 0, kind: port.kind, nets: [port.network!], uplink: null });
    }
  }
  p.ports.forEach((port) => {
    if (port.kind !== 'uplink') return;
    const nets = p.topology.networks.filter((n) => n.uplink === port.uplink).map((n) => n.index);
    for (let k = 0; k < 2; k++) {
      const local = nets.length > 0 && k === 0;
      const n = local ? nets[0]! : 0;
      nodes.push({
        name: `${port.name}-peer${k}`,
        port: port.name,
        mac: `02:00:00:00:${hex2(port.uplink)}:${hex2(k + 1)}`,
        v4: local ? `10.${20 + n}.0.${50 + k}` : `198.51.100.${7 + k}`,
        v6: local && sk.nets[n]?.v6 ? `${sk.nets[n]!.v6!.base}5${k}` : `2001:db8::${7 + k}`,
        vlan: 0,
        kind: 'external',
        nets,
        uplink: port.name,
      });
    }
  });
  return nodes;
}

/** Whether a talks to b on the same L2 segment or through a's uplink (the pairs traffic is made for). */
function reachable(a: Node, b: Node): boolean {
  if (a === b) return false;
  if (a.kind === 'external' && b.kind === 'external') return false;
  if (a.kind === 'external') return b.nets.some((n) => a.nets.includes(n));
  if (b.kind === 'external') return a.nets.some((n) => b.nets.includes(n));
  return a.nets[0] === b.nets[0];
}

class Traffic {
  private readonly convs: Conv[] = [];
  private t = 0; // milliseconds after the start
  private lastJump = 0;
  constructor(
    private readonly r: R,
    private readonly nodes: Node[],
    private readonly ttls: number[],
    private readonly uplinkNames: string[],
    /** Let the clock jump back now and then (out-of-order timestamps). */
    private readonly backwards: boolean,
  ) {}

  private stamp(): { sec: number; ns: number } {
    return { sec: 1_700_000_000 + Math.floor(this.t / 1000), ns: (this.t % 1000) * 1_000_000 };
  }

  /** The time of a conversation's next frame: now and then exactly a timeout after its last frame (when that is not in the past). */
  private clockFor(conv: Conv): { sec: number; ns: number } {
    const r = this.r;
    if (conv.last >= 0 && r.chance(0.12)) {
      const at = conv.last + 1000 * r.pick(this.ttls);
      if (at >= this.t) {
        this.t = at;
        return this.stamp();
      }
    }
    return this.clock();
  }

  private clock(): { sec: number; ns: number } {
    const r = this.r;
    const x = r.below(40);
    if (x === 0) this.t += 1000 * r.pick(this.ttls); // exactly a timeout after the previous frame
    else if (x === 1) this.t += 100_000 + r.below(300_000);
    else if (x === 2) this.t += 3000 + r.below(6000);
    else if (x === 3 && this.lastJump + 1000 * this.ttls[0]! > this.t) this.t = this.lastJump + 1000 * this.ttls[0]!; // exactly a timeout after an earlier frame
    else if (x === 4 && this.backwards) this.t = Math.max(0, this.t - r.below(60_000)); // out of order
    else this.t += r.below(1000);
    if (r.chance(0.05)) this.lastJump = this.t;
    return this.stamp();
  }

  private spec(conv: Conv, forward: boolean): { from: Node; to: Node; spec: FrameSpec } {
    const r = this.r;
    const from = forward ? conv.a : conv.b;
    const to = forward ? conv.b : conv.a;
    const v6 = conv.v6 && from.v6 !== null && to.v6 !== null;
    const spec: FrameSpec = { src: from.mac, dst: to.mac, ip: { src: v6 ? from.v6! : from.v4, dst: v6 ? to.v6! : to.v4, ttl: r.pick([64, 128]) } };
    const sport = forward ? conv.sport : conv.dport;
    const dport = forward ? conv.dport : conv.sport;
    if (conv.proto === 'tcp') {
      const flags = r.pick(FLAGS);
      spec.tcp = { sport, dport, flags, seq: r.below(1 << 30), ...((flags & 0x02) !== 0 && r.chance(0.7) ? { options: r.pick(MSS_OPTIONS) } : {}), ...(r.chance(0.3) ? { payload: 'data'.repeat(1 + r.below(30)) } : {}) };
    } else if (conv.proto === 'udp') spec.udp = { sport, dport, payload: r.pick(['q', 'answer', '', 'a longer datagram'.repeat(1 + r.below(8))]) };
    else if (conv.proto === 'icmp') spec.icmp = { request: r.chance(0.15) ? !forward : forward, id: conv.sport & 0xff, seq: r.below(100) };
    else spec.raw = { protocol: 47, payload: 'gre-payload' };
    return { from, to, spec };
  }

  private newConv(): Conv | null {
    const r = this.r;
    const a = r.pick(this.nodes);
    const peers = this.nodes.filter((b) => reachable(a, b));
    if (peers.length === 0) return null;
    const b = r.pick(peers);
    const proto = r.pick(['tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'icmp', 'gre'] as const);
    const conv: Conv = { a, b, last: -1, v6: a.v6 !== null && b.v6 !== null && r.chance(0.5), proto, sport: r.pick([40000, 40001, 40002, 53000, 80, 7]), dport: r.pick([80, 443, 22, 53, 8080, 25]) };
    this.convs.push(conv);
    if (this.convs.length > 12) this.convs.shift();
    return conv;
  }

  /** One input frame. */
  next(): InputFrame {
    const r = this.r;
    const x = r.below(100);
    const conv = x < 70 ? (this.convs.length > 0 && r.chance(0.6) ? r.pick(this.convs) : this.newConv()) : null;
    const { sec, ns } = conv !== null ? this.clockFor(conv) : this.clock();
    let from: Node;
    let to: Node | null = null;
    let spec: FrameSpec;
    const some = r.pick(this.nodes);
    if (x < 70) {
      if (conv === null) return this.other(some, sec, ns);
      conv.last = this.t;
      ({ from, to, spec } = this.spec(conv, r.chance(0.55)));
    } else if (x < 78) {
      // ARP: a request for a node's address or a gateway, broadcast; or a reply, unicast
      from = some;
      const target = r.pick(this.nodes.filter((n) => n.kind !== 'external' || n === from));
      if (r.chance(0.8)) spec = { src: from.mac, dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, spa: from.v4, tpa: r.chance(0.85) ? target.v4 : '10.20.0.222' } };
      else spec = { src: from.mac, dst: target.mac, arp: { op: 2, spa: from.v4, tpa: target.v4, tha: target.mac } };
      to = target;
    } else if (x < 84) {
      // ping a gateway (a vNIC's address): unicast to the vNIC, now and then broadcast
      const vnics = this.nodes.filter((n) => n.kind === 'vnic');
      if (vnics.length === 0) return this.other(some, sec, ns);
      const gw = r.pick(vnics);
      const peers = this.nodes.filter((n) => reachable(n, gw));
      from = peers.length > 0 ? r.pick(peers) : some;
      const v6 = from.v6 !== null && gw.v6 !== null && r.chance(0.3);
      spec = { src: from.mac, dst: r.chance(0.08) ? 'ff:ff:ff:ff:ff:ff' : gw.mac, ip: { src: v6 ? from.v6! : from.v4, dst: v6 ? gw.v6! : gw.v4 }, icmp: { request: r.chance(0.9), id: 1 + r.below(2), seq: r.below(50) } };
      to = gw;
    } else if (x < 90) {
      from = some;
      const bc = r.below(3);
      spec =
        bc === 0
          ? { src: from.mac, dst: 'ff:ff:ff:ff:ff:ff', ip: { src: from.v4, dst: '255.255.255.255' }, udp: { sport: 68, dport: 67, payload: 'dhcp' } }
          : bc === 1
            ? { src: from.mac, dst: '01:00:5e:00:00:fb', ip: { src: from.v4, dst: '224.0.0.251' }, udp: { sport: 5353, dport: 5353, payload: 'mdns' } }
            : { src: from.mac, dst: r.pick(['02:99:00:00:00:01', from.mac, r.pick(this.nodes).mac]), ip: { src: from.v4, dst: r.pick(this.nodes).v4 }, udp: { sport: 9, dport: 9, payload: 'x' } };
    } else return this.other(some, sec, ns);
    return this.finish(from, to, spec, sec, ns);
  }

  /** Other EtherTypes, bare frames. */
  private other(from: Node, sec: number, ns: number): InputFrame {
    const r = this.r;
    const dst = r.pick(['ff:ff:ff:ff:ff:ff', r.pick(this.nodes).mac, '01:80:c2:00:00:0e']);
    const b = buildFrame({ src: from.mac, dst });
    b[12] = 0x88;
    b[13] = 0xcc;
    return this.mutate({ bytes: b, wire: b.length, sec, ns, ingress: from.port }, from);
  }

  private finish(from: Node, to: Node | null, spec: FrameSpec, sec: number, ns: number): InputFrame {
    const r = this.r;
    // VLAN tags: from the wire, the destination's VLAN (sometimes another, or none); from an access port, rarely any
    if (from.kind === 'external') {
      const want = to !== null && to.kind !== 'external' ? to.vlan : 0;
      const vid = r.chance(0.1) ? r.pick([0, 100, 200, 7, 300]) : want;
      if (vid !== 0) spec.vlan = vid;
    } else if (r.chance(0.04)) spec.vlan = r.pick([100, 200, 5]);
    let bytes = buildFrame(spec);
    if (spec.ip && !spec.ip.src.includes(':') && r.chance(0.05)) bytes = ipv4Options(bytes);
    if (spec.ip && !spec.ip.src.includes(':') && r.chance(0.04)) bytes = fragment(bytes, r.chance(0.5));
    if (from.kind === 'external' && r.chance(0.03)) bytes = qinq(bytes, r.pick([100, 200]));
    return this.mutate({ bytes, wire: bytes.length, sec, ns, ingress: from.port }, from);
  }

  private mutate(f: InputFrame, from: Node): InputFrame {
    const r = this.r;
    if (r.chance(0.06)) {
      // no port named by the capture interface: ingress by source MAC, else the first uplink
      f.ingress = null;
      if (r.chance(0.3)) f.bytes.set([0x02, 0x77, 0, 0, 0, r.below(4)], 6);
    } else if (r.chance(0.03)) f.ingress = r.pick(this.uplinkNames.length ? this.uplinkNames : [from.port]);
    // snapped (the wire length stays): anywhere, or only into the end of the payload
    if (r.chance(0.06)) f.bytes = f.bytes.slice(0, r.chance(0.5) ? r.below(f.bytes.length) : Math.max(0, f.bytes.length - 1 - r.below(12)));
    else if (r.chance(0.03)) malform(r, f.bytes);
    return f;
  }
}

function checksum16(b: Uint8Array, o: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[o + i]! << 8) | (i + 1 < len ? b[o + i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function l3Of(b: Uint8Array): number {
  return b[12] === 0x81 && b[13] === 0 ? 18 : 14;
}

function fixIpv4Header(b: Uint8Array, l3: number): void {
  const ihl = (b[l3]! & 15) * 4;
  b[l3 + 10] = 0;
  b[l3 + 11] = 0;
  const c = checksum16(b, l3, ihl);
  b[l3 + 10] = c >>> 8;
  b[l3 + 11] = c & 255;
}

/** Insert 4 bytes of IPv4 options (NOP, NOP, NOP, EOL). */
function ipv4Options(b: Uint8Array): Uint8Array {
  const l3 = l3Of(b);
  const out = new Uint8Array(b.length + 4);
  out.set(b.subarray(0, l3 + 20), 0);
  out.set([1, 1, 1, 0], l3 + 20);
  out.set(b.subarray(l3 + 20), l3 + 24);
  out[l3] = 0x46;
  const total = ((out[l3 + 2]! << 8) | out[l3 + 3]!) + 4;
  out[l3 + 2] = total >>> 8;
  out[l3 + 3] = total & 255;
  fixIpv4Header(out, l3);
  return out;
}

/** Make the packet a first fragment (MF) or a later one (offset 185). */
export function fragment(b: Uint8Array, first: boolean): Uint8Array {
  const l3 = l3Of(b);
  const out = b.slice();
  out[l3 + 6] = first ? 0x20 : 0x00;
  out[l3 + 7] = first ? 0x00 : 185;
  fixIpv4Header(out, l3);
  return out;
}

/** Wrap the frame's tag in an outer 802.1ad tag. */
function qinq(b: Uint8Array, outer: number): Uint8Array {
  const out = new Uint8Array(b.length + 4);
  out.set(b.subarray(0, 12), 0);
  out.set([0x88, 0xa8, outer >>> 8, outer & 255], 12);
  out.set(b.subarray(12), 16);
  return out;
}

function malform(r: R, b: Uint8Array): void {
  const l3 = l3Of(b);
  if (b.length < l3 + 40) return;
  const type = (b[l3 - 2]! << 8) | b[l3 - 1]!;
  if (type !== 0x0800) return;
  const ihl = (b[l3]! & 15) * 4;
  switch (r.below(5)) {
    case 0:
      b[l3] = 0x55; // version 5
      return;
    case 1:
      b[l3] = 0x44; // IHL 16 bytes
      return;
    case 2:
      b[l3 + 2] = 0;
      b[l3 + 3] = r.pick([0, 10]); // total length 0, or shorter than the header
      return;
    case 3:
      if (b[l3 + 9] === 6) b[l3 + ihl + 12] = 0x30; // TCP data offset 3
      return;
    default:
      if (b[l3 + 9] === 17) b[l3 + ihl + 5] = 5; // UDP length 5
  }
}

// ---- a stream ------------------------------------------------------------------------------------------

export function randomStream(seed: number, frames = 100, options: { backwards?: boolean } = {}): Stream {
  const r = new R(seed);
  const sk = skeleton(r);
  const mode = r.chance(0.5) ? 'layers' : 'hns';
  const policies = [policyFor(sk, r.fork(), 1, mode)];
  let changes: number[] = [];
  if (r.chance(0.4)) {
    const count = 1 + r.below(2);
    for (let k = 0; k < count; k++) changes.push(10 + r.below(frames - 10));
    changes = [...new Set(changes)].sort((a, b) => a - b);
    for (let k = 0; k < changes.length; k++) policies.push(policyFor(sk, r.fork(), k + 2, mode));
  }
  const uftTtl = r.pick([240, 240, 30, 5]);
  const rstTimeout = r.pick([5, 5, 2, 0]);
  const nodes = nodesOf(policies[0]!, sk);
  const ttls = [uftTtl, rstTimeout, 240, 30, 10, 5];
  const traffic = new Traffic(r.fork(), nodes, ttls, sk.uplinks.map((u) => u.name), options.backwards ?? false);
  const list: InputFrame[] = [];
  for (let i = 0; i < frames; i++) list.push(traffic.next());
  const batches = r.pick([[512], [1], [3, 7, 16], [2, 1, 5, 64], [r.below(30) + 1]]);
  return { seed, mode, setup: { policies, changes, uftTtl, rstTimeout }, frames: list, batches };
}
