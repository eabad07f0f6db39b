/**
 * Inputs that are not what a command reads, on the built binary: a directory given as a capture
 * or as a topology file, and a capture that is invalid from its first byte (garbage, empty, a
 * pcap header the reader cannot take). Each is one clear line on stderr naming the path (and the
 * byte offset for a capture), exit 2, and nothing on stdout: no summary of no frames first. A
 * capture that goes bad later still reports the frames before the bad spot, then the error.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VFP = join(ROOT, 'dist/src/cli/vfp.cjs');
const CAP = 'pcaps/transparent.pcapng';
const TOPO = 'pcaps/transparent.json';

function vfp(args: string[]) {
  const r = spawnSync(process.execPath, [VFP, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = '';
let garbage = '';
let empty = '';
let badVersion = '';
let badMidway = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfp-bad-input-'));
  mkdirSync(join(dir, 'captures'));
  garbage = join(dir, 'garbage.pcap');
  // 100 bytes of a fixed pseudo-random sequence: no capture magic at byte 0.
  const g = new Uint8Array(100);
  let x = 0x12345678;
  for (let i = 0; i < g.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    g[i] = x >>> 24;
  }
  writeFileSync(garbage, g);
  empty = join(dir, 'empty.pcap');
  writeFileSync(empty, new Uint8Array(0));
  // A classic pcap magic with version 3.4: the header is refused at byte 4.
  const pcap = readFileSync(join(ROOT, 'pcaps/mix64-1k.pcap'));
  const v = Buffer.from(pcap.subarray(0, 24 + 76));
  v.writeUInt16LE(3, 4);
  badVersion = join(dir, 'bad-version.pcap');
  writeFileSync(badVersion, v);
  // The 11th record claims 2 GiB: ten frames, then the error at its header.
  const m = Buffer.from(pcap);
  m.writeUInt32LE(0x7fffffff, 24 + 10 * (16 + 60) + 8);
  badMidway = join(dir, 'bad-midway.pcap');
  writeFileSync(badMidway, m);
});

/** Exit 2, nothing on stdout, exactly one line on stderr; returns it. */
function onlyError(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  expect(r.stdout, `${what}: stdout`).toBe('');
  expect(r.code, `${what}: exit code`).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, `${what}: stderr`).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|EISDIR/);
  return lines[0]!;
}

describe('a directory given as a capture', () => {
  it('is one clear line naming it, exit 2, for replay, trace and parse', () => {
    const d = join(dir, 'captures');
    const runs: string[][] = [
      ['replay', d, '--config', TOPO],
      ['replay', d, '--config', TOPO, '--json'],
      ['trace', d, '--config', TOPO],
      ['parse', d],
      ['parse', d, '--summary'],
      ['parse', d, '--summary', '--json'],
    ];
    for (const args of runs) {
      expect(onlyError(vfp(args), args.join(' '))).toBe(`vfp: ${d}: is a directory, not a capture file`);
    }
  });

  it('the repository folder itself (vfp replay pcaps)', () => {
    expect(onlyError(vfp(['replay', 'pcaps', '--config', TOPO]), 'replay pcaps')).toBe('vfp: pcaps: is a directory, not a capture file');
    expect(onlyError(vfp(['parse', 'pcaps']), 'parse pcaps')).toBe('vfp: pcaps: is a directory, not a capture file');
  });
});

describe('a directory given as a topology file', () => {
  it('is one clear line naming it, exit 2, for --config, --update and validate', () => {
    const d = join(dir, 'captures');
    const runs: string[][] = [
      ['replay', CAP, '--config', d],
      ['replay', CAP, '--config', d, '--json'],
      ['trace', CAP, '--config', d],
      ['compile', '--config', d],
      ['validate', d],
      ['validate', d, '--json'],
      ['replay', CAP, '--config', TOPO, '--update', `3:${d}`],
    ];
    for (const args of runs) {
      expect(onlyError(vfp(args), args.join(' '))).toBe(`vfp: ${d}: is a directory, not a topology file`);
    }
  });
});

describe('a capture invalid from its first bytes', () => {
  const commands = (f: string): string[][] => [
    ['replay', f, '--config', TOPO],
    ['replay', f, '--config', TOPO, '--json'],
    ['trace', f, '--config', TOPO],
    ['parse', f],
    ['parse', f, '--summary'],
    ['parse', f, '--summary', '--json'],
  ];

  it('garbage: only its error, naming the file and byte offset 0, no summary first', () => {
    for (const args of commands(garbage)) {
      const line = onlyError(vfp(args), args.join(' '));
      expect(line).toMatch(/^vfp: .*garbage\.pcap: byte offset 0: not a pcap or pcapng file \(magic 0x[0-9a-f]{8}\)$/);
    }
  });

  it('an empty file: only its error, no summary first', () => {
    for (const args of commands(empty)) {
      expect(onlyError(vfp(args), args.join(' '))).toBe(`vfp: ${empty}: byte offset 0: empty file: not a pcap or pcapng capture`);
    }
  });

  it('a pcap header the reader refuses: only its error, no summary first', () => {
    for (const args of commands(badVersion)) {
      expect(onlyError(vfp(args), args.join(' '))).toBe(`vfp: ${badVersion}: byte offset 4: unsupported pcap version 3.4`);
    }
  });

  it('leaves an existing --out file as it was (missing input, directory, not a capture)', () => {
    for (const split of [false, true]) {
      const out = join(dir, split ? 'keep.pcap' : 'keep.pcapng');
      const kept = split ? [join(dir, 'keep.eth0.pcap'), join(dir, 'keep.web.pcap')] : [out];
      for (const f of kept) writeFileSync(f, 'an earlier result\n');
      for (const input of [garbage, empty, badVersion, join(dir, 'captures'), join(dir, 'no-such.pcap')]) {
        const r = vfp(['replay', input, '--config', TOPO, '--out', out, ...(split ? ['--split'] : [])]);
        expect(r.code, input).not.toBe(0);
        for (const f of kept) expect(readFileSync(f, 'utf8'), `${input} -> ${f}`).toBe('an earlier result\n');
      }
    }
  });

  it('a capture that goes bad after ten frames still reports them, then its error (exit 2)', () => {
    const replay = vfp(['replay', badMidway, '--config', TOPO, '--json']);
    expect(replay.code).toBe(2);
    expect((JSON.parse(replay.stdout) as { packets: { in: number } }).packets.in).toBe(10);
    expect(replay.stderr.trim()).toBe(`vfp: ${badMidway}: byte offset 784: record length 2147483647 exceeds the maximum of 262144 bytes`);
    const parse = vfp(['parse', badMidway, '--summary']);
    expect(parse.code).toBe(2);
    expect(parse.stdout).toMatch(/^Frames decoded: +10 /m);
    expect(parse.stderr).toMatch(/byte offset 784/);
  });
});
