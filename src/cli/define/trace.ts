/**
 * `vfp trace`: the command's definition (arguments, options, help). Its work is in
 * ../commands/trace.ts, imported only when the command runs, so that `vfp --help` and the other
 * commands do not load it.
 */
import type { Command } from 'commander';
import type { TraceOptions } from '../commands/trace.js';
import { addPipelineOptions, intOption } from '../options.js';

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description('explain, packet by packet, what the data plane does: ports, layers, groups, rules, flows, verdict')
    .argument('<in>', "capture file (pcap, pcapng; '-' reads standard input)")
    .requiredOption('--config <topo>', 'topology file (HNS JSON)')
    .option('--packet <n[,n...]>', 'trace only these packets (every packet before them still runs, building flow state)', packetList)
    .option('--json', 'one JSON object per packet')
    .addHelpText(
      'after',
      `
Examples:
  vfp trace pcaps/transparent.pcapng --config pcaps/transparent.json --packet 3,4,7
  vfp trace pcaps/transparent.pcapng --config pcaps/transparent.json --json | head -3`,
    )
    .action(async (input: string, opts: TraceOptions) => (await import('../commands/trace.js')).runTrace(input, opts));
  addPipelineOptions(cmd);
}

function packetList(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const check = intOption('--packet', 1);
  return parts.map((p) => check(p));
}
