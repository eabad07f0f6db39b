/**
 * The loader of the command line's bundles (src/io/cjs-bundles.ts): exports, bundles requiring
 * each other through it (one instance each), Node's modules, __vfpImport of an ES module; and the
 * code cache: written with VFP_BUILD_CODE_CACHE=1, used when its header matches the bundle,
 * ignored when the bundle changed since or V8 refuses it (the bundle then compiles as usual).
 * The cache cases run in child processes (the loader loads each file once per process).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleIsCurrent, loadBundle, loadedBundles } from '../../src/io/cjs-bundles.js';

// The built loader, for child processes (Node 20 runs no TypeScript); `npm test` builds first.
const BUILT_LOADER = new URL('../../dist/src/io/cjs-bundles.js', import.meta.url).href;

function dirWithBundles(): string {
  const d = mkdtempSync(join(tmpdir(), 'vfp-bundles-'));
  writeFileSync(join(d, 'a.cjs'), "'use strict';\nconst b = require('./b.cjs');\nexports.b = b;\nexports.sep = require('node:path').sep;\nexports.answer = () => 6 * 7;\nexports.strict = (function () { return this === undefined; })();\nexports.harness = () => __vfpImport('./m.mjs');\n");
  writeFileSync(join(d, 'b.cjs'), "'use strict';\nexports.id = { made: Date.now() };\n");
  writeFileSync(join(d, 'm.mjs'), 'export const fromEsm = 17;\n');
  return d;
}

/** Load a.cjs in a child process; returns which bundles came from a cache. */
function loadInChild(d: string, env: Record<string, string> = {}): { answer: number; cached: Record<string, boolean> } {
  const script = `
    const { loadBundle, loadedBundles } = await import(${JSON.stringify(BUILT_LOADER)});
    const a = loadBundle(new URL(${JSON.stringify(pathToFileURL(join(d, 'a.cjs')).href)}));
    const cached = Object.fromEntries(loadedBundles().map((b) => [b.file.split('/').pop(), b.cached]));
    console.log(JSON.stringify({ answer: a.answer(), cached }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { answer: number; cached: Record<string, boolean> };
}

describe('loadBundle', () => {
  it('runs a bundle: exports, strict mode, Node modules, other bundles once, __vfpImport', async () => {
    const d = dirWithBundles();
    const a = loadBundle(new URL(pathToFileURL(join(d, 'a.cjs')))) as Record<string, any>;
    expect(a['answer']()).toBe(42);
    expect(a['sep']).toBe('/');
    expect(a['strict']).toBe(true);
    const b = loadBundle(new URL(pathToFileURL(join(d, 'b.cjs')))) as Record<string, any>;
    expect(a['b']).toBe(b);
    expect(loadBundle(new URL(pathToFileURL(join(d, 'a.cjs'))))).toBe(a);
    expect(((await a['harness']()) as { fromEsm: number }).fromEsm).toBe(17);
    expect(loadedBundles().filter((x) => x.file.startsWith(d)).map((x) => x.cached)).toEqual([false, false]);
  });

  it('a missing bundle is null', () => {
    expect(loadBundle(new URL(pathToFileURL(join(tmpdir(), 'no-such-vfp-bundle.cjs'))))).toBeNull();
  });

  it('bundleIsCurrent: the bundle exists and is not older than the tsc output it came from', () => {
    const d = dirWithBundles();
    const bundle = new URL(pathToFileURL(join(d, 'a.cjs')));
    const source = new URL(pathToFileURL(join(d, 'b.cjs')));
    utimesSync(join(d, 'b.cjs'), 1000, 1000);
    utimesSync(join(d, 'a.cjs'), 2000, 2000);
    expect(bundleIsCurrent(bundle, source)).toBe(true);
    utimesSync(join(d, 'b.cjs'), 3000, 3000);
    expect(bundleIsCurrent(bundle, source)).toBe(false);
    expect(bundleIsCurrent(bundle, new URL(pathToFileURL(join(d, 'none.js'))))).toBe(true);
    expect(bundleIsCurrent(new URL(pathToFileURL(join(d, 'none.cjs'))), source)).toBe(false);
  });
});

describe('the code cache', () => {
  it('is written with VFP_BUILD_CODE_CACHE=1, then used; a changed bundle or a refused cache is ignored', () => {
    const d = dirWithBundles();
    expect(loadInChild(d)).toEqual({ answer: 42, cached: { 'a.cjs': false, 'b.cjs': false } });
    expect(loadInChild(d, { VFP_BUILD_CODE_CACHE: '1' }).cached).toEqual({ 'a.cjs': false, 'b.cjs': false });
    const c = readFileSync(join(d, 'a.cjs.cache'));
    const header = new Float64Array(c.buffer.slice(c.byteOffset, c.byteOffset + 16));
    expect(header[0]).toBe(readFileSync(join(d, 'a.cjs')).length);
    expect(loadInChild(d)).toEqual({ answer: 42, cached: { 'a.cjs': true, 'b.cjs': true } });

    // The bundle rewritten (same length, so V8 alone would take the old cache): not used.
    const text = readFileSync(join(d, 'a.cjs'), 'utf8');
    writeFileSync(join(d, 'a.cjs'), text.replace('6 * 7', '7 * 6'));
    expect(loadInChild(d)).toEqual({ answer: 42, cached: { 'a.cjs': false, 'b.cjs': true } });

    // A cache with the right header but bytes V8 refuses: compiled as usual.
    const cache = readFileSync(join(d, 'b.cjs.cache'));
    cache.fill(7, 16);
    writeFileSync(join(d, 'b.cjs.cache'), cache);
    expect(loadInChild(d)).toEqual({ answer: 42, cached: { 'a.cjs': false, 'b.cjs': false } });
  });
});
