/**
 * The loader on bad input: every validation problem with its exact JSON path, several problems
 * reported at once, the TopologyError message, PowerShell's depth-2 truncation, JSON syntax
 * errors with line and column, and the text encodings Windows tools write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT_USAGE } from '../../src/base/errors.js';
import { analyseTopology, decodeTopologyText, loadTopology, TopologyError } from '../../src/config/topology.js';
import { base, FIXTURES, fixture, problemsOf, strip, withPolicy, type Doc } from './helpers.js';

type Case = [name: string, mutate: (d: Doc) => void, path: string, message: RegExp];

const acl = (d: Doc, settings: Record<string, unknown>): void => {
  withPolicy(d, 1, 'ACL', { Action: 'Allow', Direction: 'In', ...settings });
};
const pm = (d: Doc, settings: Record<string, unknown>): void => {
  withPolicy(d, 0, 'PortMapping', settings);
};

const CASES: Case[] = [
  // JSON types and required fields
  ['networks is not a list', (d) => (d.networks = 'nat'), 'networks', /^expected a list, got a string \("nat"\)$/],
  ['network without Name', (d) => delete d.networks[0].Name, 'networks[0]', /^network without Name$/],
  ['network Name of the wrong type', (d) => (d.networks[1].Name = 5), 'networks[1].Name', /^expected a string, got a number \(5\)$/],
  ['unknown network Type', (d) => (d.networks[1].Type = 'Bridge'), 'networks[1].Type', /^unknown network Type 'Bridge' \(expected NAT, ICS, Transparent, L2Bridge, L2Tunnel, Overlay, Private, Internal\)$/],
  ['unsupported network Type', (d) => (d.networks[1].Type = 'Layered'), 'networks[1].Type', /^network type 'Layered' is not emulated$/],
  ['unknown numeric Type', (d) => (d.networks[1].Type = 7), 'networks[1].Type', /^numeric network Type 7 is not known/],
  ['network Flags negative', (d) => (d.networks[0].Flags = -1), 'networks[0].Flags', /^a flags number must be between 0 and 4294967295, got -1$/],
  ['subnet without a prefix', (d) => delete d.networks[0].Ipams[0].Subnets[0].IpAddressPrefix, 'networks[0].Ipams[0].Subnets[0]', /^subnet without IpAddressPrefix$/],
  ['subnet prefix without a length', (d) => (d.networks[0].Ipams[0].Subnets[0].IpAddressPrefix = '172.20.0.0'), 'networks[0].Ipams[0].Subnets[0].IpAddressPrefix', /needs a prefix length \(e\.g\. 172\.20\.0\.0\/24\)/],
  ['IPv4 prefix length 33', (d) => (d.networks[0].Ipams[0].Subnets[0].IpAddressPrefix = '172.20.0.0/33'), 'networks[0].Ipams[0].Subnets[0].IpAddressPrefix', /an IPv4 prefix length is 0\.\.32/],
  ['IPv6 prefix length 129', (d) => (d.networks[0].Ipams[0].Subnets[0].IpAddressPrefix = 'fd00::/129'), 'networks[0].Ipams[0].Subnets[0].IpAddressPrefix', /an IPv6 prefix length is 0\.\.128/],
  ['bad address in a prefix', (d) => (d.networks[0].Ipams[0].Subnets[0].IpAddressPrefix = '300.1.1.0/24'), 'networks[0].Ipams[0].Subnets[0].IpAddressPrefix', /^'300\.1\.1\.0\/24' is not an IPv4 or IPv6 address$/],
  ['IPv6 zone index', (d) => (d.networks[0].Ipams[0].Subnets[0].Routes[0].NextHop = 'fe80::1%eth0'), 'networks[0].Ipams[0].Subnets[0].Routes[0].NextHop', /zone indices are not supported/],
  ['route next hop of the other family', (d) => (d.networks[0].Ipams[0].Subnets[0].Routes[0].NextHop = 'fd00::1'), 'networks[0].Ipams[0].Subnets[0].Routes[0].NextHop', /^next hop fd00::1 is not of the destination's family \(IPv4\)$/],
  ['route without destination', (d) => delete d.networks[0].Ipams[0].Subnets[0].Routes[0].DestinationPrefix, 'networks[0].Ipams[0].Subnets[0].Routes[0]', /^route without DestinationPrefix$/],
  ['v1 gateway of the other family', (d) => (d.networks[1] = { Name: 'bridge', Type: 'L2Bridge', Subnets: [{ AddressPrefix: '10.244.1.0/24', GatewayAddress: 'fd00::1' }] }), 'networks[1].Subnets[0].GatewayAddress', /^gateway fd00::1 is not of the subnet's family \(IPv4\)$/],
  ['MAC range backwards', (d) => (d.networks[0].MacPool = { Ranges: [{ StartMacAddress: '00-15-5D-AA-1F-FF', EndMacAddress: '00-15-5D-AA-10-00' }] }), 'networks[0].MacPool.Ranges[0]', /^MAC range 00:15:5d:aa:1f:ff - 00:15:5d:aa:10:00 runs backwards$/],
  ['bad MAC in a pool', (d) => (d.networks[0].MacPool = { Ranges: [{ StartMacAddress: '00-15-5D-AA-1F', EndMacAddress: '00-15-5D-AA-10-00' }] }), 'networks[0].MacPool.Ranges[0].StartMacAddress', /^'00-15-5D-AA-1F' is not a MAC address/],
  ['MAC with mixed separators', (d) => (d.endpoints[0].MacAddress = '00-15:5D-AA-10-0A'), 'endpoints[0].MacAddress', /is not a MAC address/],
  ['subnet VLAN 4095', (d) => (d.networks[1].Ipams[0].Subnets[0].Policies = [{ Type: 'VLAN', Settings: { IsolationId: 4095 } }]), 'networks[1].Ipams[0].Subnets[0].Policies[0].Settings.IsolationId', /^a VLAN id must be between 1 and 4094, got 4095$/],
  ['subnet VLAN 0', (d) => (d.networks[1].Ipams[0].Subnets[0].Policies = [{ Type: 'VLAN', Settings: { IsolationId: 0 } }]), 'networks[1].Ipams[0].Subnets[0].Policies[0].Settings.IsolationId', /between 1 and 4094, got 0/],
  ['subnet VSID 0', (d) => (d.networks[1].Ipams[0].Subnets[0].Policies = [{ Type: 'VSID', Settings: { IsolationId: 0 } }]), 'networks[1].Ipams[0].Subnets[0].Policies[0].Settings.IsolationId', /^a VSID \(VNI\) must be between 1 and 16777215, got 0$/],
  ['v1 subnet VSID 2^24', (d) => (d.networks[1] = { Name: 'bridge', Type: 'Overlay', Subnets: [{ AddressPrefix: '10.244.1.0/24', Policies: [{ Type: 'VSID', VSID: 16777216 }] }] }), 'networks[1].Subnets[0].Policies[0].VSID', /between 1 and 16777215, got 16777216/],
  ['VLAN policy without IsolationId', (d) => (d.networks[1].Ipams[0].Subnets[0].Policies = [{ Type: 'VLAN', Settings: {} }]), 'networks[1].Ipams[0].Subnets[0].Policies[0].Settings', /^VLAN policy without IsolationId$/],
  ['VxlanPort 0', (d) => (d.networks[1].Policies = [{ Type: 'VxlanPort', Settings: { Port: 0 } }]), 'networks[1].Policies[0].Settings.Port', /^a UDP port must be between 1 and 65535, got 0$/],
  ['RemoteSubnetRoute without ProviderAddress', (d) => (d.networks[1].Policies = [{ Type: 'RemoteSubnetRoute', Settings: { DestinationPrefix: '10.245.7.0/24', IsolationId: 4096 } }]), 'networks[1].Policies[0].Settings', /^RemoteSubnetRoute without ProviderAddress$/],
  ['RemoteSubnetRoute VNI too large', (d) => (d.networks[1].Policies = [{ Type: 'RemoteSubnetRoute', Settings: { DestinationPrefix: '10.245.7.0/24', IsolationId: 1 << 24, ProviderAddress: '10.99.0.3' } }]), 'networks[1].Policies[0].Settings.IsolationId', /between 1 and 16777215/],
  ['policy without Type', (d) => d.endpoints[0].Policies.push({ Settings: {} }), 'endpoints[0].Policies[0]', /^policy without a Type$/],
  ['Policies of the wrong type', (d) => (d.endpoints[0].Policies = 'none'), 'endpoints[0].Policies', /^expected a list, got a string \("none"\)$/],
  ['Settings of the wrong type', (d) => d.endpoints[0].Policies.push({ Type: 'ACL', Settings: 5 }), 'endpoints[0].Policies[0].Settings', /^expected an object, got a number \(5\)$/],
  // references
  ['endpoint without a network', (d) => delete d.endpoints[0].HostComputeNetwork, 'endpoints[0]', /^endpoint without HostComputeNetwork \(v2\) or VirtualNetwork \/ VirtualNetworkName \(v1\)/],
  ['endpoint naming no network', (d) => (d.endpoints[0].HostComputeNetwork = 'nope'), 'endpoints[0].HostComputeNetwork', /^'nope' names no network \(by ID or Name\)$/],
  [
    'v1 references that disagree',
    (d) => {
      delete d.endpoints[0].HostComputeNetwork;
      d.endpoints[0].VirtualNetwork = '11111111-1111-1111-1111-111111111111';
      d.endpoints[0].VirtualNetworkName = 'bridge';
    },
    'endpoints[0].VirtualNetworkName',
    /^names network 'bridge', but the endpoint's other reference names 'nat'$/,
  ],
  ['vnic naming no network', (d) => (d.host.vnics = [{ network: 'x', mac: '00-15-5D-00-10-01' }]), 'host.vnics[0].network', /^'x' names no network/],
  ['vnic without mac', (d) => (d.host.vnics = [{ network: 'nat' }]), 'host.vnics[0]', /^vnic without mac$/],
  ['two vnics on one network', (d) => (d.host.vnics = [{ network: 'nat', mac: '00-15-5D-00-10-01' }, { network: 'nat', mac: '00-15-5D-00-10-02' }]), 'host.vnics[1]', /^network 'nat' already has a vnic \(host\.vnics\[0\]\)$/],
  ['load balancer naming no endpoint', (d) => (d.loadBalancers = [{ HostComputeEndpoints: ['web', 'ghost'], PortMappings: [] }]), 'loadBalancers[0].HostComputeEndpoints[1]', /^'ghost' names no endpoint \(by ID or Name\)$/],
  ['duplicate network names', (d) => (d.networks[1].Name = 'nat'), 'networks[1].Name', /^network name 'nat' is also the name of networks\[0\]$/],
  ['ambiguous reference by name', (d) => (d.networks[1].Name = 'nat'), 'endpoints[0].HostComputeNetwork', /^'nat' names 2 networks: refer to it by ID$/],
  ['duplicate network IDs', (d) => (d.networks[1].ID = d.networks[0].ID.toUpperCase()), 'networks[1].ID', /^network ID '11111111-1111-1111-1111-111111111111' is also the ID of networks\[0\]$/],
  ['duplicate endpoint IDs', (d) => (d.endpoints[1].ID = d.endpoints[0].ID), 'endpoints[1].ID', /^endpoint ID '.*' is also the ID of endpoints\[0\]$/],
  // endpoints
  ['endpoint IP outside every subnet', (d) => (d.endpoints[0].IpConfigurations[0].IpAddress = '172.21.0.10'), 'endpoints[0].IpConfigurations[0].IpAddress', /^172\.21\.0\.10 is outside every subnet of network 'nat' \(172\.20\.0\.0\/16\)$/],
  ['v1 endpoint IP outside every subnet', (d) => (d.endpoints[1] = { Name: 'pod', VirtualNetworkName: 'bridge', IPAddress: '10.9.9.9' }), 'endpoints[1].IPAddress', /outside every subnet of network 'bridge'/],
  ['bad endpoint IP', (d) => (d.endpoints[0].IpConfigurations[0].IpAddress = '172.20.0'), 'endpoints[0].IpConfigurations[0].IpAddress', /^'172\.20\.0' is not an IPv4 or IPv6 address$/],
  ['IPv4 PrefixLength 33', (d) => (d.endpoints[0].IpConfigurations[0].PrefixLength = 33), 'endpoints[0].IpConfigurations[0].PrefixLength', /^an IPv4 prefix length is 0\.\.32, got 33$/],
  ['IP configuration without IpAddress', (d) => (d.endpoints[0].IpConfigurations = [{ PrefixLength: 16 }]), 'endpoints[0].IpConfigurations[0]', /^IP configuration without IpAddress$/],
  ['bad endpoint MAC', (d) => (d.endpoints[0].MacAddress = '00-15-5D-AA-10'), 'endpoints[0].MacAddress', /^'00-15-5D-AA-10' is not a MAC address/],
  [
    'duplicate MAC on a network',
    (d) => d.endpoints.push({ Name: 'web2', HostComputeNetwork: 'nat', IpConfigurations: [{ IpAddress: '172.20.0.11' }], MacAddress: '00:15:5d:aa:10:0a' }),
    'endpoints[2]',
    /^MAC 00:15:5d:aa:10:0a is also the MAC of endpoints\[0\] on network 'nat'$/,
  ],
  [
    'duplicate IP on a network',
    (d) => d.endpoints.push({ Name: 'web2', HostComputeNetwork: 'nat', IpConfigurations: [{ IpAddress: '172.20.0.10' }], MacAddress: '00:15:5d:aa:10:0b' }),
    'endpoints[2]',
    /^address 172\.20\.0\.10 is also the address of endpoints\[0\] on network 'nat'$/,
  ],
  ['duplicate port names (endpoints)', (d) => (d.endpoints[1].Name = 'web'), 'endpoints[1]', /^port name 'web' is also used by endpoints\[0\]$/],
  ['duplicate port names (endpoint and uplink)', (d) => (d.endpoints[0].Name = 'eth0'), 'host.uplinks[0].name', /^port name 'eth0' is also used by endpoints\[0\]$/],
  ['endpoint VLAN 5000 (v1)', (d) => d.endpoints[1].Policies.push({ Type: 'VLAN', VLAN: 5000 }), 'endpoints[1].Policies[0].VLAN', /^a VLAN id must be between 1 and 4094, got 5000$/],
  ['second ProviderAddress', (d) => d.endpoints[1].Policies.push({ Type: 'PA', PA: '10.99.0.2' }, { Type: 'ProviderAddress', Settings: { ProviderAddress: '10.99.0.3' } }), 'endpoints[1].Policies[1]', /^a second ProviderAddress policy$/],
  ['IsRemoteEndpoint not a boolean', (d) => (d.endpoints[1].IsRemoteEndpoint = 'yes'), 'endpoints[1].IsRemoteEndpoint', /^expected true or false, got a string \("yes"\)$/],
  // ACLs
  ['ACL without Action', (d) => withPolicy(d, 1, 'ACL', { Direction: 'In' }), 'endpoints[1].Policies[0].Settings', /^ACL without Action \(Allow, Block or Pass\)$/],
  ['ACL without Direction', (d) => withPolicy(d, 1, 'ACL', { Action: 'Allow' }), 'endpoints[1].Policies[0].Settings', /^ACL without Direction \(In or Out\)$/],
  ['ACL Action Deny', (d) => acl(d, { Action: 'Deny' }), 'endpoints[1].Policies[0].Settings.Action', /^Action must be Allow, Block or Pass, got 'Deny'$/],
  ['ACL Direction Both', (d) => acl(d, { Direction: 'Both' }), 'endpoints[1].Policies[0].Settings.Direction', /^Direction must be In or Out, got 'Both'$/],
  ['ACL RuleType Firewall', (d) => acl(d, { RuleType: 'Firewall' }), 'endpoints[1].Policies[0].Settings.RuleType', /^RuleType must be Host or Switch, got 'Firewall'$/],
  ['ACL Priority 70000', (d) => acl(d, { Priority: 70000 }), 'endpoints[1].Policies[0].Settings.Priority', /^a priority must be between 0 and 65535, got 70000$/],
  ['ACL Priority not a number', (d) => acl(d, { Priority: 'high' }), 'endpoints[1].Policies[0].Settings.Priority', /^expected a priority, got a string \("high"\)$/],
  ['ACL protocol 300', (d) => acl(d, { Protocols: '6,300' }), 'endpoints[1].Policies[0].Settings.Protocols', /^protocol 300 is out of range 0\.\.255 \(256 = any, v1\)$/],
  ['ACL protocol name unknown', (d) => acl(d, { Protocols: 'FOO' }), 'endpoints[1].Policies[0].Settings.Protocols', /^'FOO' is not a protocol number or name/],
  ['v1 ACL Protocol 257', (d) => d.endpoints[1].Policies.push({ Type: 'ACL', Action: 'Allow', Direction: 'In', Protocol: 257 }), 'endpoints[1].Policies[0].Protocol', /^protocol 257 is out of range 0\.\.255/],
  ['ACL port above 65535', (d) => acl(d, { LocalPorts: '80,70000' }), 'endpoints[1].Policies[0].Settings.LocalPorts', /^port 70000 is out of range 0\.\.65535$/],
  ['ACL port range backwards', (d) => acl(d, { RemotePorts: '2000-1000' }), 'endpoints[1].Policies[0].Settings.RemotePorts', /^port range 2000-1000 runs backwards$/],
  ['ACL port not a number', (d) => acl(d, { LocalPorts: 'http' }), 'endpoints[1].Policies[0].Settings.LocalPorts', /^'http' is not a port or a port range/],
  ['ACL port list item of the wrong type', (d) => acl(d, { LocalPorts: [80, true] }), 'endpoints[1].Policies[0].Settings.LocalPorts[1]', /^expected a port list, got true$/],
  ['ACL address list with a bad item', (d) => acl(d, { RemoteAddresses: '10.0.0.0/8,bogus' }), 'endpoints[1].Policies[0].Settings.RemoteAddresses', /^'bogus' is not an IPv4 or IPv6 address$/],
  ['ACL address array with a bad item', (d) => acl(d, { LocalAddresses: ['10.0.0.1', '10.0.0.0/40'] }), 'endpoints[1].Policies[0].Settings.LocalAddresses[1]', /an IPv4 prefix length is 0\.\.32/],
  ['NetworkACL with a bad Action', (d) => (d.networks[1].Policies = [{ Type: 'NetworkACL', Settings: { Action: 'Drop', Direction: 'In' } }]), 'networks[1].Policies[0].Settings.Action', /^Action must be Allow, Block or Pass, got 'Drop'$/],
  // port mappings and other endpoint policies
  ['ExternalPort 70000', (d) => pm(d, { Protocol: 6, InternalPort: 80, ExternalPort: 70000 }), 'endpoints[0].Policies[0].Settings.ExternalPort', /^a port number must be between 0 and 65535, got 70000$/],
  ['ExternalPort as a string', (d) => pm(d, { Protocol: 6, InternalPort: 80, ExternalPort: '8080' }), 'endpoints[0].Policies[0].Settings.ExternalPort', /^expected a port number, got a string \("8080"\)$/],
  ['InternalPort negative', (d) => pm(d, { Protocol: 6, InternalPort: -1, ExternalPort: 80 }), 'endpoints[0].Policies[0].Settings.InternalPort', /between 0 and 65535, got -1/],
  ['port mapping without ExternalPort', (d) => pm(d, { Protocol: 6, InternalPort: 80 }), 'endpoints[0].Policies[0].Settings', /^port mapping without ExternalPort$/],
  ['port mapping of ICMP', (d) => pm(d, { Protocol: 1, InternalPort: 80, ExternalPort: 80 }), 'endpoints[0].Policies[0].Settings.Protocol', /^a port mapping is TCP \(6\) or UDP \(17\), got 1$/],
  ['v1 NAT policy: path without Settings', (d) => d.endpoints[0].Policies.push({ Type: 'NAT', Protocol: 'TCP', InternalPort: 80, ExternalPort: 99999 }), 'endpoints[0].Policies[0].ExternalPort', /between 0 and 65535, got 99999/],
  ['port mapping with a bad VIP', (d) => pm(d, { Protocol: 6, ExternalPort: 80, VIP: '10.99.0.2/24' }), 'endpoints[0].Policies[0].Settings.VIP', /is a prefix where an address is expected/],
  ['OutBoundNAT with a bad exception', (d) => withPolicy(d, 1, 'OutBoundNAT', { Exceptions: ['10.244.0.0/16x'] }), 'endpoints[1].Policies[0].Settings.Exceptions[0]', /has a bad prefix length/],
  ['SDNRoute without DestinationPrefix', (d) => withPolicy(d, 1, 'SDNRoute', { NeedEncap: true }), 'endpoints[1].Policies[0].Settings', /^SDNRoute policy without DestinationPrefix$/],
  ['SDNRoute NeedEncap not a boolean', (d) => withPolicy(d, 1, 'SDNRoute', { DestinationPrefix: '10.96.0.0/12', NeedEncap: 'true' }), 'endpoints[1].Policies[0].Settings.NeedEncap', /^expected true or false, got a string/],
  // host
  ['uplink without name', (d) => delete d.host.uplinks[0].name, 'host.uplinks[0]', /^uplink without name$/],
  ['uplink without mac', (d) => delete d.host.uplinks[0].mac, 'host.uplinks[0]', /^uplink without mac$/],
  ['uplink MTU 100', (d) => (d.host.uplinks[0].mtu = 100), 'host.uplinks[0].mtu', /^an MTU must be between 576 and 65535, got 100$/],
  ['uplink gateway of the other family', (d) => (d.host.uplinks[0].gateway = 'fd00::1'), 'host.uplinks[0].gateway', /^gateway fd00::1 is not of the uplink address's family \(IPv4\)$/],
  ['duplicate uplink MACs', (d) => d.host.uplinks.push({ name: 'eth1', mac: '00:15:5d:00:00:01' }), 'host.uplinks[1].mac', /^MAC 00:15:5d:00:00:01 is also the MAC of host\.uplinks\[0\]$/],
  ['dynamic port range beyond 65535', (d) => (d.host.dynamicPortRange = { start: 60000, count: 16384 }), 'host.dynamicPortRange', /^the range 60000\.\.76383 ends beyond port 65535$/],
  ['winnat filtering unknown', (d) => (d.host.winnat = { filtering: 'full-cone' }), 'host.winnat.filtering', /^filtering must be address-dependent or endpoint-independent/],
  ['winnat timeout 0', (d) => (d.host.winnat = { udpIdleTimeout: 0 }), 'host.winnat.udpIdleTimeout', /^a timeout in seconds must be between 1 and 2147483, got 0$/],
  // load balancers
  ['LB DistributionType 3', (d) => (d.loadBalancers = [{ HostComputeEndpoints: ['pod'], PortMappings: [{ Protocol: 6, InternalPort: 80, ExternalPort: 80, DistributionType: 3 }] }]), 'loadBalancers[0].PortMappings[0].DistributionType', /^a DistributionType .* must be between 0 and 2, got 3$/],
  ['LB bad frontend VIP', (d) => (d.loadBalancers = [{ HostComputeEndpoints: ['pod'], FrontendVIPs: ['10.96.0.300'] }]), 'loadBalancers[0].FrontendVIPs[0]', /^'10\.96\.0\.300' is not an IPv4 or IPv6 address$/],
  ['LB mapping without Protocol', (d) => (d.loadBalancers = [{ HostComputeEndpoints: ['pod'], PortMappings: [{ InternalPort: 80, ExternalPort: 80 }] }]), 'loadBalancers[0].PortMappings[0]', /^load balancer port mapping without Protocol$/],
];

describe('every validation problem, at its exact path', () => {
  it.each(CASES)('%s', (_name, mutate, path, message) => {
    const d = base();
    mutate(d);
    const ps = problemsOf(d);
    const hit = ps.find((p) => p.path === path && message.test(p.message));
    expect(hit, `problems were: ${JSON.stringify(ps, null, 1)}`).toBeDefined();
  });

  it('the base document itself has no problems', () => {
    expect(problemsOf(base())).toEqual([]);
  });

  it('a top level that is not an object', () => {
    expect(problemsOf([])).toEqual([
      { path: '(top level)', message: 'expected an object {host, networks, endpoints, loadBalancers}, got an array (a bare Get-HnsNetwork / Get-HnsEndpoint list goes under "networks" / "endpoints")' },
    ]);
    expect(problemsOf('x')[0]!.message).toMatch(/got a string/);
  });

  it('a remote endpoint may sit outside the local subnets', () => {
    const d = base();
    d.endpoints.push({ Name: 'r', HostComputeNetwork: 'bridge', Flags: 1, IpConfigurations: [{ IpAddress: '10.244.7.5' }] });
    expect(problemsOf(d)).toEqual([]);
  });

  it('a problem in a network does not cascade into its endpoints', () => {
    const d = base();
    d.networks[1].Type = 'Bridge';
    expect(problemsOf(d)).toEqual([{ path: 'networks[1].Type', message: expect.stringMatching(/^unknown network Type/) }]);
  });
});

describe('several problems at once', () => {
  const d = base();
  d.networks[0].Ipams[0].Subnets[0].IpAddressPrefix = '172.20.0.0/99';
  d.endpoints[1].HostComputeNetwork = 'nope';
  withPolicy(d, 0, 'PortMapping', { Protocol: 6, InternalPort: 80, ExternalPort: 65536 });
  withPolicy(d, 0, 'ACL', { Action: 'Deny', Direction: 'Sideways', Priority: -3 });
  d.host.uplinks[0].mac = 'nope';

  it('are all reported, in file order', () => {
    expect(problemsOf(d).map((p) => p.path)).toEqual([
      'host.uplinks[0].mac',
      'networks[0].Ipams[0].Subnets[0].IpAddressPrefix',
      'endpoints[0].Policies[0].Settings.ExternalPort',
      'endpoints[0].Policies[1].Settings.Action',
      'endpoints[0].Policies[1].Settings.Direction',
      'endpoints[0].Policies[1].Settings.Priority',
      'endpoints[1].HostComputeNetwork',
    ]);
  });

  it('TopologyError: a ConfigError (exit 2) naming the first and counting the rest', () => {
    let err: unknown;
    try {
      loadTopology(d, 'topo.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TopologyError);
    expect(err).toBeInstanceOf(ConfigError);
    const te = err as TopologyError;
    expect(te.exitCode).toBe(EXIT_USAGE);
    expect(te.problems).toHaveLength(7);
    expect(te.path).toBe('host.uplinks[0].mac');
    expect(te.message).toBe("topo.json: host.uplinks[0].mac: 'nope' is not a MAC address (expected 00-15-5D-AA-10-0A or 00:15:5d:aa:10:0a) (and 6 more problems; run vfp validate topo.json)");
  });

  it('one problem: no count', () => {
    const one = base();
    one.endpoints[0].MacAddress = 'x';
    expect(() => loadTopology(one, 'a.json')).toThrow(/^a\.json: endpoints\[0\]\.MacAddress: 'x' is not a MAC address \(expected 00-15-5D-AA-10-0A or 00:15:5d:aa:10:0a\)$/);
  });
});

describe('PowerShell ConvertTo-Json depth 2', () => {
  it('one clear problem, at the first cut-off value', () => {
    const r = analyseTopology(decodeTopologyText(readFileSync(join(FIXTURES, 'depth2.json')), 'depth2.json'), 'depth2.json');
    expect(r.problems).toEqual([
      {
        path: 'host.uplinks',
        message:
          'PowerShell ConvertTo-Json cut the export off at its default depth of 2: a nested object arrived as a type-name string (3 values are cut off like this); re-export with ConvertTo-Json -Depth 10',
      },
    ]);
  });

  it('Hashtable and PSCustomObject forms', () => {
    for (const s of ['System.Collections.Hashtable', '@{Type=ACL; Settings=}', 'System.Object[]', 'System.Management.Automation.PSCustomObject']) {
      const d = base();
      d.endpoints[1].Policies = [s];
      const ps = problemsOf(d);
      expect(ps, s).toHaveLength(1);
      expect(ps[0]!.path).toBe('endpoints[1].Policies[0]');
      expect(ps[0]!.message).toMatch(/ConvertTo-Json -Depth 10/);
    }
  });
});

describe('decodeTopologyText', () => {
  const ps51 = readFileSync(join(FIXTURES, 'ps51-v1.json'));
  const dec = (b: Uint8Array | string): unknown => decodeTopologyText(typeof b === 'string' ? Buffer.from(b, 'utf8') : b, 'x.json');
  const syntax = (text: string): string => {
    try {
      dec(text);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).exitCode).toBe(EXIT_USAGE);
      return (e as Error).message;
    }
    throw new Error('no error');
  };

  it('UTF-16LE with BOM (Windows PowerShell 5.1 redirection) reads like the UTF-8 file', () => {
    const t16 = fixture('ps51-v1.utf16le.json');
    expect(strip(t16)).toEqual(strip(fixture('ps51-v1.json')));
    expect(t16.endpoints[0]!.name).toBe('web');
  });

  it('UTF-16BE with BOM, UTF-8 with BOM, UTF-16LE without BOM', () => {
    const want = dec(ps51);
    expect(decodeTopologyText(readFileSync(join(FIXTURES, 'ps51-v1.utf16be.json')), 'be.json')).toEqual(want);
    expect(dec(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ps51]))).toEqual(want);
    expect(dec(Buffer.from(ps51.toString('utf8'), 'utf16le'))).toEqual(want);
  });

  it('PowerShell 5.1 date strings and \\u003c escapes are plain strings', () => {
    const v = dec('{"d": "\\/Date(1700000000000)\\/", "t": "\\u003cnone\\u003e \\u0026"}') as Record<string, string>;
    expect(v).toEqual({ d: '/Date(1700000000000)/', t: '<none> &' });
  });

  it('JSON syntax errors name line and column', () => {
    expect(syntax('{\n  "a": 1,\n}')).toBe("x.json: line 3, column 1: JSON syntax error: a property name was expected after ',' (trailing comma?)");
    expect(syntax('{\r\n  "a": tru\r\n}')).toBe("x.json: line 2, column 8: JSON syntax error: unexpected character 't' where a value was expected");
    expect(syntax('{"a": [1, 2,]}')).toBe("x.json: line 1, column 13: JSON syntax error: a value was expected after ',' (trailing comma?)");
    expect(syntax('{"a": 1 "b": 2}')).toBe("x.json: line 1, column 9: JSON syntax error: ',' or '}' was expected after a property value");
    expect(syntax("{'a': 1}")).toBe('x.json: line 1, column 2: JSON syntax error: a double-quoted property name was expected');
    expect(syntax('{"p": "C:\\Windows"}')).toMatch(/^x\.json: line 1, column 10: JSON syntax error: bad escape '\\W' in a string/);
    expect(syntax('{"a": "x')).toMatch(/^x\.json: line 1, column 9: JSON syntax error: unexpected end of file \(unterminated string\)$/);
    expect(syntax('{"a": 1}\n{"b": 2}')).toBe('x.json: line 2, column 1: JSON syntax error: unexpected text after the end of the JSON value');
    expect(syntax('{"a": 1')).toMatch(/^x\.json: line 1, column 8: JSON syntax error: unexpected end of file/);
  });

  it('an empty file, invalid UTF-8, odd-length UTF-16', () => {
    expect(syntax('  \n')).toBe('x.json: line 1, column 1: the file is empty: expected a JSON topology object');
    expect(() => dec(Uint8Array.from([0x7b, 0x22, 0x61, 0xff, 0x22, 0x7d]))).toThrow(/^x\.json: byte offset 3: not UTF-8 or UTF-16 text/);
    expect(() => dec(Uint8Array.from([0xff, 0xfe, 0x7b, 0x00, 0x7d]))).toThrow(/^x\.json: byte offset 4: UTF-16LE text with an odd number of bytes$/);
  });
});
