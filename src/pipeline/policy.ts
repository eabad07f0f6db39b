/**
 * One policy generation: everything the pipeline needs from a topology, compiled once and then
 * immutable (a new generation invalidates cached flows lazily, by their next packet:
 * docs/architecture.md). Built from the topology by `compilePolicy`: the port list (config/ports.ts), the
 * vSwitch (switch/), the VFP layers of every port (vfp/hns.ts) and each layer compiled to
 * JavaScript (vfp/codegen.ts), plus the host vNICs' addresses for the host responder.
 *
 * The compiled layers of a port are kept in outbound order (VM -> wire) as in the policy model;
 * the pipeline walks them first to last for DIR_OUT and last to first for DIR_IN.
 */
import type { Topology } from '../config/model.js';
import { enumeratePorts } from '../config/ports.js';
import type { PortInfo } from '../config/ports.js';
import type { CompiledLayer } from '../vfp/codegen.js';
import { compileLayer } from '../vfp/codegen.js';
import { compileHnsPolicies } from '../vfp/hns.js';
import type { FirewallSettings } from '../config/model.js';
import type { PortPolicy } from '../vfp/model.js';
import { VSwitch } from '../switch/vswitch.js';
import type { HostAddresses } from '../switch/host.js';
import { EXIT_USAGE, VfpError } from '../base/errors.js';

/** Meters a policy may name (a composite keeps them as a 32-bit mask). */
export const MAX_METERS = 32;

export interface PolicyOptions {
  /** Generate JavaScript for the layers (default true); false runs the IR interpreter. */
  codegen?: boolean;
  firewall?: FirewallSettings;
}

export interface Policy {
  generation: number;
  topology: Topology;
  ports: readonly PortInfo[];
  portNames: readonly string[];
  policies: readonly PortPolicy[];
  /** Per port, its compiled layers in outbound order. */
  layers: readonly (readonly CompiledLayer[])[];
  vswitch: VSwitch;
  /** Per port: the host addresses of a vNIC port, null for other ports. */
  hosts: readonly (HostAddresses | null)[];
  /** The first uplink's port id, or -1 (the default ingress). */
  firstUplink: number;
  /** Names of the meters rules count into (`meter` actions); a rule's meter id is its index here. */
  meters: readonly string[];
  /** The UDP port decoded as VXLAN: the overlay networks' VxlanPort or 4789; -1 when no network is an overlay. */
  vxlanPort: number;
  notes: string[];
  /** What the topology asks for that is not emulated yet (printed as warnings by replay and trace). */
  unsupported: string[];
}

export function compilePolicy(t: Topology, generation: number, options: PolicyOptions = {}): Policy {
  const ports = enumeratePorts(t);
  const hns = compileHnsPolicies(t, ports, options.firewall ? { firewall: options.firewall } : {});
  const policy = compilePortPolicies(t, ports, hns.ports, hns.notes, generation, options);
  policy.unsupported.push(...hns.unsupported);
  return policy;
}

/**
 * The same from VFP port policies given directly (tests and tools that build layers by hand):
 * `policies[i]` is the policy of `ports[i]`.
 */
export function compilePortPolicies(
  t: Topology,
  ports: readonly PortInfo[],
  policies: readonly PortPolicy[],
  compileNotes: readonly string[],
  generation: number,
  options: PolicyOptions = {},
): Policy {
  const hns = { ports: policies, notes: compileNotes };
  const codegen = options.codegen ?? true;
  const layers = hns.ports.map((p) => p.layers.map((l) => compileLayer(l, { codegen })));
  const hosts = ports.map((p): HostAddresses | null => {
    if (p.kind !== 'vnic') return null;
    const v4: number[] = [];
    const v6: number[] = [];
    for (const ip of p.ips) {
      if (ip.address.family === 4) v4.push(ip.address.words[0]);
      else v6.push(...ip.address.words);
    }
    return { v4: Uint32Array.from(v4), v6: Uint32Array.from(v6), macHi: p.mac.hi, macLo: p.mac.lo };
  });
  const meters: string[] = [];
  for (const p of hns.ports) {
    for (const l of p.layers) {
      for (const g of l.groups) {
        for (const r of g.rules) {
          const a = r.action;
          if (a.type === 'encap' || a.type === 'decap') {
            throw new VfpError(`${t.file}: port ${p.name}, layer ${l.name}, rule ${r.id}: action '${a.type}' is carried out by the Overlay driver, which is not built yet`, EXIT_USAGE);
          }
          if (a.type === 'meter' && !meters.includes(a.meter)) {
            if (meters.length === MAX_METERS) throw new VfpError(`${t.file}: more than ${MAX_METERS} meters`, EXIT_USAGE);
            meters.push(a.meter);
          }
        }
      }
    }
  }
  let vxlanPort = -1;
  for (const net of t.networks) {
    if (net.type !== 'Overlay') continue;
    vxlanPort = 4789;
    for (const pol of net.policies) if (pol.type === 'VxlanPort') vxlanPort = pol.port;
  }
  return {
    generation,
    topology: t,
    ports,
    portNames: ports.map((p) => p.name),
    policies: hns.ports,
    layers,
    vswitch: new VSwitch(t, ports),
    hosts,
    firstUplink: ports.find((p) => p.kind === 'uplink')?.id ?? -1,
    meters,
    vxlanPort,
    notes: [...t.notes, ...hns.notes],
    unsupported: [],
  };
}
