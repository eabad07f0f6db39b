// Bundle the `vfp` command line for start-up time (run by `npm run build`, after tsc).
//
// A short command such as `vfp validate` spends most of its time starting: Node's ES module loader
// resolves, reads and compiles each file (commander alone is six CommonJS files that load
// child_process, net, dgram and the stream stack), and V8 compiles every function the run calls.
// So tsc's JavaScript is bundled with esbuild (joined and minified: whitespace and syntax, names
// kept), into dist/src/cli:
//
//   vfp.cjs        the entry, the package's `bin` (CommonJS: Node then skips its ES module
//                  loader): `vfp --version` answers here; anything else loads program.cjs (or,
//                  without bundles, tsc's program.js).
//   main.js        the same entry as an ES module (tsc's output, bundled in place).
//   program.cjs    program.ts, the command definitions and commander.
//   NAME.cjs       one per module in cli/commands/ (validate, parse, replay, ...): what a command's
//                  action imports, loaded only when it runs.
//   errors.cjs     base/errors, shared by all bundles (one set of error classes).
//   NAME.cjs.cache the V8 code cache of each bundle, written by running a command that loads it
//                  (VFP_BUILD_CODE_CACHE=1, see src/io/cjs-bundles.ts, which loads them).
//
// commander's `require('node:child_process')` (for executable subcommands, which vfp has none
// of) is loaded when first used; `vfp bench` imports dist/bench/suite.js (tsc's output) as
// before; source maps point at src/*.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist/src');
const cli = path.join(dist, 'cli');
if (!fs.existsSync(path.join(cli, 'program.js'))) {
  console.error('bundle-cli: dist/src/cli/program.js is missing: run tsc first (npm run build does both)');
  process.exit(1);
}
// One bundle per module in cli/commands/ (each is what a command's action imports).
const COMMANDS = fs.readdirSync(path.join(root, 'src', 'cli', 'commands')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort(); // from the sources: dist/ may hold stale files of removed modules
for (const f of fs.readdirSync(cli)) if (f.endsWith('.cjs') || f.endsWith('.cjs.cache') || f.endsWith('.cjs.map')) fs.rmSync(path.join(cli, f));

/** commander's child_process, required when a property of it is first read. */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}commander${path.sep}`) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

/**
 * Between bundles: base/errors is errors.cjs; a command's dynamic import is a require of its
 * bundle (through the loader, with its cache). A bundle runs as a vm.Script, where import() is
 * not available (Node 20: not with a code cache, and only behind an experimental flag), so the
 * import of a file outside dist/src (vfp bench's harness, an ES module) is a call of
 * __vfpImport, which the loader passes in (io/cjs-bundles.ts), with the path from dist/src/cli.
 */
const betweenBundles = {
  name: 'between-bundles',
  setup(build) {
    build.onLoad({ filter: /[/\\]cli[/\\]define[/\\]\w+\.js$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8').replace(/\bimport\((['"])(\.[^'"]+)\1\)/g, (all, _q, spec) => {
        const target = path.resolve(path.dirname(args.path), spec);
        if (target.startsWith(dist + path.sep)) return all;
        return `__vfpImport(${JSON.stringify(path.relative(cli, target).split(path.sep).join('/'))})`;
      });
      return { contents: text, loader: 'js' };
    });
    build.onResolve({ filter: /^\.\/\w+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    build.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind === 'entry-point' || !args.importer.startsWith(dist + path.sep)) return undefined;
      const target = path.resolve(path.dirname(args.importer), args.path);
      if (target === path.join(dist, 'base/errors.js')) return { path: './errors.cjs', external: true };
      const command = /[/\\]cli[/\\]commands[/\\](\w+)\.js$/.exec(target);
      if (command && args.kind === 'dynamic-import') return { path: command[1], namespace: 'vfp-bundle' };
      if (!target.startsWith(dist + path.sep)) throw new Error(`${args.importer} imports ${args.path}, outside dist/src: the bundle cannot load it`);
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'vfp-bundle' }, (args) => ({ contents: `module.exports = require('./${args.path}.cjs');`, loader: 'js', resolveDir: cli }));
  },
};

const entryPoints = { program: path.join(cli, 'program.js'), errors: path.join(dist, 'base/errors.js') };
for (const c of COMMANDS) entryPoints[c] = path.join(cli, 'commands', `${c}.js`);

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, minifyWhitespace: true, minifySyntax: true, logLevel: 'warning' };

await esbuild.build({
  ...common,
  entryPoints,
  outdir: cli,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // version.js finds package.json from import.meta.url (a banner would come before "use strict").
  inject: [path.join(root, 'scripts/import-meta-url-shim.js')],
  define: { 'import.meta.url': 'importMetaUrl' },
  plugins: [lazyChildProcess, betweenBundles],
});

// A bundle cannot run import() (see betweenBundles).
for (const name of ['program', 'errors', ...COMMANDS]) {
  const text = fs.readFileSync(path.join(cli, `${name}.cjs`), 'utf8');
  if (/\bimport\(/.test(text)) {
    console.error(`bundle-cli: ${name}.cjs has a dynamic import(), which a bundle cannot run`);
    process.exit(1);
  }
}

// vfp.cjs: the same entry as CommonJS, the package's `bin`: Node starts a CommonJS main script
// without its ES module loader (~8 ms less per run here: `node empty.cjs` vs `node empty.mjs`).
// Built from tsc's main.js before that is bundled in place below.
await esbuild.build({
  ...common,
  entryPoints: [path.join(cli, 'main.js')],
  outfile: path.join(cli, 'vfp.cjs'),
  format: 'cjs',
  inject: [path.join(root, 'scripts/import-meta-url-shim.js')],
  define: { 'import.meta.url': 'importMetaUrl' },
  plugins: [{ name: 'program-js-external', setup: (b) => b.onResolve({ filter: /^\.\/program\.js$/ }, (args) => ({ path: args.path, external: true })) }],
});
fs.chmodSync(path.join(cli, 'vfp.cjs'), 0o755);

// main.js: tsc's, with version, errors and the loader inlined; program.js stays tsc's (the fallback).
await esbuild.build({
  ...common,
  entryPoints: [path.join(cli, 'main.js')],
  outfile: path.join(cli, 'main.js'),
  allowOverwrite: true,
  format: 'esm',
  plugins: [{ name: 'program-js-external', setup: (b) => b.onResolve({ filter: /^\.\/program\.js$/ }, (args) => ({ path: args.path, external: true })) }],
});

// The code caches: each bundle's from the first of these runs that loads it (a bundle no run
// loads has none: it compiles at each start, still correct).
const runs = [
  ['validate', 'pcaps/transparent.json'],
  ['parse', 'pcaps/sample-mix.pcapng'],
  ['replay', 'pcaps/transparent.pcapng', '--config', 'pcaps/transparent.json'],
  ['trace', 'pcaps/transparent.pcapng', '--config', 'pcaps/transparent.json', '--packet', '3'],
  ['compile', '--config', 'pcaps/transparent.json'],
  ['synth', 'sample', '--out', '-'],
];
for (const args of runs) {
  const r = spawnSync(process.execPath, [path.join(cli, 'vfp.cjs'), ...args], { cwd: root, env: { ...process.env, VFP_BUILD_CODE_CACHE: '1' }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`bundle-cli: vfp ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
    process.exit(1);
  }
}
const kib = (f) => (fs.existsSync(path.join(cli, f)) ? `${(fs.statSync(path.join(cli, f)).size / 1024).toFixed(0)} KiB` : 'none: add a run above');
console.log(`bundle-cli: dist/src/cli/vfp.cjs, main.js, ${['program', ...COMMANDS, 'errors'].map((n) => `${n}.cjs (${kib(`${n}.cjs`)}, cache ${kib(`${n}.cjs.cache`)})`).join(', ')}`);
