/**
 * `vfp replay`: the command's definition (arguments, options, help). Its work is in
 * ../commands/replay.ts, imported only when the command runs, so that `vfp --help` and the other
 * commands do not load it.
 */
import type { Command } from 'commander';
import type { ReplayOptions } from '../commands/replay.js';
import { Option } from 'commander';
import { addPipelineOptions, COMMENT_MODES, intOption } from '../options.js';

export function registerReplay(program: Command): void {
  const cmd = program
    .command('replay')
    .description('replay a capture through an HNS topology: what Windows would do with each frame')
    .argument('<in>', "capture file (pcap, pcapng; '-' reads standard input)")
    .requiredOption('--config <topo>', 'topology file (HNS JSON: host, networks, endpoints, loadBalancers)')
    .option('--out <file>', 'write the output frames: pcapng, one interface per port, a verdict comment per packet')
    .option('--split', 'with --out: one classic pcap per port (OUT.<port>.pcap), forwarded frames only')
    .option('--no-drops', 'with --out: leave dropped frames out of the pcapng')
    .addOption(new Option('--comments <what>', "with --out (pcapng): each packet's comment holds nothing, the verdict line, or the verdict and the rules that decided").choices(COMMENT_MODES).default('full'))
    .option('--workers <n>', 'worker threads (replay runs on one until sharding lands)', intOption('--workers', 1, 64), 1)
    .option('--json', 'print the summary as one JSON object')
    .option('--trace', 'print the per-packet trace (as vfp trace) before the summary')
    .option('--sessions', 'print the NAT session table at the end')
    .option('--flows', 'print the unified flow table at the end (like ovs-dpctl dump-flows)')
    .option('--no-codegen', 'classify with the IR interpreter instead of generated JavaScript')
    .option('--no-progress', 'no progress line on a terminal')
    .addHelpText(
      'after',
      `
Examples:
  vfp replay pcaps/transparent.pcapng --config pcaps/transparent.json
  vfp replay pcaps/transparent.pcapng --config pcaps/transparent.json --out /tmp/out.pcapng --json
  tshark -r /tmp/out.pcapng -Y 'frame.comment contains "verdict=drop"' -T fields -e frame.comment`,
    )
    .action(async (input: string, opts: ReplayOptions) => (await import('../commands/replay.js')).runReplay(input, opts));
  addPipelineOptions(cmd);
}
