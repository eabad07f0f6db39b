/**
 * `vfp bench [--json] [--workers N] [--filter RE] [--packets N]`: the throughput suite.
 * The harness and its scenarios live in bench/suite.ts (outside src/: a tool that drives every
 * layer); this file only wires the options.
 */
import type { Command } from 'commander';
import { intOption, regexOption } from '../options.js';

interface BenchOptions {
  json?: boolean;
  workers: number;
  filter?: RegExp;
  packets?: number;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the throughput benchmark suite (Mpps, Gbps, ns/packet, peak RSS; tcpdump side by side)')
    .option('--json', 'print one JSON object with every figure')
    .option('--workers <n>', 'worker threads per scenario', intOption('--workers', 1, 64), 1)
    .option('--filter <regex>', 'run only the scenarios whose name matches', regexOption)
    .option('--packets <n>', 'frames per scenario (default 2,000,000)', intOption('--packets', 1000))
    .addHelpText(
      'after',
      `
Scenarios: parse (64-byte frames: from memory, from the page cache, and tcpdump -r IN -w /dev/null
on the same file when tcpdump is installed). More arrive with replay, NAT and VXLAN.

Example:
  vfp bench --filter parse --json`,
    )
    .action(async (opts: BenchOptions) => {
      const { runBench } = await import('../../../bench/suite.js');
      await runBench({
        json: opts.json === true,
        workers: opts.workers,
        out: process.stdout,
        ...(opts.filter ? { filter: opts.filter } : {}),
        ...(opts.packets ? { packets: opts.packets } : {}),
      });
    });
}
