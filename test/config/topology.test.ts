/**
 * The topology loader on valid input: the example documents of spec-v2.json (v2), the same topology
 * dumped in the v1 schema normalising to the same result, each normalisation rule and each
 * default, IPv4 and IPv6.
 */
import { describe, expect, it } from 'vitest';
import { analyseTopology, DEFAULT_WINNAT } from '../../src/config/topology.js';
import { base, fixture, fixtureDoc, load, notesOf, strip, withPolicy } from './helpers.js';

const texts = (xs: { text: string }[]): string[] => xs.map((x) => x.text);

describe('spec-v2.json examples (v2)', () => {
  const t = fixture('spec-v2.json');

  it('loads every object', () => {
    expect(t.networks.map((n) => [n.name, n.type])).toEqual([
      ['natnet', 'NAT'],
      ['cbr0', 'L2Bridge'],
      ['flannel.4096', 'Overlay'],
    ]);
    expect(t.endpoints.map((e) => e.name)).toEqual(['web-ep', 'pod-a', 'pod-b', 'remote-30']);
    expect(t.loadBalancers).toHaveLength(1);
    expect(t.host.uplinks.map((u) => u.name)).toEqual(['Ethernet']);
  });

  it('NAT network: subnet, gateway from the default route, MacPool, no uplink', () => {
    const n = t.networks[0]!;
    expect(n.id).toBe('5A9E3F0C-1111-4B5B-9C3E-0000000000A1');
    expect(n.subnets[0]!.prefix).toEqual({ family: 4, words: [0xac181000, 0, 0, 0], length: 20, text: '172.24.16.0/20' });
    expect(n.subnets[0]!.gateway?.text).toBe('172.24.16.1');
    expect(n.subnets[0]!.routes.map((r) => [r.destination.text, r.nextHop?.text, r.metric])).toEqual([['0.0.0.0/0', '172.24.16.1', 0]]);
    expect(n.macPools.map((r) => [r.start.text, r.end.text])).toEqual([['00:15:5d:aa:10:00', '00:15:5d:aa:1f:ff']]);
    expect(n.uplink).toBeNull();
    expect(t.host.vnics).toEqual([{ network: 0, mac: expect.objectContaining({ text: '00:15:5d:aa:00:01' }), path: 'host.vnics[0]' }]);
  });

  it('L2Bridge and Overlay networks bind the uplink their NetAdapterName names', () => {
    expect(t.networks[1]!.uplink).toBe(0);
    expect(t.networks[1]!.adapterName).toBe('Ethernet');
    const o = t.networks[2]!;
    expect(o.flags).toBe(8);
    expect(o.uplink).toBe(0);
    expect(o.subnets[0]!.vsid).toBe(4096);
    expect(o.policies.map((p) => p.type)).toEqual(['NetAdapterName', 'HostRoute', 'RemoteSubnetRoute']);
    const rsr = o.policies[2]!;
    expect(rsr.type === 'RemoteSubnetRoute' && [rsr.destination.text, rsr.isolationId, rsr.providerAddress.text, rsr.drMac?.text]).toEqual([
      '10.245.7.0/24',
      4096,
      '192.168.10.23',
      '00:15:5d:61:22:0b',
    ]);
  });

  it('NAT endpoint with a published port', () => {
    const e = t.endpoints[0]!;
    expect(e.network).toBe(0);
    expect(e.ips).toEqual([
      {
        address: { family: 4, words: [0xac18100a, 0, 0, 0], text: '172.24.16.10' },
        prefix: { family: 4, words: [0xac181000, 0, 0, 0], length: 20, text: '172.24.16.0/20' },
      },
    ]);
    expect(e.mac).toEqual({ hi: 0x0015, lo: 0x5daa100a, text: '00:15:5d:aa:10:0a' });
    expect(e.gateway?.text).toBe('172.24.16.1');
    expect(e.portMappings).toEqual([{ protocol: 6, internalPort: 80, externalPort: 8080, vip: null, flags: 0, path: 'endpoints[0].Policies[0]' }]);
    expect(e.remote).toBe(false);
    expect(e.vlan).toBeNull();
  });

  it('L2Bridge pod: OutBoundNAT, SDNRoutes, ACLs; prefix length from its subnet', () => {
    const e = t.endpoints[1]!;
    expect(e.ips[0]!.prefix.text).toBe('10.244.3.0/24');
    expect(e.gateway?.text).toBe('10.244.3.2');
    expect(e.outboundNat).toHaveLength(1);
    expect(texts(e.outboundNat[0]!.exceptions)).toEqual(['10.244.0.0/16', '10.96.0.0/12', '192.168.10.0/24']);
    expect(e.outboundNat[0]!.vip).toBeNull();
    expect(e.sdnRoutes.map((r) => [r.destination.text, r.needEncap])).toEqual([
      ['10.96.0.0/12', true],
      ['192.168.10.21/32', true],
    ]);
    expect(e.acls).toHaveLength(3);
    expect(e.acls[0]).toEqual({
      id: null,
      action: 'Block',
      direction: 'Out',
      protocols: [6],
      localAddresses: [],
      remoteAddresses: [{ family: 4, words: [0x0af40900, 0, 0, 0], length: 24, text: '10.244.9.0/24' }],
      localPorts: [],
      remotePorts: [{ from: 5432, to: 5432 }],
      ruleType: 'Switch',
      priority: 200,
      path: 'endpoints[1].Policies[3]',
    });
    expect(e.acls[1]).toMatchObject({ action: 'Allow', direction: 'Out', protocols: null, priority: 1000 });
    expect(e.acls[2]).toMatchObject({ action: 'Allow', direction: 'In', protocols: null, priority: 1000 });
  });

  it('remote overlay endpoint and the DSR ClusterIP load balancer', () => {
    const r = t.endpoints[3]!;
    expect(r.remote).toBe(true);
    expect(r.providerAddress?.text).toBe('192.168.10.23');
    expect(r.ips[0]!.prefix.length).toBe(32);
    expect(t.endpoints[2]!.providerAddress?.text).toBe('192.168.10.22');
    const lb = t.loadBalancers[0]!;
    expect(lb.endpoints).toEqual([2, 3]);
    expect(lb.sourceVip?.text).toBe('10.245.4.254');
    expect(texts(lb.frontendVips)).toEqual(['10.96.0.10']);
    expect(lb.portMappings).toEqual([{ protocol: 17, internalPort: 53, externalPort: 53, distributionType: 0, flags: 0 }]);
    expect(lb.flags).toBe(1);
  });

  it('host defaults (Get-NetNat values) when host gives none', () => {
    expect(t.host.dynamicPortRange).toEqual({ start: 49152, count: 16384 });
    expect(t.host.winnat).toEqual({
      tcpEstablishedTimeout: 1800,
      tcpTransientTimeout: 120,
      udpIdleTimeout: 120,
      icmpQueryTimeout: 30,
      filtering: 'address-dependent',
      udpInboundRefresh: false,
    });
    expect(t.host.uplinks[0]!.mtu).toBe(1500);
    expect(t.host.uplinks[0]!.ip?.address.text).toBe('192.168.10.22');
    expect(t.host.uplinks[0]!.ip?.prefix.text).toBe('192.168.10.0/24');
  });
});

describe('v1 dumps normalise to the same topology', () => {
  it('spec-v1.json equals spec-v2.json (paths and notes aside)', () => {
    const v1 = fixture('spec-v1.json');
    const v2 = fixture('spec-v2.json');
    expect(strip(v1)).toEqual(strip(v2));
  });

  it('notes each v1 normalisation with its JSON path', () => {
    const notes = fixture('spec-v1.json').notes;
    for (const expected of [
      'host.uplinks: a single object where a list is expected: read as a one-element list (PowerShell one-object pipeline)',
      'networks[0]: no Type: NAT (HNS omits the enum value 0)',
      'networks[0].Subnets: v1 Subnets read as Ipams[].Subnets (GatewayAddress as the default route)',
      'networks[0].MacPools: v1 MacPools read as MacPool.Ranges',
      "networks[1].Type: Type 'l2bridge' read as L2Bridge",
      'networks[1].NetworkAdapterName: v1 NetworkAdapterName read as a NetAdapterName policy',
      'networks[2].Subnets[0].Policies[0]: v1 VSID policy field read as IsolationId',
      'endpoints[0].VirtualNetwork: v1 VirtualNetwork read as HostComputeNetwork',
      'endpoints[0].IPAddress: v1 IPAddress/PrefixLength read as IpConfigurations',
      'endpoints[0].GatewayAddress: v1 GatewayAddress read as the default route',
      'endpoints[0].Policies[0]: v1 policy NAT normalised to PortMapping',
      "endpoints[0].Policies[0].Protocol: protocol name 'TCP' read as 6",
      'endpoints[1].Policies[0].ExceptionList: v1 ExceptionList read as Exceptions',
      'endpoints[1].Policies[1]: v1 policy ROUTE normalised to SDNRoute',
      'endpoints[1].Policies[3].Protocol: v1 ACL Protocol read as Protocols',
      'endpoints[1].Policies[3].RemotePort: v1 RemotePort read as RemotePorts',
      'endpoints[1].Policies[4].Protocol: protocol 256 (v1 "any") read as any protocol',
      'endpoints[2].Policies[0]: v1 policy PA normalised to ProviderAddress',
      'endpoints[2]: no MacAddress: 0e:2a:0a:f5:04:0a (Overlay: 0E-2A- + the IPv4 address, as the CNIs do)',
      'endpoints[3].IsRemoteEndpoint: v1 IsRemoteEndpoint read as Flags RemoteEndpoint (1)',
      'endpoints[3]: no MacAddress: 02:11:0a:f5:07:1e (remote endpoint: 02-11- + the IPv4 address, as kube-proxy does)',
      'policyLists.References: v1 policy list References read as HostComputeEndpoints',
      'policyLists.Policies[0]: v1 policy ELB normalised to LoadBalancer',
    ]) {
      expect(notes).toContain(expected);
    }
  });

  it('the v2 file needs few notes', () => {
    expect(fixture('spec-v2.json').notes).toEqual([
      'endpoints[1].IpConfigurations[0].IpAddress: no PrefixLength: /24, the subnet 10.244.3.0/24 holding it',
      'endpoints[3].IpConfigurations[0].IpAddress: no PrefixLength: /32',
    ]);
  });

  it('a hnsdiag-style v1 dump with runtime fields, nulls, PowerShell 5.1 dates and \\u003c escapes', () => {
    const t = fixture('ps51-v1.json');
    expect(t.networks[0]!.type).toBe('NAT');
    expect(t.endpoints[0]!.name).toBe('web');
    expect(t.endpoints[0]!.mac.text).toBe('00:15:5d:aa:10:0a');
    expect(t.endpoints[0]!.portMappings[0]).toMatchObject({ protocol: 6, internalPort: 80, externalPort: 8080 });
  });
});

describe('normalisation rules', () => {
  it('a single object for a top-level list; elements keep the field path', () => {
    const d = base();
    d.networks = d.networks[0];
    d.endpoints = d.endpoints[0];
    const r = analyseTopology(d, 't.json');
    expect(r.problems).toEqual([]);
    expect(r.topology!.networks[0]!.path).toBe('networks');
    expect(r.topology!.endpoints[0]!.portMappings).toEqual([]);
    expect(r.notes).toContain('networks: a single object where a list is expected: read as a one-element list (PowerShell one-object pipeline)');
    expect(r.notes).toContain('endpoints: a single object where a list is expected: read as a one-element list (PowerShell one-object pipeline)');
  });

  it('network Type: omitted is NAT, any case, enum number', () => {
    const d = base();
    delete d.networks[0].Type;
    d.networks[1].Type = 'l2BRIDGE';
    const t = load(d);
    expect(t.networks.map((n) => n.type)).toEqual(['NAT', 'L2Bridge']);
    const d2 = base();
    d2.networks[0].Type = 0;
    expect(load(d2).networks[0]!.type).toBe('NAT');
    for (const [s, want] of [
      ['transparent', 'Transparent'],
      ['OVERLAY', 'Overlay'],
      ['ics', 'ICS'],
      ['private', 'Private'],
      ['Internal', 'Internal'],
      ['l2tunnel', 'L2Tunnel'],
    ] as const) {
      const d3 = base();
      d3.networks[1].Type = s;
      if (want === 'Overlay') d3.networks[1].Ipams[0].Subnets[0].Policies = [{ Type: 'VSID', Settings: { IsolationId: 4096 } }];
      expect(load(d3).networks[1]!.type).toBe(want);
    }
  });

  it('references by ID (any case, braces) or Name, for endpoints, vnics and load balancers', () => {
    const d = base();
    d.endpoints[0].HostComputeNetwork = '{11111111-1111-1111-1111-111111111111}';
    d.endpoints[1].HostComputeNetwork = 'BRIDGE';
    d.host.vnics = [{ network: '11111111-1111-1111-1111-111111111111', mac: '00-15-5D-00-10-01' }];
    d.loadBalancers = [{ HostComputeEndpoints: ['AAAAAAAA-0000-0000-0000-000000000001', 'pod'], PortMappings: [{ Protocol: 6, InternalPort: 80, ExternalPort: 80 }] }];
    const t = load(d);
    expect(t.endpoints.map((e) => e.network)).toEqual([0, 1]);
    expect(t.host.vnics[0]!.network).toBe(0);
    expect(t.loadBalancers[0]!.endpoints).toEqual([0, 1]);
  });

  it('MACs in dash or colon form, any case', () => {
    for (const m of ['00-15-5D-AA-10-0A', '00:15:5d:aa:10:0a', '00-15-5d-Aa-10-0A', '00:15:5D:AA:10:0A']) {
      const d = base();
      d.endpoints[0].MacAddress = m;
      expect(load(d).endpoints[0]!.mac).toEqual({ hi: 0x15, lo: 0x5daa100a, text: '00:15:5d:aa:10:0a' });
    }
  });

  it('ACL port lists and ranges, address lists as comma strings or arrays, protocol lists', () => {
    const d = withPolicy(base(), 1, 'ACL', {
      Action: 'Allow',
      Direction: 'In',
      Protocols: '6,17',
      LocalPorts: '80,8080,1000-2000',
      RemotePorts: [443, '5000-5010'],
      LocalAddresses: '192.168.100.0/24,10.0.0.21',
      RemoteAddresses: ['10.1.0.0/16', '10.2.0.1, 10.3.0.0/24'],
      Priority: 100,
    });
    const a = load(d).endpoints[1]!.acls[0]!;
    expect(a.protocols).toEqual([6, 17]);
    expect(a.localPorts).toEqual([
      { from: 80, to: 80 },
      { from: 8080, to: 8080 },
      { from: 1000, to: 2000 },
    ]);
    expect(a.remotePorts).toEqual([
      { from: 443, to: 443 },
      { from: 5000, to: 5010 },
    ]);
    expect(texts(a.localAddresses)).toEqual(['192.168.100.0/24', '10.0.0.21/32']);
    expect(texts(a.remoteAddresses)).toEqual(['10.1.0.0/16', '10.2.0.1/32', '10.3.0.0/24']);
    expect(a.ruleType).toBe('Switch');
  });

  it('protocols: names, numbers, v1 256 = any, empty = any; v1 Protocol number', () => {
    const cases: [unknown, number[] | null][] = [
      ['TCP', [6]],
      ['tcp, udp', [6, 17]],
      [17, [17]],
      ['1,58', [1, 58]],
      ['ICMPv6', [58]],
      ['256', null],
      ['', null],
      ['Any', null],
      [[6, '17'], [6, 17]],
    ];
    for (const [p, want] of cases) {
      const d = withPolicy(base(), 1, 'ACL', { Action: 'Allow', Direction: 'Out', Protocols: p });
      expect(load(d).endpoints[1]!.acls[0]!.protocols, JSON.stringify(p)).toEqual(want);
    }
    const d = base();
    d.endpoints[1].Policies.push({ Type: 'ACL', Action: 'Block', Direction: 'In', Protocol: 256, LocalPort: 80, RuleType: 'Switch', Priority: 900 });
    const a = load(d).endpoints[1]!.acls[0]!;
    expect(a).toMatchObject({ action: 'Block', direction: 'In', protocols: null, localPorts: [{ from: 80, to: 80 }], priority: 900 });
  });

  it('ACL values in any case; Inbound/Outbound; Pass and Host kept', () => {
    const d = withPolicy(base(), 1, 'acl', { Action: 'pass', Direction: 'inbound', RuleType: 'host', Priority: 5 });
    expect(load(d).endpoints[1]!.acls[0]).toMatchObject({ action: 'Pass', direction: 'In', ruleType: 'Host', priority: 5 });
  });

  it('v1 NAT policy -> PortMapping (Protocol string, ExternalPortReserved); InternalPort defaults to ExternalPort', () => {
    const d = base();
    d.endpoints[0].Policies.push({ Type: 'NAT', Protocol: 'UDP', InternalPort: 53, ExternalPort: 5353, ExternalPortReserved: true });
    d.endpoints[0].Policies.push({ Type: 'PortMapping', Settings: { Protocol: 6, ExternalPort: 8443, VIP: '10.99.0.2', Flags: 1 } });
    const r = analyseTopology(d, 't.json');
    expect(r.topology!.endpoints[0]!.portMappings.map(({ path, ...m }) => ({ ...m, vip: m.vip?.text ?? null }))).toEqual([
      { protocol: 17, internalPort: 53, externalPort: 5353, vip: null, flags: 4 },
      { protocol: 6, internalPort: 8443, externalPort: 8443, vip: '10.99.0.2', flags: 1 },
    ]);
    expect(r.notes).toContain('endpoints[0].Policies[1].Settings: no InternalPort: 8443, the ExternalPort');
    expect(r.notes).toContain('endpoints[0].Policies[0].ExternalPortReserved: v1 ExternalPortReserved read as Flags ExternalPortReserved (4)');
  });

  it('OutBoundNAT: v1 VIP and ExceptionList, v2 VirtualIP, Exceptions and Destinations', () => {
    const d = base();
    d.endpoints[1].Policies.push({ Type: 'OutBoundNAT', VIP: '10.99.0.2', ExceptionList: ['10.244.0.0/16', '10.96.0.0/12'] });
    d.endpoints[1].Policies.push({ Type: 'OutBoundNAT', Settings: { VirtualIP: '10.99.0.3', Destinations: ['10.244.1.20'], Flags: 0 } });
    const o = load(d).endpoints[1]!.outboundNat;
    expect(o.map((x) => [x.vip?.text, texts(x.exceptions), texts(x.destinations)])).toEqual([
      ['10.99.0.2', ['10.244.0.0/16', '10.96.0.0/12'], []],
      ['10.99.0.3', [], ['10.244.1.20/32']],
    ]);
  });

  it('VLAN: the endpoint v1 policy, else the subnet holding its address (v2 subnet policy or v1 network policy)', () => {
    const d = base();
    d.networks[1].Ipams[0].Subnets[0].Policies = [{ Type: 'VLAN', Settings: { IsolationId: 200 } }];
    d.endpoints.push({ Name: 'tagged', HostComputeNetwork: 'bridge', IpConfigurations: [{ IpAddress: '10.244.1.21' }], Policies: [{ Type: 'VLAN', VLAN: 300 }] });
    const t = load(d);
    expect(t.networks[1]!.subnets[0]!.vlan).toBe(200);
    expect(t.endpoints[1]!.vlan).toBe(200);
    expect(t.endpoints[2]!.vlan).toBe(300);
    expect(t.endpoints[0]!.vlan).toBeNull();
    const d2 = base();
    d2.networks[1] = { Name: 'bridge', Type: 'Transparent', Subnets: [{ AddressPrefix: '10.244.1.0/24' }], Policies: [{ Type: 'VLAN', VLAN: 42 }] };
    const t2 = load(d2);
    expect(t2.networks[1]!.subnets[0]!.vlan).toBe(42);
    expect(t2.endpoints[1]!.vlan).toBe(42);
  });

  it('endpoint MAC derivation: MacPool (skipping used MACs), Overlay 0e:2a, remote 02:11, else 00:15:5d + address', () => {
    const d = base();
    d.networks[0].MacPool = { Ranges: [{ StartMacAddress: '00-15-5D-AA-10-00', EndMacAddress: '00-15-5D-AA-10-01' }, { StartMacAddress: '00-15-5D-AA-20-00', EndMacAddress: '00-15-5D-AA-2F-FF' }] };
    d.endpoints[0].MacAddress = '00-15-5D-AA-10-01';
    d.endpoints.push({ Name: 'n1', HostComputeNetwork: 'nat', IpConfigurations: [{ IpAddress: '172.20.0.11' }] });
    d.endpoints.push({ Name: 'n2', HostComputeNetwork: 'nat', IpConfigurations: [{ IpAddress: '172.20.0.12' }] });
    d.endpoints.push({ Name: 'b1', HostComputeNetwork: 'bridge', IpConfigurations: [{ IpAddress: '10.244.1.30' }] });
    d.networks.push({ Name: 'ov', Type: 'Overlay', Ipams: [{ Subnets: [{ IpAddressPrefix: '10.245.4.0/24', Policies: [{ Type: 'VSID', Settings: { IsolationId: 4096 } }] }] }] });
    d.endpoints.push({ Name: 'o1', HostComputeNetwork: 'ov', IpConfigurations: [{ IpAddress: '10.245.4.10' }] });
    d.endpoints.push({ Name: 'r1', HostComputeNetwork: 'ov', Flags: 1, IpConfigurations: [{ IpAddress: '10.245.7.30' }] });
    const r = analyseTopology(d, 't.json');
    expect(r.problems).toEqual([]);
    expect(r.topology!.endpoints.map((e) => e.mac.text)).toEqual([
      '00:15:5d:aa:10:01',
      '00:15:5d:bb:01:14',
      '00:15:5d:aa:10:00',
      '00:15:5d:aa:20:00',
      '00:15:5d:f4:01:1e',
      '0e:2a:0a:f5:04:0a',
      '02:11:0a:f5:07:1e',
    ]);
    expect(r.notes).toContain("endpoints[2]: no MacAddress: 00:15:5d:aa:10:00 (the next free MAC of the network's MacPool)");
    expect(r.notes).toContain('endpoints[4]: no MacAddress: 00:15:5d:f4:01:1e (00-15-5D- + the low 24 bits of the address)');
  });

  it('uplink binding: NetAdapterName names one; else the first for external types; none for NAT', () => {
    const d = base();
    d.host.uplinks.push({ name: 'Ethernet 2', mac: '00-15-5D-00-00-02' });
    d.networks[1].Policies = [{ Type: 'NetAdapterName', Settings: { NetworkAdapterName: 'ethernet 2' } }];
    expect(load(d).networks.map((n) => n.uplink)).toEqual([null, 1]);
    const d2 = base();
    d2.networks[1].Policies = [{ Type: 'NetAdapterName', Settings: { NetworkAdapterName: 'vEthernet (x)' } }];
    const r = analyseTopology(d2, 't.json');
    expect(r.topology!.networks[1]!.uplink).toBe(0);
    expect(r.notes).toContain("networks[1]: NetAdapterName 'vEthernet (x)' names no uplink: bound to the first uplink 'eth0'");
    const d3 = base();
    d3.host.uplinks = [];
    expect(load(d3).networks.map((n) => n.uplink)).toEqual([null, null]);
  });

  it('host: omitted entirely, Get-NetNat names for winnat, dynamic port range, MTU, bare uplink address', () => {
    const d = base();
    delete d.host;
    const t = load(d);
    expect(t.host).toMatchObject({ name: 'host', uplinks: [], vnics: [], dynamicPortRange: { start: 49152, count: 16384 } });
    expect(t.host.winnat).toEqual(DEFAULT_WINNAT);
    const d2 = base();
    d2.host.winnat = { TcpEstablishedConnectionTimeout: 600, TcpTransientConnectionTimeout: 60, UdpIdleSessionTimeout: 30, IcmpQueryTimeout: 10, UdpFilteringBehavior: 'EndpointIndependentFiltering', UdpInboundRefresh: true };
    d2.host.dynamicPortRange = { start: 10000, count: 1000 };
    d2.host.uplinks[0].mtu = 9000;
    d2.host.uplinks[0].ip = '10.99.0.2';
    const r = analyseTopology(d2, 't.json');
    const h = r.topology!.host;
    expect(h.winnat).toEqual({ tcpEstablishedTimeout: 600, tcpTransientTimeout: 60, udpIdleTimeout: 30, icmpQueryTimeout: 10, filtering: 'endpoint-independent', udpInboundRefresh: true });
    expect(h.dynamicPortRange).toEqual({ start: 10000, count: 1000 });
    expect(h.uplinks[0]!.mtu).toBe(9000);
    expect(h.uplinks[0]!.ip?.prefix.text).toBe('10.99.0.2/32');
    expect(r.notes).toContain('host.uplinks[0].ip: no prefix length: read as 10.99.0.2/32 (a host prefix)');
    const d3 = base();
    d3.host.winnat = { filtering: 'address-dependent', udpInboundRefresh: false };
    expect(load(d3).host.winnat.filtering).toBe('address-dependent');
  });

  it('field names in any case (Go encoding/json does the same); null fields are absent', () => {
    const d = base();
    d.endpoints[0] = { name: 'web', hostComputeNetwork: 'nat', ipConfigurations: [{ ipAddress: '172.20.0.10', prefixLength: 16 }], macAddress: '00-15-5D-AA-10-0A', policies: null, Dns: null, Routes: null };
    const e = load(d).endpoints[0]!;
    expect(e.ips[0]!.address.text).toBe('172.20.0.10');
    expect(e.mac.text).toBe('00:15:5d:aa:10:0a');
  });

  it('unknown top-level and host keys are noted, not refused', () => {
    const d = base();
    d.endpiont = [];
    d.host.colour = 'blue';
    const r = analyseTopology(d, 't.json');
    expect(r.problems).toEqual([]);
    expect(r.notes).toContain('endpiont: unknown top-level key, ignored');
    expect(r.notes).toContain('host.colour: unknown host key, ignored');
  });

  it('endpoint without Name is named after its ID; host bits in prefixes are cleared with a note', () => {
    const d = base();
    delete d.endpoints[1].Name;
    d.networks[1].Ipams[0].Subnets[0].IpAddressPrefix = '10.244.1.7/24';
    const r = analyseTopology(d, 't.json');
    expect(r.topology!.endpoints[1]!.name).toBe('aaaaaaaa-0000-0000-0000-000000000002');
    expect(r.topology!.networks[1]!.subnets[0]!.prefix.text).toBe('10.244.1.0/24');
    expect(r.notes).toContain("networks[1].Ipams[0].Subnets[0].IpAddressPrefix: '10.244.1.7/24' has host bits set: read as 10.244.1.0/24");
  });

  it('IPv6 everywhere: dual-stack subnets and endpoints (v2 and v1), RFC 5952 text, words', () => {
    const d = base();
    d.networks[1].Ipams[0].Subnets.push({ IpAddressPrefix: 'FD00:10:0:0::/64', Routes: [{ NextHop: 'fd00:10::1', DestinationPrefix: '::/0' }] });
    d.endpoints[1].IpConfigurations.push({ IpAddress: 'fd00:10::0:14', PrefixLength: 64 });
    d.endpoints.push({ Name: 'v1dual', VirtualNetworkName: 'bridge', IPAddress: '10.244.1.21', IPv6Address: 'fd00:10::15', IPv6PrefixLength: 64, GatewayAddressV6: 'fd00:10::1' });
    d.endpoints[1].Policies.push({ Type: 'ACL', Settings: { Action: 'Allow', Direction: 'In', RemoteAddresses: '2001:db8::/32,2001:db8:1::5', Protocols: '58' } });
    const t = load(d);
    const s6 = t.networks[1]!.subnets[1]!;
    expect(s6.prefix).toEqual({ family: 6, words: [0xfd000010, 0, 0, 0], length: 64, text: 'fd00:10::/64' });
    expect(s6.gateway?.text).toBe('fd00:10::1');
    const ip6 = t.endpoints[1]!.ips[1]!;
    expect(ip6.address).toEqual({ family: 6, words: [0xfd000010, 0, 0, 0x14], text: 'fd00:10::14' });
    expect(t.endpoints[2]!.ips.map((i) => `${i.address.text}/${i.prefix.length}`)).toEqual(['10.244.1.21/24', 'fd00:10::15/64']);
    expect(t.endpoints[2]!.routes.map((r) => [r.destination.text, r.nextHop?.text])).toEqual([
      ['::/0', 'fd00:10::1'],
      ['0.0.0.0/0', '10.244.1.2'],
    ]);
    expect(t.endpoints[2]!.gateway?.text).toBe('10.244.1.2'); // IPv4 first: the subnet's gateway
    expect(texts(t.endpoints[1]!.acls[0]!.remoteAddresses)).toEqual(['2001:db8::/32', '2001:db8:1::5/128']);
  });

  it('IPv6 text is RFC 5952 (as vfp parse prints it): one zero group kept, longest run compressed, IPv4-mapped dotted', () => {
    const d = withPolicy(base(), 1, 'ACL', {
      Action: 'Allow',
      Direction: 'In',
      RemoteAddresses: '2001:DB8:0:1:1:1:1:1,2001:0:0:1:0:0:0:1,::ffff:10.0.0.1,0:0:0:0:0:ffff:a00:2,::,::1/128',
    });
    expect(texts(load(d).endpoints[1]!.acls[0]!.remoteAddresses)).toEqual([
      '2001:db8:0:1:1:1:1:1/128',
      '2001:0:0:1::1/128',
      '::ffff:10.0.0.1/128',
      '::ffff:10.0.0.2/128',
      '::/128',
      '::1/128',
    ]);
  });

  it('load balancers in the older HCN schema: VirtualIPs, EnableDirectServerReturn, InternalLoadBalancer', () => {
    const d = base();
    d.loadBalancers = [{ HostComputeEndpoints: ['pod'], VirtualIPs: ['10.96.0.1'], EnableDirectServerReturn: true, InternalLoadBalancer: true, PortMappings: [{ Protocol: 'TCP', InternalPort: 8080, ExternalPort: 80, DistributionType: 2 }], SourceVIP: '' }];
    const lb = load(d).loadBalancers[0]!;
    expect(texts(lb.frontendVips)).toEqual(['10.96.0.1']);
    expect(lb.flags).toBe(1);
    expect(lb.sourceVip).toBeNull();
    expect(lb.portMappings).toEqual([{ protocol: 6, internalPort: 8080, externalPort: 80, distributionType: 2, flags: 1 }]);
  });

  it('network policies: VxlanPort, DrMacAddress, ProviderAddress, NetworkACL, other kept; v1 DrMacAddress and ManagementIP', () => {
    const d = base();
    d.networks.push({
      Name: 'ov',
      Type: 'Overlay',
      ManagementIP: '10.99.0.2',
      DrMacAddress: '00-15-5D-61-22-0A',
      Subnets: [{ AddressPrefix: '10.245.4.0/24', GatewayAddress: '10.245.4.1', Policies: [{ Type: 'VSID', VSID: 4096 }] }],
      Policies: [
        { Type: 'VxlanPort', Settings: { Port: 4789 } },
        { Type: 'NetworkACL', Settings: { Action: 'Allow', Direction: 'Out', Priority: 10 } },
        { Type: 'SetPolicy', Settings: { Id: 'x', Name: 'y', PolicyType: 'IPSET', Values: '10.0.0.1' } },
      ],
    });
    const n = load(d).networks[2]!;
    expect(n.policies.map((p) => (p.type === 'other' ? `other:${p.hnsType}` : p.type))).toEqual(['DrMacAddress', 'ProviderAddress', 'VxlanPort', 'NetworkACL', 'other:SetPolicy']);
    expect(notesOf(d)).toContain('networks[2].ManagementIP: v1 ManagementIP read as the ProviderAddress policy of the overlay network');
  });

  it('endpoint: other policies kept, EncapOverhead (policy and v1 field), routes and Metric', () => {
    const d = base();
    d.endpoints[1].Policies.push({ Type: 'QOS', Settings: { MaximumOutgoingBandwidthInBytes: 1000 } }, { Type: 'L2Driver' }, { Type: 'EncapOverhead', Settings: { Overhead: 50 } });
    d.endpoints[1].Routes = [{ NextHop: '10.244.1.2', DestinationPrefix: '0.0.0.0/0', Metric: 5 }, { NextHop: '10.244.1.3', DestinationPrefix: '10.50.0.0/16' }];
    d.endpoints[0].EncapOverhead = 70;
    const t = load(d);
    expect(t.endpoints[1]!.otherPolicies.map((p) => p.hnsType)).toEqual(['QOS', 'L2Driver']);
    expect(t.endpoints[1]!.encapOverhead).toBe(50);
    expect(t.endpoints[0]!.encapOverhead).toBe(70);
    expect(t.endpoints[1]!.routes.map((r) => [r.destination.text, r.nextHop?.text, r.metric])).toEqual([
      ['0.0.0.0/0', '10.244.1.2', 5],
      ['10.50.0.0/16', '10.244.1.3', 0],
    ]);
    // No Routes: the subnet's gateway becomes the default route.
    expect(t.endpoints[0]!.routes.map((r) => [r.destination.text, r.nextHop?.text, r.metric])).toEqual([['0.0.0.0/0', '172.20.0.1', 0]]);
  });

  it('v1 policy lists: several ELB policies make one load balancer; a ROUTE-only list is skipped', () => {
    const d = base();
    d.policyLists = [
      {
        ID: 'pl-1',
        References: ['/endpoints/aaaaaaaa-0000-0000-0000-000000000002'],
        Policies: [
          { Type: 'ELB', SourceVIP: '10.244.1.250', VIPs: ['10.96.0.10'], Protocol: 6, InternalPort: 8080, ExternalPort: 80, ILB: true },
          { Type: 'ELB', VIPs: ['10.96.0.10', '10.96.0.11'], Protocol: 17, InternalPort: 53, ExternalPort: 53, IsDSR: true },
        ],
      },
      { ID: 'pl-2', References: ['/endpoints/aaaaaaaa-0000-0000-0000-000000000002'], Policies: [{ Type: 'ROUTE', DestinationPrefix: '10.96.0.0/12', NeedEncap: true }] },
    ];
    const r = analyseTopology(d, 't.json');
    expect(r.problems).toEqual([]);
    const lbs = r.topology!.loadBalancers;
    expect(lbs).toHaveLength(1);
    expect(lbs[0]!).toMatchObject({ id: 'pl-1', endpoints: [1], flags: 1 });
    expect(lbs[0]!.sourceVip?.text).toBe('10.244.1.250');
    expect(texts(lbs[0]!.frontendVips)).toEqual(['10.96.0.10', '10.96.0.11']);
    expect(lbs[0]!.portMappings).toEqual([
      { protocol: 6, internalPort: 8080, externalPort: 80, distributionType: 0, flags: 1 },
      { protocol: 17, internalPort: 53, externalPort: 53, distributionType: 0, flags: 0 },
    ]);
    expect(r.notes).toContain('policyLists[1]: a policy list of ROUTE policies, not a load balancer: ignored');
  });

  it('fixture files decode and load as-is', () => {
    expect(fixtureDoc('spec-v2.json')).toBeTypeOf('object');
  });
});
