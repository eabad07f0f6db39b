/**
 * HNS -> VFP: the first compiler stage. Turns the normalised topology (config/) into the VFP
 * policy model (model.ts) of every port, as docs/defaults.md describes it with the source of each
 * point (tags [S], [O], [I] as there): the layer stack is this project's design decision [I], the
 * ACL semantics are hcsshim's and what vfpctrl shows [S]/[O].
 *
 * Layers of an endpoint port, in outbound order (VM -> wire; inbound packets cross them in the
 * reverse order):
 *
 *   HOST_FIREWALL      The Windows Firewall defaults for process-isolated containers ([S]
 *                      https://learn.microsoft.com/en-us/virtualization/windowscontainers/container-networking/network-isolation-security):
 *                      outbound allow all; inbound allow unsolicited TCP, UDP, ICMP and IGMP
 *                      (ICMPv6 for IPv6), every other protocol dropped
 *                      (`firewall-protocol`). Stateful, like WFP: the reply of an allowed
 *                      connection of any protocol is admitted by its flow. ACLs with
 *                      `RuleType: Host` are WFP rules: they land here, in a second group that
 *                      overrides the defaults (last matching group decides). It is not a VFP layer
 *                      (the dump says so); it sits VM-side because the firewall lives in the
 *                      container's compartment. Hyper-V isolated containers (`host.firewall`
 *                      `{"isolation": "hyperv"}`) have no such layer: their firewall is in the utility VM.
 *   ACL_ENDPOINT_LAYER Switch ACLs of the endpoint and NetworkACL policies of its network. One group
 *                      per direction and family (`ACL_ENDPOINT_GROUP_IPV4_OUT` ...), group
 *                      priority 1; every rule terminating, Allow rules stateful with flow TTL
 *                      240 s, Block rules stateless (TTL 0), as vfpctrl shows them ([O]
 *                      user-posted dumps). Present only when the endpoint has at least one ACL: then it is
 *                      default-deny (`acl-default-deny`), which is the documented trap ([S]
 *                      microsoft/Windows-Containers#616). Lower priority number wins; equal priorities keep
 *                      the file's order (first defined wins; `vfp validate` warns). `Pass` has no
 *                      documented meaning ([S] enum only): the rule is left out (a note says so).
 *
 * Later driver issues add SLB_NAT_LAYER, VNET_MAC_REWRITE_LAYER and VNET_ENCAP_LAYER to the same
 * stack. Uplink and host vNIC ports carry no layers.
 *
 * Local/Remote to src/dst: an `Out` ACL matches packets from the container (local = source), an
 * `In` ACL packets toward it (local = destination).
 */
import type { DropReason } from '../base/reasons.js';
import type { AclPolicy, FirewallSettings, IpPrefix, PortRange as ConfigPortRange, Topology } from '../config/model.js';
import { defaultFirewall } from '../config/topology.js';
import type { PortInfo } from '../config/ports.js';
import type { Conditions, Direction, Group, Layer, PortPolicy, Prefix, PortRange, Rule } from './model.js';

export const LAYER_HOST_FIREWALL = 'HOST_FIREWALL';
export const LAYER_ACL_ENDPOINT = 'ACL_ENDPOINT_LAYER';

/** Flow TTL of stateful ACL rules, seconds ([O] vfpctrl `Flow TTL: 240`). */
export const ACL_FLOW_TTL = 240;

/** The firewall defaults used when neither the topology nor the caller gives any (config/'s defaults). */
export const DEFAULT_FIREWALL: FirewallSettings = defaultFirewall();

export interface HnsCompileOptions {
  firewall?: FirewallSettings;
}

export interface HnsCompileResult {
  ports: PortPolicy[];
  /** What the compiler chose to leave out or interpret (one line each, with the JSON path). */
  notes: string[];
  /**
   * What the topology asks for that the engine does not emulate yet (a later driver's), one line
   * each with the JSON path: replay and trace print these as warnings, so a result is never
   * silently missing a policy.
   */
  unsupported: string[];
}

/** Network types whose own data path is a later issue's: switched like Transparent until then. */
const LATER_DRIVERS: Record<string, string> = {
  L2Bridge: 'the L2Bridge driver (MAC rewrite, OutboundNAT)',
  L2Tunnel: 'the L2Tunnel driver (hair-pinning to the policy host)',
  Overlay: 'the Overlay driver (VXLAN encap/decap, remote subnets)',
};

export function compileHnsPolicies(t: Topology, ports: readonly PortInfo[], options: HnsCompileOptions = {}): HnsCompileResult {
  const firewall = options.firewall ?? t.host.firewall;
  const notes: string[] = [];
  const unsupported: string[] = [];
  for (const net of t.networks) {
    const later = LATER_DRIVERS[net.type];
    if (later) unsupported.push(`${net.path}: ${net.type} network '${net.name}' is switched as a Transparent one until ${later}`);
    if (net.type === 'NAT' || net.type === 'ICS') unsupported.push(`${net.path}: ${net.type} network '${net.name}': traffic through the gateway ends at host:${net.name} until the WinNAT driver`);
    for (const pol of net.policies) {
      if (pol.type === 'RemoteSubnetRoute' || pol.type === 'VxlanPort' || pol.type === 'ProviderAddress' || pol.type === 'DrMacAddress' || pol.type === 'HostRoute') {
        unsupported.push(`${pol.path}: network policy ${pol.type} is not applied yet (the Overlay driver)`);
      } else if (pol.type === 'other') unsupported.push(`${pol.path}: network policy ${pol.hnsType} is not emulated`);
    }
  }
  for (const ep of t.endpoints) {
    for (const pm of ep.portMappings) unsupported.push(`${pm.path}: PortMapping is not applied yet (the WinNAT driver)`);
    for (const o of ep.outboundNat) unsupported.push(`${o.path}: OutBoundNAT is not applied yet (the NAT driver)`);
    for (const r of ep.sdnRoutes) unsupported.push(`${r.path}: SDNRoute is not applied yet (the L2Bridge and Overlay drivers)`);
    for (const o of ep.otherPolicies) unsupported.push(`${o.path}: endpoint policy ${o.hnsType} is not emulated`);
  }
  for (const lb of t.loadBalancers) unsupported.push(`${lb.path}: load balancers are not applied yet`);
  const out: PortPolicy[] = [];
  for (const p of ports) {
    const layers: Layer[] = [];
    if (p.kind === 'endpoint') {
      const ep = t.endpoints[p.endpoint]!;
      const switchAcls: AclPolicy[] = [];
      const hostAcls: AclPolicy[] = [];
      let anySwitchAcl = false;
      const all = [...ep.acls];
      for (const pol of t.networks[ep.network]!.policies) if (pol.type === 'NetworkACL') all.push(pol.acl);
      for (const acl of all) {
        if (acl.ruleType === 'Switch') anySwitchAcl = true;
        if (acl.action === 'Pass') {
          notes.push(`${acl.path}: ACL action Pass has no documented semantics; the rule is left out (no decision)`);
          continue;
        }
        (acl.ruleType === 'Host' ? hostAcls : switchAcls).push(acl);
      }
      if (firewall.isolation === 'process') layers.push(firewallLayer(firewall, hostAcls));
      else if (hostAcls.length > 0) notes.push(`${ep.path}: Host ACLs ignored: Hyper-V isolated containers have their firewall in the utility VM`);
      // Any Switch ACL makes the endpoint default-deny, even one whose rule is left out.
      if (anySwitchAcl) layers.push(aclLayer(switchAcls));
    }
    out.push({ id: p.id, name: p.name, kind: p.kind, layers });
  }
  return { ports: out, notes, unsupported };
}

function firewallLayer(fw: FirewallSettings, hostAcls: readonly AclPolicy[]): Layer {
  const groups: Group[] = [];
  for (const family of [4, 6] as const) {
    const fam = family === 4 ? 'IPV4' : 'IPV6';
    groups.push({
      name: `FW_DEFAULT_${fam}_OUT`,
      priority: 1,
      direction: 'out',
      family,
      conditions: {},
      rules: [
        {
          id: `FW_OUT_ALLOW_ALL_${fam}`,
          priority: 1,
          conditions: {},
          action: { type: 'allow' },
          terminating: false,
          stateful: true,
          flowTtl: fw.flowTtl,
          origin: 'firewall default: outbound allow all',
        },
      ],
    });
    const protos = family === 4 ? fw.inboundProtocols : fw.inboundProtocols6;
    groups.push({
      name: `FW_DEFAULT_${fam}_IN`,
      priority: 1,
      direction: 'in',
      family,
      conditions: {},
      rules: [
        {
          id: `FW_IN_ALLOW_${protos.join('_')}_${fam}`,
          priority: 1,
          conditions: { protocols: protos },
          action: { type: 'allow' },
          terminating: false,
          stateful: true,
          flowTtl: fw.flowTtl,
          origin: `firewall default: inbound allow protocols ${protos.join(',')}`,
        },
      ],
    });
  }
  if (hostAcls.length > 0) groups.push(...aclGroups(hostAcls, 'FW_HOST_ACL', 2, 'acl-block'));
  return { name: LAYER_HOST_FIREWALL, priority: 10, defaultAllow: false, defaultReason: 'firewall-protocol', groups };
}

function aclLayer(acls: readonly AclPolicy[]): Layer {
  return {
    name: LAYER_ACL_ENDPOINT,
    priority: 100,
    defaultAllow: false,
    defaultReason: 'acl-default-deny',
    groups: aclGroups(acls, 'ACL_ENDPOINT_GROUP', 1, 'acl-block'),
  };
}

/** One group per direction and family holding the ACLs that apply to it, in file order. */
function aclGroups(acls: readonly AclPolicy[], prefix: string, priority: number, blockReason: DropReason): Group[] {
  const groups: Group[] = [];
  for (const direction of ['out', 'in'] as const) {
    for (const family of [4, 6] as const) {
      const rules: Rule[] = [];
      for (const acl of acls) {
        if ((acl.direction === 'Out' ? 'out' : 'in') !== direction) continue;
        const rule = aclRule(acl, direction, family, blockReason, rules.length);
        if (rule) rules.push(rule);
      }
      if (rules.length === 0) continue;
      groups.push({
        name: `${prefix}_IPV${family}_${direction.toUpperCase()}`,
        priority,
        direction,
        family,
        conditions: {},
        rules,
      });
    }
  }
  return groups;
}

/**
 * The rule an ACL gives in one family's group, or null when it cannot apply to that family (it
 * names addresses, none of them of this family).
 */
function aclRule(acl: AclPolicy, direction: Direction, family: 4 | 6, blockReason: DropReason, n: number): Rule | null {
  const local = prefixesOf(acl.localAddresses, family);
  const remote = prefixesOf(acl.remoteAddresses, family);
  if (local === null || remote === null) return null;
  const conditions: Conditions = {};
  const localPorts = rangesOf(acl.localPorts);
  const remotePorts = rangesOf(acl.remotePorts);
  if (acl.protocols !== null) conditions.protocols = acl.protocols;
  if (direction === 'out') {
    if (local.length) conditions.srcPrefixes = local;
    if (remote.length) conditions.dstPrefixes = remote;
    if (localPorts.length) conditions.srcPorts = localPorts;
    if (remotePorts.length) conditions.dstPorts = remotePorts;
  } else {
    if (remote.length) conditions.srcPrefixes = remote;
    if (local.length) conditions.dstPrefixes = local;
    if (remotePorts.length) conditions.srcPorts = remotePorts;
    if (localPorts.length) conditions.dstPorts = localPorts;
  }
  const allow = acl.action === 'Allow';
  return {
    id: acl.id ?? `${allow ? 'ALLOW' : 'BLOCK'}_${direction.toUpperCase()}_P${acl.priority}_${n}`,
    priority: acl.priority,
    conditions,
    action: allow ? { type: 'allow' } : { type: 'block', reason: blockReason },
    terminating: true,
    stateful: allow,
    flowTtl: allow ? ACL_FLOW_TTL : 0,
    origin: acl.path,
  };
}

/** The prefixes of one family; [] = any (the list was empty); null = the list names only other families. */
function prefixesOf(list: readonly IpPrefix[], family: 4 | 6): Prefix[] | null {
  if (list.length === 0) return [];
  const mine = list.filter((p) => p.family === family).map((p) => ({ family: p.family, words: [...p.words], length: p.length }));
  return mine.length === 0 ? null : mine;
}

function rangesOf(list: readonly ConfigPortRange[]): PortRange[] {
  return list.map((r) => ({ from: r.from, to: r.to }));
}
