/**
 * `vfp replay IN --config TOPO [--out OUT] [--split] [--workers N] [--json] [--trace] [--sessions]`
 *
 * Replays a capture through a topology: every frame enters the switch on its ingress port (the
 * pcapng interface named after a port; else --ingress; else the port owning its source MAC; else
 * the first uplink), crosses the VFP layers and the flow cache, and leaves on its egress port(s)
 * or is dropped with a reason. Prints a summary (text, or with --json the JSON object of docs/cli.md).
 * --out writes a pcapng with one interface per port and a verdict comment per packet
 * (`frame.comment contains "verdict=drop"` in Wireshark), drops included on their ingress
 * interface unless --no-drops; --split writes one classic pcap per port instead (forwarded frames).
 * --trace prints the per-packet explanation of `vfp trace` for every packet first.
 *
 * Its options and help text are in ../define/replay.ts; this module is imported when the command runs.
 */
import { UsageError } from '../../base/errors.js';
import { KEY_DST, KEY_PORT_ETHERTYPE, KEY_PORTS, KEY_PROTO, KEY_SRC, keyKind, keyPort, keyProtocol, keyVlan } from '../../frame/batch.js';
import { TextOut } from '../../io/text-out.js';
import { CaptureReader } from '../../io/reader.js';
import { Engine } from '../../pipeline/engine.js';
import type { FrameSink } from '../../pipeline/engine.js';
import { formatTrace, Tracer } from '../../pipeline/trace.js';
import { parseUpdates, engineOptionsFrom, formatSummary, IngressResolver, loadPolicy, NullSink, PcapngSink, portByName, replayCapture, SplitSink, summarize } from '../replay-common.js';
import { Progress } from '../progress.js';
import { statSizeOrZero } from '../../io/stat.js';
import type { CommentMode } from '../replay-common.js';

export interface ReplayOptions {
  config: string;
  uftTtl?: number;
  rstTimeout?: number;
  update: string[];
  out?: string;
  split?: boolean;
  workers: number;
  json?: boolean;
  trace?: boolean;
  sessions?: boolean;
  flows?: boolean;
  ingress?: string;
  drops: boolean;
  flowCapacity?: number;
  whenFull?: string;
  codegen: boolean;
  progress: boolean;
  comments: CommentMode;
}

export function runReplay(input: string, opts: ReplayOptions): void {
  if (opts.split && !opts.out) throw new UsageError('--split needs --out');
  const policy = loadPolicy(opts.config, { codegen: opts.codegen });
  const engine = new Engine(policy, engineOptionsFrom(opts));
  const forced = opts.ingress !== undefined ? portByName(policy, opts.ingress, '--ingress') : -1;
  const resolver = new IngressResolver(policy, forced);
  for (const u of policy.unsupported) process.stderr.write(`vfp: ${opts.config}: warning: ${u}\n`);
  const updates = parseUpdates(opts.update, policy, { codegen: opts.codegen });
  // The input opened and its header checked before any output file is created: a missing file
  // or one that is not a capture leaves an existing --out file as it was.
  const reader = CaptureReader.openFile(input);
  reader.checkHeader();
  // With --out - the capture goes to standard output, so the text goes to standard error.
  const text = new TextOut(opts.out === '-' ? 2 : 1);
  let sink: FrameSink & { close?: () => void } = new NullSink();
  if (opts.out) sink = opts.split ? new SplitSink(opts.out, policy) : new PcapngSink(opts.out, policy, engine, opts.drops, opts.comments);
  let tracer: Tracer | null = null;
  if (opts.trace) {
    tracer = new Tracer(() => engine.policy);
    engine.tracer = tracer;
  }
  const progress = !opts.json && opts.progress && process.stderr.isTTY ? new Progress(input, statSizeOrZero(input)) : null;
  const result = replayCapture(reader, engine, resolver, sink, {
    updates,
    ...(tracer ? { batchSize: 1 } : {}),
    onBatch: (reader) => {
      if (tracer) {
        tracer.finish();
        for (const t of tracer.done) text.line(formatTrace(t) + '\n');
        tracer.done.length = 0;
      }
      progress?.update(reader.position, engine.counter('in'));
    },
  });
  progress?.done();
  sink.close?.();
  // A file that is not a capture (its header refused): its error alone, no summary of no frames.
  if (result.failure && !result.reader.headerRead) throw result.failure;
  for (const w of result.reader.warnings) process.stderr.write(`vfp: ${input}: warning: ${w}\n`);
  for (const w of resolver.warnings) process.stderr.write(`vfp: ${input}: warning: ${w}\n`);
  if (opts.workers > 1) process.stderr.write(`vfp: warning: --workers ${opts.workers}: replay runs on one worker until sharding lands (same output)\n`);
  const written = sink instanceof PcapngSink ? sink.writer.frames : sink instanceof SplitSink ? sink.writers.reduce((a, w) => a + w.frames, 0) : 0;
  const summary = summarize(engine, result, { input, config: opts.config, output: opts.out ?? null, outputFrames: written, workers: 1 });
  if (opts.flows) for (const l of flowDump(engine)) text.line(l);
  if (opts.sessions) {
    // The Get-NetNatSession view; empty until the WinNAT driver creates sessions.
    if (opts.json) summary['sessions'] = [];
    else text.line('NAT sessions: none (WinNAT sessions arrive with the NAT driver)');
  }
  if (opts.json) text.line(JSON.stringify(summary));
  else for (const l of formatSummary(summary, input, opts.config)) text.line(l);
  text.flush();
  if (result.failure) throw result.failure;
}

/** The unified flow table, one flow a line (ovs-dpctl dump-flows style). */
export function flowDump(engine: Engine): string[] {
  const f = engine.flows;
  const names = engine.policy.portNames;
  const lines: string[] = [`Flows (${f.count} entries):`];
  const key = new Uint32Array(12);
  f.forEachEntry((h) => {
    f.copyKey(h, key, 0);
    const c = f.actionOf(h);
    const cs = engine.composites;
    const port = names[keyPort(key[KEY_PORT_ETHERTYPE]!)] ?? '?';
    const proto = keyProtocol(key[KEY_PROTO]!);
    const fam = keyKind(key[KEY_PROTO]!);
    const addr = (o: number): string => (fam === 4 ? `${key[o]! >>> 24}.${(key[o]! >>> 16) & 255}.${(key[o]! >>> 8) & 255}.${key[o]! & 255}` : [0, 1, 2, 3].map((w) => key[o + w]!.toString(16).padStart(8, '0')).join(':'));
    const verdict = cs.verdicts[c] === 0 ? `forward:${cs.egressName(c)}` : `drop`;
    lines.push(
      `  in_port(${port}),proto(${proto}),src(${addr(KEY_SRC)}),dst(${addr(KEY_DST)}),ports(${key[KEY_PORTS]! >>> 16},${key[KEY_PORTS]! & 0xffff}),vlan(${keyVlan(key[KEY_PROTO]!)}) packets:${f.packetsOf(h)}, bytes:${f.bytesOf(h)}, used:${f.lastSeenOf(h).toFixed(3)}, expires:${f.expiryOf(h).toFixed(3)}, gen:${f.generationOf(h)}${f.peerOf(h) >= 0 ? `, pair:${f.peerOf(h)}` : ''}, actions:${verdict}${cs.specs[c]?.reverse ? ' (reverse)' : ''}`,
    );
  });
  return lines;
}
