/**
 * The engine side of the oracle test, in one function: run a stream through the real engine and
 * record everything its sink receives, in the shape the reference model produces (outcome.ts).
 * This is the only file of test/oracle that knows the engine's API (Engine, FrameBatch,
 * IngressMap, FrameSink); when the sink interface changes, only `runEngine` changes.
 */
import { DROP_REASONS } from '../../src/base/reasons.js';
import { FrameBatch } from '../../src/frame/batch.js';
import { Engine } from '../../src/pipeline/engine.js';
import type { FrameSink, IngressMap } from '../../src/pipeline/engine.js';
import { EMIT_FORWARD } from '../../src/pipeline/output.js';
import { COUNTER_NAMES, frameTime, hex } from './outcome.js';
import type { InputFrame, RunResult, SinkEvent, StreamSetup } from './outcome.js';

export interface EngineRunOptions {
  /** Batch sizes, used in turn (cycled); a batch never spans a policy change. Default [512]. */
  batches?: readonly number[];
  /** Flow table entries (default 4,096: large enough that no stream fills it, above the size the table probes frame by frame). */
  flowCapacity?: number;
}

/**
 * Run `frames` through a fresh engine: policies[0] from the start, each next one installed
 * before its frame index (setup.changes). A frame whose `ingress` is null comes from a capture
 * interface that names no port.
 */
export function runEngine(setup: StreamSetup, frames: readonly InputFrame[], options: EngineRunOptions = {}): RunResult {
  const batches = options.batches ?? [512];
  const engine = new Engine(setup.policies[0]!, { flowCapacity: options.flowCapacity ?? 4096, uftTtl: setup.uftTtl, rstTimeout: setup.rstTimeout });
  const names = (): readonly string[] => engine.policy.portNames;
  const events: SinkEvent[] = [];
  const sink: FrameSink = {
    emit(out) {
      const input = out.input!;
      for (let j = 0; j < out.count; j++) {
        const d = out.dataOf(j);
        const o = out.offsetOf(j);
        const bytes = hex(d.subarray(o, o + out.lengthOf(j)));
        const number = input.numbers[out.frames[j]!]!;
        const port = out.ports[j]!;
        const hit = out.hitOf(j) === 1;
        const generated = out.generatedOf(j);
        const wire = out.wireLengthOf(j);
        // (the same key order as the model's events: compare.ts compares them as text)
        if (out.kindOf(j) === EMIT_FORWARD) events.push({ n: number, kind: 'forward', port: names()[port]!, hit, generated, bytes, wire });
        else events.push({ n: number, kind: 'drop', port: names()[port] ?? '-', reason: DROP_REASONS[out.reasons[j]!]!, hit, generated, bytes, wire });
      }
    },
  };
  const portCount = names().length;
  // capture interface i is port i; interface `portCount` names no port
  const ingress: IngressMap = { byInterface: Int32Array.from({ length: portCount + 1 }, (_, i) => (i < portCount ? i : -1)), forced: -1 };
  let policy = 0;
  let b = 0;
  for (let start = 0; start < frames.length; ) {
    while (policy < setup.changes.length && setup.changes[policy] === start) engine.setPolicy(setup.policies[++policy]!);
    const limit = policy < setup.changes.length ? setup.changes[policy]! : frames.length;
    const size = Math.max(1, batches[b++ % batches.length]!);
    const end = Math.min(limit, start + size);
    const total = frames.slice(start, end).reduce((a, f) => a + f.bytes.length, 0);
    const slab = new Uint8Array(total + 64);
    const batch = new FrameBatch(end - start, slab);
    let at = 5; // frames not at offset 0: offsets are absolute
    for (let i = start; i < end; i++) {
      const f = frames[i]!;
      const j = i - start;
      slab.set(f.bytes, at);
      batch.offsets[j] = at;
      batch.lengths[j] = f.bytes.length;
      batch.wireLengths[j] = f.wire;
      batch.timestampSeconds[j] = f.sec;
      batch.timestampNanos[j] = f.ns;
      batch.numbers[j] = i + 1;
      batch.sources[j] = f.ingress === null ? portCount : names().indexOf(f.ingress);
      at += f.bytes.length;
    }
    batch.count = end - start;
    engine.process(batch, ingress, sink);
    start = end;
  }

  const counters: Record<string, number> = {};
  for (const c of COUNTER_NAMES) counters[c] = engine.counter(c);
  const drops: Record<string, number> = {};
  DROP_REASONS.forEach((r, i) => {
    if (engine.drops[i]! > 0) drops[r] = engine.drops[i]!;
  });
  const ports: Record<string, { rx: number; tx: number }> = {};
  names().forEach((p, i) => (ports[p] = { rx: engine.portRx[i]!, tx: engine.portTx[i]! }));
  const meters: Record<string, { packets: number; bytes: number }> = {};
  [...engine.meterNames]
    .map((m, i) => [m, i] as const)
    .sort()
    .forEach(([m, i]) => {
      if (engine.meterPackets[i]! > 0) meters[m] = { packets: engine.meterPackets[i]!, bytes: engine.meterBytes[i]! };
    });
  const flows: string[] = [];
  if (frames.length) {
    const end = frames.reduce((m, f) => Math.max(m, frameTime(f)), 0); // the packet clock after the last frame
    const t = engine.flows;
    t.forEachEntry((h) => {
      if (t.expiryOf(h) >= end) flows.push(`${t.packetsOf(h)}/${t.bytesOf(h)}/${t.lastSeenOf(h).toFixed(3)}/${t.expiryOf(h).toFixed(3)}`);
    });
    const problem = t.validate();
    if (problem !== null) throw new Error(`flow table inconsistent: ${problem}`);
  }
  return { events, counters, drops, ports, meters, flows: flows.sort() };
}
