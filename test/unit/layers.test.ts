/**
 * The layering rule, checked on the source: a module imports only from modules in
 * lower layers (or from itself); only io/ and native/ touch files and sockets; only shard/ and
 * cli/ know about worker threads. Adding a module means adding it to LAYERS here and to the
 * layer table of docs/architecture.md.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const BENCH = resolve(SRC, '../bench');

const LAYERS: Record<string, number> = {
  base: 0,
  wire: 1,
  frame: 1,
  config: 1,
  native: 1,
  parse: 2,
  io: 2,
  synth: 2,
  action: 3,
  vfp: 4,
  flow: 4,
  nat: 4.5, // WinNAT: its sessions live in flow/'s entries and state words
  switch: 4,
  pipeline: 5,
  shard: 6,
  cli: 7,
};

const FILE_AND_SOCKET_MODULES = new Set(['fs', 'fs/promises', 'net', 'dgram', 'child_process', 'http', 'https']);
const FILE_AND_SOCKET_OWNERS = new Set(['io', 'native']);
const THREAD_OWNERS = new Set(['shard', 'cli']);

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

const moduleOf = (file: string): string => relative(SRC, file).split(sep)[0]!;

describe('layering', () => {
  const files = walk(SRC);

  it('every src/ folder is a known layer module', () => {
    const modules = new Set(files.map(moduleOf));
    for (const m of modules) expect(LAYERS, `src/${m} is not in the layer table`).toHaveProperty(m);
  });

  it('imports point down the layers', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = moduleOf(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC + sep)) {
          // The one exception: `vfp bench` (cli/, the top layer) runs the harness in bench/.
          if (from === 'cli' && target.startsWith(BENCH + sep)) continue;
          violations.push(`${relative(SRC, file)} imports ${spec}, outside src/`);
          continue;
        }
        const to = moduleOf(target);
        if (to !== from && !(LAYERS[to]! < LAYERS[from]!)) {
          violations.push(`${relative(SRC, file)} (${from}, layer ${LAYERS[from]}) imports ${to} (layer ${LAYERS[to]})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('only io/ and native/ touch files and sockets; only shard/ and cli/ use worker threads', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = moduleOf(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const bare = spec.replace(/^node:/, '');
        if (FILE_AND_SOCKET_MODULES.has(bare) && !FILE_AND_SOCKET_OWNERS.has(from)) {
          violations.push(`${relative(SRC, file)} imports ${spec}`);
        }
        if (bare === 'worker_threads' && !THREAD_OWNERS.has(from)) {
          violations.push(`${relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('the checker sees violations (self-test on a synthetic source)', () => {
    expect(importsOf("import { a } from '../io/reader.js';\nexport * from './x.js';\nconst m = await import('node:fs');")).toEqual([
      '../io/reader.js',
      './x.js',
      'node:fs',
    ]);
  });
});
