#!/usr/bin/env node
/**
 * `vfp`: the command-line entry, kept small because every run pays for what it loads:
 * `vfp --version` answers from here; any other command line loads the parser and the command
 * definitions (program.ts), and a command's own modules load only when it runs (define/*.ts).
 * Each command's work lives in commands/<name>.ts; its options and help in define/<name>.ts.
 *
 * Built by `npm run build`, program.ts and each command are also bundles (program.cjs,
 * validate.cjs, ...: scripts/bundle-cli.mjs) loaded with a code cache (io/cjs-bundles.ts);
 * tsc's modules run instead when there are no bundles, when tsc wrote program.js after them,
 * and with VFP_DEBUG=1.
 *
 * Exit codes (docs/cli.md): see program.ts.
 */
import { EXIT_RUNTIME } from '../base/errors.js';
import { bundleIsCurrent, loadBundle } from '../io/cjs-bundles.js';
import { writeAllSync } from '../io/fd-write.js';
import { VERSION } from './version.js';

type Program = typeof import('./program.js');

async function run(argv: string[]): Promise<number> {
  const bundle = new URL('./program.cjs', import.meta.url);
  const tscOutput = new URL('./program.js', import.meta.url);
  // VFP_DEBUG=1 runs tsc's modules, whose stack traces name readable lines (bundles are minified).
  const useBundle = !process.env['VFP_DEBUG'] && bundleIsCurrent(bundle, tscOutput);
  const program = (useBundle ? loadBundle(bundle) : null) as Program | null;
  return (program ?? (await import('./program.js'))).runCli(argv);
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for the same option (program.ts), without loading it (nor the
  // stream modules process.stdout would load).
  writeAllSync(1, Buffer.from(`${VERSION}\n`));
} else {
  run(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`vfp: internal error: ${(e as Error)?.message ?? String(e)}\n`);
      process.exitCode = EXIT_RUNTIME;
    },
  );
}
