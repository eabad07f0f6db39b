/**
 * Golden replay tests (Snabb/Click style): each folder under test/golden/ is a scenario with
 * `scenario.json` (description, topology, input capture, extra CLI arguments, the synth scenario
 * the input is made from), and the expectations next to it:
 *
 *   expected.pcapng      the exact bytes `vfp replay IN --config TOPO --out OUT` writes (one
 *                        interface per port, a verdict comment per packet, drops included)
 *   expected.json        its `--json` summary, without the timing fields (seconds, pps)
 *   expected-trace.txt   what `vfp trace IN --config TOPO` prints
 *   expected-stderr.txt  replay's warnings (what the topology asks for that is not emulated yet)
 *
 * The runner uses the built CLI (dist/, built by `npm test`'s pretest) and byte-compares. On a
 * difference it prints a decoded diff: the frames of both captures side by side (interface, the
 * `vfp parse` line, the comment) from the first frame that differs.
 *
 * Regenerate after an intended change, then review the diff of the expectations:
 *
 *   VFP_REGEN=1 npx vitest run test/golden
 *
 * The input of each scenario must regenerate byte for byte from its synth scenario, so the inputs
 * are reproducible too (their provenance is this repository's generator; licence MIT).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/io/writer.js';
import { synthesize, synthSources } from '../../src/synth/scenarios.js';
import type { SynthScenario } from '../../src/synth/scenarios.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HERE = resolve(dirname(fileURLToPath(import.meta.url)));
const VFP = join(ROOT, 'dist/src/cli/vfp.cjs');
const REGEN = process.env['VFP_REGEN'] === '1';

interface Scenario {
  description: string;
  topology: string;
  input: string;
  synth: SynthScenario;
  args: string[];
}

function vfp(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VFP, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** EPBs of one of our pcapng files: interface id, captured bytes (hex), comment. */
function epbs(bytes: Uint8Array): { itf: number; hex: string; comment: string }[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { itf: number; hex: string; comment: string }[] = [];
  for (let o = 0; o + 12 <= bytes.length; ) {
    const type = v.getUint32(o, true);
    const len = v.getUint32(o + 4, true);
    if (len < 12) break;
    if (type === 6) {
      const cap = v.getUint32(o + 20, true);
      let comment = '';
      for (let p = o + 28 + ((cap + 3) & ~3); p + 4 <= o + len - 4; ) {
        const code = v.getUint16(p, true);
        const olen = v.getUint16(p + 2, true);
        if (code === 0) break;
        if (code === 1) comment = Buffer.from(bytes.subarray(p + 4, p + 4 + olen)).toString('utf8');
        p += 4 + ((olen + 3) & ~3);
      }
      out.push({ itf: v.getUint32(o + 8, true), hex: Buffer.from(bytes.subarray(o + 28, o + 28 + cap)).toString('hex'), comment });
    }
    o += len;
  }
  return out;
}

function decodedDiff(got: Uint8Array, want: Uint8Array): string {
  const a = epbs(got);
  const b = epbs(want);
  let i = 0;
  while (i < a.length && i < b.length && a[i]!.hex === b[i]!.hex && a[i]!.itf === b[i]!.itf && a[i]!.comment === b[i]!.comment) i++;
  const lines = [`output has ${a.length} frames, expected ${b.length}; first difference at output frame ${i + 1}:`];
  for (let j = i; j < Math.min(i + 5, Math.max(a.length, b.length)); j++) {
    lines.push(`  got      #${j + 1} if ${a[j]?.itf ?? '-'}: ${a[j]?.comment ?? '(none)'}\n           ${a[j]?.hex ?? ''}`);
    lines.push(`  expected #${j + 1} if ${b[j]?.itf ?? '-'}: ${b[j]?.comment ?? '(none)'}\n           ${b[j]?.hex ?? ''}`);
  }
  return lines.join('\n');
}

function withoutTiming(summary: Record<string, unknown>): Record<string, unknown> {
  const { seconds: _s, pps: _p, output: _o, ...rest } = summary;
  return rest;
}

const scenarios = readdirSync(HERE).filter((d) => statSync(join(HERE, d)).isDirectory() && existsSync(join(HERE, d, 'scenario.json')));

describe('golden replays', () => {
  it('has scenarios', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(3);
  });

  for (const name of scenarios) {
    const dir = join(HERE, name);
    const sc = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')) as Scenario;
    const topo = resolve(dir, sc.topology);
    const input = resolve(dir, sc.input);

    it(`${name}: the input regenerates from synth ${sc.synth}`, () => {
      const w = PcapngWriter.toMemory();
      const ids = new Map(synthSources(sc.synth).map((s) => [s, w.addInterface(s)]));
      synthesize(sc.synth, { packets: 0, flows: 1, seed: 1 }, (b, o, l, wl, s, ns, src) => w.writeFrame(ids.get(src) ?? 0, b, o, l, wl, s, ns));
      expect(Buffer.compare(Buffer.from(w.toBytes()), readFileSync(input))).toBe(0);
    });

    it(`${name}: replay output and summary equal the expectations`, () => {
      const out = join(mkdtempSync(join(tmpdir(), 'vfp-golden-')), 'out.pcapng');
      const r = vfp(['replay', input, '--config', topo, '--out', out, '--json', ...sc.args]);
      expect(r.code).toBe(0);
      // Warnings (what the topology asks for that is not emulated yet) are part of the expectation.
      const stderr = r.stderr.split(topo).join(sc.topology);
      if (REGEN) writeFileSync(join(dir, 'expected-stderr.txt'), stderr);
      expect(stderr).toBe(readFileSync(join(dir, 'expected-stderr.txt'), 'utf8'));
      const summary = withoutTiming(JSON.parse(r.stdout) as Record<string, unknown>);
      // Paths as the scenario names them, so the expectation does not depend on the checkout's location.
      summary['input'] = sc.input;
      summary['config'] = sc.topology;
      const got = readFileSync(out);
      if (REGEN) {
        writeFileSync(join(dir, 'expected.pcapng'), got);
        writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(summary, null, 2)}\n`);
      }
      const want = readFileSync(join(dir, 'expected.pcapng'));
      if (Buffer.compare(got, want) !== 0) expect.fail(`${name}: output differs from expected.pcapng\n${decodedDiff(got, want)}\n(VFP_REGEN=1 rewrites the expectations)`);
      expect(summary).toEqual(JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')));
      // Every input frame accounted for.
      const p = summary['packets'] as { in: number; out: number; dropped: number };
      expect(p.in).toBe(p.out + p.dropped);
    });

    it(`${name}: trace output equals the expectation`, () => {
      const r = vfp(['trace', input, '--config', topo, ...sc.args]);
      expect(r.code).toBe(0);
      if (REGEN) writeFileSync(join(dir, 'expected-trace.txt'), r.stdout);
      expect(r.stdout).toBe(readFileSync(join(dir, 'expected-trace.txt'), 'utf8'));
    });
  }
});
