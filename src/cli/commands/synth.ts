/**
 * `vfp synth SCENARIO --out OUT [--packets N] [--flows N] [--seed S]`: write deterministic traffic.
 * OUT ending in `.pcap` gets classic pcap (µs); anything else pcapng with one named interface per
 * source (e.g. `eth0`, `web`); `-` writes pcapng to standard output.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { PcapngWriter, PcapWriter } from '../../io/writer.js';
import { isSynthScenario, SYNTH_SCENARIOS, synthesize, synthSources } from '../../synth/scenarios.js';
import type { SynthScenario } from '../../synth/scenarios.js';
import { intOption } from '../options.js';

interface SynthCliOptions {
  out: string;
  packets: number;
  flows: number;
  seed: number;
}

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
    .action((scenario: SynthScenario, opts: SynthCliOptions) => runSynth(scenario, opts));
}

function runSynth(scenario: SynthScenario, opts: SynthCliOptions): void {
  const classic = opts.out.endsWith('.pcap');
  const options = { packets: opts.packets, flows: opts.flows, seed: opts.seed };
  if (classic) {
    const w = PcapWriter.toFile(opts.out);
    synthesize(scenario, options, (bytes, offset, length, wire, s, ns) => w.writeFrame(bytes, offset, length, wire, s, ns));
    w.close();
    process.stderr.write(`vfp: wrote ${w.frames} frames to ${opts.out} (pcap)\n`);
    return;
  }
  const w = PcapngWriter.toFile(opts.out);
  const ids = new Map<string, number>();
  for (const name of synthSources(scenario)) ids.set(name, w.addInterface(name));
  synthesize(scenario, options, (bytes, offset, length, wire, s, ns, source) => {
    w.writeFrame(ids.get(source) ?? 0, bytes, offset, length, wire, s, ns);
  });
  w.close();
  if (opts.out !== '-') process.stderr.write(`vfp: wrote ${w.frames} frames to ${opts.out} (pcapng)\n`);
}
