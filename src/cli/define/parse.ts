/**
 * `vfp parse`: the command's definition (arguments, options, help). Its work is in
 * ../commands/parse.ts, imported only when the command runs, so that `vfp --help` and the other
 * commands do not load it.
 */
import type { Command } from 'commander';
import type { ParseOptions } from '../commands/parse.js';
import { intOption } from '../options.js';

export function registerParse(program: Command): void {
  program
    .command('parse')
    .description('decode each frame of a capture: one line per frame (text, or JSON with --json)')
    .argument('<in>', "capture file (pcap µs/ns, pcapng; '-' reads standard input)")
    .option('--json', 'one JSON object per frame (schema in docs/capture-files.md), or a JSON summary with --summary')
    .option('--summary', 'print totals per layer, per parse error and per interface instead of frames')
    .option('--limit <n>', 'stop after N frames', intOption('--limit', 1))
    .option('--vxlan-port <port>', 'UDP destination port decoded as VXLAN', intOption('--vxlan-port', 1, 65535), 4789)
    .addHelpText(
      'after',
      `
Link types: Ethernet; Linux cooked (SLL, SLL2), raw IP and BSD loopback are turned into Ethernet
frames (zero MACs); other link types are skipped and counted.

Examples:
  vfp parse pcaps/sample-mix.pcapng
  vfp parse pcaps/vxlan-200.pcapng --json --limit 3
  tcpdump -w - -c 100 | vfp parse - --summary`,
    )
    .action(async (input: string, opts: ParseOptions) => (await import('../commands/parse.js')).runParse(input, opts));
}
