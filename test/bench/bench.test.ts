/**
 * Smoke test of the `vfp bench` harness: it runs, counts every generated frame, and reports the
 * documented shape. No timing assertions: throughput targets live in the benchmark, not in tests.
 * The tcpdump peer is checked when tcpdump is installed (required under CI: test/peers.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BENCH_SCENARIOS, formatReport, runBench } from '../../bench/suite.js';
import { benchAcls, runAclHit, runAclMiss } from '../../bench/acl.js';
import type { BenchReport } from '../../bench/suite.js';
import { memoryProbe } from '../../bench/memprobe.js';
import { itWith, peerPath } from '../peers.js';
import { benchCapture, findTcpdump } from '../../bench/suite.js';
import { findSampleTopology, runReplayBench } from '../../bench/replay.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VFP = join(ROOT, 'dist/src/cli/vfp.cjs');
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
      const v = s[k];
      expect(v !== null && Number.isFinite(v) && v > 0, k).toBe(true);
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

  it(
    'replay (built dist/): every mode a checked whole-process run, with its peer, ratio and target; printed first',
    async () => {
      const out = sink();
      const report = await runBench({ json: true, workers: 1, packets: PACKETS, runs: 1, filter: /^replay$/, out: out.stream });
      expect(report.errors).toEqual([]);
      expect(JSON.parse(out.text())).toEqual(JSON.parse(JSON.stringify(report)));
      const comments = report.scenarios.some((x) => x.mode === 'pcapng --comments verdict');
      expect(report.scenarios.map((x) => x.mode)).toEqual(['no output', 'pcap --split', 'pcapng', ...(comments ? ['pcapng --comments verdict'] : []), 'new flows']);
      if (!comments) expect(report.notes).toContain('pcapng --comments verdict: skipped (this vfp replay has no --comments option yet)');
      // what every run pays before its frames: Node's own start, and a one-frame replay
      const startup = /^start-up: a bare `node -e 0` takes (\d+\.\d+) s and `vfp replay` of a one-frame capture (\d+\.\d+) s/;
      const m = report.notes.map((n) => startup.exec(n)).find((x) => x !== null);
      expect(m, report.notes.join('\n')).toBeTruthy();
      expect(Number(m![2])).toBeGreaterThan(Number(m![1]));
      const tcpdump = findTcpdump() !== null;
      for (const x of report.scenarios) {
        const f = x.replay!;
        expect(x.name).toBe('replay');
        expect(x.packets).toBe(x.mode === 'new flows' ? PACKETS / 2 : PACKETS);
        expect(x.bytes).toBe(x.packets * 60);
        expect(x.seconds).toBeGreaterThan(0);
        expect(x.seconds).toBe(Math.min(...f.samples));
        expect(f.samples).toHaveLength(1);
        expect(f.command).toMatch(/^vfp replay \S+\.pcap --config \S+transparent\.json .*--json$/);
        if (x.peakRssMiB !== null) expect(x.peakRssMiB).toBeGreaterThan(0);
        if (x.mode === 'new flows') {
          expect(f.command).toContain('--flow-capacity 4194304');
          expect(f.peer).toBeNull();
          expect(f.newFlowsPerSecond).toBe(Math.round(x.packets / x.seconds));
          expect(f.target).toEqual({ metric: 'newFlowsPerSecond', min: 500000, aim: 1000000 });
          expect(f.met).toBe(f.newFlowsPerSecond! >= 500000);
          continue;
        }
        expect(f.target.metric).toBe('ratio');
        expect(f.target.min).toBe(x.mode.startsWith('pcapng') ? 0.5 : 1);
        expect(f.outputBytes > 0).toBe(x.mode !== 'no output');
        if (!tcpdump) {
          expect(f.peer).toBeNull();
          expect(f.met).toBeNull();
          continue;
        }
        expect(f.peer!.command).toMatch(x.mode === 'no output' ? /tcpdump -r \S+ -w \/dev\/null$/ : /tcpdump -r \S+ -w \S+\.pcap$/);
        expect(f.ratio).toBeCloseTo(f.peer!.seconds / x.seconds, 2);
        expect(f.met).toBe(f.ratio! >= f.target.min);
      }
      // The same input, the same counters, whatever the output.
      const flowModes = report.scenarios.filter((x) => x.mode !== 'new flows');
      expect(new Set(flowModes.map((x) => x.checksum)).size).toBe(1);
      // The output files were removed after each run.
      expect(existsSync(join(tmpdir(), 'vfp-bench', `replay-out-${process.pid}`))).toBe(false);
      const text = formatReport(report);
      expect(text.split('\n')[0]).toMatch(/^replay: vfp replay as whole processes/);
      expect(text).toMatch(/^no output +20000 +[\d.]+ +[\d.]+ /m);
      expect(text).toMatch(/^new flows +10000 .* new flows\/s +>= 500k\/s \(aim 1M\/s\) /m);
      expect(text).toMatch(/^Actual: 20000 packets \(1200000 bytes\) replayed \(whole process\) in [\d.]+ seconds$/m);
    },
    300_000,
  );

  it('replay: a broken run reports an error, not a figure (bad topology file; a topology that drops the traffic)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfp-bench-test-'));
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{ "networks": [ oops');
      const r1 = await runBench({ json: true, workers: 1, packets: PACKETS, runs: 1, filter: /^replay$/, replayConfig: bad, out: sink().stream });
      expect(r1.scenarios).toEqual([]);
      expect(r1.errors.map((e) => e.mode)).toEqual(expect.arrayContaining(['start-up', 'no output', 'pcap --split', 'pcapng', 'new flows']));
      for (const e of r1.errors) expect(e).toMatchObject({ scenario: 'replay', message: expect.stringMatching(/^vfp replay (\(one frame\) )?exited with status 2: vfp: /) });
      expect(formatReport(r1)).toMatch(/^no output  ERROR: vfp replay exited with status 2/m);

      // web without its allow-in rule: every frame from the clients is dropped (default deny).
      const topo = JSON.parse(readFileSync(join(ROOT, 'pcaps/transparent.json'), 'utf8')) as { endpoints: Array<{ Policies: Array<{ Settings: { Id?: string } }> }> };
      topo.endpoints[0]!.Policies = topo.endpoints[0]!.Policies.filter((p) => p.Settings.Id !== 'web-http-in');
      const denying = join(dir, 'deny.json');
      writeFileSync(denying, JSON.stringify(topo));
      const r2 = await runBench({ json: true, workers: 1, packets: PACKETS, runs: 1, filter: /^replay$/, replayConfig: denying, replayModes: /^(no output|new flows)$/, out: sink().stream });
      expect(r2.scenarios).toEqual([]);
      expect(r2.errors.map((e) => e.mode)).toEqual(['no output', 'new flows']);
      for (const e of r2.errors) expect(e.message).toMatch(/^vfp replay: .*dropped \d+ of \d+ \(every frame should be forwarded; drops: acl-default-deny \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('replay: times `--comments verdict` when vfp replay --help lists it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfp-bench-test-'));
    try {
      // A vfp whose help lists --comments and which drops it before running the real CLI.
      const fake = join(dir, 'vfp-with-comments.mjs');
      writeFileSync(
        fake,
        `const i = process.argv.indexOf('--comments');
if (i >= 0) process.argv.splice(i, 2);
if (process.argv.includes('--help')) { console.log('  --comments <what>  none, verdict or full'); process.exit(0); }
await import(${JSON.stringify(VFP)});
`,
      );
      const r = runReplayBench({
        flowsFile: benchCapture('transparent-flows', PACKETS, 4096, 1),
        flowsFrames: PACKETS,
        flows: 4096,
        newFlowsFile: benchCapture('transparent-syns', PACKETS / 2, 1, 1),
        newFlowsFrames: PACKETS / 2,
        frameSize: 60,
        config: findSampleTopology()!,
        runs: 1,
        workDir: dir,
        tcpdump: findTcpdump(),
        vfpMain: fake,
        modes: /comments/,
      });
      expect(r.errors).toEqual([]);
      expect(r.notes.filter((n) => /comments/.test(n))).toEqual([]);
      expect(r.results.map((m) => m.mode)).toEqual(['pcapng --comments verdict']);
      expect(r.results[0]!.ours.command).toMatch(/ --out \S+\.pcapng --comments verdict --json$/);
      expect(r.results[0]!.target).toEqual({ metric: 'ratio', min: 0.5, aim: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('the report: replay rows first, in their own table with peer, ratio, target and whether met; errors in place of figures', () => {
    const machine = { cpus: 2, model: 'x', node: 'v20', platform: 'linux-x64' };
    const base = { workers: 1, packets: 100, bytes: 6000, gbps: 0, lineGbps: 0, nsPerPacket: 1, peakRssMiB: 50, checksum: 1, input: '' };
    const peer = { command: '/usr/bin/tcpdump -r /tmp/f.pcap -w /dev/null', seconds: 0.3, samples: [0.3], peakRssMiB: 6, outputBytes: 0 };
    const replay = {
      ...base,
      name: 'replay',
      mode: 'no output',
      seconds: 0.6,
      mpps: 0.0002,
      replay: { command: 'vfp replay /tmp/f.pcap --config t.json --json', samples: [0.6], outputBytes: 0, peer, ratio: 0.5, newFlowsPerSecond: null, target: { metric: 'ratio', min: 1, aim: 1.5 }, met: false },
    };
    const acl = { ...base, name: 'acl-hit', mode: '64k flows', seconds: 1, mpps: 9 };
    const text = formatReport({
      scenarios: [replay, acl],
      tcpdump: null,
      ratio: null,
      ratioMemory: null,
      errors: [{ scenario: 'replay', mode: 'pcapng', message: 'vfp replay exited with status 1: boom' }],
      notes: ['a note'],
      machine,
    } as unknown as BenchReport);
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^mode +packets +seconds +Mpps +peer +peer s +result +target +met +peak RSS +peer RSS$/);
    expect(lines[2]).toMatch(/^no output +100 +0\.600 +0\.00 +tcpdump -w \/dev\/null +0\.300 +0\.50x +>= 1\.0x \(aim 1\.5x\) +NO +50 MiB +6 MiB$/);
    expect(lines[3]).toBe('pcapng  ERROR: vfp replay exited with status 1: boom');
    expect(text.indexOf('acl-hit')).toBeGreaterThan(text.indexOf('no output'));
    expect(text).not.toMatch(/^replay +no output/m); // not repeated in the other table
    expect(text).toMatch(/^Target: >= 1\.0x \(aim 1\.5x\): not met$/m);
    expect(text).toMatch(/^note: a note$/m);
  });

  it('`vfp bench --workers 2` (built dist/) splits the capture across worker threads', () => {
    if (!existsSync(VFP)) throw new Error('dist/ is not built: run `npm run build` (npm test does it in pretest)');
    const r = spawnSync(process.execPath, [VFP, 'bench', '--json', '--workers', '2', '--filter', '^parse$', '--packets', String(PACKETS)], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    checkShape(JSON.parse(r.stdout) as BenchReport, 2);
  });
});
