/**
 * The `vfp` command line: every command's definition (define/<name>.ts) on one commander program,
 * the parse, and the CLI contract's error handling. A command's modules (commands/<name>.ts and
 * the engine beneath) are imported by its action, when it runs.
 *
 * Exit codes (docs/cli.md): 0 success, 1 runtime failure, 2 bad usage, bad config or
 * bad input file; always with one clear line on stderr and no stack trace (set VFP_DEBUG=1 to see
 * one for an unexpected internal error).
 */
import { Command, CommanderError } from 'commander';
import { EXIT_RUNTIME, EXIT_USAGE, VfpError } from '../base/errors.js';
import { registerParse } from './define/parse.js';
import { registerSynth } from './define/synth.js';
import { registerBench } from './define/bench.js';
import { registerReplay } from './define/replay.js';
import { registerTrace } from './define/trace.js';
import { registerCompile } from './define/compile.js';
import { registerValidate } from './define/validate.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('vfp');
  program
    .description('Emulate the Windows container data plane (HNS, VFP, WinNAT) on packet captures and live interfaces')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run vfp <command> --help for usage)')
    .configureOutput({
      outputError: (text, write) => write(text.startsWith('error:') ? `vfp: ${text}` : text),
    });
  registerReplay(program);
  registerTrace(program);
  registerParse(program);
  registerCompile(program);
  registerValidate(program);
  registerSynth(program);
  registerBench(program);
  return program;
}

/** Run the command line `argv` (process.argv's shape); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are successes; every other parse problem is bad usage (exit 2).
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (e instanceof VfpError) {
      process.stderr.write(`vfp: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.path === 'string') {
      // A file-system error on a path the user gave: a clear line, exit 2 (bad input file).
      const what = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.code;
      process.stderr.write(`vfp: ${err.path}: ${what}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`vfp: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env['VFP_DEBUG']) process.stderr.write(`${err?.stack ?? ''}\n`);
    return EXIT_RUNTIME;
  }
}
