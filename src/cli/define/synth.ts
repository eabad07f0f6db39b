/**
 * `vfp synth`: the command's definition (arguments, options, help). Its work is in
 * ../commands/synth.ts, imported only when the command runs, so that `vfp --help` and the other
 * commands do not load it.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { isSynthScenario, SYNTH_SCENARIOS } from '../../synth/catalog.js';
import type { SynthScenario } from '../../synth/catalog.js';
import type { SynthCliOptions } from '../commands/synth.js';
import { intOption } from '../options.js';

export function registerSynth(program: Command): void {
  const list = Object.entries(SYNTH_SCENARIOS)
    .map(([name, text]) => `  ${name.padEnd(10)} ${text}`)
    .join('\n');
  program
    .command('synth')
    .description('write deterministic, seeded traffic to a capture file')
    .argument('<scenario>', `one of: ${Object.keys(SYNTH_SCENARIOS).join(', ')}`, (v: string) => {
      if (!isSynthScenario(v)) throw new InvalidArgumentError(`unknown scenario '${v}' (one of: ${Object.keys(SYNTH_SCENARIOS).join(', ')})`);
      return v;
    })
    .requiredOption('--out <file>', "output capture: *.pcap = classic pcap, else pcapng; '-' = stdout (pcapng)")
    .option('--packets <n>', 'number of frames', intOption('--packets', 0, 1e9), 1000)
    .option('--flows <n>', 'number of distinct flows', intOption('--flows', 1, 1 << 24), 100)
    .option('--seed <s>', 'PRNG seed (same seed, same bytes)', intOption('--seed', 0, 0xffffffff), 1)
    .addHelpText(
      'after',
      `
Scenarios:
${list}

Examples:
  vfp synth mix64 --out /tmp/mix.pcap --packets 2000000 --flows 65536
  vfp synth sample --out pcaps/sample-mix.pcapng`,
    )
    .action(async (scenario: SynthScenario, opts: SynthCliOptions) => (await import('../commands/synth.js')).runSynth(scenario, opts));
}
