/**
 * What `vfp replay`, `vfp trace` and `vfp compile` share: loading a topology file into a policy,
 * resolving ingress ports for a capture's interfaces, the output sinks (one pcapng with an
 * interface per port and a verdict comment per packet, or one classic pcap per port), the read ->
 * engine loop, and the summary (human text or the `replay --json` object of docs/cli.md).
 */
import { DROP_REASONS, DROP_REASON_COUNT } from '../base/reasons.js';
import { UsageError } from '../base/errors.js';
import type { Topology } from '../config/model.js';
import { decodeTopologyText, loadTopology } from '../config/topology.js';
import { FrameBatch } from '../frame/batch.js';
import { FLOW_COUNTERS } from '../flow/table.js';
import { readFileBytes } from '../io/file.js';
import { CaptureReader } from '../io/reader.js';
import { EPB_INBOUND, EPB_OUTBOUND, PcapngWriter, PcapWriter } from '../io/writer.js';
import { Engine, ENGINE_COUNTERS } from '../pipeline/engine.js';
import type { EngineOptions, FrameSink, IngressMap } from '../pipeline/engine.js';
import { EMIT_DROP, EMIT_FORWARD } from '../pipeline/output.js';
import type { EmitBatch } from '../pipeline/output.js';
import { compilePolicy } from '../pipeline/policy.js';
import type { Policy, PolicyOptions } from '../pipeline/policy.js';

export function loadTopologyFile(path: string): Topology {
  return loadTopology(decodeTopologyText(readFileBytes(path), path), path);
}

export function loadPolicy(path: string, options: PolicyOptions = {}): Policy {
  return compilePolicy(loadTopologyFile(path), 1, options);
}

/** The port named `name`, or a usage error listing the ports. */
export function portByName(policy: Policy, name: string, what: string): number {
  const id = policy.portNames.indexOf(name);
  if (id < 0) throw new UsageError(`${what}: no port named '${name}' (ports: ${policy.portNames.join(', ')})`);
  return id;
}

/** Keeps the interface -> port map of a capture up to date as its interfaces appear. */
export class IngressResolver {
  readonly map: IngressMap;
  private known = 0;
  readonly warnings: string[] = [];

  constructor(
    private readonly policy: Policy,
    forced: number,
  ) {
    this.map = { byInterface: new Int32Array(0), forced };
  }

  update(reader: CaptureReader): void {
    const itfs = reader.interfaces;
    if (itfs.length === this.known) return;
    const m = new Int32Array(itfs.length).fill(-1);
    for (const itf of itfs) {
      const id = itf.name === undefined ? -1 : this.policy.portNames.indexOf(itf.name);
      m[itf.index] = id;
      if (itf.index >= this.known && itf.name !== undefined && id < 0) {
        this.warnings.push(`capture interface '${itf.name}' names no port: its frames enter by --ingress, source MAC or the first uplink`);
      }
    }
    this.map.byInterface = m;
    this.known = itfs.length;
  }
}

const GENERATED = ['', 'arp-reply', 'echo-reply'];

export { COMMENT_MODES } from './options.js';
import type { CommentMode } from './options.js';
export type { CommentMode } from './options.js';

/** A comment without its packet number: `head` + number + `tail`, as UTF-8 bytes. */
interface CommentParts {
  head: Uint8Array;
  tail: Uint8Array;
}

const utf8 = new TextEncoder();
const HEAD_FORWARD = utf8.encode('vfp: verdict=forward packet=');

/**
 * One pcapng: interface i = port i (named after it); forwarded frames on their egress port, drops
 * on their ingress port, each with a comment. A comment is made once per (composite, verdict,
 * hit, host answer, ingress, egress) as bytes and reused; only the packet number is written per
 * frame.
 */
export class PcapngSink implements FrameSink {
  readonly writer: PcapngWriter;
  private readonly names: readonly string[];
  /** Comment parts by (composite, hit, generated), then by (verdict or reason, ingress, egress). */
  private readonly parts = new Map<number, Map<number, CommentParts>>();
  private readonly headDrop: Uint8Array[] = [];

  constructor(
    path: string,
    policy: Policy,
    private readonly engine: Engine,
    private readonly writeDrops: boolean,
    private readonly comments: CommentMode = 'full',
  ) {
    this.writer = PcapngWriter.toFile(path);
    this.names = policy.portNames;
    for (const p of policy.ports) this.writer.addInterface(p.name, 1, `${p.kind} port`);
  }

  emit(out: EmitBatch): void {
    const input = out.input!;
    const writer = this.writer;
    const numbers = input.numbers;
    const seconds = input.timestampSeconds;
    const nanos = input.timestampNanos;
    const commented = this.comments !== 'none';
    for (let j = 0; j < out.count; j++) {
      const drop = out.kindOf(j) === EMIT_DROP;
      const port = out.ports[j]!;
      if (drop && (!this.writeDrops || port < 0)) continue;
      const f = out.frames[j]!;
      const flags = drop ? EPB_INBOUND : EPB_OUTBOUND;
      if (!commented) {
        writer.writeFrame(port, out.dataOf(j), out.offsetOf(j), out.lengthOf(j), out.wireLengthOf(j), seconds[f]!, nanos[f]!, undefined, flags);
        continue;
      }
      const parts = this.partsOf(out, j, drop);
      writer.writeFrameNumbered(port, out.dataOf(j), out.offsetOf(j), out.lengthOf(j), out.wireLengthOf(j), seconds[f]!, nanos[f]!, parts.head, numbers[f]!, parts.tail, flags);
    }
  }

  private partsOf(out: EmitBatch, j: number, drop: boolean): CommentParts {
    const composite = out.composites[j]!;
    const hit = out.hitOf(j);
    const generated = out.generatedOf(j);
    const k1 = (composite + 2) * 8 + hit * 4 + generated;
    const k2 = drop ? -1 - (out.reasons[j]! * 65536 + out.ports[j]!) : out.ingressOf(j) * 65536 + out.ports[j]!;
    // Runs of frames of one flow (or one decision) share their parts: the last ones are kept at hand.
    if (k1 === this.lastK1 && k2 === this.lastK2) return this.lastParts!;
    const p = this.lookupParts(out, j, drop, composite, hit, generated, k1, k2);
    this.lastK1 = k1;
    this.lastK2 = k2;
    this.lastParts = p;
    return p;
  }

  private lastK1 = NaN;
  private lastK2 = NaN;
  private lastParts: CommentParts | null = null;

  private lookupParts(out: EmitBatch, j: number, drop: boolean, composite: number, hit: number, generated: number, k1: number, k2: number): CommentParts {
    let byPorts = this.parts.get(k1);
    if (byPorts === undefined) {
      byPorts = new Map();
      this.parts.set(k1, byPorts);
    }
    const ingress = out.ingressOf(j);
    const port = out.ports[j]!;
    const reason = out.reasons[j]!;
    let p = byPorts.get(k2);
    if (p === undefined) {
      p = this.makeParts(drop, reason, drop ? port : ingress, port, composite, hit === 1, generated);
      byPorts.set(k2, p);
    }
    return p;
  }

  private makeParts(drop: boolean, reason: number, inPort: number, outPort: number, composite: number, hit: boolean, generated: number): CommentParts {
    let head: Uint8Array;
    if (drop) {
      head = this.headDrop[reason] ??= utf8.encode(`vfp: verdict=drop reason=${DROP_REASONS[reason]} packet=`);
    } else head = HEAD_FORWARD;
    let tail = '';
    if (generated) tail += ` host=${GENERATED[generated]}`;
    tail += ` in=${this.names[inPort] ?? '-'} flow=${hit ? 'hit' : 'miss'}`;
    if (!drop) tail += ` out=${this.names[outPort]}`;
    if (this.comments === 'full') {
      const text = composite >= 0 ? this.engine.composites.comments[composite] : '';
      tail += ` | ${text || '-'}`;
    }
    return { head, tail: utf8.encode(tail) };
  }

  close(): void {
    this.writer.close();
  }
}

/** One classic pcap per port (`BASE.PORT.pcap`), forwarded frames only. */
export class SplitSink implements FrameSink {
  readonly writers: PcapWriter[];
  readonly files: string[];

  constructor(base: string, policy: Policy) {
    const stem = base.replace(/\.pcapng$|\.pcap$/, '');
    this.files = policy.portNames.map((n) => `${stem}.${n.replace(/[^A-Za-z0-9_.-]/g, '_')}.pcap`);
    this.writers = this.files.map((f) => PcapWriter.toFile(f, { nanosecond: true }));
  }

  emit(out: EmitBatch): void {
    const input = out.input!;
    const seconds = input.timestampSeconds;
    const nanos = input.timestampNanos;
    for (let j = 0; j < out.count; j++) {
      if (out.kindOf(j) !== EMIT_FORWARD) continue;
      const f = out.frames[j]!;
      this.writers[out.ports[j]!]!.writeFrame(out.dataOf(j), out.offsetOf(j), out.lengthOf(j), out.wireLengthOf(j), seconds[f]!, nanos[f]!);
    }
  }

  close(): void {
    for (const w of this.writers) w.close();
  }
}

export class NullSink implements FrameSink {
  emit(): void {}
}

/** A policy update: from input frame `at` on, `policy` (a new generation) is in force. */
export interface PolicyUpdate {
  at: number;
  policy: Policy;
  file: string;
}

export interface ReplayRunOptions {
  batchSize?: number;
  /** Policy generations to install before the given frame numbers (sorted by `at`). */
  updates?: readonly PolicyUpdate[];
  /** Stop after this input frame number. */
  limit?: number;
  /** Called after each batch (trace printing, progress). */
  onBatch?: (reader: CaptureReader) => void;
}

export interface ReplayResult {
  reader: CaptureReader;
  seconds: number;
  firstTime: number;
  lastTime: number;
  failure: unknown;
}

/**
 * Read `input` (a path, or a reader already opened on it) through `engine` into `sink`. A bad
 * capture is reported after every frame before it was processed.
 */
export function replayCapture(input: string | CaptureReader, engine: Engine, resolver: IngressResolver, sink: FrameSink, options: ReplayRunOptions = {}): ReplayResult {
  const reader = typeof input === 'string' ? CaptureReader.openFile(input) : input;
  const batch = new FrameBatch(options.batchSize ?? 512);
  const limit = options.limit ?? Infinity;
  const updates = options.updates ?? [];
  let next = 0;
  let first = -1;
  let last = 0;
  let failure: unknown = null;
  const t0 = process.hrtime.bigint();
  try {
    for (;;) {
      const n = reader.read(batch);
      if (n === 0) break;
      resolver.update(reader);
      let count = n;
      if (batch.numbers[n - 1]! > limit) {
        count = 0;
        while (count < n && batch.numbers[count]! <= limit) count++;
        batch.count = count;
      }
      if (count > 0) {
        if (first < 0) first = batch.timestampSeconds[0]! + batch.timestampNanos[0]! * 1e-9;
        last = batch.timestampSeconds[count - 1]! + batch.timestampNanos[count - 1]! * 1e-9;
        // A policy update due inside this batch splits it: the frames before it run first.
        while (next < updates.length && updates[next]!.at <= batch.numbers[batch.count - 1]!) {
          const u = updates[next++]!;
          let k = 0;
          while (k < batch.count && batch.numbers[k]! < u.at) k++;
          if (k > 0) {
            const rest = batch.count;
            batch.count = k;
            engine.process(batch, resolver.map, sink);
            batch.count = rest;
            dropHead(batch, k);
          }
          engine.setPolicy(u.policy);
        }
        if (batch.count > 0) engine.process(batch, resolver.map, sink);
      }
      options.onBatch?.(reader);
      if (count < n) break;
    }
  } catch (e) {
    failure = e;
  } finally {
    reader.close();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { reader, seconds, firstTime: first, lastTime: last, failure };
}

/** Remove the first k frames of a batch (the columns a reader fills; parse runs again). */
function dropHead(batch: FrameBatch, k: number): void {
  const n = batch.count;
  batch.offsets.copyWithin(0, k, n);
  batch.lengths.copyWithin(0, k, n);
  batch.wireLengths.copyWithin(0, k, n);
  batch.timestampSeconds.copyWithin(0, k, n);
  batch.timestampNanos.copyWithin(0, k, n);
  batch.sources.copyWithin(0, k, n);
  batch.numbers.copyWithin(0, k, n);
  batch.count = n - k;
}

/** Parse `N:FILE` values of --update into policy generations 2, 3, ... in frame order. */
export function parseUpdates(values: readonly string[], first: Policy, options: PolicyOptions = {}): PolicyUpdate[] {
  const parsed = values.map((v) => {
    const m = /^(\d+):(.+)$/.exec(v);
    if (!m || Number(m[1]) < 1) throw new UsageError(`--update ${v}: expected PACKET:TOPOLOGY, e.g. --update 100:new.json`);
    return { at: Number(m[1]), file: m[2]! };
  });
  parsed.sort((a, b) => a.at - b.at);
  return parsed.map((u, i) => {
    const policy = compilePolicy(loadTopologyFile(u.file), i + 2, options);
    if (policy.portNames.join('\n') !== first.portNames.join('\n')) {
      throw new UsageError(`--update ${u.at}:${u.file}: a policy update must keep the same ports (${first.portNames.join(', ')}); it has ${policy.portNames.join(', ')}`);
    }
    return { at: u.at, file: u.file, policy };
  });
}

export interface ReplaySummary {
  packets: { in: number; out: number; dropped: number };
  drops: Record<string, number>;
  ports: Record<string, { rx: number; tx: number }>;
  nat: { sessions: number; created: number; expired: number };
  flows: Record<string, number>;
  seconds: number;
  pps: number;
  [more: string]: unknown;
}

export function summarize(engine: Engine, r: ReplayResult, extra: Record<string, unknown>): ReplaySummary {
  const c = (name: (typeof ENGINE_COUNTERS)[number]): number => engine.counter(name);
  const drops: Record<string, number> = {};
  for (let i = 1; i < DROP_REASON_COUNT; i++) drops[DROP_REASONS[i]!] = engine.drops[i]!;
  const ports: Record<string, { rx: number; tx: number }> = {};
  engine.policy.portNames.forEach((name, i) => (ports[name] = { rx: engine.portRx[i]!, tx: engine.portTx[i]! }));
  const table: Record<string, number> = {};
  FLOW_COUNTERS.forEach((name, i) => (table[name] = engine.flows.counters[i]!));
  const seconds = Number(r.seconds.toFixed(6));
  return {
    packets: { in: c('in'), out: c('out'), dropped: c('dropped') },
    drops,
    ports,
    nat: { sessions: 0, created: 0, expired: 0 },
    flows: {
      hits: c('flow-hits'),
      misses: c('flow-misses'),
      stale: c('flow-stale'),
      uncached: c('uncached'),
      entries: engine.flows.count,
      inserted: table['inserted']!,
      expired: table['expired']!,
      evicted: table['evicted']!,
      full: table['full']!,
    },
    seconds,
    pps: r.seconds > 0 ? Math.round(c('in') / r.seconds) : 0,
    emitted: c('emitted'),
    meters: Object.fromEntries(engine.policy.meters.map((m) => {
      const i = engine.meterNames.indexOf(m);
      return [m, { packets: i < 0 ? 0 : engine.meterPackets[i]!, bytes: i < 0 ? 0 : engine.meterBytes[i]! }];
    })),
    host: { answers: c('host-generated'), forwarded: c('host-forwarded'), dropped: c('host-dropped') },
    generation: engine.policy.generation,
    captureSeconds: r.firstTime < 0 ? 0 : Number((r.lastTime - r.firstTime).toFixed(9)),
    ...extra,
  };
}

export function formatSummary(s: ReplaySummary, input: string, config: string): string[] {
  const dropList = Object.entries(s.drops)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  const host = s['host'] as { answers: number; forwarded: number; dropped: number };
  const lines = [
    `Replayed:   ${input} through ${config} (policy generation ${String(s['generation'])})`,
    `Packets:    in ${s.packets.in}, out ${s.packets.out}, dropped ${s.packets.dropped}; frames emitted ${String(s['emitted'])}`,
    `Drops:      ${dropList.length ? dropList.join(', ') : 'none'}`,
    `Flows:      hits ${s.flows['hits']}, misses ${s.flows['misses']}, not cached ${s.flows['uncached']}; ${s.flows['entries']} entries in the table (${s.flows['inserted']} inserted, ${s.flows['expired']} expired)`,
    `Host:       ${host.answers} answers from host vNICs (${host.forwarded} delivered, ${host.dropped} dropped)`,
    `NAT:        ${s.nat.sessions} sessions (WinNAT arrives with the NAT driver)`,
    `Ports:`,
    ...Object.entries(s.ports).map(([name, p]) => `  ${name.padEnd(14)} rx ${String(p.rx).padStart(8)}  tx ${String(p.tx).padStart(8)}`),
    `Time:       ${Number(s['captureSeconds']).toFixed(6)} s of capture replayed in ${s.seconds.toFixed(3)} s (${s.pps.toLocaleString('en-US')} packets/s)`,
  ];
  if (s['output']) lines.push(`Output:     ${String(s['output'])}: ${String(s['outputFrames'])} frames${String(s['output']).endsWith('.pcap') ? '' : ', one interface per port, a verdict comment on each'}`);
  return lines;
}

export function engineOptionsFrom(o: { flowCapacity?: number; whenFull?: string; uftTtl?: number; rstTimeout?: number }): EngineOptions {
  const e: EngineOptions = {};
  if (o.uftTtl !== undefined) e.uftTtl = o.uftTtl;
  if (o.rstTimeout !== undefined) e.rstTimeout = o.rstTimeout;
  if (o.flowCapacity !== undefined) e.flowCapacity = o.flowCapacity;
  if (o.whenFull !== undefined) e.whenFull = o.whenFull === 'evict-idle' ? 'evict-idle' : 'drop';
  return e;
}

export { ENGINE_COUNTERS };
