/**
 * `vfp synth SCENARIO --out OUT [--packets N] [--flows N] [--seed S]`: write deterministic traffic.
 * OUT ending in `.pcap` gets classic pcap (µs); anything else pcapng with one named interface per
 * source (e.g. `eth0`, `web`); `-` writes pcapng to standard output.
 *
 * Its options and help text are in ../define/synth.ts; this module is imported when the command runs.
 */
import { PcapngWriter, PcapWriter } from '../../io/writer.js';
import { synthesize, synthSources } from '../../synth/scenarios.js';
import type { SynthScenario } from '../../synth/scenarios.js';

export interface SynthCliOptions {
  out: string;
  packets: number;
  flows: number;
  seed: number;
}

export function runSynth(scenario: SynthScenario, opts: SynthCliOptions): void {
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
