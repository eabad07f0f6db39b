/**
 * The comparison of an engine run with the reference model's, and its report: the first frame
 * whose sink calls differ (the input frame and both outcomes, each frame decoded), else the first
 * differing counter group.
 */
import type { Stream } from './generate.js';
import { describe as describeFrame } from './reference.js';
import type { RunResult, SinkEvent } from './outcome.js';

function eventText(e: SinkEvent): string {
  const bytes = Uint8Array.from(Buffer.from(e.bytes, 'hex'));
  const what = e.kind === 'forward' ? `forward -> ${e.port}` : `drop (${e.reason}) on ${e.port}`;
  return `  ${what}${e.hit ? ' [hit]' : ''}${e.generated ? ` [host answer ${e.generated}]` : ''} wire ${e.wire}\n      ${describeFrame(bytes)}\n      ${e.bytes}`;
}

/** A report of the first difference between the engine's run and the model's, or null. */
export function compare(s: Stream, engine: RunResult, model: RunResult): string | null {
  const head = `seed ${s.seed} (${s.mode}, ${s.setup.policies.length} generation(s), changes before frames ${s.setup.changes.map((c) => c + 1).join(',') || '-'}, batches ${s.batches.join('/')}, uftTtl ${s.setup.uftTtl}, rstTimeout ${s.setup.rstTimeout})`;
  const byFrame = (r: RunResult): Map<number, SinkEvent[]> => {
    const m = new Map<number, SinkEvent[]>();
    for (const e of r.events) m.set(e.n, [...(m.get(e.n) ?? []), e]);
    return m;
  };
  const ge = byFrame(engine);
  const gm = byFrame(model);
  for (let n = 1; n <= s.frames.length; n++) {
    const a = ge.get(n) ?? [];
    const b = gm.get(n) ?? [];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const f = s.frames[n - 1]!;
    return [
      `${head}: frame ${n} differs`,
      `input: ingress ${f.ingress ?? '(none named)'} at ${f.sec}.${String(f.ns).padStart(9, '0')} wire ${f.wire}`,
      `  ${describeFrame(f.bytes)}`,
      `engine:`,
      ...a.map(eventText),
      `model:`,
      ...b.map(eventText),
    ].join('\n');
  }
  if (JSON.stringify(engine.events) !== JSON.stringify(model.events)) return `${head}: the same events per frame, in another order`;
  const sorted = (x: object): string => JSON.stringify(Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  for (const k of ['counters', 'drops', 'ports', 'meters', 'flows'] as const) {
    if (sorted(engine[k]) !== sorted(model[k])) return `${head}: ${k} differ\nengine: ${sorted(engine[k])}\nmodel:  ${sorted(model[k])}`;
  }
  return null;
}

