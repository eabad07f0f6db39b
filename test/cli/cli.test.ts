/**
 * The CLI contract on the built `vfp` binary: exit codes, one clear line on stderr,
 * no stack traces, --help everywhere, `-` for stdin, a closed pipe is not an error.
 * `npm test` builds dist/ first (pretest).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VFP = join(ROOT, 'dist/src/cli/vfp.cjs');
const SAMPLE = join(ROOT, 'pcaps/sample-mix.pcapng');

function vfp(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [VFP, ...args], { cwd: ROOT, input, encoding: 'buffer', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

function expectOneCleanErrorLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^vfp: /);
  expect(stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack frames
}

describe('vfp CLI contract', () => {
  beforeAll(() => {
    if (!existsSync(VFP)) throw new Error('dist/ is not built: run `npm run build` (npm test does it in pretest)');
  });

  it('--help works for the program and every command, exit 0', () => {
    for (const args of [['--help'], ['parse', '--help'], ['synth', '--help'], ['bench', '--help']]) {
      const r = vfp(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: vfp/);
    }
  });

  it('no arguments: usage on stderr, exit 2', () => {
    const r = vfp([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: vfp/);
  });

  it('unknown command and bad option values are usage errors (exit 2)', () => {
    expect(vfp(['frobnicate']).code).toBe(2);
    const r = vfp(['parse', SAMPLE, '--limit', 'ten']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--limit must be a whole number/);
    expect(vfp(['parse', SAMPLE, '--vxlan-port', '70000']).code).toBe(2);
  });

  it('a missing input file: one line naming it, exit 2', () => {
    const r = vfp(['parse', '/nonexistent/x.pcap']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('vfp: /nonexistent/x.pcap: no such file');
  });

  it('a file that is not a capture: one line with file and offset, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfp-cli-'));
    const f = join(dir, 'not-a-capture.pcap');
    writeFileSync(f, 'hello, this is text and not a capture file\n');
    const r = vfp(['parse', f]);
    expect(r.code).toBe(2);
    expectOneCleanErrorLine(r.stderr);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toMatch(/offset 0/);
  });

  it('a file cut in the middle of a block: frames before it are printed, then the error or warning', () => {
    const bytes = readFileSync(SAMPLE);
    const dir = mkdtempSync(join(tmpdir(), 'vfp-cli-'));
    const f = join(dir, 'cut.pcapng');
    writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = vfp(['parse', f]);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(3);
    expectOneCleanErrorLine(r.stderr);
  });

  it('parse reads standard input with -', () => {
    const fromFile = vfp(['parse', SAMPLE, '--json']);
    const fromStdin = vfp(['parse', '-', '--json'], readFileSync(SAMPLE));
    expect(fromFile.code).toBe(0);
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
  });

  it('parse --json prints one valid JSON object per frame with the schema keys', () => {
    const r = vfp(['parse', SAMPLE, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const allowed = new Set(['n', 'caplen', 'len', 'eth', 'vlan', 'ip', 'l4', 'icmp', 'arp', 'vxlan', 'inner', 'error', 'igmp']);
    lines.forEach((line, i) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(o['n']).toBe(i + 1);
      for (const k of Object.keys(o)) expect(allowed.has(k), `unexpected key ${k}`).toBe(true);
    });
  });

  it('parse --summary counts in the singular for one frame', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfp-cli-'));
    const f = join(dir, 'one.pcap');
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0);
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(65535, 16);
    head.writeUInt32LE(1, 20); // Ethernet
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(60, 8);
    rec.writeUInt32LE(60, 12);
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(0x88b5, 12); // local experimental EtherType
    writeFileSync(f, Buffer.concat([head, rec, frame]));
    const r = vfp(['parse', f, '--summary']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/, 1 frame$/m);
    expect(r.stdout).not.toMatch(/\b1 frames\b/);
  });

  it('bench --help names every scenario', () => {
    const r = vfp(['bench', '--help']);
    for (const s of ['parse', 'acl-hit', 'acl-miss', 'replay']) expect(r.stdout).toMatch(new RegExp(`^  ${s} `, 'm'));
  });

  it('a closed pipe is not an error (vfp parse | head)', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; node ${VFP} parse ${SAMPLE} | head -n 2; echo "exit=\${PIPESTATUS[0]}"`], {
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/exit=0/);
    expect(r.stderr).toBe('');
  });
});
