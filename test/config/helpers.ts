/**
 * Shared fixtures for the config tests: a small valid v2 topology to mutate, loaders that return
 * problems or the topology, and `strip` to compare normalised results without their paths.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyseTopology, decodeTopologyText, loadTopology } from '../../src/config/topology.js';
import type { Topology } from '../../src/config/model.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixture(name: string): Topology {
  const file = join(FIXTURES, name);
  return loadTopology(decodeTopologyText(readFileSync(file), name), name);
}

export function fixtureDoc(name: string): unknown {
  return decodeTopologyText(readFileSync(join(FIXTURES, name)), name);
}

export type Doc = any;

/** A valid topology: one uplink, a NAT network with one endpoint, an L2Bridge network with one endpoint. */
export function base(): Doc {
  return {
    host: {
      name: 'h',
      uplinks: [{ name: 'eth0', mac: '00-15-5D-00-00-01', ip: '10.99.0.2/24', gateway: '10.99.0.1', gatewayMac: '02-00-0A-63-00-01' }],
    },
    networks: [
      {
        ID: '11111111-1111-1111-1111-111111111111',
        Name: 'nat',
        Type: 'NAT',
        Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: '172.20.0.0/16', Routes: [{ NextHop: '172.20.0.1', DestinationPrefix: '0.0.0.0/0' }] }] }],
      },
      {
        ID: '22222222-2222-2222-2222-222222222222',
        Name: 'bridge',
        Type: 'L2Bridge',
        Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: '10.244.1.0/24', Routes: [{ NextHop: '10.244.1.2', DestinationPrefix: '0.0.0.0/0' }] }] }],
      },
    ],
    endpoints: [
      {
        ID: 'aaaaaaaa-0000-0000-0000-000000000001',
        Name: 'web',
        HostComputeNetwork: 'nat',
        IpConfigurations: [{ IpAddress: '172.20.0.10', PrefixLength: 16 }],
        MacAddress: '00-15-5D-AA-10-0A',
        Policies: [],
      },
      {
        ID: 'aaaaaaaa-0000-0000-0000-000000000002',
        Name: 'pod',
        HostComputeNetwork: 'bridge',
        IpConfigurations: [{ IpAddress: '10.244.1.20', PrefixLength: 24 }],
        MacAddress: '00-15-5D-BB-01-14',
        Policies: [],
      },
    ],
    loadBalancers: [],
  };
}

export function load(doc: Doc): Topology {
  return loadTopology(doc, 't.json');
}

export function problemsOf(doc: Doc): { path: string; message: string }[] {
  return analyseTopology(doc, 't.json').problems;
}

export function notesOf(doc: Doc): string[] {
  return analyseTopology(doc, 't.json').notes;
}

/** The topology without `path` fields, `file` and `notes`; IDs lower-cased (GUIDs compare case-insensitively). */
export function strip(t: Topology): unknown {
  const walk = (v: unknown, key: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, ''));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'path' || k === 'notes' || k === 'file') continue;
        o[k] = walk(x, k);
      }
      return o;
    }
    if (key === 'id' && typeof v === 'string') return v.toLowerCase();
    return v;
  };
  return walk(t, '');
}

/** An endpoint policy in v2 form on endpoint `i` of `doc`. */
export function withPolicy(doc: Doc, i: number, type: string, settings: Record<string, unknown>): Doc {
  doc.endpoints[i].Policies.push({ Type: type, Settings: settings });
  return doc;
}
