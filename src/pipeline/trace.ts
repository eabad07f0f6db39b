/**
 * Per-packet explanation (`vfp trace`, `vfp replay --trace`), in the spirit of OVS's
 * `ofproto/trace`: for each frame, the ingress port and how it was chosen, the decoded headers,
 * the flow-cache result, the switch's decision, every layer -> group -> rule (or the layer's
 * default) with its action, what was installed in the flow table, the egress port(s) with the
 * headers as they leave, and the verdict or drop reason.
 *
 * The engine reports to a Tracer from each stage (only when one is set: a single check per frame;
 * nothing here runs in a plain replay). Objects and strings are made freely: this is the
 * explanation path, not the data path. `PacketTrace` is also the `--json` object (one per line).
 */
import { DROP_REASONS, DropReasonId, PARSE_ERRORS } from '../base/reasons.js';
import { FrameBatch } from '../frame/batch.js';
import type { FlowTable } from '../flow/table.js';
import { describeFrame, formatFrameText } from '../parse/describe.js';
import type { FrameDescription } from '../parse/describe.js';
import { parseBatch } from '../parse/parse.js';
import type { LayerIR } from '../vfp/ir.js';
import type { LayerTrace } from '../vfp/interp.js';
import { DIR_OUT } from '../vfp/model.js';
import type { DirectionId } from '../vfp/model.js';
import type { CompositeTable } from './composite.js';
import type { Policy } from './policy.js';

export interface GroupStep {
  group: string;
  /** The group's own conditions held. */
  matched: boolean;
  /** The group's best rule, or null. */
  rule: string | null;
  /** Evaluation stopped here (terminating rule). */
  stopped: boolean;
}

export interface RuleStep {
  id: string;
  priority: number;
  action: string;
  terminating: boolean;
  stateful: boolean;
  flowTtl: number;
  origin: string;
}

export type TraceStep =
  | { stage: 'parse'; error: string }
  | { stage: 'flow'; result: 'hit' | 'miss' | 'stale' | 'not-cached'; entry?: number; generation?: number; detail?: string }
  | { stage: 'switch'; egress: string[] }
  | { stage: 'switch'; drop: string }
  | { stage: 'layer'; port: string; direction: 'OUT' | 'IN'; layer: string; groups: GroupStep[]; rule: RuleStep | null; result: string }
  | { stage: 'install'; entry: number; reverseEntry?: number; pair: boolean; ttl: number }
  | { stage: 'note'; text: string };

export interface PacketTrace {
  n: number;
  /** For a host answer: what it is and which packet it answers. */
  generated?: string;
  ingress: { port: string; by: string };
  frame: FrameDescription;
  /** The input frame as one line of text (vfp parse's form). */
  text: string;
  steps: TraceStep[];
  egress: { port: string; frame: FrameDescription; text: string }[];
  verdict: 'forward' | 'drop';
  reason?: string;
}

const GENERATED_KINDS = ['', 'arp-reply', 'echo-reply'];
/** The words for ingress.ts's INGRESS_* rules, by value. */
const INGRESS_RULES = ['capture interface name', '--ingress', 'source MAC', 'default (first uplink)', 'none', 'host answer'];

export class Tracer {
  /** Finished traces, in order; the caller drains it. */
  readonly done: PacketTrace[] = [];
  private current: PacketTrace | null = null;
  private readonly policy: () => Policy;

  constructor(policy: () => Policy) {
    this.policy = policy;
  }

  /** A frame enters on `port`, chosen by rule `how` (INGRESS_* of ingress.ts: the rule the engine applied). */
  begin(batch: FrameBatch, i: number, port: number, generated: number, how: number): void {
    this.finish();
    const names = this.policy().portNames;
    const by = generated !== 0 ? 'host answer' : (INGRESS_RULES[how] ?? 'none');
    this.current = {
      n: batch.numbers[i]!,
      ingress: { port: port >= 0 ? names[port]! : '(none)', by },
      frame: describeFrame(batch, i),
      text: formatFrameText(batch, i).replace(/^\d+ /, ''),
      steps: [],
      egress: [],
      verdict: 'forward',
    };
    if (generated !== 0) this.current.generated = `${GENERATED_KINDS[generated] ?? 'answer'} by ${names[port]} to packet ${batch.numbers[i]}`;
  }

  private step(s: TraceStep): void {
    this.current?.steps.push(s);
  }

  parseError(err: number): void {
    this.step({ stage: 'parse', error: PARSE_ERRORS[err] ?? String(err) });
  }

  flowHit(entry: number, flows: FlowTable, cs: CompositeTable, c: number): void {
    const spec = cs.specs[c];
    this.step({ stage: 'flow', result: 'hit', entry, generation: flows.generationOf(entry), detail: spec?.reverse ? 'reverse entry of a flow pair' : 'forward entry' });
  }

  flowStale(entry: number, flows: FlowTable, oldGeneration: boolean): void {
    this.step({
      stage: 'flow',
      result: 'stale',
      entry,
      generation: flows.generationOf(entry),
      detail: oldGeneration ? `decided under policy generation ${flows.generationOf(entry)}: resimulated` : 'decided for another destination MAC',
    });
  }

  flowMiss(generation: number): void {
    this.step({ stage: 'flow', result: 'miss', generation });
  }

  notCached(why: string): void {
    this.step({ stage: 'flow', result: 'not-cached', detail: why });
  }

  note(text: string): void {
    this.step({ stage: 'note', text });
  }

  switchDrop(reason: number): void {
    this.step({ stage: 'switch', drop: DROP_REASONS[reason] ?? String(reason) });
  }

  switchTo(ports: number[]): void {
    const names = this.policy().portNames;
    this.step({ stage: 'switch', egress: ports.map((p) => names[p]!) });
  }

  layer(port: string, dir: DirectionId, ir: LayerIR, t: LayerTrace): void {
    const groups: GroupStep[] = t.groups.map((g, j) => ({
      group: g,
      matched: t.matched[j]!,
      rule: t.best[j]! >= 0 ? ir.rules[t.best[j]!]!.id : null,
      stopped: t.stopped[j]!,
    }));
    let rule: RuleStep | null = null;
    let result: string;
    if (t.decision >= 0) {
      const r = ir.rules[t.decision]!;
      rule = { id: r.id, priority: r.priority, action: r.action.type, terminating: r.terminating, stateful: r.stateful, flowTtl: r.flowTtl, origin: r.origin };
      result = r.action.type === 'block' ? `block (${r.action.reason})` : r.action.type;
    } else {
      result = ir.defaultAllow ? 'default allow' : `default drop (${ir.defaultReason})`;
    }
    this.step({ stage: 'layer', port, direction: dir === DIR_OUT ? 'OUT' : 'IN', layer: ir.name, groups, rule, result });
  }

  installed(entry: number, flows: FlowTable, pair: boolean, ttl: number): void {
    if (entry < 0) return;
    const s: TraceStep = { stage: 'install', entry, pair, ttl };
    if (pair) s.reverseEntry = flows.peerOf(entry);
    this.step(s);
  }

  tableFull(): void {
    this.verdictDrop(DropReasonId['table-full']);
  }

  verdictDrop(reason: number): void {
    if (!this.current) return;
    this.current.verdict = 'drop';
    this.current.reason = DROP_REASONS[reason] ?? String(reason);
  }

  verdictFlood(sent: number, count: number, firstReason: number): void {
    if (!this.current) return;
    if (sent === 0) this.verdictDrop(firstReason);
    else this.note(`flooded to ${sent} of ${count} ports`);
  }

  emitted(port: number, d: Uint8Array, o: number, len: number, wire: number): void {
    if (!this.current) return;
    const copy = d.slice(o, o + len);
    const b = new FrameBatch(1, copy);
    b.offsets[0] = 0;
    b.lengths[0] = len;
    b.wireLengths[0] = wire;
    b.numbers[0] = this.current.n;
    b.count = 1;
    parseBatch(b, this.policy().vxlanPort);
    this.current.egress.push({ port: this.policy().portNames[port]!, frame: describeFrame(b, 0), text: formatFrameText(b, 0).replace(/^\d+ /, '') });
  }

  /** Close the packet being traced (called by begin and by the caller after each batch). */
  finish(): void {
    if (this.current) this.done.push(this.current);
    this.current = null;
  }
}

/** The human-readable form of one packet's trace. */
export function formatTrace(t: PacketTrace): string {
  const lines: string[] = [];
  const head = t.generated ? `Packet ${t.n} (${t.generated})` : `Packet ${t.n}`;
  lines.push(`${head}: ingress ${t.ingress.port} (by ${t.ingress.by})`);
  lines.push(`  frame:   ${t.text}`);
  for (const s of t.steps) {
    switch (s.stage) {
      case 'parse':
        lines.push(`  parse:   ${s.error}`);
        break;
      case 'flow':
        lines.push(`  flow:    ${s.result}${s.entry !== undefined ? ` entry ${s.entry}` : ''}${s.generation !== undefined ? ` (generation ${s.generation})` : ''}${s.detail ? `: ${s.detail}` : ''}`);
        break;
      case 'switch':
        lines.push('drop' in s ? `  switch:  drop (${s.drop})` : `  switch:  -> ${s.egress.join(', ')}`);
        break;
      case 'layer': {
        lines.push(`  ${s.port} ${s.direction} ${s.layer}`);
        for (const g of s.groups) {
          const what = !g.matched ? 'skipped (group conditions)' : g.rule ? `rule ${g.rule}${g.stopped ? ' (terminating)' : ''}` : 'no rule matched';
          lines.push(`    group ${g.group}: ${what}`);
        }
        if (s.rule) {
          const r = s.rule;
          const flags = [r.terminating ? 'terminating' : '', r.stateful ? `stateful ttl ${r.flowTtl}s` : ''].filter(Boolean).join(' ');
          lines.push(`    => ${s.result}: rule ${r.id} priority ${r.priority}${flags ? ` ${flags}` : ''} [${r.origin}]`);
        } else {
          lines.push(`    => ${s.result}`);
        }
        break;
      }
      case 'install':
        lines.push(s.pair ? `  install: flow pair ${s.entry} + reverse ${s.reverseEntry}, idle timeout ${s.ttl} s` : `  install: flow ${s.entry}, idle timeout ${s.ttl} s`);
        break;
      case 'note':
        lines.push(`  note:    ${s.text}`);
        break;
    }
  }
  for (const e of t.egress) lines.push(`  egress:  ${e.port}: ${e.text}`);
  lines.push(t.verdict === 'drop' ? `  verdict: drop (${t.reason})` : `  verdict: forward to ${t.egress.map((e) => e.port).join(', ')}`);
  return lines.join('\n');
}
