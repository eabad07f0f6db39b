/**
 * The CLI contract of replay, trace and compile on the built binary: outputs, exit codes (0 ok, 1
 * runtime, 2 usage / config / input), one clean error line naming the file and JSON path, the
 * `replay --json` schema, --split, --update, --ingress, and the output pcapng read back
 * by tshark (interfaces named after ports, comments filterable): those need tshark, skip when it is
 * not installed and fail under CI (test/peers.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { itWith } from '../peers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VFP = join(ROOT, 'dist/src/cli/vfp.cjs');
const CAP = 'pcaps/transparent.pcapng';
const TOPO = 'pcaps/transparent.json';

function vfp(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [VFP, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, ...(input !== undefined ? { input } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneCleanLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^vfp: /);
  expect(stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
  return lines[0]!;
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'vfp-cli-'));

describe('vfp replay', () => {
  it('prints the JSON summary: every fixed key, in = out + dropped', () => {
    const r = vfp(['replay', CAP, '--config', TOPO, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, any>;
    for (const k of ['packets', 'drops', 'ports', 'nat', 'flows', 'seconds', 'pps']) expect(s, k).toHaveProperty(k);
    expect(Object.keys(s['packets'])).toEqual(['in', 'out', 'dropped']);
    expect(s['packets'].in).toBe(23);
    expect(s['packets'].in).toBe(s['packets'].out + s['packets'].dropped);
    expect(s['drops']['acl-block']).toBe(1);
    expect(s['ports']['web']).toEqual({ rx: 6, tx: 7 });
    expect(s['nat']).toEqual({ sessions: 0, created: 0, expired: 0 });
    expect(typeof s['flows'].hits).toBe('number');
    expect(typeof s['flows'].misses).toBe('number');
  });

  it('prints a human summary by default, naming the drop reasons', () => {
    const r = vfp(['replay', CAP, '--config', TOPO]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Packets: +in 23, out 17, dropped 6/m);
    expect(r.stdout).toMatch(/acl-default-deny 1/);
  });

  it('writes one pcapng interface per port, with the verdict as a comment, and --no-drops leaves drops out', () => {
    const d = tmp();
    expect(vfp(['replay', CAP, '--config', TOPO, '--out', join(d, 'a.pcapng')]).code).toBe(0);
    expect(vfp(['replay', CAP, '--config', TOPO, '--out', join(d, 'b.pcapng'), '--no-drops']).code).toBe(0);
    expect(readFileSync(join(d, 'b.pcapng')).length).toBeLessThan(readFileSync(join(d, 'a.pcapng')).length);
  });

  itWith('tshark', 'the verdict comments are filterable in tshark: six drops, the acl-block one on web', () => {
    const d = tmp();
    expect(vfp(['replay', CAP, '--config', TOPO, '--out', join(d, 'a.pcapng')]).code).toBe(0);
    const t = spawnSync('tshark', ['-r', join(d, 'a.pcapng'), '-Y', 'frame.comment contains "verdict=drop"', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.comment'], { encoding: 'utf8' });
    const lines = t.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines.some((l) => /^web\t.*reason=acl-block/.test(l))).toBe(true);
  });

  itWith('tshark', 'the output pcapng is what tshark expects: interface names = port names, VLAN pushed on the uplink copy', () => {
    const d = tmp();
    expect(vfp(['replay', CAP, '--config', TOPO, '--out', join(d, 'o.pcapng'), '--no-drops']).code).toBe(0);
    const t = spawnSync('tshark', ['-r', join(d, 'o.pcapng'), '-T', 'fields', '-e', 'frame.interface_name', '-e', 'vlan.id', '-e', 'tcp.srcport'], { encoding: 'utf8' });
    const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['web', 'db', 'app', 'eth0']));
    expect(rows.find((r) => r[2] === '8080' && r[0] === 'eth0')?.[1]).toBe('100');
    expect(rows.find((r) => r[0] === 'app')?.[1]).toBe('');
  });

  it('--flows dumps the unified flow table: every packet counted on its flow, pairs named', () => {
    const r = vfp(['replay', CAP, '--config', TOPO, '--flows']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Flows \(16 entries\):$/m);
    expect(r.stdout).toMatch(/in_port\(eth0\),proto\(6\),src\(10\.10\.0\.50\),dst\(10\.10\.0\.10\),ports\(40001,80\),vlan\(0\) packets:3, bytes:203, .*pair:1, actions:forward:web/);
    expect(r.stdout).toMatch(/ports\(80,40001\).* packets:1, .*actions:forward:eth0 \(reverse\)/);
  });

  it('--split writes one classic pcap per port', () => {
    const d = tmp();
    const base = join(d, 'split.pcap');
    expect(vfp(['replay', CAP, '--config', TOPO, '--out', base, '--split']).code).toBe(0);
    for (const p of ['web', 'db', 'app', 'eth0']) expect(existsSync(join(d, `split.${p}.pcap`)), p).toBe(true);
    const parsed = vfp(['parse', join(d, 'split.app.pcap')]);
    expect(parsed.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--update installs a new policy generation from packet N on', () => {
    const r = vfp(['replay', CAP, '--config', TOPO, '--json', '--update', '10:test/golden/policy-update/block-dns.json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, any>;
    expect(s['generation']).toBe(2);
    expect(s['drops']['acl-default-deny']).toBe(2);
  });

  it('--ingress sets the port of frames whose interface names none', () => {
    const d = tmp();
    const pcap = join(d, 'x.pcap');
    // The sample as classic pcap (no interface names): web's frames are then found by source MAC.
    expect(vfp(['synth', 'transparent', '--out', pcap]).code).toBe(0);
    const byMac = JSON.parse(vfp(['replay', pcap, '--config', TOPO, '--json']).stdout) as Record<string, any>;
    expect(byMac['ports']['web'].rx).toBe(6);
    const forced = JSON.parse(vfp(['replay', pcap, '--config', TOPO, '--json', '--ingress', 'db']).stdout) as Record<string, any>;
    expect(forced['ports']['db'].rx).toBe(23);
  });

  it('bad usage and bad input: exit 2 with one clean line', () => {
    const cases: [string[], RegExp][] = [
      [['replay', CAP], /required option '--config/],
      [['replay', 'nope.pcap', '--config', TOPO], /nope\.pcap: no such file/],
      [['replay', CAP, '--config', 'nope.json'], /nope\.json: no such file/],
      [['replay', CAP, '--config', TOPO, '--ingress', 'zzz'], /--ingress: no port named 'zzz' \(ports: web, db, app, eth0\)/],
      [['replay', CAP, '--config', TOPO, '--update', 'x'], /--update x: expected PACKET:TOPOLOGY/],
      [['replay', CAP, '--config', TOPO, '--split'], /--split needs --out/],
      [['trace', CAP, '--config', TOPO, '--packet', '99'], /has no packet 99 \(it has 23\)/],
      [['compile', '--config', TOPO, '--dump', 'asm'], /--dump/],
    ];
    for (const [args, re] of cases) {
      const r = vfp(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(oneCleanLine(r.stderr), args.join(' ')).toMatch(re);
    }
  });

  it('a bad topology is reported with the file and JSON path, exit 2', () => {
    const d = tmp();
    const t = JSON.parse(readFileSync(join(ROOT, TOPO), 'utf8')) as Record<string, any>;
    t['endpoints'][0]['Policies'][1]['Settings']['Priority'] = 'high';
    const bad = join(d, 'bad.json');
    writeFileSync(bad, JSON.stringify(t));
    const r = vfp(['replay', CAP, '--config', bad]);
    expect(r.code).toBe(2);
    expect(oneCleanLine(r.stderr)).toMatch(/bad\.json: endpoints\[0\]\.Policies\[1\]\.Settings\.Priority: /);
  });

  it('warns, once each with its JSON path, about what the topology asks for that is not emulated yet', () => {
    const r = vfp(['replay', CAP, '--config', 'test/config/fixtures/spec-v2.json']);
    expect(r.code).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    // The capture's interfaces name no port of this topology: warned too.
    expect(warnings.every((l) => /^vfp: (test\/config\/fixtures\/spec-v2\.json|pcaps\/transparent\.pcapng): warning: /.test(l))).toBe(true);
    expect(warnings.filter((l) => l.includes('spec-v2.json: warning')).length).toBe(10);
    expect(r.stderr).toMatch(/networks\[1\]: L2Bridge network 'cbr0' is switched as a Transparent one until the L2Bridge driver/);
    expect(r.stderr).toMatch(/endpoints\[1\]\.Policies\[0\]: OutBoundNAT is not applied yet/);
    expect(r.stderr).toMatch(/loadBalancers\[0\]: load balancers are not applied yet/);
    expect(vfp(['replay', CAP, '--config', TOPO]).stderr).toBe('');
  });

  it('every command has --help', () => {
    for (const c of ['replay', 'trace', 'compile', 'validate']) {
      const r = vfp([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout).toMatch(/Usage: vfp/);
    }
  });
});

describe('vfp trace', () => {
  it('explains a packet: ingress, layers, group, rule, verdict', () => {
    const r = vfp(['trace', CAP, '--config', TOPO, '--packet', '8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Packet 8: ingress web \(by capture interface name\)/);
    expect(r.stdout).toMatch(/web OUT ACL_ENDPOINT_LAYER\n {4}group ACL_ENDPOINT_GROUP_IPV4_OUT: rule web-no-smtp \(terminating\)/);
    expect(r.stdout).toMatch(/verdict: drop \(acl-block\)/);
  });

  it('--json gives one object per packet, with the flow-cache result', () => {
    const r = vfp(['trace', CAP, '--config', TOPO, '--json']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines).toHaveLength(23);
    expect(lines[3]!['steps'][0]).toMatchObject({ stage: 'flow', result: 'hit' });
    expect(lines[6]).toMatchObject({ n: 7, verdict: 'drop', reason: 'acl-default-deny' });
  });
});

describe('vfp compile', () => {
  it('prints vfpctrl-like layers, the IR and the generated JavaScript', () => {
    const layers = vfp(['compile', '--config', TOPO, '--port', 'web']);
    expect(layers.code).toBe(0);
    expect(layers.stdout).toMatch(/LAYER : ACL_ENDPOINT_LAYER/);
    expect(layers.stdout).toMatch(/RULE : web-no-smtp/);
    const ir = vfp(['compile', '--config', TOPO, '--port', 'web', '--dump', 'ir']);
    expect(ir.stdout).toMatch(/"name": "ACL_ENDPOINT_LAYER"/);
    const js = vfp(['compile', '--config', TOPO, '--port', 'web', '--dump', 'js']);
    expect(js.stdout).toMatch(/return function/);
    const json = vfp(['compile', '--config', TOPO, '--json']);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(4);
  });
});
