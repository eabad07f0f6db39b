/**
 * `vfp trace IN --config TOPO [--packet N] [--json]`
 *
 * The per-packet explanation, like OVS's `ofproto/trace` but for a whole capture: for each
 * packet, the ingress port (and how it was chosen), the decoded headers, the flow-cache result,
 * the switch's decision, every layer -> group -> rule (or the layer's default) with its action,
 * the flow entries installed, the egress port(s) with the headers as they leave, and the verdict
 * or drop reason. Packets are processed one by one in order, so state (flows) builds up exactly
 * as in a replay; `--packet N[,M...]` replays up to the last one named and prints those packets
 * alone (with the host's answers to them). `--json` prints one object per packet (the PacketTrace of src/pipeline/trace.ts).
 *
 * Its options and help text are in ../define/trace.ts; this module is imported when the command runs.
 */
import { VfpError, EXIT_USAGE } from '../../base/errors.js';
import { TextOut } from '../../io/text-out.js';
import { Engine } from '../../pipeline/engine.js';
import { formatTrace, Tracer } from '../../pipeline/trace.js';
import { parseUpdates, engineOptionsFrom, IngressResolver, loadPolicy, NullSink, portByName, replayCapture } from '../replay-common.js';

export interface TraceOptions {
  config: string;
  uftTtl?: number;
  rstTimeout?: number;
  update: string[];
  packet?: number[];
  json?: boolean;
  ingress?: string;
  flowCapacity?: number;
  whenFull?: string;
}

export function runTrace(input: string, opts: TraceOptions): void {
  const policy = loadPolicy(opts.config);
  const engine = new Engine(policy, engineOptionsFrom(opts));
  const forced = opts.ingress !== undefined ? portByName(policy, opts.ingress, '--ingress') : -1;
  const resolver = new IngressResolver(policy, forced);
  for (const u of policy.unsupported) process.stderr.write(`vfp: ${opts.config}: warning: ${u}\n`);
  const updates = parseUpdates(opts.update, policy);
  const tracer = new Tracer(() => engine.policy);
  engine.tracer = tracer;
  const out = new TextOut();
  let printed = 0;
  const wanted = opts.packet ? new Set(opts.packet) : null;
  const result = replayCapture(input, engine, resolver, new NullSink(), {
    updates,
    batchSize: 1,
    ...(opts.packet !== undefined ? { limit: Math.max(...opts.packet) } : {}),
    onBatch: () => {
      tracer.finish();
      for (const t of tracer.done) {
        if (wanted && !wanted.has(t.n)) continue;
        out.line(opts.json ? JSON.stringify(t) : formatTrace(t) + '\n');
        printed++;
      }
      tracer.done.length = 0;
    },
  });
  out.flush();
  for (const w of result.reader.warnings) process.stderr.write(`vfp: ${input}: warning: ${w}\n`);
  for (const w of resolver.warnings) process.stderr.write(`vfp: ${input}: warning: ${w}\n`);
  if (result.failure) throw result.failure;
  const missing = opts.packet?.filter((n) => n > engine.counter('in')) ?? [];
  if (missing.length > 0) throw new VfpError(`${input}: has no packet ${missing.join(', ')} (it has ${engine.counter('in')})`, EXIT_USAGE);
  void printed;
}
