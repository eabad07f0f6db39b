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
Scenarios (in run order; --filter RE selects by name; what each measures: docs/performance.md):
  replay    what users run, as whole processes on the same file, interleaved with tcpdump:
            2,000,000 64-byte frames of 4,096 established flows through pcaps/transparent.json
            (synth transparent-flows), vfp replay F --config T --json vs tcpdump -r F -w /dev/null
            (target >= 1.0x), --out OUT.pcap --split and --out OUT.pcapng vs tcpdump -r F -w OUT
            (>= 1.0x, >= 0.5x); and 1,000,000 SYNs, each a new stateful flow pair (synth
            transparent-syns, --flow-capacity 4194304): >= 500k new flows/s. A note gives what
            every run pays before its frames (node -e 0, a one-frame replay). Needs the built CLI.
  parse     64-byte frames: from the page cache, from memory, and tcpdump -r IN -w /dev/null
  acl-hit   established flows (64k and 1M) through a port with 100 ACL rules, in process
  acl-miss  one new flow per packet against 10, 1,000 and 10,000 ACL rules (µs per new flow)
Inputs are synthesized once and cached under the OS temp dir (vfp-bench/). --packets N sets the
frames per scenario (replay: N frames of flows, N/2 new flows). Exit status 1 when a mode failed
its checks (it then reports an error, not a figure).

Examples:
  vfp bench --filter replay
  vfp bench --filter parse --json`,
    )
    .action(async (opts: BenchOptions) => {
      const { runBench } = await import('../../../bench/suite.js');
      const report = await runBench({
        json: opts.json === true,
        workers: opts.workers,
        out: process.stdout,
        ...(opts.filter ? { filter: opts.filter } : {}),
        ...(opts.packets ? { packets: opts.packets } : {}),
      });
      // A mode that failed its checks has no figure: say so by the exit status too.
      if (report.errors.length > 0) process.exitCode = 1;
    });
}
