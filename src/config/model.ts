/**
 * The normalised topology: what `loadTopology` (config/topology.ts) makes of a topology file, and
 * the only shape the rest of the engine reads. Pure data: no file access, no per-packet use.
 *
 * The file's format (docs/topology.md): `host` (ours) plus HNS `networks`, `endpoints` and
 * `loadBalancers`, each object in the v2 (HCN) schema or the v1 schema as `Get-HnsNetwork`,
 * `Get-HnsEndpoint` or `hnsdiag list all -d` print them. The loader normalises v1 names to v2
 * (`ExceptionList` -> `Exceptions`, `ROUTE` -> SDNRoute, `PA` -> ProviderAddress, v1 `NAT` ->
 * PortMapping, ACL `Protocol: 256` -> any ...), resolves references by ID or Name into indices,
 * and parses every address once (with `ip-address`) into integer words.
 *
 * Every object keeps `path`, the JSON path it came from (`endpoints[2].Policies[0]`), so later
 * stages (the VFP compiler, lint, trace) can name the origin of a rule.
 *
 * Address words. An address is four u32 words, big-endian order: IPv4 in words[0] (the other
 * three 0), IPv6 as its four 32-bit groups. The same layout as the flow key (frame/batch.ts), so a
 * compiled prefix test is `(w & mask) === net` on words.
 */

export type Family = 4 | 6;

export interface IpAddr {
  family: Family;
  /** Four u32 words (IPv4: [addr, 0, 0, 0]). */
  words: readonly [number, number, number, number];
  /** Canonical text: dotted quad, or RFC 5952 for IPv6. */
  text: string;
}

/** An address with a prefix length. For a prefix, host bits are cleared in `words` (`text` is `net/len`). */
export interface IpPrefix {
  family: Family;
  words: readonly [number, number, number, number];
  length: number;
  text: string;
}

/** An interface address: the address itself (host bits kept) and its prefix length. */
export interface IpInterfaceAddr {
  address: IpAddr;
  /** The on-link prefix (address & mask). */
  prefix: IpPrefix;
}

export interface MacAddr {
  /** High 16 bits (bytes 0-1). */
  hi: number;
  /** Low 32 bits (bytes 2-5), as an unsigned number. */
  lo: number;
  /** Lower-case, colon-separated. */
  text: string;
}

export interface PortRange {
  from: number;
  to: number;
}

export type NetworkType = 'NAT' | 'ICS' | 'Transparent' | 'L2Bridge' | 'L2Tunnel' | 'Overlay' | 'Private' | 'Internal';

export interface Topology {
  /** The file name, as given (for messages). */
  file: string;
  host: Host;
  networks: Network[];
  endpoints: Endpoint[];
  loadBalancers: LoadBalancer[];
  /** What normalisation did that a user may want to know (one line each, with the JSON path). */
  notes: string[];
}

export interface Host {
  name: string;
  uplinks: Uplink[];
  vnics: Vnic[];
  dynamicPortRange: { start: number; count: number };
  winnat: WinNatSettings;
  /** Host firewall defaults for the containers (docs/defaults.md); `host.firewall` in the file. */
  firewall: FirewallSettings;
  path: string;
}

export interface FirewallSettings {
  /** 'process' (Windows Server containers, the default) or 'hyperv' (no host firewall layer: its firewall is in the utility VM). */
  isolation: 'process' | 'hyperv';
  /** IP protocols admitted inbound when unsolicited (IPv4): TCP, UDP, ICMP, IGMP. */
  inboundProtocols: number[];
  /** The same for IPv6: TCP, UDP, ICMPv6 (IGMP does not exist there; MLD is ICMPv6). */
  inboundProtocols6: number[];
  /** Idle timeout of the firewall's connection state, seconds ([I]: VFP's stateful flow TTL, 240). */
  flowTtl: number;
}

export interface Uplink {
  name: string;
  mac: MacAddr;
  ip: IpInterfaceAddr | null;
  gateway: IpAddr | null;
  gatewayMac: MacAddr | null;
  mtu: number;
  path: string;
}

export interface Vnic {
  /** Index into Topology.networks. */
  network: number;
  mac: MacAddr;
  path: string;
}

export interface WinNatSettings {
  tcpEstablishedTimeout: number;
  tcpTransientTimeout: number;
  udpIdleTimeout: number;
  icmpQueryTimeout: number;
  filtering: 'address-dependent' | 'endpoint-independent';
  udpInboundRefresh: boolean;
}

export interface Route {
  destination: IpPrefix;
  nextHop: IpAddr | null;
  metric: number;
}

export interface Subnet {
  prefix: IpPrefix;
  /** Gateway: the default route's next hop (v2) or GatewayAddress (v1); null when none. */
  gateway: IpAddr | null;
  routes: Route[];
  /** Subnet VLAN policy (v2 `VLAN {IsolationId}`, v1 network `VLAN`), null when none. */
  vlan: number | null;
  /** Subnet VSID policy (overlay VNI), null when none. */
  vsid: number | null;
  path: string;
}

export interface MacRange {
  start: MacAddr;
  end: MacAddr;
}

export type NetworkPolicy =
  | { type: 'RemoteSubnetRoute'; destination: IpPrefix; isolationId: number; providerAddress: IpAddr; drMac: MacAddr | null; path: string }
  | { type: 'ProviderAddress'; address: IpAddr; path: string }
  | { type: 'DrMacAddress'; mac: MacAddr; path: string }
  | { type: 'VxlanPort'; port: number; path: string }
  | { type: 'HostRoute'; path: string }
  | { type: 'NetAdapterName'; adapter: string; path: string }
  | { type: 'NetworkACL'; acl: AclPolicy; path: string }
  /** Any other HNS network policy: kept, named in `vfp compile`, not acted on. */
  | { type: 'other'; hnsType: string; path: string };

export interface Network {
  index: number;
  id: string | null;
  name: string;
  type: NetworkType;
  subnets: Subnet[];
  macPools: MacRange[];
  /** Raw HNS Flags (hcsshim's `hcn` and Microsoft's HCN schema docs name some bits differently). */
  flags: number;
  /** NetAdapterName policy / v1 NetworkAdapterName, null when none. */
  adapterName: string | null;
  /** Index into host.uplinks of the uplink this network's external switch binds (null for NAT/ICS/Private/Internal). */
  uplink: number | null;
  policies: NetworkPolicy[];
  path: string;
}

export type AclAction = 'Allow' | 'Block' | 'Pass';
export type AclDirection = 'In' | 'Out';

export interface AclPolicy {
  id: string | null;
  action: AclAction;
  /** Relative to the endpoint: In = toward the container. */
  direction: AclDirection;
  /** Protocol numbers; null = any (no Protocols, or v1 256). */
  protocols: number[] | null;
  /** Empty = any. */
  localAddresses: IpPrefix[];
  remoteAddresses: IpPrefix[];
  localPorts: PortRange[];
  remotePorts: PortRange[];
  ruleType: 'Host' | 'Switch';
  /** Lower number = higher precedence. */
  priority: number;
  path: string;
}

export interface PortMapping {
  protocol: number;
  internalPort: number;
  externalPort: number;
  vip: IpAddr | null;
  flags: number;
  path: string;
}

export interface OutboundNat {
  vip: IpAddr | null;
  exceptions: IpPrefix[];
  destinations: IpPrefix[];
  flags: number;
  path: string;
}

export interface SdnRoute {
  destination: IpPrefix;
  nextHop: IpAddr | null;
  needEncap: boolean;
  path: string;
}

export interface Endpoint {
  index: number;
  id: string | null;
  name: string;
  /** Index into Topology.networks. */
  network: number;
  /** IpConfigurations (v2) / IPAddress + PrefixLength, IPv6Address (v1). */
  ips: IpInterfaceAddr[];
  /**
   * When the file gives none, HNS would have assigned one: the loader derives it (remote
   * endpoints: `02:11:` + the IPv4 address, as kube-proxy does; Overlay: the `0e:2a:` prefix +
   * the IPv4 address, as the CNIs do; otherwise the next free MAC of the network's MacPool, or
   * 00:15:5d + the low 24 bits of the address) and adds a note.
   */
  mac: MacAddr;
  /** Next hop of the default route of the first address's family (else of any family); null when none. */
  gateway: IpAddr | null;
  /**
   * v2 `Routes`; v1 `GatewayAddress`/`GatewayAddressV6` become default routes; a family without a
   * default route gets one via the gateway of the subnet holding the address (as HNS programs
   * the compartment), so v1 and v2 dumps of one endpoint agree.
   */
  routes: Route[];
  /** Remote endpoint (v2 Flags & 1, v1 IsRemoteEndpoint). */
  remote: boolean;
  acls: AclPolicy[];
  portMappings: PortMapping[];
  outboundNat: OutboundNat[];
  sdnRoutes: SdnRoute[];
  providerAddress: IpAddr | null;
  /** Endpoint VLAN (v1 `VLAN` policy) or the subnet's VLAN it sits in; null = untagged. */
  vlan: number | null;
  encapOverhead: number | null;
  /** Policies kept but not acted on (QOS, L4Proxy, ...), named in `vfp compile`. */
  otherPolicies: { hnsType: string; path: string }[];
  path: string;
}

export interface LoadBalancerPortMapping {
  protocol: number;
  internalPort: number;
  externalPort: number;
  distributionType: number;
  flags: number;
}

export interface LoadBalancer {
  id: string | null;
  /** Indices into Topology.endpoints. */
  endpoints: number[];
  sourceVip: IpAddr | null;
  frontendVips: IpAddr[];
  portMappings: LoadBalancerPortMapping[];
  flags: number;
  path: string;
}

/** A lint finding (`vfp validate`): a known trap, not an error. */
export interface LintFinding {
  /** Kebab-case id, e.g. `acl-default-deny`. */
  code: string;
  path: string;
  message: string;
}
