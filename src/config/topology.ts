/**
 * The topology loader: a topology file (docs/topology.md) to the normalised `Topology`
 * of model.ts. Pure data: the caller reads the bytes (io/file.ts) and hands them to
 * `decodeTopologyText`, then the value to `loadTopology`.
 *
 * The file is `{host, networks, endpoints, loadBalancers}`. `host` is ours; the three lists hold
 * HNS objects as `Get-HnsNetwork`, `Get-HnsEndpoint`, `Get-HnsPolicyList`, `hnsdiag list all -d`
 * or hcsshim's `hcn` print them, each object in the v2 (HCN) schema or the v1 schema, mixed
 * freely. v1 is normalised to v2 (the JSON names of hcsshim's `hcn` package,
 * https://github.com/microsoft/hcsshim), and each normalisation is noted with its JSON path in
 * `topology.notes`:
 *
 *   v1                                         v2 (what the model holds)
 *   Subnets[{AddressPrefix, GatewayAddress}]   Ipams[].Subnets[{IpAddressPrefix, Routes: 0/0 -> gw}]
 *   MacPools[]                                 MacPool.Ranges[]
 *   NetworkAdapterName, DrMacAddress,          NetAdapterName, DrMacAddress, ProviderAddress
 *   ManagementIP (Overlay)                       network policies
 *   IPAddress/PrefixLength, IPv6Address/...    IpConfigurations[]
 *   GatewayAddress(V6) of an endpoint          Routes[0/0 -> gw]
 *   VirtualNetwork / VirtualNetworkName        HostComputeNetwork
 *   IsRemoteEndpoint                           Flags & 1
 *   flat policies {Type, field...}             {Type, Settings: {...}}
 *   NAT {Protocol: "TCP", ...}                 PortMapping {Protocol: 6, ...}
 *   ACL Protocol (256 = any)                   ACL Protocols ("6,17"; absent = any)
 *   OutBoundNAT ExceptionList, VIP             OutBoundNAT Exceptions, VirtualIP
 *   ROUTE                                      SDNRoute
 *   PA {PA}                                    ProviderAddress {ProviderAddress}
 *   VLAN {VLAN}, VSID {VSID}                   VLAN / VSID {IsolationId}
 *   policy list {References, Policies: [ELB]}  HostComputeLoadBalancer
 *
 * Defaults: an omitted network `Type` is NAT (HNS omits enum value 0); host.dynamicPortRange
 * 49152 + 16384; WinNAT timeouts as `Get-NetNat` prints them on a stock host (ICMP 30 s, TCP
 * established 1800 s, transient 120 s, UDP 120 s, address-dependent filtering, no inbound UDP
 * refresh); uplink MTU 1500. A network of an external-switch type (Transparent, L2Bridge,
 * L2Tunnel, Overlay) binds the uplink its NetAdapterName names, else the first uplink; NAT, ICS,
 * Private and Internal bind none.
 * Missing endpoint fields are filled the way HNS or the CNIs would (noted): the prefix length of
 * the subnet holding the address; the MAC (see model.ts `Endpoint.mac`); the gateway of that
 * subnet; the VLAN of that subnet.
 *
 * Validation collects every problem of the file as `{path, message}` (JSON paths such as
 * `endpoints[2].Policies[0].Settings.ExternalPort`) and throws one `TopologyError` at the end;
 * `analyseTopology` returns them instead. A PowerShell depth-2 export (nested objects printed as
 * `"@{Type=ACL; ...}"` or `"System.Object[]"`) is one problem telling the user how to re-export,
 * not a cascade of type errors.
 *
 * Deliberately not handled: hnsdiag's text (non -d) output; CNI conf files and Docker windowsshim
 * options; TierAcl, SetPolicy, L4Proxy and other policies beyond the model (kept as `other`);
 * HNS version gates (hcsshim `hcn/hcnglobals.go`); runtime-only fields (State, Health,
 * Resources ...) are ignored.
 */
import { ConfigError } from '../base/errors.js';
import type {
  AclPolicy,
  Endpoint,
  FirewallSettings,
  Host,
  IpInterfaceAddr,
  LoadBalancer,
  LoadBalancerPortMapping,
  MacAddr,
  MacRange,
  Network,
  NetworkPolicy,
  NetworkType,
  OutboundNat,
  PortMapping,
  Route,
  SdnRoute,
  Subnet,
  Topology,
  Uplink,
  Vnic,
  WinNatSettings,
} from './model.js';
import {
  Collector,
  describe,
  field,
  isObj,
  join,
  macFromNumber,
  macNumber,
  makePrefix,
  prefixContains,
  readAddr,
  readAddrList,
  readArray,
  readBool,
  readInt,
  readInterfaceAddr,
  readMac,
  readObj,
  readPort,
  readPortList,
  readPrefix,
  readPrefixList,
  readProtocol,
  readProtocols,
  readString,
  sameAddr,
  type Field,
  type Obj,
  type Problem,
} from './values.js';

export { decodeTopologyText } from './text.js';
export type { Problem } from './values.js';

/**
 * Every problem of a topology file. The message is the first problem, `FILE: PATH: message`, and
 * says how many more there are; `problems` holds them all. Exit code 2 (bad config).
 */
export class TopologyError extends ConfigError {
  readonly problems: readonly Problem[];
  constructor(file: string, problems: readonly Problem[]) {
    const first = problems[0] ?? { path: '(file)', message: 'invalid topology' };
    super(file, first.path, first.message);
    this.name = 'TopologyError';
    this.problems = problems;
    const more = problems.length - 1;
    if (more > 0) this.message += ` (and ${more} more problem${more === 1 ? '' : 's'}; run vfp validate ${file})`;
  }
}

export interface TopologyAnalysis {
  /** Null when there are problems. */
  topology: Topology | null;
  problems: Problem[];
  notes: string[];
}

/** Load and validate; throws TopologyError with every problem. */
export function loadTopology(doc: unknown, file: string): Topology {
  const r = analyseTopology(doc, file);
  if (r.topology === null) throw new TopologyError(file, r.problems);
  return r.topology;
}

export const DEFAULT_DYNAMIC_PORT_RANGE = { start: 49152, count: 16384 } as const;
export const DEFAULT_WINNAT: Readonly<WinNatSettings> = {
  tcpEstablishedTimeout: 1800,
  tcpTransientTimeout: 120,
  udpIdleTimeout: 120,
  icmpQueryTimeout: 30,
  filtering: 'address-dependent',
  udpInboundRefresh: false,
};
export const DEFAULT_MTU = 1500;
export const NETWORK_TYPES: readonly NetworkType[] = ['NAT', 'ICS', 'Transparent', 'L2Bridge', 'L2Tunnel', 'Overlay', 'Private', 'Internal'];
/** Types whose vSwitch is external, i.e. bound to an uplink. */
export const EXTERNAL_NETWORK_TYPES: ReadonlySet<NetworkType> = new Set<NetworkType>(['Transparent', 'L2Bridge', 'L2Tunnel', 'Overlay']);

const VLAN_MIN = 1;
const VLAN_MAX = 4094;
const VNI_MIN = 1;
const VNI_MAX = 16777215;
const U32_MAX = 0xffffffff;
const REMOTE_ENDPOINT_FLAG = 1;
const LB_FLAG_DSR = 1;
const LB_MAPPING_FLAG_ILB = 1;
const NAT_FLAG_EXTERNAL_PORT_RESERVED = 4;

// ---------------------------------------------------------------------------------------------

/** Load and validate, returning problems instead of throwing. */
export function analyseTopology(doc: unknown, file: string): TopologyAnalysis {
  const c = new Collector();
  const truncated: string[] = [];
  findTruncated(doc, '', truncated);
  if (truncated.length > 0) {
    const more = truncated.length > 1 ? ` (${truncated.length} values are cut off like this)` : '';
    c.problem(
      truncated[0]!,
      `PowerShell ConvertTo-Json cut the export off at its default depth of 2: a nested object arrived as a type-name string${more}; re-export with ConvertTo-Json -Depth 10`,
    );
    return { topology: null, problems: c.problems, notes: c.notes };
  }
  if (!isObj(doc)) {
    const hint = Array.isArray(doc) ? ' (a bare Get-HnsNetwork / Get-HnsEndpoint list goes under "networks" / "endpoints")' : '';
    c.problem('(top level)', `expected an object {host, networks, endpoints, loadBalancers}, got ${describe(doc)}${hint}`);
    return { topology: null, problems: c.problems, notes: c.notes };
  }
  const known = ['host', 'networks', 'endpoints', 'loadbalancers', 'policylists', '$schema', 'comment'];
  for (const k of Object.keys(doc)) if (!known.includes(k.toLowerCase())) c.note(k, 'unknown top-level key, ignored');

  const hostDraft = loadHost(c, field(doc, '', 'host'));
  const networks = loadNetworks(c, field(doc, '', 'networks'), hostDraft.host);
  const netRefs = new RefIndex('network', networks.map((n) => ({ id: n.id, name: n.name, path: n.path })), c);
  resolveVnics(c, hostDraft, netRefs);
  const endpoints = loadEndpoints(c, field(doc, '', 'endpoints'), networks, netRefs);
  const epRefs = new RefIndex('endpoint', endpoints.map((e) => ({ id: e.id, name: e.name, path: e.path })), c);
  const lbField = field(doc, '', 'loadBalancers');
  const plField = field(doc, '', 'policyLists');
  const loadBalancers = [...loadLoadBalancers(c, lbField, epRefs), ...loadLoadBalancers(c, plField, epRefs)];
  crossChecks(c, hostDraft.host, networks, endpoints, loadBalancers);

  if (c.problems.length > 0) return { topology: null, problems: c.problems, notes: c.notes };
  return { topology: { file, host: hostDraft.host, networks, endpoints, loadBalancers, notes: c.notes }, problems: [], notes: c.notes };
}

/** Strings PowerShell prints for an object below ConvertTo-Json's depth limit. */
const TRUNCATED = /^(?:@\{.*\}|System\.[\w.`]+(?:\[[\w.`, \]\[]*\])?)$/s;

function findTruncated(v: unknown, path: string, out: string[]): void {
  if (typeof v === 'string') {
    if (TRUNCATED.test(v)) out.push(path === '' ? '(top level)' : path);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => findTruncated(x, `${path}[${i}]`, out));
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) findTruncated(x, join(path, k), out);
  }
}

// ---------------------------------------------------------------------------------------------
// References by ID or Name

/** GUIDs compare case-insensitively and with or without braces. */
function normId(s: string): string {
  return s.trim().replace(/^\{(.*)\}$/, '$1').toLowerCase();
}

class RefIndex {
  private readonly byId = new Map<string, number>();
  private readonly byName = new Map<string, number[]>();
  constructor(
    private readonly kind: string,
    items: { id: string | null; name: string; path: string }[],
    c: Collector,
  ) {
    items.forEach((it, i) => {
      if (it.id !== null) {
        const k = normId(it.id);
        const prev = this.byId.get(k);
        if (prev !== undefined) c.problem(`${it.path}.ID`, `${kind} ID '${it.id}' is also the ID of ${items[prev]!.path}`);
        else this.byId.set(k, i);
      }
      const list = this.byName.get(it.name) ?? [];
      list.push(i);
      this.byName.set(it.name, list);
    });
  }
  /** Index, or a message. An exact name wins over a case-insensitive one; a shared name is ambiguous. */
  resolve(ref: string): number | string {
    const id = this.byId.get(normId(ref));
    if (id !== undefined) return id;
    const exact = this.byName.get(ref);
    if (exact && exact.length === 1) return exact[0]!;
    if (exact && exact.length > 1) return `'${ref}' names ${exact.length} ${this.kind}s: refer to it by ID`;
    const loose: number[] = [];
    for (const [name, list] of this.byName) if (name.toLowerCase() === ref.toLowerCase()) loose.push(...list);
    if (loose.length === 1) return loose[0]!;
    if (loose.length > 1) return `'${ref}' names ${loose.length} ${this.kind}s: refer to it by ID`;
    return `'${ref}' names no ${this.kind} (by ID or Name)`;
  }
}

// ---------------------------------------------------------------------------------------------
// Policies: v2 {Type, Settings} or v1 flat {Type, ...}

interface PolicyView {
  /** Type, lower case. */
  type: string;
  /** Type as written. */
  typeText: string;
  settings: Obj;
  /** Path of the settings object (the policy itself for a flat v1 policy). */
  sPath: string;
  path: string;
  flat: boolean;
}

function readPolicies(c: Collector, f: Field | undefined): PolicyView[] {
  const items = readArray(c, f) ?? [];
  const out: PolicyView[] = [];
  for (const it of items) {
    const o = readObj(c, it);
    if (!o) continue;
    const t = readString(c, field(o, it.path, 'Type'));
    if (t === undefined) {
      c.problem(it.path, 'policy without a Type');
      continue;
    }
    if (t === null) continue;
    const sf = field(o, it.path, 'Settings');
    if (sf !== undefined) {
      const s = readObj(c, sf);
      if (!s) continue;
      out.push({ type: t.toLowerCase(), typeText: t, settings: s, sPath: sf.path, path: it.path, flat: false });
    } else {
      out.push({ type: t.toLowerCase(), typeText: t, settings: o, sPath: it.path, path: it.path, flat: true });
    }
  }
  return out;
}

function renamed(c: Collector, p: PolicyView, from: string, to: string): void {
  c.note(p.path, `v1 policy ${from} normalised to ${to}`);
}

/** An IsolationId (v2) or a v1 flat VLAN/VSID field. */
function readIsolation(c: Collector, p: PolicyView, v1Key: string, min: number, max: number, what: string): number | null {
  const f = field(p.settings, p.sPath, 'IsolationId', v1Key);
  if (!f) {
    c.problem(p.sPath, `${p.typeText} policy without IsolationId`);
    return null;
  }
  if (f.key === v1Key) c.note(p.path, `v1 ${v1Key} policy field read as IsolationId`);
  return readInt(c, f, min, max, what) ?? null;
}

function readAcl(c: Collector, p: PolicyView): AclPolicy | null {
  const s = p.settings;
  const sp = p.sPath;
  let ok = true;
  const id = readString(c, field(s, sp, 'Id', 'ID')) ?? null;
  const action = enumValue(c, field(s, sp, 'Action'), ['Allow', 'Block', 'Pass'] as const, 'Action');
  const direction = enumValue(c, field(s, sp, 'Direction'), ['In', 'Out'] as const, 'Direction', { inbound: 'In', outbound: 'Out' });
  if (action === undefined) c.problem(sp, 'ACL without Action (Allow, Block or Pass)');
  if (direction === undefined) c.problem(sp, 'ACL without Direction (In or Out)');
  const ruleType = enumValue(c, field(s, sp, 'RuleType'), ['Host', 'Switch'] as const, 'RuleType') ?? 'Switch';
  const priority = readInt(c, field(s, sp, 'Priority'), 0, 65535, 'a priority') ?? 0;
  const pf = field(s, sp, 'Protocols', 'Protocol');
  if (pf && pf.key === 'Protocol') c.note(pf.path, 'v1 ACL Protocol read as Protocols');
  const protocols = readProtocols(c, pf);
  if (protocols === 'bad') ok = false;
  const localAddresses = readPrefixList(c, field(s, sp, 'LocalAddresses'));
  const remoteAddresses = readPrefixList(c, field(s, sp, 'RemoteAddresses'));
  const localPorts = aclPorts(c, s, sp, 'LocalPorts', 'LocalPort');
  const remotePorts = aclPorts(c, s, sp, 'RemotePorts', 'RemotePort');
  if (!action || !direction || ruleType === null || localAddresses === null || remoteAddresses === null || localPorts === null || remotePorts === null || !ok) return null;
  return {
    id,
    action,
    direction,
    protocols: protocols === 'bad' ? null : protocols,
    localAddresses,
    remoteAddresses,
    localPorts,
    remotePorts,
    ruleType,
    priority,
    path: p.path,
  };
}

/** v2 `LocalPorts: "80,8080"`, or the v1 single-port `LocalPort` (0 = unset). */
function aclPorts(c: Collector, s: Obj, sp: string, listKey: string, singleKey: string): ReturnType<typeof readPortList> {
  const lf = field(s, sp, listKey);
  if (lf) return readPortList(c, lf);
  const sf = field(s, sp, singleKey);
  if (!sf) return [];
  const n = readPort(c, sf);
  if (n === null) return null;
  if (n === undefined || n === 0) return [];
  c.note(sf.path, `v1 ${singleKey} read as ${listKey}`);
  return [{ from: n, to: n }];
}

function enumValue<T extends string>(c: Collector, f: Field | undefined, values: readonly T[], what: string, aliases: Record<string, T> = {}): T | null | undefined {
  const s = readString(c, f);
  if (s === undefined || s === null) return s;
  const lower = s.trim().toLowerCase();
  const v = values.find((x) => x.toLowerCase() === lower) ?? aliases[lower];
  if (v === undefined) {
    c.problem(f!.path, `${what} must be ${values.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got '${s}'`);
    return null;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// host

interface VnicDraft {
  ref: string;
  refPath: string;
  mac: MacAddr;
  path: string;
}

interface HostDraft {
  host: Host;
  vnicDrafts: VnicDraft[];
}

function loadHost(c: Collector, f: Field | undefined): HostDraft {
  const host: Host = {
    name: 'host',
    uplinks: [],
    vnics: [],
    dynamicPortRange: { ...DEFAULT_DYNAMIC_PORT_RANGE },
    winnat: { ...DEFAULT_WINNAT },
    firewall: defaultFirewall(),
    path: 'host',
  };
  const draft: HostDraft = { host, vnicDrafts: [] };
  if (!f) return draft;
  const o = readObj(c, f);
  if (!o) return draft;
  host.path = f.path;
  const knownKeys = ['name', 'uplinks', 'vnics', 'dynamicportrange', 'winnat', 'firewall'];
  for (const k of Object.keys(o)) if (!knownKeys.includes(k.toLowerCase())) c.note(`${f.path}.${k}`, 'unknown host key, ignored');
  const name = readString(c, field(o, f.path, 'name'));
  if (name) host.name = name;

  for (const u of readArray(c, field(o, f.path, 'uplinks')) ?? []) {
    const up = loadUplink(c, u);
    if (up) host.uplinks.push(up);
  }
  for (const v of readArray(c, field(o, f.path, 'vnics')) ?? []) {
    const vo = readObj(c, v);
    if (!vo) continue;
    const nf = field(vo, v.path, 'network');
    const ref = readString(c, nf);
    if (ref === undefined) c.problem(v.path, 'vnic without network (the Name or ID of a network)');
    const mf = field(vo, v.path, 'mac');
    const mac = readMac(c, mf);
    if (mac === undefined) c.problem(v.path, 'vnic without mac');
    if (ref && mac) draft.vnicDrafts.push({ ref, refPath: nf!.path, mac, path: v.path });
  }
  const dpr = readObj(c, field(o, f.path, 'dynamicPortRange'));
  if (dpr) {
    const p = join2(f.path, 'dynamicPortRange');
    const start = readInt(c, field(dpr, p, 'start'), 1, 65535, 'a port number');
    const count = readInt(c, field(dpr, p, 'count'), 1, 65535, 'a port count');
    const s = start ?? host.dynamicPortRange.start;
    const n = count ?? host.dynamicPortRange.count;
    if (start !== null && count !== null && s + n - 1 > 65535) c.problem(p, `the range ${s}..${s + n - 1} ends beyond port 65535`);
    host.dynamicPortRange = { start: s, count: n };
  }
  const wf = field(o, f.path, 'winnat');
  const w = readObj(c, wf);
  if (w) host.winnat = loadWinNat(c, w, wf!.path);
  const ff = field(o, f.path, 'firewall');
  const fo = readObj(c, ff);
  if (fo) host.firewall = loadFirewall(c, fo, ff!.path);
  return draft;
}

/**
 * The Windows Firewall defaults for process-isolated containers:
 * https://learn.microsoft.com/en-us/virtualization/windowscontainers/container-networking/network-isolation-security
 */
export function defaultFirewall(): FirewallSettings {
  return { isolation: 'process', inboundProtocols: [6, 17, 1, 2], inboundProtocols6: [6, 17, 58], flowTtl: 240 };
}

function loadFirewall(c: Collector, o: Obj, path: string): FirewallSettings {
  const fw = defaultFirewall();
  const isf = field(o, path, 'isolation');
  const iso = readString(c, isf);
  if (iso) {
    const v = iso.toLowerCase().replace(/[-_ ]/g, '');
    if (v === 'process') fw.isolation = 'process';
    else if (v === 'hyperv') fw.isolation = 'hyperv';
    else c.problem(isf!.path, `isolation must be "process" or "hyperv", got "${iso}"`);
  }
  for (const [key, set] of [
    ['inboundProtocols', (p: number[]) => (fw.inboundProtocols = p)],
    ['inboundProtocols6', (p: number[]) => (fw.inboundProtocols6 = p)],
  ] as const) {
    const pf = field(o, path, key);
    const p = readProtocols(c, pf);
    if (p === 'bad') continue;
    if (p === null && pf) c.problem(pf.path, 'an empty or "any" list: name the protocols the firewall admits inbound');
    else if (p) set(p);
  }
  const ttl = readInt(c, field(o, path, 'flowTtl'), 1, 2147483, 'a timeout in seconds');
  if (typeof ttl === 'number') fw.flowTtl = ttl;
  for (const k of Object.keys(o)) if (!['isolation', 'inboundprotocols', 'inboundprotocols6', 'flowttl'].includes(k.toLowerCase())) c.note(`${path}.${k}`, 'unknown firewall key, ignored');
  return fw;
}

function join2(path: string, key: string): string {
  return `${path}.${key}`;
}

function loadUplink(c: Collector, f: Field): Uplink | null {
  const o = readObj(c, f);
  if (!o) return null;
  const name = readString(c, field(o, f.path, 'name'));
  if (name === undefined || name === '') c.problem(f.path, 'uplink without name');
  const mf = field(o, f.path, 'mac');
  const mac = readMac(c, mf);
  if (mac === undefined) c.problem(f.path, 'uplink without mac');
  let ip: IpInterfaceAddr | null = null;
  const ipf = field(o, f.path, 'ip');
  const ia = readInterfaceAddr(c, ipf);
  if (ia) {
    if (ia.bare) c.note(ipf!.path, `no prefix length: read as ${ia.address.text}/${ia.prefix.length} (a host prefix)`);
    ip = { address: ia.address, prefix: ia.prefix };
  }
  const gf = field(o, f.path, 'gateway');
  const gateway = readAddr(c, gf) ?? null;
  if (gateway && ip && gateway.family !== ip.address.family) c.problem(gf!.path, `gateway ${gateway.text} is not of the uplink address's family (IPv${ip.address.family})`);
  const gatewayMac = readMac(c, field(o, f.path, 'gatewayMac')) ?? null;
  const mtu = readInt(c, field(o, f.path, 'mtu'), 576, 65535, 'an MTU') ?? DEFAULT_MTU;
  if (!name || !mac) return null;
  return { name, mac, ip, gateway, gatewayMac, mtu, path: f.path };
}

function loadWinNat(c: Collector, o: Obj, path: string): WinNatSettings {
  const w: WinNatSettings = { ...DEFAULT_WINNAT };
  const t = (names: string[], fallback: number): number => readInt(c, field(o, path, ...names), 1, 2147483, 'a timeout in seconds') ?? fallback;
  w.tcpEstablishedTimeout = t(['tcpEstablishedTimeout', 'TcpEstablishedConnectionTimeout'], w.tcpEstablishedTimeout);
  w.tcpTransientTimeout = t(['tcpTransientTimeout', 'TcpTransientConnectionTimeout'], w.tcpTransientTimeout);
  w.udpIdleTimeout = t(['udpIdleTimeout', 'UdpIdleSessionTimeout'], w.udpIdleTimeout);
  w.icmpQueryTimeout = t(['icmpQueryTimeout'], w.icmpQueryTimeout);
  const ff = field(o, path, 'filtering', 'TcpFilteringBehavior', 'UdpFilteringBehavior');
  const fs = readString(c, ff);
  if (fs) {
    const k = fs.toLowerCase().replace(/[^a-z]/g, '').replace(/filtering$/, '');
    if (k === 'addressdependent') w.filtering = 'address-dependent';
    else if (k === 'endpointindependent') w.filtering = 'endpoint-independent';
    else c.problem(ff!.path, `filtering must be address-dependent or endpoint-independent (AddressDependentFiltering / EndpointIndependentFiltering), got '${fs}'`);
  }
  const r = readBool(c, field(o, path, 'udpInboundRefresh'));
  if (typeof r === 'boolean') w.udpInboundRefresh = r;
  return w;
}

function resolveVnics(c: Collector, d: HostDraft, nets: RefIndex): void {
  for (const v of d.vnicDrafts) {
    const n = nets.resolve(v.ref);
    if (typeof n === 'string') c.problem(v.refPath, n);
    else d.host.vnics.push({ network: n, mac: v.mac, path: v.path } satisfies Vnic);
  }
}

// ---------------------------------------------------------------------------------------------
// networks

function loadNetworks(c: Collector, f: Field | undefined, host: Host): Network[] {
  const out: Network[] = [];
  for (const it of readArray(c, f) ?? []) {
    const n = loadNetwork(c, it, out.length, host);
    if (n) out.push(n);
  }
  return out;
}

function networkType(c: Collector, o: Obj, path: string): NetworkType | null {
  const tf = field(o, path, 'Type');
  if (!tf) {
    c.note(path, 'no Type: NAT (HNS omits the enum value 0)');
    return 'NAT';
  }
  if (typeof tf.value === 'number') {
    const byNumber: NetworkType[] = ['NAT', 'ICS', 'Transparent'];
    const t = byNumber[tf.value];
    if (t === undefined) {
      c.problem(tf.path, `numeric network Type ${tf.value} is not known (0 NAT, 1 ICS, 2 Transparent; use the name)`);
      return null;
    }
    c.note(tf.path, `numeric Type ${tf.value} read as ${t}`);
    return t;
  }
  const s = readString(c, tf);
  if (s === null || s === undefined) return null;
  const t = NETWORK_TYPES.find((x) => x.toLowerCase() === s.trim().toLowerCase());
  if (t === undefined) {
    const unsupported = ['layered', 'infiniband'].includes(s.trim().toLowerCase());
    c.problem(tf.path, unsupported ? `network type '${s}' is not emulated` : `unknown network Type '${s}' (expected ${NETWORK_TYPES.join(', ')})`);
    return null;
  }
  if (t !== s) c.note(tf.path, `Type '${s}' read as ${t}`);
  return t;
}

interface SubnetIsolation {
  vlan: number | null;
  vsid: number | null;
}

function loadNetwork(c: Collector, f: Field, index: number, host: Host): Network | null {
  const o = readObj(c, f);
  if (!o) return null;
  const p = f.path;
  const id = readString(c, field(o, p, 'ID', 'Id')) ?? null;
  const name = readString(c, field(o, p, 'Name'));
  if (name === undefined || name === '') c.problem(p, 'network without Name');
  const type = networkType(c, o, p);
  const flags = readInt(c, field(o, p, 'Flags'), 0, U32_MAX, 'a flags number') ?? 0;

  // Network-level policies first: v1 VLAN/VSID there apply to every subnet without its own.
  const policies: NetworkPolicy[] = [];
  const netIso: SubnetIsolation = { vlan: null, vsid: null };
  let adapterName: string | null = null;
  for (const pol of readPolicies(c, field(o, p, 'Policies'))) {
    const np = networkPolicy(c, pol, netIso);
    if (np) {
      policies.push(np);
      if (np.type === 'NetAdapterName') adapterName = np.adapter;
    }
  }

  const subnets: Subnet[] = [];
  const ipams = field(o, p, 'Ipams');
  const v1Subnets = field(o, p, 'Subnets');
  if (ipams) {
    for (const ipam of readArray(c, ipams) ?? []) {
      const io = readObj(c, ipam);
      if (!io) continue;
      for (const sf of readArray(c, field(io, ipam.path, 'Subnets')) ?? []) {
        const s = loadSubnet(c, sf, 'IpAddressPrefix', netIso);
        if (s) subnets.push(s);
      }
    }
    if (v1Subnets) c.note(v1Subnets.path, 'v1 Subnets ignored: Ipams is given');
  } else if (v1Subnets) {
    c.note(v1Subnets.path, 'v1 Subnets read as Ipams[].Subnets (GatewayAddress as the default route)');
    for (const sf of readArray(c, v1Subnets) ?? []) {
      const s = loadSubnet(c, sf, 'AddressPrefix', netIso);
      if (s) subnets.push(s);
    }
  }

  const macPools: MacRange[] = [];
  const mp = field(o, p, 'MacPool');
  const mpo = readObj(c, mp);
  const ranges: Field[] = mpo ? readArray(c, field(mpo, mp!.path, 'Ranges')) ?? [] : [];
  const v1Pools = field(o, p, 'MacPools');
  if (!mp && v1Pools) {
    c.note(v1Pools.path, 'v1 MacPools read as MacPool.Ranges');
    ranges.push(...(readArray(c, v1Pools) ?? []));
  }
  for (const r of ranges) {
    const ro = readObj(c, r);
    if (!ro) continue;
    const start = readMac(c, field(ro, r.path, 'StartMacAddress'));
    const end = readMac(c, field(ro, r.path, 'EndMacAddress'));
    if (start === undefined || end === undefined) c.problem(r.path, 'MAC range needs StartMacAddress and EndMacAddress');
    if (start && end) {
      if (macNumber(start) > macNumber(end)) c.problem(r.path, `MAC range ${start.text} - ${end.text} runs backwards`);
      else macPools.push({ start, end });
    }
  }

  // v1 top-level fields that v2 expresses as network policies; they go first, where HNS lists them.
  const fromV1: NetworkPolicy[] = [];
  const naf = field(o, p, 'NetworkAdapterName');
  const na = readString(c, naf);
  if (na && adapterName === null) {
    adapterName = na;
    fromV1.push({ type: 'NetAdapterName', adapter: na, path: naf!.path });
    c.note(naf!.path, 'v1 NetworkAdapterName read as a NetAdapterName policy');
  }
  const drf = field(o, p, 'DrMacAddress');
  if (drf && !policies.some((x) => x.type === 'DrMacAddress')) {
    const mac = readMac(c, drf);
    if (mac) {
      fromV1.push({ type: 'DrMacAddress', mac, path: drf.path });
      c.note(drf.path, 'v1 DrMacAddress read as a DrMacAddress policy');
    }
  }
  const mif = field(o, p, 'ManagementIP');
  if (mif && type === 'Overlay' && !policies.some((x) => x.type === 'ProviderAddress')) {
    const a = readAddr(c, mif);
    if (a) {
      fromV1.push({ type: 'ProviderAddress', address: a, path: mif.path });
      c.note(mif.path, 'v1 ManagementIP read as the ProviderAddress policy of the overlay network');
    }
  }
  policies.unshift(...fromV1);

  let uplink: number | null = null;
  if (type !== null && EXTERNAL_NETWORK_TYPES.has(type) && host.uplinks.length > 0) {
    const named = adapterName === null ? -1 : host.uplinks.findIndex((u) => u.name.toLowerCase() === adapterName!.toLowerCase());
    uplink = named >= 0 ? named : 0;
    if (adapterName !== null && named < 0) c.note(p, `NetAdapterName '${adapterName}' names no uplink: bound to the first uplink '${host.uplinks[0]!.name}'`);
  }

  // Kept even with problems (placeholder name/type), so references to it do not cascade.
  return { index, id, name: name ?? '', type: type ?? 'NAT', subnets, macPools, flags, adapterName, uplink, policies, path: p };
}

function loadSubnet(c: Collector, f: Field, prefixKey: string, netIso: SubnetIsolation): Subnet | null {
  const o = readObj(c, f);
  if (!o) return null;
  const p = f.path;
  const pf = field(o, p, prefixKey, prefixKey === 'IpAddressPrefix' ? 'AddressPrefix' : 'IpAddressPrefix');
  const prefix = readPrefix(c, pf, 'required');
  if (prefix === undefined) c.problem(p, `subnet without ${prefixKey}`);
  const routes: Route[] = [];
  for (const r of readArray(c, field(o, p, 'Routes')) ?? []) {
    const route = loadRoute(c, r);
    if (route) routes.push(route);
  }
  const gf = field(o, p, 'GatewayAddress');
  const gw = readAddr(c, gf);
  if (gw && prefix) {
    if (gw.family !== prefix.family) c.problem(gf!.path, `gateway ${gw.text} is not of the subnet's family (IPv${prefix.family})`);
    else if (!routes.some((r) => r.destination.length === 0 && r.destination.family === gw.family)) {
      routes.push({ destination: makePrefix(gw.family, [0, 0, 0, 0], 0), nextHop: gw, metric: 0 });
    }
  }
  const iso: SubnetIsolation = { vlan: null, vsid: null };
  for (const pol of readPolicies(c, field(o, p, 'Policies'))) {
    if (pol.type === 'vlan') iso.vlan = readIsolation(c, pol, 'VLAN', VLAN_MIN, VLAN_MAX, 'a VLAN id');
    else if (pol.type === 'vsid') iso.vsid = readIsolation(c, pol, 'VSID', VNI_MIN, VNI_MAX, 'a VSID (VNI)');
    else c.note(pol.path, `subnet policy ${pol.typeText} is not emulated, ignored`);
  }
  if (!prefix) return null;
  const def = routes.find((r) => r.destination.length === 0 && r.destination.family === prefix.family && r.nextHop !== null);
  return {
    prefix,
    gateway: def ? def.nextHop : null,
    routes,
    vlan: iso.vlan ?? netIso.vlan,
    vsid: iso.vsid ?? netIso.vsid,
    path: p,
  };
}

function loadRoute(c: Collector, f: Field): Route | null {
  const o = readObj(c, f);
  if (!o) return null;
  const df = field(o, f.path, 'DestinationPrefix');
  const destination = readPrefix(c, df, 'host');
  if (destination === undefined) c.problem(f.path, 'route without DestinationPrefix');
  const nf = field(o, f.path, 'NextHop');
  const nextHop = readAddr(c, nf) ?? null;
  const metric = readInt(c, field(o, f.path, 'Metric'), 0, 65535, 'a metric') ?? 0;
  if (destination && nextHop && destination.family !== nextHop.family) {
    c.problem(nf!.path, `next hop ${nextHop.text} is not of the destination's family (IPv${destination.family})`);
    return null;
  }
  return destination ? { destination, nextHop, metric } : null;
}

function networkPolicy(c: Collector, pol: PolicyView, netIso: SubnetIsolation): NetworkPolicy | null {
  const s = pol.settings;
  const sp = pol.sPath;
  switch (pol.type) {
    case 'netadaptername': {
      const f = field(s, sp, 'NetworkAdapterName', 'NetAdapterName');
      const a = readString(c, f);
      if (a === undefined) c.problem(sp, 'NetAdapterName policy without NetworkAdapterName');
      return a ? { type: 'NetAdapterName', adapter: a, path: pol.path } : null;
    }
    case 'pa':
    case 'provideraddress': {
      if (pol.type === 'pa') renamed(c, pol, 'PA', 'ProviderAddress');
      const a = readAddr(c, field(s, sp, 'ProviderAddress', 'PA'));
      if (a === undefined) c.problem(sp, 'ProviderAddress policy without an address');
      return a ? { type: 'ProviderAddress', address: a, path: pol.path } : null;
    }
    case 'drmacaddress': {
      const m = readMac(c, field(s, sp, 'Address', 'DrMacAddress'));
      if (m === undefined) c.problem(sp, 'DrMacAddress policy without Address');
      return m ? { type: 'DrMacAddress', mac: m, path: pol.path } : null;
    }
    case 'vxlanport': {
      const port = readInt(c, field(s, sp, 'Port'), 1, 65535, 'a UDP port');
      if (port === undefined) c.problem(sp, 'VxlanPort policy without Port');
      return typeof port === 'number' ? { type: 'VxlanPort', port, path: pol.path } : null;
    }
    case 'hostroute':
      return { type: 'HostRoute', path: pol.path };
    case 'remotesubnetroute': {
      const destination = readPrefix(c, field(s, sp, 'DestinationPrefix'), 'required');
      if (destination === undefined) c.problem(sp, 'RemoteSubnetRoute without DestinationPrefix');
      const isoF = field(s, sp, 'IsolationId');
      const isolationId = readInt(c, isoF, VNI_MIN, VNI_MAX, 'a VSID (VNI)');
      if (isolationId === undefined) c.problem(sp, 'RemoteSubnetRoute without IsolationId');
      const providerAddress = readAddr(c, field(s, sp, 'ProviderAddress'));
      if (providerAddress === undefined) c.problem(sp, 'RemoteSubnetRoute without ProviderAddress');
      const drMac = readMac(c, field(s, sp, 'DistributedRouterMacAddress')) ?? null;
      if (!destination || typeof isolationId !== 'number' || !providerAddress) return null;
      return { type: 'RemoteSubnetRoute', destination, isolationId, providerAddress, drMac, path: pol.path };
    }
    case 'networkacl': {
      const acl = readAcl(c, pol);
      return acl ? { type: 'NetworkACL', acl, path: pol.path } : null;
    }
    case 'vlan':
      netIso.vlan = readIsolation(c, pol, 'VLAN', VLAN_MIN, VLAN_MAX, 'a VLAN id');
      c.note(pol.path, 'network VLAN policy applies to every subnet without its own');
      return null;
    case 'vsid':
      netIso.vsid = readIsolation(c, pol, 'VSID', VNI_MIN, VNI_MAX, 'a VSID (VNI)');
      c.note(pol.path, 'network VSID policy applies to every subnet without its own');
      return null;
    default:
      return { type: 'other', hnsType: pol.typeText, path: pol.path };
  }
}

// ---------------------------------------------------------------------------------------------
// endpoints

interface EndpointDraft {
  ep: Endpoint;
  /** Null until the MAC is derived. */
  mac: MacAddr | null;
  macPath: string | null;
}

function loadEndpoints(c: Collector, f: Field | undefined, networks: Network[], nets: RefIndex): Endpoint[] {
  const drafts: EndpointDraft[] = [];
  for (const it of readArray(c, f) ?? []) {
    const d = loadEndpoint(c, it, drafts.length, networks, nets);
    if (d) drafts.push(d);
  }
  deriveMacs(c, drafts, networks);
  return drafts.map((d) => d.ep);
}

const NO_MAC: MacAddr = { hi: 0, lo: 0, text: '00:00:00:00:00:00' };

function loadEndpoint(c: Collector, f: Field, index: number, networks: Network[], nets: RefIndex): EndpointDraft | null {
  const o = readObj(c, f);
  if (!o) return null;
  const p = f.path;
  const id = readString(c, field(o, p, 'ID', 'Id')) ?? null;
  const nameF = field(o, p, 'Name');
  let name = readString(c, nameF);
  if (name === undefined || name === null || name === '') {
    name = id ?? `endpoint-${index}`;
    c.note(p, `no Name: the endpoint (and its port) is called '${name}'`);
  }

  // Network reference: v2 HostComputeNetwork, v1 VirtualNetwork (GUID) / VirtualNetworkName.
  let network = -1;
  const refs = [field(o, p, 'HostComputeNetwork'), field(o, p, 'VirtualNetwork'), field(o, p, 'VirtualNetworkName')].filter((x) => x !== undefined);
  if (refs.length === 0) {
    c.problem(p, 'endpoint without HostComputeNetwork (v2) or VirtualNetwork / VirtualNetworkName (v1): the network it belongs to');
  }
  for (const rf of refs) {
    const ref = readString(c, rf);
    if (!ref) continue;
    const n = nets.resolve(ref);
    if (typeof n === 'string') {
      c.problem(rf.path, n);
    } else if (network >= 0 && n !== network) {
      c.problem(rf.path, `names network '${networks[n]!.name}', but the endpoint's other reference names '${networks[network]!.name}'`);
    } else network = n;
  }
  if (refs.length > 0 && refs[0]!.key !== 'HostComputeNetwork') c.note(refs[0]!.path, `v1 ${refs[0]!.key} read as HostComputeNetwork`);
  const net = network >= 0 ? networks[network]! : null;

  const flagsF = field(o, p, 'Flags');
  const flags = readInt(c, flagsF, 0, U32_MAX, 'a flags number') ?? 0;
  let remote = (flags & REMOTE_ENDPOINT_FLAG) !== 0;
  const ire = field(o, p, 'IsRemoteEndpoint');
  const r1 = readBool(c, ire);
  if (r1 === true) {
    remote = true;
    c.note(ire!.path, 'v1 IsRemoteEndpoint read as Flags RemoteEndpoint (1)');
  }

  const ips = loadEndpointIps(c, o, p, net, remote);

  const mf = field(o, p, 'MacAddress');
  const mac = readMac(c, mf);

  // Routes (v2) or the v1 gateway fields, which are the default route.
  const routes: Route[] = [];
  for (const r of readArray(c, field(o, p, 'Routes')) ?? []) {
    const route = loadRoute(c, r);
    if (route) routes.push(route);
  }
  for (const key of ['GatewayAddress', 'GatewayAddressV6']) {
    const gf = field(o, p, key);
    const gw = readAddr(c, gf);
    if (!gw) continue;
    if (!routes.some((r) => r.destination.length === 0 && r.destination.family === gw.family)) {
      routes.push({ destination: makePrefix(gw.family, [0, 0, 0, 0], 0), nextHop: gw, metric: 0 });
      c.note(gf!.path, `v1 ${key} read as the default route`);
    }
  }
  // Without a default route of its own, an endpoint gets its subnet's gateway, as HNS programs
  // the compartment; so a v2 endpoint without Routes and a v1 one with GatewayAddress agree.
  for (const ip of ips ?? []) {
    const s = net?.subnets.find((x) => prefixContains(x.prefix, ip.address));
    const gw = s?.gateway;
    if (gw && !routes.some((r) => r.destination.length === 0 && r.destination.family === gw.family)) {
      routes.push({ destination: makePrefix(gw.family, [0, 0, 0, 0], 0), nextHop: gw, metric: 0 });
    }
  }
  const primary = ips && ips.length > 0 ? ips[0]!.address : null;
  const holding = primary && net ? net.subnets.find((s) => prefixContains(s.prefix, primary)) ?? null : null;
  const fam = primary ? primary.family : 4;
  const def = routes.find((r) => r.destination.length === 0 && r.destination.family === fam && r.nextHop !== null) ?? routes.find((r) => r.destination.length === 0 && r.nextHop !== null);
  const gateway = def ? def.nextHop : null;

  const ep: Endpoint = {
    index,
    id,
    name,
    network,
    ips: ips ?? [],
    mac: mac ?? NO_MAC,
    gateway,
    routes,
    remote,
    acls: [],
    portMappings: [],
    outboundNat: [],
    sdnRoutes: [],
    providerAddress: null,
    vlan: null,
    encapOverhead: null,
    otherPolicies: [],
    path: p,
  };
  let ownVlan: number | null = null;
  for (const pol of readPolicies(c, field(o, p, 'Policies'))) {
    endpointPolicy(c, pol, ep, (v) => (ownVlan = v));
  }
  ep.vlan = ownVlan ?? holding?.vlan ?? null;
  const eof = field(o, p, 'EncapOverhead');
  if (eof && ep.encapOverhead === null) {
    const n = readInt(c, eof, 0, 65535, 'an overhead in bytes');
    if (typeof n === 'number') ep.encapOverhead = n;
  }
  // Kept even with problems, so load balancer references to it do not cascade.
  return { ep, mac: mac ?? null, macPath: mac ? mf!.path : null };
}

function loadEndpointIps(c: Collector, o: Obj, p: string, net: Network | null, remote: boolean): IpInterfaceAddr[] | null {
  const given: { text: string; length: number | null | undefined; path: string; lengthPath: string }[] = [];
  let ok = true;
  const icf = field(o, p, 'IpConfigurations');
  if (icf) {
    for (const it of readArray(c, icf) ?? []) {
      const io = readObj(c, it);
      if (!io) {
        ok = false;
        continue;
      }
      const af = field(io, it.path, 'IpAddress');
      const a = readString(c, af);
      if (a === undefined) c.problem(it.path, 'IP configuration without IpAddress');
      const lf = field(io, it.path, 'PrefixLength');
      const len = readInt(c, lf, 0, 128, 'a prefix length');
      if (!a || len === null) {
        ok = false;
        continue;
      }
      given.push({ text: a, length: len, path: af!.path, lengthPath: lf?.path ?? it.path });
    }
  } else {
    for (const [ak, lk] of [
      ['IPAddress', 'PrefixLength'],
      ['IPv6Address', 'IPv6PrefixLength'],
    ] as const) {
      const af = field(o, p, ak);
      const a = readString(c, af);
      if (a === null) ok = false;
      if (!a) continue;
      const lf = field(o, p, lk);
      const len = readInt(c, lf, 0, 128, 'a prefix length');
      if (len === null) {
        ok = false;
        continue;
      }
      c.note(af!.path, `v1 ${ak}${lf ? `/${lk}` : ''} read as IpConfigurations`);
      given.push({ text: a, length: len, path: af!.path, lengthPath: lf?.path ?? af!.path });
    }
  }
  const out: IpInterfaceAddr[] = [];
  for (const g of given) {
    const slash = g.text.indexOf('/');
    const address = readAddr(c, { value: slash < 0 ? g.text : g.text.slice(0, slash), path: g.path });
    if (!address) {
      ok = false;
      continue;
    }
    let length = g.length ?? null;
    if (slash >= 0) {
      const inline = Number(g.text.slice(slash + 1));
      if (!/^\d{1,3}$/.test(g.text.slice(slash + 1)) || inline > (address.family === 4 ? 32 : 128)) {
        c.problem(g.path, `'${g.text}' has a bad prefix length`);
        ok = false;
        continue;
      }
      if (length !== null && length !== inline) {
        c.problem(g.lengthPath, `PrefixLength ${length} disagrees with '${g.text}'`);
        ok = false;
        continue;
      }
      length = inline;
    }
    if (length !== null && length > (address.family === 4 ? 32 : 128)) {
      c.problem(g.lengthPath, `an IPv${address.family} prefix length is 0..${address.family === 4 ? 32 : 128}, got ${length}`);
      ok = false;
      continue;
    }
    const holding = net ? net.subnets.find((s) => prefixContains(s.prefix, address)) : undefined;
    if (!remote && net && net.subnets.length > 0 && !holding) {
      c.problem(g.path, `${address.text} is outside every subnet of network '${net.name}' (${net.subnets.map((s) => s.prefix.text).join(', ')})`);
      ok = false;
      continue;
    }
    if (length === null) {
      length = holding ? holding.prefix.length : address.family === 4 ? 32 : 128;
      c.note(g.path, holding ? `no PrefixLength: /${length}, the subnet ${holding.prefix.text} holding it` : `no PrefixLength: /${length}`);
    }
    out.push({ address, prefix: makePrefix(address.family, address.words, length) });
  }
  return ok ? out : null;
}

/** One endpoint policy into `ep` (problems go to `c`). */
function endpointPolicy(c: Collector, pol: PolicyView, ep: Endpoint, setVlan: (v: number | null) => void): void {
  const s = pol.settings;
  const sp = pol.sPath;
  switch (pol.type) {
    case 'acl': {
      const acl = readAcl(c, pol);
      if (acl) ep.acls.push(acl);
      break;
    }
    case 'nat':
    case 'portmapping': {
      if (pol.type === 'nat') renamed(c, pol, 'NAT', 'PortMapping');
      const pm = readPortMapping(c, pol);
      if (pm) ep.portMappings.push(pm);
      break;
    }
    case 'outboundnat': {
      const vip = readAddr(c, field(s, sp, 'VirtualIP', 'VIP')) ?? null;
      const ef = field(s, sp, 'Exceptions', 'ExceptionList');
      if (ef && ef.key === 'ExceptionList') c.note(ef.path, 'v1 ExceptionList read as Exceptions');
      const exceptions = readPrefixList(c, ef);
      const destinations = readPrefixList(c, field(s, sp, 'Destinations'));
      const flags = readInt(c, field(s, sp, 'Flags'), 0, U32_MAX, 'a flags number') ?? 0;
      if (exceptions && destinations) ep.outboundNat.push({ vip, exceptions, destinations, flags, path: pol.path } satisfies OutboundNat);
      break;
    }
    case 'route':
    case 'sdnroute': {
      if (pol.type === 'route') renamed(c, pol, 'ROUTE', 'SDNRoute');
      const destination = readPrefix(c, field(s, sp, 'DestinationPrefix'), 'host');
      if (destination === undefined) c.problem(sp, `${pol.typeText} policy without DestinationPrefix`);
      const nextHop = readAddr(c, field(s, sp, 'NextHop')) ?? null;
      const needEncap = readBool(c, field(s, sp, 'NeedEncap')) ?? false;
      if (destination) ep.sdnRoutes.push({ destination, nextHop, needEncap, path: pol.path } satisfies SdnRoute);
      break;
    }
    case 'pa':
    case 'provideraddress': {
      if (pol.type === 'pa') renamed(c, pol, 'PA', 'ProviderAddress');
      const af = field(s, sp, 'ProviderAddress', 'PA');
      const a = readAddr(c, af);
      if (a === undefined) c.problem(sp, `${pol.typeText} policy without an address`);
      else if (a && ep.providerAddress !== null) c.problem(pol.path, 'a second ProviderAddress policy');
      else if (a) ep.providerAddress = a;
      break;
    }
    case 'vlan': {
      const v = readIsolation(c, pol, 'VLAN', VLAN_MIN, VLAN_MAX, 'a VLAN id');
      if (v !== null) setVlan(v);
      break;
    }
    case 'encapoverhead': {
      const n = readInt(c, field(s, sp, 'Overhead', 'EncapOverhead'), 0, 65535, 'an overhead in bytes');
      if (typeof n === 'number') ep.encapOverhead = n;
      break;
    }
    case 'vsid':
      // The VNI is the subnet's (VSID subnet policy); an endpoint copy is checked and kept.
      readIsolation(c, pol, 'VSID', VNI_MIN, VNI_MAX, 'a VSID (VNI)');
      ep.otherPolicies.push({ hnsType: pol.typeText, path: pol.path });
      break;
    default:
      ep.otherPolicies.push({ hnsType: pol.typeText, path: pol.path });
  }
}

function readPortMapping(c: Collector, pol: PolicyView): PortMapping | null {
  const s = pol.settings;
  const sp = pol.sPath;
  const pf = field(s, sp, 'Protocol');
  let protocol = readProtocol(c, pf);
  if (protocol === undefined) {
    protocol = 6;
    c.note(sp, 'no Protocol: TCP (6)');
  }
  if (typeof protocol === 'number' && protocol !== 6 && protocol !== 17) {
    c.problem(pf!.path, `a port mapping is TCP (6) or UDP (17), got ${protocol}`);
    protocol = null;
  }
  const ef = field(s, sp, 'ExternalPort');
  const externalPort = readPort(c, ef);
  if (externalPort === undefined) c.problem(sp, 'port mapping without ExternalPort');
  const inf = field(s, sp, 'InternalPort');
  let internalPort = readPort(c, inf);
  if (internalPort === undefined && typeof externalPort === 'number') {
    internalPort = externalPort;
    c.note(sp, `no InternalPort: ${externalPort}, the ExternalPort`);
  }
  const vip = readAddr(c, field(s, sp, 'VIP', 'VirtualIP')) ?? null;
  let flags = readInt(c, field(s, sp, 'Flags'), 0, U32_MAX, 'a flags number') ?? 0;
  const rf = field(s, sp, 'ExternalPortReserved');
  if (readBool(c, rf) === true) {
    flags |= NAT_FLAG_EXTERNAL_PORT_RESERVED;
    c.note(rf!.path, 'v1 ExternalPortReserved read as Flags ExternalPortReserved (4)');
  }
  if (typeof protocol !== 'number' || typeof externalPort !== 'number' || typeof internalPort !== 'number') return null;
  return { protocol, internalPort, externalPort, vip, flags, path: pol.path };
}

/**
 * Endpoint MACs the file leaves out, as HNS or the CNIs would assign them (model.ts): remote
 * endpoints 02:11 + IPv4 (kube-proxy); Overlay 0e:2a + IPv4 (flannel, win-overlay); otherwise the
 * next MAC of the network's MacPool that no endpoint of the network uses; else 00:15:5d + the low
 * 24 bits of the address (IPv4, or the last word of IPv6); else 00:15:5d:ff + the endpoint index.
 */
function deriveMacs(c: Collector, drafts: EndpointDraft[], networks: Network[]): void {
  const used = new Map<number, Set<number>>();
  for (const d of drafts) {
    if (!d.mac) continue;
    const set = used.get(d.ep.network) ?? new Set<number>();
    set.add(macNumber(d.mac));
    used.set(d.ep.network, set);
  }
  const cursor = new Map<number, number>();
  for (const d of drafts) {
    if (d.mac) {
      d.ep.mac = d.mac;
      continue;
    }
    const net = networks[d.ep.network];
    const v4 = d.ep.ips.find((x) => x.address.family === 4)?.address ?? null;
    const set = used.get(d.ep.network) ?? new Set<number>();
    used.set(d.ep.network, set);
    let mac: MacAddr | null = null;
    let why = '';
    if (d.ep.remote && v4) {
      mac = macFromNumber(0x0211 * 0x100000000 + v4.words[0]);
      why = 'remote endpoint: 02-11- + the IPv4 address, as kube-proxy does';
    } else if (net?.type === 'Overlay' && v4) {
      mac = macFromNumber(0x0e2a * 0x100000000 + v4.words[0]);
      why = 'Overlay: 0E-2A- + the IPv4 address, as the CNIs do';
    } else if (net && net.macPools.length > 0) {
      let at = cursor.get(net.index) ?? macNumber(net.macPools[0]!.start);
      for (const r of net.macPools) {
        const lo = macNumber(r.start);
        const hi = macNumber(r.end);
        if (at < lo) at = lo;
        while (at <= hi && set.has(at)) at++;
        if (at <= hi) {
          mac = macFromNumber(at);
          cursor.set(net.index, at + 1);
          why = `the next free MAC of the network's MacPool`;
          break;
        }
      }
    }
    if (!mac) {
      const low = v4 ? v4.words[0] & 0xffffff : d.ep.ips.length > 0 ? d.ep.ips[0]!.address.words[3] & 0xffffff : 0xff0000 | (d.ep.index & 0xffff);
      mac = macFromNumber(0x00155d * 0x1000000 + low);
      why = d.ep.ips.length > 0 ? '00-15-5D- + the low 24 bits of the address' : '00-15-5D-FF- + the endpoint index';
    }
    set.add(macNumber(mac));
    d.ep.mac = mac;
    c.note(d.ep.path, `no MacAddress: ${mac.text} (${why})`);
  }
}

// ---------------------------------------------------------------------------------------------
// load balancers

function loadLoadBalancers(c: Collector, f: Field | undefined, eps: RefIndex): LoadBalancer[] {
  const out: LoadBalancer[] = [];
  for (const it of readArray(c, f) ?? []) {
    const lb = loadLoadBalancer(c, it, eps);
    if (lb) out.push(lb);
  }
  return out;
}

function loadLoadBalancer(c: Collector, f: Field, eps: RefIndex): LoadBalancer | null {
  const o = readObj(c, f);
  if (!o) return null;
  const p = f.path;
  const before = c.problems.length;
  const id = readString(c, field(o, p, 'ID', 'Id')) ?? null;
  const endpoints: number[] = [];
  const epf = field(o, p, 'HostComputeEndpoints', 'References');
  if (epf && epf.key === 'References') c.note(epf.path, 'v1 policy list References read as HostComputeEndpoints');
  for (const r of readArray(c, epf) ?? []) {
    const ref = readString(c, r);
    if (!ref) continue;
    const stripped = ref.replace(/^\/?endpoints\//i, '');
    const n = eps.resolve(stripped);
    if (typeof n === 'string') c.problem(r.path, n);
    else if (!endpoints.includes(n)) endpoints.push(n);
  }
  let sourceVip = readAddr(c, field(o, p, 'SourceVIP')) ?? null;
  const vf = field(o, p, 'FrontendVIPs', 'VirtualIPs');
  if (vf && vf.key === 'VirtualIPs') c.note(vf.path, 'VirtualIPs (older HCN schema) read as FrontendVIPs');
  const frontendVips = readAddrList(c, vf) ?? [];
  const portMappings: LoadBalancerPortMapping[] = [];
  for (const m of readArray(c, field(o, p, 'PortMappings')) ?? []) {
    const mo = readObj(c, m);
    if (!mo) continue;
    const pm = lbMapping(c, mo, m.path);
    if (pm) portMappings.push(pm);
  }
  let flags = readInt(c, field(o, p, 'Flags'), 0, U32_MAX, 'a flags number') ?? 0;
  const dsr = field(o, p, 'EnableDirectServerReturn');
  if (readBool(c, dsr) === true) {
    flags |= LB_FLAG_DSR;
    c.note(dsr!.path, 'EnableDirectServerReturn (older HCN schema) read as Flags DSR (1)');
  }
  const ilb = field(o, p, 'InternalLoadBalancer');
  const ilbOn = readBool(c, ilb) === true;
  if (ilbOn) c.note(ilb!.path, 'InternalLoadBalancer (older HCN schema) read as port mapping Flags ILB (1)');

  // A v1 policy list: {References, Policies: [{Type: "ELB", ...}]}. Get-HnsPolicyList also
  // returns lists of other policies (ROUTE ...): those are not load balancers and are skipped.
  const listed = readPolicies(c, field(o, p, 'Policies'));
  if (listed.length > 0 && !listed.some((x) => x.type === 'elb') && portMappings.length === 0) {
    c.note(p, `a policy list of ${[...new Set(listed.map((x) => x.typeText))].join(', ')} policies, not a load balancer: ignored`);
    return null;
  }
  for (const pol of listed) {
    if (pol.type !== 'elb') {
      c.note(pol.path, `policy list entry ${pol.typeText} is not a load balancer, ignored`);
      continue;
    }
    renamed(c, pol, 'ELB', 'LoadBalancer');
    const s = pol.settings;
    const sp = pol.sPath;
    const sv = readAddr(c, field(s, sp, 'SourceVIP')) ?? null;
    if (sv && !sourceVip) sourceVip = sv;
    for (const v of readAddrList(c, field(s, sp, 'VIPs')) ?? []) if (!frontendVips.some((x) => sameAddr(x, v))) frontendVips.push(v);
    if (readBool(c, field(s, sp, 'IsDSR')) === true) flags |= LB_FLAG_DSR;
    const pm = lbMapping(c, s, sp);
    if (pm) {
      if (readBool(c, field(s, sp, 'ILB')) === true) pm.flags |= LB_MAPPING_FLAG_ILB;
      portMappings.push(pm);
    }
  }
  if (ilbOn) for (const m of portMappings) m.flags |= LB_MAPPING_FLAG_ILB;
  if (c.problems.length > before) return null;
  return { id, endpoints, sourceVip, frontendVips, portMappings, flags, path: p };
}

function lbMapping(c: Collector, o: Obj, p: string): LoadBalancerPortMapping | null {
  const protocol = readProtocol(c, field(o, p, 'Protocol'));
  if (protocol === undefined) c.problem(p, 'load balancer port mapping without Protocol');
  const externalPort = readPort(c, field(o, p, 'ExternalPort'));
  if (externalPort === undefined) c.problem(p, 'load balancer port mapping without ExternalPort');
  let internalPort = readPort(c, field(o, p, 'InternalPort'));
  if (internalPort === undefined && typeof externalPort === 'number') {
    internalPort = externalPort;
    c.note(p, `no InternalPort: ${externalPort}, the ExternalPort`);
  }
  const distributionType = readInt(c, field(o, p, 'DistributionType'), 0, 2, 'a DistributionType (0 per connection, 1 source IP + protocol, 2 source IP)') ?? 0;
  const flags = readInt(c, field(o, p, 'Flags'), 0, U32_MAX, 'a flags number') ?? 0;
  if (typeof protocol !== 'number' || typeof externalPort !== 'number' || typeof internalPort !== 'number') return null;
  return { protocol, internalPort, externalPort, distributionType, flags };
}

// ---------------------------------------------------------------------------------------------
// checks across objects

function crossChecks(c: Collector, host: Host, networks: Network[], endpoints: Endpoint[], lbs: LoadBalancer[]): void {
  // Network names: references by Name must be unambiguous.
  const netNames = new Map<string, Network>();
  for (const n of networks) {
    const prev = netNames.get(n.name.toLowerCase());
    if (prev) c.problem(`${n.path}.Name`, `network name '${n.name}' is also the name of ${prev.path}`);
    else netNames.set(n.name.toLowerCase(), n);
  }
  // Port names: local endpoints, host vNICs (host:<network>) and uplinks share one namespace.
  const ports = new Map<string, string>();
  const port = (name: string, path: string): void => {
    const prev = ports.get(name);
    if (prev !== undefined) c.problem(path, `port name '${name}' is also used by ${prev}`);
    else ports.set(name, path);
  };
  for (const e of endpoints) if (!e.remote) port(e.name, e.path);
  for (const n of networks) if (!ports.has(`host:${n.name}`)) ports.set(`host:${n.name}`, `${n.path} (its host vNIC port)`);
  for (const u of host.uplinks) port(u.name, `${u.path}.name`);
  // MACs: unique among uplinks, and within one network (its vSwitch) among endpoints and its vNIC.
  const upMacs = new Map<number, string>();
  for (const u of host.uplinks) {
    const prev = upMacs.get(macNumber(u.mac));
    if (prev) c.problem(`${u.path}.mac`, `MAC ${u.mac.text} is also the MAC of ${prev}`);
    else upMacs.set(macNumber(u.mac), u.path);
  }
  const vnicOf = new Map<number, Vnic>();
  for (const v of host.vnics) {
    const prev = vnicOf.get(v.network);
    if (prev) c.problem(v.path, `network '${networks[v.network]!.name}' already has a vnic (${prev.path})`);
    else vnicOf.set(v.network, v);
  }
  for (const n of networks) {
    const macs = new Map<number, string>();
    const v = vnicOf.get(n.index);
    if (v) macs.set(macNumber(v.mac), v.path);
    const ips = new Map<string, string>();
    for (const e of endpoints) {
      if (e.network !== n.index) continue;
      const prev = macs.get(macNumber(e.mac));
      if (prev) c.problem(e.path, `MAC ${e.mac.text} is also the MAC of ${prev} on network '${n.name}'`);
      else macs.set(macNumber(e.mac), e.path);
      for (const ip of e.ips) {
        const k = ip.address.text;
        const p2 = ips.get(k);
        if (p2) c.problem(e.path, `address ${k} is also the address of ${p2} on network '${n.name}'`);
        else ips.set(k, e.path);
      }
    }
  }
  const lbIds = new Map<string, string>();
  for (const lb of lbs) {
    if (lb.id === null) continue;
    const prev = lbIds.get(normId(lb.id));
    if (prev) c.problem(`${lb.path}.ID`, `load balancer ID '${lb.id}' is also the ID of ${prev}`);
    else lbIds.set(normId(lb.id), lb.path);
  }
}
