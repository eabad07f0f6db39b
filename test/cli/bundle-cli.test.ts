/**
 * The built command line runs from bundles (scripts/bundle-cli.mjs: program.cjs and one bundle per
 * command, each with a code cache); VFP_DEBUG=1 runs tsc's modules instead. Both must print the
 * same bytes and exit with the same codes; `--version` (answered before any bundle loads) prints
 * the package's version. The entry is vfp.cjs (the `bin`, CommonJS); main.js, the same entry as an
 * ES module, must behave the same.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/src/cli');
const TOPO = 'pcaps/transparent.json';
const CAP = 'pcaps/transparent.pcapng';

function vfp(args: string[], debug: boolean, entry = 'vfp.cjs') {
  const env = { ...process.env };
  if (debug) env['VFP_DEBUG'] = '1';
  else delete env['VFP_DEBUG'];
  const r = spawnSync(process.execPath, [join(CLI, entry), ...args], { cwd: ROOT, encoding: 'utf8', env, maxBuffer: 64 << 20 });
  // Timings differ from run to run.
  const stdout = r.stdout.replace(/"(seconds|pps)":[0-9.e+-]+/g, '"$1":0').replace(/replayed in [0-9.]+ s \([0-9,]+ packets\/s\)/, 'replayed in T');
  return { code: r.status, stdout, stderr: r.stderr };
}

describe('the bundled command line', () => {
  it('has a bundle and a code cache for the program and each command', () => {
    for (const name of ['program', 'errors', 'validate', 'parse', 'replay', 'trace', 'compile', 'synth']) {
      expect(existsSync(join(CLI, `${name}.cjs`)), name).toBe(true);
      expect(existsSync(join(CLI, `${name}.cjs.cache`)), `${name} cache`).toBe(true);
    }
  });

  it('prints what tsc modules print (VFP_DEBUG=1), byte for byte, with the same exit codes', () => {
    const runs: string[][] = [
      ['validate', TOPO, '--json'],
      ['validate', TOPO, '--strict'],
      ['parse', 'pcaps/sample-mix.pcapng', '--json'],
      ['parse', 'pcaps/vxlan-200.pcapng', '--summary'],
      ['compile', '--config', TOPO, '--dump', 'ir'],
      ['compile', '--config', TOPO, '--dump', 'js', '--port', 'web'],
      ['trace', CAP, '--config', TOPO, '--packet', '3,4,8'],
      ['replay', CAP, '--config', TOPO, '--json', '--flows'],
      ['replay', CAP, '--config', TOPO],
      ['synth', 'nat-host', '--out', '-'],
      ['replay', '--help'],
      ['--help'],
      ['parse', 'pcaps', '--summary'],
      ['replay', CAP, '--config', TOPO, '--ingress', 'nope'],
      ['frobnicate'],
    ];
    for (const args of runs) {
      const bundled = vfp(args, false);
      const modules = vfp(args, true);
      expect(bundled, args.join(' ')).toEqual(modules);
    }
    for (const args of [runs[0]!, runs[7]!, runs[14]!]) expect(vfp(args, false, 'main.js'), `main.js ${args.join(' ')}`).toEqual(vfp(args, false));
  });

  it('--version and -V print the package version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin?: { vfp?: string } };
    for (const flag of ['--version', '-V']) {
      for (const entry of ['vfp.cjs', 'main.js']) {
        const r = vfp([flag], false, entry);
        expect(r, entry).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
      }
    }
    expect(pkg.bin?.vfp).toBe('dist/src/cli/vfp.cjs');
  });
});
