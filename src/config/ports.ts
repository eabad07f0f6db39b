/**
 * The engine's ports, enumerated from a topology (docs/cli.md, `vfp replay`): every local
 * endpoint is a port named after it, each network that has a host vNIC gets a port
 * `host:<network>`, and every uplink is a port. Port ids are positions in this list, in that
 * order (endpoints, host vNICs, uplinks), so they are stable for a given file.
 *
 * Which networks have a host vNIC (docs/defaults.md): NAT, ICS and Internal networks always do
 * (it owns the gateway address: `vEthernet (nat)`); other types only when `host.vnics` names them
 * (an external switch shared with the management OS). Its MAC is the one `host.vnics` gives, or the
 * documented default 00:15:5d:00:NN:01 with NN = 0x10 + the network's index. It owns the gateway
 * address of each of the network's subnets.
 *
 * Remote endpoints (overlay, `Flags: 1`) live on other hosts: they are not ports.
 *
 * Pure data (layer 1): both vfp/ (policy per port) and switch/ (forwarding) read this list.
 */
import type { IpAddr, IpInterfaceAddr, MacAddr, Topology } from './model.js';

export type PortKind = 'endpoint' | 'uplink' | 'vnic';

export interface PortInfo {
  id: number;
  name: string;
  kind: PortKind;
  mac: MacAddr;
  /** The network of an endpoint or vNIC port; null for an uplink. */
  network: number | null;
  /** Access VLAN of an endpoint port (frames are untagged on the port, tagged on the uplink); null = untagged. */
  vlan: number | null;
  /** Addresses the port's device owns (endpoint IpConfigurations; a vNIC's gateway addresses; the uplink's address). */
  ips: IpInterfaceAddr[];
  /** Index into topology.endpoints / host.uplinks, or -1. */
  endpoint: number;
  uplink: number;
  /** Where it was defined. */
  path: string;
}

const HEX = (n: number): string => n.toString(16).padStart(2, '0');

function macFrom(hi: number, lo: number): MacAddr {
  const text = [hi >>> 8, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255].map(HEX).join(':');
  return { hi, lo: lo >>> 0, text };
}

/** Whether a network of this type has a host vNIC without being named in host.vnics. */
export function hasImplicitVnic(type: string): boolean {
  return type === 'NAT' || type === 'ICS' || type === 'Internal';
}

export function vnicPortName(networkName: string): string {
  return `host:${networkName}`;
}

export function enumeratePorts(t: Topology): PortInfo[] {
  const ports: PortInfo[] = [];
  for (const ep of t.endpoints) {
    if (ep.remote) continue;
    ports.push({
      id: ports.length,
      name: ep.name,
      kind: 'endpoint',
      mac: ep.mac,
      network: ep.network,
      vlan: ep.vlan,
      ips: ep.ips,
      endpoint: ep.index,
      uplink: -1,
      path: ep.path,
    });
  }
  for (const net of t.networks) {
    const named = t.host.vnics.find((v) => v.network === net.index);
    if (!named && !hasImplicitVnic(net.type)) continue;
    const ips: IpInterfaceAddr[] = [];
    for (const s of net.subnets) {
      if (s.gateway) ips.push({ address: s.gateway, prefix: s.prefix });
    }
    ports.push({
      id: ports.length,
      name: vnicPortName(net.name),
      kind: 'vnic',
      mac: named ? named.mac : macFrom(0x0015, (0x5d000001 | ((0x10 + net.index) & 0xff) << 8) >>> 0),
      network: net.index,
      vlan: null,
      ips,
      endpoint: -1,
      uplink: -1,
      path: named ? named.path : `networks[${net.index}]`,
    });
  }
  t.host.uplinks.forEach((u, i) => {
    ports.push({
      id: ports.length,
      name: u.name,
      kind: 'uplink',
      mac: u.mac,
      network: null,
      vlan: null,
      ips: u.ip ? [u.ip] : [],
      endpoint: -1,
      uplink: i,
      path: u.path,
    });
  });
  return ports;
}

/** The port owning `addr` in `network` (endpoint or vNIC), or -1. */
export function portOwningAddress(ports: readonly PortInfo[], network: number, addr: IpAddr): number {
  for (const p of ports) {
    if (p.network !== network) continue;
    for (const ip of p.ips) {
      const a = ip.address;
      if (a.family === addr.family && a.words[0] === addr.words[0] && a.words[1] === addr.words[1] && a.words[2] === addr.words[2] && a.words[3] === addr.words[3]) return p.id;
    }
  }
  return -1;
}
