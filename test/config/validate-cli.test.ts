/**
 * `vfp validate` on the built binary (dist/src/cli/vfp.cjs): output lines, --json, exit codes
 * (0 valid, 1 lint findings with --strict, 2 problems), stdin, UTF-16 files. `npm test` builds
 * dist/ first (pretest).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VFP = join(ROOT, 'dist/src/cli/vfp.cjs');
const FIX = 'test/config/fixtures';

function vfp(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [VFP, ...args], { cwd: ROOT, input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


const BAD = JSON.stringify({
  host: { uplinks: [{ name: 'eth0', mac: 'zz' }] },
  networks: [{ Name: 'nat', Ipams: [{ Subnets: [{ IpAddressPrefix: '172.20.0.0/16' }] }] }],
  endpoints: [{ Name: 'web', HostComputeNetwork: 'nat', IpConfigurations: [{ IpAddress: '172.21.0.5' }], Policies: [{ Type: 'PortMapping', Settings: { Protocol: 6, ExternalPort: 70000 } }] }],
});

const LINTY = JSON.stringify({
  host: { uplinks: [{ name: 'eth0', mac: '00-15-5D-00-00-01', ip: '10.99.0.2/24' }] },
  networks: [{ Name: 'nat', Ipams: [{ Subnets: [{ IpAddressPrefix: '172.20.0.0/16' }] }] }],
  endpoints: [{ Name: 'web', HostComputeNetwork: 'nat', IpConfigurations: [{ IpAddress: '172.20.0.5' }], Policies: [{ Type: 'ACL', Settings: { Action: 'Block', Direction: 'In', Priority: 10 } }] }],
});

describe('vfp validate (built binary)', () => {
  beforeAll(() => {
    if (!existsSync(VFP)) throw new Error('dist/ is not built: run `npm run build` (npm test does it in pretest)');
  });

  it('a valid file: the ok line and its notes, exit 0', () => {
    const r = vfp(['validate', `${FIX}/spec-v2.json`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      `${FIX}/spec-v2.json: ok: 3 networks, 4 endpoints, 1 load balancer, 1 uplink`,
      'note: endpoints[1].IpConfigurations[0].IpAddress: no PrefixLength: /24, the subnet 10.244.3.0/24 holding it',
      'note: endpoints[3].IpConfigurations[0].IpAddress: no PrefixLength: /32',
      '',
    ]);
  });

  it('--json: one object with problems, lint, notes and counts', () => {
    const r = vfp(['validate', `${FIX}/spec-v1.json`, '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ file: `${FIX}/spec-v1.json`, ok: true, problems: [], lint: [], counts: { networks: 3, endpoints: 4, remoteEndpoints: 1, loadBalancers: 1, uplinks: 1 } });
    expect(o.notes).toContain('endpoints[0].Policies[0]: v1 policy NAT normalised to PortMapping');
  });

  it('problems: one line each on stderr, exit 2; --json still prints the object', () => {
    const r = vfp(['validate', '-'], BAD);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      "vfp: -: host.uplinks[0].mac: 'zz' is not a MAC address (expected 00-15-5D-AA-10-0A or 00:15:5d:aa:10:0a)",
      "vfp: -: endpoints[0].IpConfigurations[0].IpAddress: 172.21.0.5 is outside every subnet of network 'nat' (172.20.0.0/16)",
      'vfp: -: endpoints[0].Policies[0].Settings.ExternalPort: a port number must be between 0 and 65535, got 70000',
    ]);
    const j = vfp(['validate', '-', '--json'], BAD);
    expect(j.code).toBe(2);
    const o = JSON.parse(j.stdout);
    expect(o.ok).toBe(false);
    expect(o.problems.map((p: { path: string }) => p.path)).toEqual(['host.uplinks[0].mac', 'endpoints[0].IpConfigurations[0].IpAddress', 'endpoints[0].Policies[0].Settings.ExternalPort']);
  });

  it('lint findings: printed, exit 0; --strict exits 1', () => {
    const r = vfp(['validate', '-'], LINTY);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('-: ok: 1 network, 1 endpoint, 0 load balancers, 1 uplink');
    expect(lines.filter((l) => l.startsWith('lint ')).map((l) => l.split(':').slice(0, 2).join(':'))).toEqual(['lint acl-default-deny: endpoints[0].Policies', 'lint acl-default-deny: endpoints[0].Policies']);
    expect(lines.some((l) => l.startsWith('note: endpoints[0]: no MacAddress: '))).toBe(true);
    expect(vfp(['validate', '-', '--strict'], LINTY).code).toBe(1);
    expect(vfp(['validate', `${FIX}/spec-v2.json`, '--strict']).code).toBe(0);
  });

  it('UTF-16LE export, depth-2 export, JSON syntax error, missing file', () => {
    expect(vfp(['validate', `${FIX}/ps51-v1.utf16le.json`]).code).toBe(0);
    const d = vfp(['validate', `${FIX}/depth2.json`]);
    expect(d.code).toBe(2);
    expect(d.stderr.trim().split('\n')).toHaveLength(1);
    expect(d.stderr).toMatch(/^vfp: test\/config\/fixtures\/depth2\.json: host\.uplinks: PowerShell ConvertTo-Json cut .* -Depth 10\n$/);
    const s = vfp(['validate', '-'], '{"networks": [}');
    expect(s.code).toBe(2);
    expect(s.stderr).toBe("vfp: -: line 1, column 15: JSON syntax error: unexpected character '}' where a value was expected\n");
    const m = vfp(['validate', 'no-such-topology.json']);
    expect(m.code).toBe(2);
    expect(m.stderr).toBe('vfp: no-such-topology.json: no such file\n');
  });
});
