/**
 * The linter: each code triggered by the trap it names, at the path of the object, and not
 * triggered by the fixed version of the same topology.
 */
import { describe, expect, it } from 'vitest';
import { LINT_CODES, lintTopology } from '../../src/config/lint.js';
import type { LintFinding } from '../../src/config/model.js';
import { base, fixture, load, withPolicy, type Doc } from './helpers.js';

const lint = (d: Doc): LintFinding[] => lintTopology(load(d));
const codes = (d: Doc): string[] => lint(d).map((f) => f.code);
const at = (d: Doc, code: string): string[] => lint(d).filter((f) => f.code === code).map((f) => f.path);

const allowAll = (dir: 'In' | 'Out', priority = 1000) => ({ Action: 'Allow', Direction: dir, RuleType: 'Switch', Priority: priority });

describe('lintTopology', () => {
  it('clean topologies have no findings', () => {
    expect(lint(base())).toEqual([]);
    expect(lintTopology(fixture('spec-v2.json'))).toEqual([]);
    expect(lintTopology(fixture('spec-v1.json'))).toEqual([]);
  });

  it('every code is kebab-case and listed once', () => {
    for (const c of LINT_CODES) expect(c).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
    expect(new Set(LINT_CODES).size).toBe(LINT_CODES.length);
  });

  it('acl-default-deny: ACLs without an allow-all in a direction', () => {
    const d = withPolicy(base(), 1, 'ACL', { Action: 'Block', Direction: 'Out', Protocols: '6', RemotePorts: '5432', Priority: 500 });
    const fs = lint(d).filter((f) => f.code === 'acl-default-deny');
    expect(fs.map((f) => f.path)).toEqual(['endpoints[1].Policies', 'endpoints[1].Policies']);
    expect(fs[0]!.message).toMatch(/no allow-all In rule: every inbound packet no Allow rule matches is dropped/);
    expect(fs[1]!.message).toMatch(/no allow-all Out rule/);
    withPolicy(d, 1, 'ACL', allowAll('Out'));
    expect(at(d, 'acl-default-deny')).toEqual(['endpoints[1].Policies']);
    withPolicy(d, 1, 'ACL', allowAll('In'));
    expect(at(d, 'acl-default-deny')).toEqual([]);
    // An allow with conditions is not an allow-all; a network ACL counts for its endpoints.
    const d2 = withPolicy(base(), 1, 'ACL', { Action: 'Allow', Direction: 'In', Protocols: '6' });
    withPolicy(d2, 1, 'ACL', allowAll('Out'));
    expect(at(d2, 'acl-default-deny')).toEqual(['endpoints[1].Policies']);
    d2.networks[1].Policies = [{ Type: 'NetworkACL', Settings: allowAll('In') }];
    expect(at(d2, 'acl-default-deny')).toEqual([]);
  });

  it('acl-priority-tie: equal priorities, different actions, same direction', () => {
    const d = withPolicy(base(), 1, 'ACL', { Action: 'Allow', Direction: 'Out', Priority: 100, Protocols: '6' });
    withPolicy(d, 1, 'ACL', { Action: 'Block', Direction: 'Out', Priority: 100, Protocols: '17' });
    withPolicy(d, 1, 'ACL', { Action: 'Block', Direction: 'In', Priority: 100 });
    withPolicy(d, 1, 'ACL', allowAll('Out'));
    withPolicy(d, 1, 'ACL', allowAll('In'));
    expect(at(d, 'acl-priority-tie')).toEqual(['endpoints[1].Policies[1]']);
    d.endpoints[1].Policies[1].Settings.Priority = 101;
    expect(at(d, 'acl-priority-tie')).toEqual([]);
  });

  it('acl-block-shadowed: a Block behind an allow-all of its direction', () => {
    const d = withPolicy(base(), 1, 'ACL', allowAll('Out', 100));
    withPolicy(d, 1, 'ACL', allowAll('In', 100));
    withPolicy(d, 1, 'ACL', { Action: 'Block', Direction: 'Out', Priority: 500, RemoteAddresses: '10.0.0.0/8' });
    expect(at(d, 'acl-block-shadowed')).toEqual(['endpoints[1].Policies[2]']);
    d.endpoints[1].Policies[2].Settings.Priority = 50;
    expect(at(d, 'acl-block-shadowed')).toEqual([]);
  });

  it('acl-pass and acl-host-rule; Host rules do not make the endpoint default-deny', () => {
    const d = withPolicy(base(), 1, 'ACL', { Action: 'Pass', Direction: 'In', RuleType: 'Switch', Priority: 10 });
    withPolicy(d, 1, 'ACL', allowAll('In'));
    withPolicy(d, 1, 'ACL', allowAll('Out'));
    expect(codes(d)).toEqual(['acl-pass']);
    const h = withPolicy(base(), 0, 'ACL', { Action: 'Block', Direction: 'In', RuleType: 'Host', Priority: 10 });
    expect(codes(h)).toEqual(['acl-host-rule']);
    expect(at(h, 'acl-host-rule')).toEqual(['endpoints[0].Policies[0]']);
  });

  it('nat-prefix-overlap: a NAT subnet overlapping an uplink prefix', () => {
    const d = base();
    d.networks[0].Ipams[0].Subnets[0] = { IpAddressPrefix: '10.99.0.0/16' };
    d.endpoints[0].IpConfigurations[0].IpAddress = '10.99.1.10';
    expect(at(d, 'nat-prefix-overlap')).toEqual(['networks[0].Ipams[0].Subnets[0]']);
    expect(lint(d)[0]!.message).toMatch(/NAT prefix 10\.99\.0\.0\/16 overlaps uplink 'eth0' \(10\.99\.0\.2\/24\)/);
    d.host.uplinks[0].ip = '192.168.1.2/24';
    expect(at(d, 'nat-prefix-overlap')).toEqual([]);
  });

  it('multiple-nat-prefixes: a second NAT prefix on the host', () => {
    const d = base();
    d.networks.push({ Name: 'nat2', Type: 'NAT', Ipams: [{ Subnets: [{ IpAddressPrefix: '172.21.0.0/16' }] }] });
    expect(at(d, 'multiple-nat-prefixes')).toEqual(['networks[2].Ipams[0].Subnets[0]']);
    d.networks[2].Ipams[0].Subnets[0].IpAddressPrefix = '172.20.0.0/16';
    expect(at(d, 'multiple-nat-prefixes')).toEqual([]);
  });

  it('duplicate-external-port: same protocol and external port on two mappings', () => {
    const d = base();
    d.endpoints.push({ Name: 'web2', HostComputeNetwork: 'nat', IpConfigurations: [{ IpAddress: '172.20.0.11' }], Policies: [] });
    withPolicy(d, 0, 'PortMapping', { Protocol: 6, InternalPort: 80, ExternalPort: 8080 });
    withPolicy(d, 2, 'PortMapping', { Protocol: 17, InternalPort: 80, ExternalPort: 8080 });
    expect(at(d, 'duplicate-external-port')).toEqual([]);
    withPolicy(d, 2, 'PortMapping', { Protocol: 6, InternalPort: 81, ExternalPort: 8080 });
    expect(at(d, 'duplicate-external-port')).toEqual(['endpoints[2].Policies[1]']);
    d.endpoints[0].Policies[0].Settings.VIP = '10.99.0.2';
    d.endpoints[2].Policies[1].Settings.VIP = '10.99.0.3';
    expect(at(d, 'duplicate-external-port')).toEqual([]);
  });

  it('port-mapping-dynamic-port: an external port in the dynamic range', () => {
    const d = withPolicy(base(), 0, 'PortMapping', { Protocol: 6, InternalPort: 80, ExternalPort: 50000 });
    expect(at(d, 'port-mapping-dynamic-port')).toEqual(['endpoints[0].Policies[0]']);
    d.host.dynamicPortRange = { start: 10000, count: 1000 };
    expect(at(d, 'port-mapping-dynamic-port')).toEqual([]);
  });

  it('overlay-vni-low, overlay-missing-vsid, overlay-port', () => {
    const d = base();
    d.networks.push({
      Name: 'ov',
      Type: 'Overlay',
      Ipams: [{ Subnets: [{ IpAddressPrefix: '10.245.4.0/24', Policies: [{ Type: 'VSID', Settings: { IsolationId: 100 } }] }, { IpAddressPrefix: '10.245.5.0/24' }] }],
      Policies: [{ Type: 'VxlanPort', Settings: { Port: 4790 } }],
    });
    expect(codes(d)).toEqual(['overlay-vni-low', 'overlay-missing-vsid', 'overlay-port']);
    expect(lint(d).map((f) => f.path)).toEqual(['networks[2].Ipams[0].Subnets[0]', 'networks[2].Ipams[0].Subnets[1]', 'networks[2].Policies[0]']);
    d.networks[2].Ipams[0].Subnets[0].Policies[0].Settings.IsolationId = 4096;
    d.networks[2].Ipams[0].Subnets[1].Policies = [{ Type: 'VSID', Settings: { IsolationId: 4096 } }];
    d.networks[2].Policies[0].Settings.Port = 4789;
    expect(codes(d)).toEqual([]);
  });

  it('outbound-nat-exceptions: own subnet, remote subnets and encapsulated routes must be excepted', () => {
    const d = withPolicy(base(), 1, 'OutBoundNAT', { Exceptions: [] });
    withPolicy(d, 1, 'SDNRoute', { DestinationPrefix: '10.96.0.0/12', NeedEncap: true });
    d.networks[1].Policies = [{ Type: 'RemoteSubnetRoute', Settings: { DestinationPrefix: '10.244.2.0/24', IsolationId: 4096, ProviderAddress: '10.99.0.3' } }];
    const fs = lint(d).filter((f) => f.code === 'outbound-nat-exceptions');
    expect(fs.map((f) => f.path)).toEqual(['endpoints[1].Policies[0]', 'endpoints[1].Policies[0]', 'endpoints[1].Policies[0]']);
    expect(fs.map((f) => f.message.split(' (')[0])).toEqual(['Exceptions do not cover 10.244.1.0/24', 'Exceptions do not cover 10.244.2.0/24', 'Exceptions do not cover 10.96.0.0/12']);
    d.endpoints[1].Policies[0].Settings.Exceptions = ['10.244.0.0/16', '10.96.0.0/12'];
    expect(at(d, 'outbound-nat-exceptions')).toEqual([]);
    // Destinations narrow the NAT: nothing to say.
    const d2 = withPolicy(base(), 1, 'OutBoundNAT', { Destinations: ['10.244.1.20'] });
    expect(at(d2, 'outbound-nat-exceptions')).toEqual([]);
  });

  it('no-uplink: an external switch or a NAT network on a host without uplinks', () => {
    const d = base();
    d.host.uplinks = [];
    expect(at(d, 'no-uplink')).toEqual(['networks[0]', 'networks[1]']);
    d.networks[1].Type = 'Private';
    expect(at(d, 'no-uplink')).toEqual(['networks[0]']);
  });

  it('gateway-outside-subnet', () => {
    const d = base();
    d.networks[1].Ipams[0].Subnets[0].Routes[0].NextHop = '10.244.2.1';
    expect(at(d, 'gateway-outside-subnet')).toEqual(['networks[1].Ipams[0].Subnets[0]']);
  });

  it('lb-empty-source-vip on overlay; lb-too-many-backends', () => {
    const t = fixture('spec-v2.json');
    t.loadBalancers[0]!.sourceVip = null;
    expect(lintTopology(t).map((f) => [f.code, f.path])).toEqual([['lb-empty-source-vip', 'loadBalancers[0]']]);
    // An L2Bridge load balancer without SourceVIP is fine.
    const d = base();
    d.loadBalancers = [{ HostComputeEndpoints: ['pod'], FrontendVIPs: ['10.96.0.1'], PortMappings: [{ Protocol: 6, InternalPort: 80, ExternalPort: 80 }] }];
    expect(codes(d)).toEqual([]);
    const many = base();
    const refs: string[] = [];
    for (let i = 0; i < 1025; i++) {
      const name = `r${i}`;
      many.endpoints.push({ Name: name, HostComputeNetwork: 'bridge', Flags: 1, IpConfigurations: [{ IpAddress: `10.250.${i >> 8}.${i & 255}` }] });
      refs.push(name);
    }
    many.loadBalancers = [{ HostComputeEndpoints: refs, FrontendVIPs: ['10.96.0.1'], PortMappings: [{ Protocol: 6, InternalPort: 80, ExternalPort: 80 }] }];
    expect(at(many, 'lb-too-many-backends')).toEqual(['loadBalancers[0]']);
    many.loadBalancers[0].HostComputeEndpoints = refs.slice(0, 1024);
    expect(at(many, 'lb-too-many-backends')).toEqual([]);
  });
});
