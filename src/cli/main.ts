#!/usr/bin/env node
/**
 * `vfp`: the command-line entry, kept small because every run pays for what it loads:
 * `vfp --version` answers from here; any other command line loads the parser and the command
 * definitions (program.ts), and a command's own modules load only when it runs (define/*.ts).
 * Each command's work lives in commands/<name>.ts; its options and help in define/<name>.ts.
 *
 * Exit codes (DESIGN.md, CLI contract): see program.ts.
 */
import { EXIT_RUNTIME } from '../base/errors.js';
import { VERSION } from './version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for the same option (program.ts), without loading it.
  process.stdout.write(`${VERSION}\n`);
} else {
  import('./program.js')
    .then(({ runCli }) => runCli(process.argv))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (e: unknown) => {
        process.stderr.write(`vfp: internal error: ${(e as Error)?.message ?? String(e)}\n`);
        process.exitCode = EXIT_RUNTIME;
      },
    );
}
