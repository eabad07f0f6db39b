/**
 * The sample captures under pcaps/: what each is made of, and how to (re)make it byte for byte.
 *
 * Each sample is one synth scenario with fixed packets/flows/seed, written exactly as `vfp synth`
 * writes it: a `.pcap` name gives classic pcap with microsecond timestamps, anything else pcapng
 * with one named interface per `synthSources(scenario)` in that order and nanosecond timestamps.
 * `renderSample` builds the file in memory; test/synth/samples.test.ts checks that it equals the
 * committed bytes (and that `vfp synth` does too), so a change to synth/ or to the writers that
 * alters a sample fails until the samples are regenerated on purpose:
 *
 *   npm run build && node dist/bench/make-samples.js          # rewrites pcaps/*.pcap[ng]
 *
 * pcaps/README.md lists the equivalent `vfp synth` commands.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapngWriter, PcapWriter } from '../src/io/writer.js';
import { synthesize, synthSources } from '../src/synth/scenarios.js';
import type { SynthScenario } from '../src/synth/scenarios.js';

export interface SampleSpec {
  file: string;
  scenario: SynthScenario;
  packets: number;
  flows: number;
  seed: number;
}

export const SAMPLES: readonly SampleSpec[] = [
  { file: 'sample-mix.pcapng', scenario: 'sample', packets: 17, flows: 1, seed: 1 },
  { file: 'mix64-1k.pcap', scenario: 'mix64', packets: 1000, flows: 100, seed: 1 },
  { file: 'imix-1k.pcapng', scenario: 'imix', packets: 1000, flows: 100, seed: 1 },
  { file: 'vxlan-200.pcapng', scenario: 'vxlan', packets: 200, flows: 20, seed: 1 },
  { file: 'new-flows-1k.pcap', scenario: 'new-flows', packets: 1000, flows: 1, seed: 1 },
  { file: 'transparent.pcapng', scenario: 'transparent', packets: 23, flows: 1, seed: 1 },
];

/** The `vfp synth` command line that makes the same file. */
export function sampleCommand(s: SampleSpec): string {
  return `vfp synth ${s.scenario} --out pcaps/${s.file} --packets ${s.packets} --flows ${s.flows} --seed ${s.seed}`;
}

/** The sample's bytes, built in memory. */
export function renderSample(s: SampleSpec): Uint8Array {
  const options = { packets: s.packets, flows: s.flows, seed: s.seed };
  if (s.file.endsWith('.pcap')) {
    const w = PcapWriter.toMemory();
    synthesize(s.scenario, options, (b, o, l, wl, sec, ns) => w.writeFrame(b, o, l, wl, sec, ns));
    w.close();
    return w.toBytes();
  }
  const w = PcapngWriter.toMemory();
  const ids = new Map<string, number>();
  for (const name of synthSources(s.scenario)) ids.set(name, w.addInterface(name));
  synthesize(s.scenario, options, (b, o, l, wl, sec, ns, source) => w.writeFrame(ids.get(source)!, b, o, l, wl, sec, ns));
  w.close();
  return w.toBytes();
}

/** Where pcaps/ is, from this file in bench/ or dist/bench/. */
export function pcapsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, here.endsWith(join('dist', 'bench')) ? '../../pcaps' : '../pcaps');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = pcapsDir();
  for (const s of SAMPLES) {
    const bytes = renderSample(s);
    writeFileSync(join(dir, s.file), bytes);
    process.stdout.write(`${s.file.padEnd(20)} ${String(bytes.length).padStart(8)} bytes  (${sampleCommand(s)})\n`);
  }
}
