/**
 * Smoke test of the `vfp bench` harness: it runs, counts every generated frame, and reports the
 * documented shape. No timing assertions: throughput targets live in the benchmark, not in tests.
 * The tcpdump peer is checked when tcpdump is installed (required under CI: test/peers.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BENCH_SCENARIOS, formatReport, runBench } from '../../bench/suite.js';
import { benchAcls, runAclHit, runAclMiss } from '../../bench/acl.js';
import type { BenchReport } from '../../bench/suite.js';
import { memoryProbe } from '../../bench/memprobe.js';
import { itWith, peerPath } from '../peers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VFP = join(ROOT, 'dist/src/cli/main.js');
const PACKETS = 20_000;

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function checkShape(report: BenchReport, workers: number): void {
  expect(report.scenarios.map((s) => `${s.name}/${s.mode}`)).toEqual(['parse/page-cache', 'parse/memory']);
  for (const s of report.scenarios) {
    expect(s.packets).toBe(PACKETS);
    expect(s.bytes).toBe(PACKETS * 60);
    for (const k of ['mpps', 'gbps', 'lineGbps', 'nsPerPacket', 'seconds', 'peakRssMiB'] as const) {
      expect(Number.isFinite(s[k]) && s[k] > 0, k).toBe(true);
    }
  }
  expect(report.scenarios[1]!.workers).toBe(workers);
  // The same frames were parsed in both modes: the consumed hashes agree.
  expect(report.scenarios[0]!.checksum).toBe(report.scenarios[1]!.checksum);
  expect(report.machine.cpus).toBeGreaterThan(0);
  expect(report.machine.node).toBe(process.version);
  if (report.tcpdump) {
    expect(report.tcpdump.packets).toBe(PACKETS);
    expect(report.ratio).toBeGreaterThan(0);
  } else {
    expect(report.ratio).toBeNull();
  }
}

describe('bench harness', () => {
  it('registers the parse, acl-hit and acl-miss scenarios', () => {
    expect(BENCH_SCENARIOS.map((s) => s.name)).toEqual(expect.arrayContaining(['parse', 'acl-hit', 'acl-miss']));
  });

  it('acl-hit: after the warm-up every frame is a flow hit, forwarded (small run: 20k frames, 1,024 flows)', () => {
    const r = runAclHit(20000, 1024, 1);
    expect(r.packets).toBe(20000);
    expect(r.flows).toBe(1024);
    expect(r.seconds).toBeGreaterThan(0);
    expect(Number.isFinite(r.memoryNs) && r.memoryNs >= 0).toBe(true);
  });

  it('acl-miss: every frame a new flow through the slow path, forwarded (2,000 flows, 10 and 1,000 rules)', () => {
    for (const rules of [10, 1000]) {
      const r = runAclMiss(2000, rules, 1);
      expect(r.packets).toBe(2000);
      expect(r.rules).toBe(rules);
    }
  });

  it('the acl bench topology compiles to 100 rules on web, decided by the last allow for the bench traffic', () => {
    expect(benchAcls(100, 7)).toHaveLength(100);
  });

  it('runBench --json: one JSON object; every generated frame is parsed', async () => {
    const out = sink();
    const report = await runBench({ json: true, workers: 1, packets: PACKETS, runs: 1, filter: /^parse$/, out: out.stream });
    checkShape(report, 1);
    expect(JSON.parse(out.text())).toEqual(JSON.parse(JSON.stringify(report)));
    const text = formatReport(report);
    expect(text).toMatch(/^Actual: 20000 packets \(1200000 bytes\) parsed in [\d.]+ seconds$/m);
    expect(text).toMatch(/^Rated: [\d.]+ Bps, [\d.]+ Mbps, [\d.]+ pps$/m);
  });

  itWith('tcpdump', 'the parse scenario times tcpdump -r IN -w /dev/null on the same file, side by side', async () => {
    const report = await runBench({ json: true, workers: 1, packets: PACKETS, runs: 1, filter: /^parse$/, out: sink().stream });
    checkShape(report, 1);
    expect(report.tcpdump?.packets).toBe(PACKETS);
    expect(report.tcpdump?.command).toMatch(/ -w \/dev\/null$/);
    expect(report.tcpdump?.command.startsWith(`${peerPath('tcpdump')} -r `)).toBe(true);
    expect(report.ratio).toBeGreaterThan(0);
    expect(report.ratioMemory).toBeGreaterThan(0);
    expect(formatReport(report)).toMatch(/^ours \/ tcpdump \(pps\): [\d.]+x from the page cache, [\d.]+x from memory$/m);
  });

  it('the report speaks of tcpdump only when the parse scenario ran (tcpdump is its peer)', () => {
    const machine = { cpus: 2, model: 'x', node: 'v20', platform: 'linux-x64' };
    const scenario = { name: 'acl-hit', description: '', mode: '64k flows', workers: 1, packets: 10, bytes: 600, seconds: 1, mpps: 0, gbps: 0, lineGbps: 0, nsPerPacket: 1, peakRssMiB: 1, checksum: 0 };
    const without = formatReport({ scenarios: [scenario], tcpdump: null, ratio: null, ratioMemory: null, machine } as unknown as BenchReport);
    expect(without).not.toMatch(/tcpdump/);
    const withParse = formatReport({ scenarios: [{ ...scenario, name: 'parse', mode: 'memory' }], tcpdump: null, ratio: null, ratioMemory: null, machine } as unknown as BenchReport);
    expect(withParse).toMatch(/^tcpdump is not installed: no side-by-side figure/m);
    expect(without).not.toMatch(/^Memory:/m);
    const probed = formatReport({ scenarios: [{ ...scenario, memoryNs: 9.5 }], tcpdump: null, ratio: null, ratioMemory: null, machine } as unknown as BenchReport);
    expect(probed).toMatch(/^Memory: a random read over 8 MiB cost 9\.5 ns more than an L1 read just before the timed runs /m);
  });

  it('the memory probe: a cost per read beyond L1, >= 0 ns, and a clear error for a bad size', () => {
    const p = memoryProbe(1024 * 1024, 1 << 14, 1);
    expect(p.bytes).toBe(1024 * 1024);
    expect(Number.isFinite(p.ns) && p.ns >= 0).toBe(true);
    expect(() => memoryProbe(1000)).toThrow(/bytes must be a multiple of 64 of at least 16384, not 1000/);
  });

  it('rejects a filter that matches nothing', async () => {
    await expect(runBench({ json: true, workers: 1, packets: PACKETS, filter: /^nope$/, out: sink().stream })).rejects.toThrow(/no benchmark scenario/);
  });

  it('`vfp bench --workers 2` (built dist/) splits the capture across worker threads', () => {
    if (!existsSync(VFP)) throw new Error('dist/ is not built: run `npm run build` (npm test does it in pretest)');
    const r = spawnSync(process.execPath, [VFP, 'bench', '--json', '--workers', '2', '--filter', '^parse$', '--packets', String(PACKETS)], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    checkShape(JSON.parse(r.stdout) as BenchReport, 2);
  });
});
