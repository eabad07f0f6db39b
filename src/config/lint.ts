/**
 * The topology linter (`vfp validate`): known traps of Windows container networking (the table
 * in docs/topology.md, Lint), found on a topology that loaded without problems. A finding is not
 * an error: the file is valid HNS, it just probably does not do what its author wants. Each finding
 * has a kebab-case code, the JSON path of the object it is about, and a message that says what
 * Windows will do and how to change it.
 *
 * Codes (LINT_CODES below, in the order they are checked):
 *   acl-default-deny        endpoint ACLs without an allow-all rule in a direction: that direction is default-deny
 *   acl-priority-tie        two ACLs of one direction with the same priority and different actions
 *   acl-block-shadowed      a Block rule behind (higher priority number than) an allow-all of its direction
 *   acl-pass                Action Pass: semantics undocumented (the compiler leaves the rule out)
 *   acl-host-rule           RuleType Host: a Windows Firewall rule, not enforced by VFP
 *   nat-prefix-overlap      a NAT subnet overlapping an uplink's on-link prefix
 *   multiple-nat-prefixes   more than one NAT prefix on the host (WinNAT has one internal prefix)
 *   duplicate-external-port two port mappings with the same protocol and external port
 *   port-mapping-dynamic-port an external port inside the host's dynamic port range
 *   overlay-vni-low         Overlay VSID below 4096 (flannel and the Windows CNIs require >= 4096)
 *   overlay-missing-vsid    Overlay subnet without a VSID policy (no VNI to encapsulate with)
 *   overlay-port            VxlanPort other than 4789 (flannel on Windows requires 4789)
 *   outbound-nat-exceptions OutBoundNAT Exceptions missing the endpoint's own subnet, a remote pod
 *                           subnet or an encapsulated (service) route: that traffic is SNATed
 *   no-uplink               an external-switch network (or a NAT network) on a host without uplinks
 *   gateway-outside-subnet  a subnet whose gateway is not inside it
 *   lb-empty-source-vip     an overlay load balancer without SourceVIP (hairpin breaks:
 *                           kubernetes/community#8890)
 *   lb-too-many-backends    more than 1024 backend addresses (the Windows limit per Service)
 *
 * Deliberately not linted (nothing in the file tells): the endpoint MTU against the uplink MTU
 * minus 50 on Overlay (HNS objects carry no endpoint MTU), ICMP probes through OutBoundNAT, the
 * cluster and service CIDRs beyond what routes and remote subnets reveal, `Local` traffic
 * policy without DSR.
 */
import type { AclPolicy, IpPrefix, LintFinding, Topology } from './model.js';
import { prefixContains, prefixCovers, prefixesOverlap } from './values.js';

export const LINT_CODES = [
  'acl-default-deny',
  'acl-priority-tie',
  'acl-block-shadowed',
  'acl-pass',
  'acl-host-rule',
  'nat-prefix-overlap',
  'multiple-nat-prefixes',
  'duplicate-external-port',
  'port-mapping-dynamic-port',
  'overlay-vni-low',
  'overlay-missing-vsid',
  'overlay-port',
  'outbound-nat-exceptions',
  'no-uplink',
  'gateway-outside-subnet',
  'lb-empty-source-vip',
  'lb-too-many-backends',
] as const;
export type LintCode = (typeof LINT_CODES)[number];

/** The VNI flannel and the Windows overlay CNIs require at least (flannel's Windows VXLAN backend). */
export const OVERLAY_MIN_VNI = 4096;
export const VXLAN_PORT = 4789;
/**
 * Backends per load balancer (Service) Windows supports:
 * https://kubernetes.io/docs/concepts/services-networking/windows-networking/
 */
export const LB_MAX_BACKENDS = 1024;

function isAllowAll(a: AclPolicy): boolean {
  return a.action === 'Allow' && a.protocols === null && a.localAddresses.length === 0 && a.remoteAddresses.length === 0 && a.localPorts.length === 0 && a.remotePorts.length === 0;
}

export function lintTopology(t: Topology): LintFinding[] {
  const out: LintFinding[] = [];
  const add = (code: LintCode, path: string, message: string): void => {
    out.push({ code, path, message });
  };

  // ACLs per endpoint: its Switch ACLs plus its network's NetworkACL policies (one VFP layer).
  for (const ep of t.endpoints) {
    if (ep.remote) continue;
    const net = t.networks[ep.network]!;
    const all: AclPolicy[] = [...ep.acls];
    for (const p of net.policies) if (p.type === 'NetworkACL') all.push(p.acl);
    const sw = all.filter((a) => a.ruleType === 'Switch');
    if (sw.length > 0) {
      for (const dir of ['In', 'Out'] as const) {
        if (!sw.some((a) => a.direction === dir && isAllowAll(a))) {
          add(
            'acl-default-deny',
            `${ep.path}.Policies`,
            `endpoint '${ep.name}' has ACLs, which make it default-deny, and no allow-all ${dir} rule: every ${dir === 'In' ? 'inbound' : 'outbound'} packet no Allow rule matches is dropped; add {"Type":"ACL","Settings":{"Action":"Allow","Direction":"${dir}","RuleType":"Switch","Priority":1000}} (microsoft/Windows-Containers#616)`,
          );
        }
      }
      for (let i = 0; i < sw.length; i++) {
        for (let j = 0; j < i; j++) {
          const a = sw[j]!;
          const b = sw[i]!;
          if (a.direction === b.direction && a.priority === b.priority && a.action !== b.action) {
            add('acl-priority-tie', b.path, `${b.action} and ${a.action} (${a.path}) share priority ${b.priority} in direction ${b.direction}: which one wins is not documented (the emulator takes the first in file order); give them different priorities (lower number = higher precedence)`);
            break;
          }
        }
      }
      for (const b of sw) {
        if (b.action !== 'Block') continue;
        const allow = sw.find((a) => a.direction === b.direction && isAllowAll(a) && a.priority < b.priority);
        if (allow) add('acl-block-shadowed', b.path, `this Block (priority ${b.priority}) never takes effect: the allow-all ${allow.path} has the smaller priority number ${allow.priority}, and a smaller number wins; give the Block a smaller number`);
      }
    }
    for (const a of all) {
      if (a.action === 'Pass') add('acl-pass', a.path, 'Action Pass has no documented semantics; the emulator leaves this rule out (use Allow or Block)');
      if (a.ruleType === 'Host') add('acl-host-rule', a.path, 'RuleType Host is a Windows Firewall (WFP) rule, not a VFP switch rule: it is enforced in the host firewall stage and does not make the endpoint default-deny');
    }
  }

  // WinNAT: one internal prefix, not overlapping the host's external addresses (WinNAT's
  // documented limits; the winnat source of docs/defaults.md).
  const natPrefixes: { prefix: IpPrefix; path: string }[] = [];
  for (const net of t.networks) {
    if (net.type !== 'NAT') continue;
    for (const s of net.subnets) {
      for (const u of t.host.uplinks) {
        if (u.ip && prefixesOverlap(s.prefix, u.ip.prefix)) {
          add('nat-prefix-overlap', s.path, `NAT prefix ${s.prefix.text} overlaps uplink '${u.name}' (${u.ip.address.text}/${u.ip.prefix.length}): WinNAT requires internal and external prefixes not to overlap; pick another NAT prefix`);
        }
      }
      if (s.prefix.family === 4 && !natPrefixes.some((x) => x.prefix.text === s.prefix.text)) {
        if (natPrefixes.length > 0) add('multiple-nat-prefixes', s.path, `a second NAT prefix ${s.prefix.text} (the first is ${natPrefixes[0]!.prefix.text} at ${natPrefixes[0]!.path}): WinNAT supports one internal prefix per host; several NAT networks must lie inside one prefix`);
        natPrefixes.push({ prefix: s.prefix, path: s.path });
      }
    }
  }

  // Port mappings: one external port maps to one endpoint; the dynamic range belongs to SNAT.
  const seen: { protocol: number; port: number; vipText: string | null; path: string }[] = [];
  const dyn = t.host.dynamicPortRange;
  for (const ep of t.endpoints) {
    if (ep.remote) continue;
    for (const pm of ep.portMappings) {
      const vipText = pm.vip ? pm.vip.text : null;
      const dup = seen.find((s) => s.protocol === pm.protocol && s.port === pm.externalPort && (s.vipText === null || vipText === null || s.vipText === vipText));
      if (dup) add('duplicate-external-port', pm.path, `external port ${pm.externalPort}/${protoName(pm.protocol)} is already mapped by ${dup.path}: WinNAT maps one external port to exactly one endpoint`);
      else seen.push({ protocol: pm.protocol, port: pm.externalPort, vipText, path: pm.path });
      if (pm.externalPort >= dyn.start && pm.externalPort < dyn.start + dyn.count) {
        add('port-mapping-dynamic-port', pm.path, `external port ${pm.externalPort} lies in the host's dynamic port range ${dyn.start}-${dyn.start + dyn.count - 1}, where outbound NAT and Hyper-V take their ports: it may collide (docker/for-win#3171)`);
      }
    }
  }

  // Overlay constraints of flannel and the Windows CNIs: VNI >= 4096, UDP port 4789.
  for (const net of t.networks) {
    if (net.type !== 'Overlay') continue;
    for (const s of net.subnets) {
      if (s.vsid === null) add('overlay-missing-vsid', s.path, `Overlay subnet ${s.prefix.text} has no VSID policy: no VNI to encapsulate with; add {"Type":"VSID","Settings":{"IsolationId":4096}}`);
      else if (s.vsid < OVERLAY_MIN_VNI) add('overlay-vni-low', s.path, `VSID ${s.vsid} is below ${OVERLAY_MIN_VNI}: flannel and the Windows overlay CNIs require a VNI >= 4096`);
    }
    for (const p of net.policies) {
      if (p.type === 'VxlanPort' && p.port !== VXLAN_PORT) add('overlay-port', p.path, `VxlanPort ${p.port}: flannel on Windows requires UDP ${VXLAN_PORT}, and peers on the default port will not decapsulate it`);
    }
  }

  // OutBoundNAT SNATs everything but its Exceptions
  // (https://learn.microsoft.com/en-us/virtualization/windowscontainers/container-networking/advanced),
  // and Kubernetes expects no NAT inside the cluster (microsoft/SDN#170): the cluster must be in
  // Exceptions.
  for (const ep of t.endpoints) {
    if (ep.remote) continue;
    const net = t.networks[ep.network]!;
    for (const on of ep.outboundNat) {
      if (on.destinations.length > 0) continue; // narrowed to a list: exceptions do not apply the same way
      const wanted: { prefix: IpPrefix; why: string }[] = [];
      for (const ip of ep.ips) {
        const s = net.subnets.find((x) => prefixContains(x.prefix, ip.address));
        if (s) wanted.push({ prefix: s.prefix, why: "the endpoint's own subnet" });
      }
      for (const p of net.policies) if (p.type === 'RemoteSubnetRoute') wanted.push({ prefix: p.destination, why: `a remote subnet (${p.path})` });
      for (const r of ep.sdnRoutes) if (r.needEncap) wanted.push({ prefix: r.destination, why: `an encapsulated route (${r.path})` });
      for (const w of wanted) {
        if (!on.exceptions.some((e) => prefixCovers(e, w.prefix))) {
          add('outbound-nat-exceptions', on.path, `Exceptions do not cover ${w.prefix.text} (${w.why}): traffic to it is SNATed to the host address, and Kubernetes expects no NAT inside the cluster`);
        }
      }
    }
  }

  // Uplinks: external switches and WinNAT need one.
  for (const net of t.networks) {
    if ((net.type === 'Transparent' || net.type === 'L2Bridge' || net.type === 'L2Tunnel' || net.type === 'Overlay') && net.uplink === null) {
      add('no-uplink', net.path, `${net.type} network '${net.name}' has an external switch, but host.uplinks is empty: nothing leaves the host`);
    } else if (net.type === 'NAT' && t.host.uplinks.length === 0) {
      add('no-uplink', net.path, `NAT network '${net.name}': host.uplinks is empty, so WinNAT has no external address and nothing leaves the host`);
    }
    for (const s of net.subnets) {
      if (s.gateway && !prefixContains(s.prefix, s.gateway)) add('gateway-outside-subnet', s.path, `gateway ${s.gateway.text} is outside the subnet ${s.prefix.text}`);
    }
  }

  // Load balancers: SourceVIP on overlays (kubernetes/community#8890), LB_MAX_BACKENDS.
  for (const lb of t.loadBalancers) {
    const overlay = lb.endpoints.some((i) => t.networks[t.endpoints[i]!.network]!.type === 'Overlay');
    if (overlay && lb.sourceVip === null) {
      add('lb-empty-source-vip', lb.path, 'an overlay load balancer without SourceVIP: some Windows Server 2019 builds then use the VIP itself as NAT pool and hairpin traffic loops or drops; set SourceVIP (kube-proxy --source-vip; kubernetes/community#8890)');
    }
    const addrs: { text: string }[] = [];
    for (const i of lb.endpoints) {
      for (const ip of t.endpoints[i]!.ips) if (!addrs.some((a) => a.text === ip.address.text)) addrs.push({ text: ip.address.text });
    }
    if (addrs.length > LB_MAX_BACKENDS) add('lb-too-many-backends', lb.path, `${addrs.length} backend addresses: Windows supports at most ${LB_MAX_BACKENDS} per load balancer`);
  }
  return out;
}

function protoName(p: number): string {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : String(p);
}
