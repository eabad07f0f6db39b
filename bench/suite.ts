/**
 * The macro benchmark harness behind `vfp bench`: whole-pipeline scenarios over millions of
 * frames, timed by the wall clock (process.hrtime.bigint), reported as Mpps, Gbps, ns/packet and
 * peak RSS, with tcpreplay-style totals, and peers (tcpdump) timed on the same file in the same
 * run. Throughput targets are checked here, never in timed unit tests.
 *
 * Scenario registry. BENCH_SCENARIOS is a list of { name, description, run(ctx) }; `run` returns
 * one ScenarioResult per mode it measured and may fill `ctx.peer` (the tcpdump figure); a mode
 * that fails its checks adds to `ctx.errors` instead of returning a figure (the report lists it,
 * `vfp bench` exits 1). Later issues add nat-established, nat-new-flows, vxlan-encap/decap, imix,
 * flows-1m by appending to the list; `--filter RE` selects by name. The report prints the replay
 * table first, then one table for the other scenarios.
 *
 * Scenario `replay` (first: the figures users meet). It times exactly what a user runs, as whole
 * processes (`process.execPath dist/src/cli/vfp.cjs replay ...`, spawn to exit: start-up, module
 * loading, topology compile, reading, the pipeline, writing and the summary), against tcpdump on
 * the same file in the same run. Inputs, synthesized and cached like the others (classic pcap,
 * 60-byte frames, seed 1), through the sample topology pcaps/transparent.json:
 *   - flows: `synth transparent-flows`, --packets frames (2,000,000) of 4,096 established TCP
 *     connections between remote clients (behind the uplink's router) and web:80, both
 *     directions; the first frame of each flow installs its pair (web's stateful allow-in), every
 *     other one is a flow-cache hit (checked: flows.misses = 4,096).
 *   - new flows: `synth transparent-syns`, 1,000,000 SYNs (--packets / 2 when given), each a new
 *     flow pair, replayed with --flow-capacity 4194304 (checked: flows.misses = frames, full = 0).
 * Modes, each one warm-up then the best of `runs` (3), ours and the peer interleaved (A B A B:
 * drift on a shared host hits both), the input read once before (page cache warm):
 *   - no output:     vfp replay F --config T --json              vs tcpdump -r F -w /dev/null
 *   - pcap --split:  ... --out OUT.pcap --split --json           vs tcpdump -r F -w OUT.pcap
 *   - pcapng:        ... --out OUT.pcapng --json (verdict comments, the default) vs the same
 *   - pcapng --comments verdict: when `vfp replay --help` lists --comments (else a note says it
 *     was skipped)
 *   - new flows:     vfp replay NEW --config T --flow-capacity 4194304 --json: new flows/s
 *     (frames / wall seconds), no peer.
 * Before the modes (with the no-output mode), a note gives what every run pays before its
 * frames: a bare `node -e 0` and `vfp replay` of the flows input's first frame, interleaved, best
 * of `runs`. At 2 M frames those fixed costs are a third of tcpdump's whole time; with
 * --packets 10000000 they weigh five times less.
 * Targets (issue 10, one worker): >= 1.0x tcpdump without output and with --split (aim 1.5x);
 * pcapng with verdict comments >= 0.5x tcpdump -w; >= 500k new flows/s (aim 1M/s). The ratio is
 * tcpdump's seconds / ours (> 1: we are faster). Every child's JSON summary is checked (exit 0,
 * packets.in = frames, all forwarded, the misses above, every frame written) and every tcpdump's
 * exit and output size, so a broken run gives an error, not a figure (bench/replay.ts). Outputs
 * go to os.tmpdir()/vfp-bench/replay-out-PID/ and are deleted after each run. Peak RSS of each
 * child (ours and tcpdump) comes from GNU time (/usr/bin/time -f %M) when installed, else '?'.
 * Without tcpdump the modes report no ratio and a note says so.
 *
 * Scenario `parse`. Input: `synth mix64` (60-byte frames, 64 on the wire; 65,536 flows, seed 1),
 * 2,000,000 frames by default, as a classic pcap cached under os.tmpdir()/vfp-bench and keyed by
 * scenario, count, flows, seed and a fingerprint of the generator's output (so a change to synth/
 * regenerates it). Modes, each one warm-up then the best of `runs` (3):
 *   - page-cache: CaptureReader.openFile + parseBatch; the file is read once before, so it is in
 *     the page cache. Runs first, so its peak RSS is not inflated by the in-memory copy.
 *   - memory: the file in one Buffer, CaptureReader.fromBytes + parseBatch. With --workers N > 1,
 *     N worker threads each parse a disjoint slice of the capture held in one SharedArrayBuffer
 *     (each slice is a pcap image: the 24-byte header + its records), timed from the 'run'
 *     message to the last answer; the figure is the aggregate.
 *   - peer: `tcpdump -r IN -w /dev/null` via spawnSync on the same file, when tcpdump is on PATH
 *     (its time includes process start-up, ~2 ms, negligible at 2M frames).
 *
 * Units. `gbps` counts captured frame bytes (60 per frame here) x 8. `lineGbps` adds the 24 bytes
 * a frame costs on an Ethernet wire beyond its captured bytes (4 FCS + 8 preamble/SFD + 12
 * inter-frame gap), so 60-byte frames at 14.88 Mpps are 10 Gb/s of line rate. `peakRssMiB` is
 * process.resourceUsage().maxRSS: the process's peak so far (it never goes down), so later modes
 * carry the earlier ones' peak; the parse scenario's tcpdump RSS is not measured. Replay rows are
 * the exception: their peakRssMiB is the vfp child's (tcpdump's in replay.peer), from GNU time,
 * null without it.
 *
 * Honesty: every parse is consumed: the flow hashes of all frames are XORed into `checksum`, which
 * is printed (and must agree between modes), so the JIT cannot skip the work.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FrameBatch } from '../src/frame/batch.js';
import { CaptureReader } from '../src/io/reader.js';
import { PcapWriter } from '../src/io/writer.js';
import { parseBatch } from '../src/parse/parse.js';
import { synthesize } from '../src/synth/scenarios.js';
import { runAclHit, runAclMiss } from './acl.js';
import type { AclBenchRun } from './acl.js';
import { findSampleTopology, NEW_FLOWS_CAPACITY, runReplayBench, warmPageCache } from './replay.js';
import type { ChildFigures, ReplayModeResult, ReplayTarget } from './replay.js';
import type { SynthScenario } from '../src/synth/scenarios.js';

export interface BenchOptions {
  json: boolean;
  workers: number;
  filter?: RegExp;
  /** Frames per scenario (default 2,000,000). */
  packets?: number;
  out: NodeJS.WritableStream;
  /** Timed runs per mode after the warm-up (default 3). */
  runs?: number;
  /** replay: the topology file (default pcaps/transparent.json of this package). */
  replayConfig?: string;
  /** replay: only the modes whose name matches (default all). */
  replayModes?: RegExp;
}

export interface ScenarioResult {
  name: string;
  /** How it was measured: 'memory', 'page-cache', ... */
  mode: string;
  workers: number;
  packets: number;
  /** Captured frame bytes. */
  bytes: number;
  seconds: number;
  mpps: number;
  /** Captured bytes x 8 per second. */
  gbps: number;
  /** With 24 bytes of FCS, preamble and inter-frame gap per frame. */
  lineGbps: number;
  nsPerPacket: number;
  /** The bench process's peak so far; replay rows: the child's (vfp's) peak, null without GNU time. */
  peakRssMiB: number | null;
  /**
   * parse: XOR of every frame's flow hash (consumes the parse; equal across modes). replay: a
   * digest of the child's counters (packets, ports, flow misses; equal across the modes that
   * replay the same input).
   */
  checksum: number;
  input: string;
  /** acl-miss: slow-path cost per new flow, µs. */
  usPerNewFlow?: number;
  /**
   * acl-hit, acl-miss: bench/memprobe.ts just before the timed passes, extra ns per random read
   * over 8 MiB beyond an L1 read. On a shared host it moves with the neighbours' load, and the
   * memory-bound figures move with it: compare reports made at similar values.
   */
  memoryNs?: number;
  /** replay: the comparison with the peer and the target. */
  replay?: ReplayFigures;
}

/** A replay row's comparison: our command and runs, the peer's, the ratio and the target. */
export interface ReplayFigures {
  command: string;
  /** Every timed run of ours, seconds (the row's `seconds` is the best). */
  samples: number[];
  /** Bytes our run wrote (all files), 0 without output. */
  outputBytes: number;
  /** tcpdump on the same file, interleaved; null for new flows, or without tcpdump. */
  peer: ChildFigures | null;
  /** Peer seconds / our seconds (> 1: faster than tcpdump). */
  ratio: number | null;
  /** new flows: flow pairs created per second, end to end. */
  newFlowsPerSecond: number | null;
  target: ReplayTarget;
  /** null: cannot be judged (no peer). */
  met: boolean | null;
}

/** A scenario mode that failed its checks: it has no figure. */
export interface BenchError {
  scenario: string;
  mode: string;
  message: string;
}

export interface PeerResult {
  tool: string;
  command: string;
  version: string;
  packets: number;
  seconds: number;
  mpps: number;
  nsPerPacket: number;
}

export interface BenchReport {
  scenarios: ScenarioResult[];
  /** tcpdump on the parse scenario's file, null when tcpdump is not installed. */
  tcpdump: PeerResult | null;
  /** parse from the page cache / tcpdump, in packets per second (null without tcpdump). */
  ratio: number | null;
  /** parse from memory / tcpdump. */
  ratioMemory: number | null;
  /** Modes that failed their checks (no figure for them); `vfp bench` then exits 1. */
  errors: BenchError[];
  /** Things the reader should know (a mode skipped, a peer missing). */
  notes: string[];
  machine: { cpus: number; model: string; node: string; platform: string };
}

export interface BenchContext {
  options: BenchOptions;
  packets: number;
  runs: number;
  peer: PeerResult | null;
  errors: BenchError[];
  notes: string[];
}

export interface BenchScenario {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<ScenarioResult[]>;
}

export const DEFAULT_BENCH_PACKETS = 2_000_000;
/** Ethernet overhead per frame beyond the captured bytes: FCS 4 + preamble/SFD 8 + IFG 12. */
export const WIRE_OVERHEAD_SIZE = 24;

const PARSE_SCENARIO: SynthScenario = 'mix64';
const PARSE_FLOWS = 65536;
const PARSE_SEED = 1;

/** A short fingerprint of what synth currently makes for `scenario` (cache key part). */
function synthFingerprint(scenario: SynthScenario): string {
  const h = createHash('sha256');
  synthesize(scenario, { packets: 512, flows: 64, seed: PARSE_SEED }, (b, o, l) => h.update(b.subarray(o, o + l)));
  return h.digest('hex').slice(0, 12);
}

/** Generate (once; cached under the OS temp dir) and return the path of a synth capture. */
/** The cache of synthesized inputs (and scratch space for outputs): os.tmpdir()/vfp-bench. */
export function benchDir(): string {
  const dir = join(tmpdir(), 'vfp-bench');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function benchCapture(scenario: SynthScenario, packets: number, flows: number, seed: number): string {
  const dir = benchDir();
  const file = join(dir, `${scenario}-${packets}-f${flows}-s${seed}-${synthFingerprint(scenario)}.pcap`);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const w = PcapWriter.toFile(tmp);
  synthesize(scenario, { packets, flows, seed }, (b, o, l, wl, s, ns) => w.writeFrame(b, o, l, wl, s, ns));
  w.close();
  renameSync(tmp, file);
  return file;
}

/** Read and parse a whole capture; returns [frames, bytes, xor of hashes]. Closes the reader. */
export function parseAll(reader: CaptureReader, batch: FrameBatch): [number, number, number] {
  let frames = 0;
  let x = 0;
  try {
    for (;;) {
      const n = reader.read(batch);
      if (n === 0) break;
      parseBatch(batch);
      // Consume every result: the XOR of all flow hashes is reported and compared across modes.
      const h = batch.hashes;
      for (let i = 0; i < n; i++) x ^= h[i]!;
      frames += n;
    }
  } finally {
    reader.close();
  }
  return [frames, reader.stats.bytes, x >>> 0];
}

function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

function makeResult(name: string, mode: string, workers: number, packets: number, bytes: number, seconds: number, checksum: number, input: string): ScenarioResult {
  return {
    name,
    mode,
    workers,
    packets,
    bytes,
    seconds: round(seconds, 6),
    mpps: round(packets / seconds / 1e6, 3),
    gbps: round((bytes * 8) / seconds / 1e9, 3),
    lineGbps: round(((bytes + WIRE_OVERHEAD_SIZE * packets) * 8) / seconds / 1e9, 3),
    nsPerPacket: round((seconds * 1e9) / packets, 2),
    peakRssMiB: peakRssMiB(),
    checksum,
    input,
  };
}

/** Wall-clock seconds of fn(). */
function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** One warm-up, then the best (smallest) of `runs` timings. */
function bestOf(runs: number, fn: () => number): number {
  fn();
  let best = Infinity;
  for (let r = 0; r < runs; r++) best = Math.min(best, fn());
  return best;
}

export function findTcpdump(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  for (const p of ['/usr/sbin/tcpdump', '/usr/bin/tcpdump', '/usr/local/sbin/tcpdump', '/usr/local/bin/tcpdump']) {
    if (existsSync(p)) return p;
  }
  return null;
}

function tcpdumpPeer(file: string, packets: number, runs: number): PeerResult | null {
  const tcpdump = findTcpdump();
  if (!tcpdump) return null;
  const v = spawnSync(tcpdump, ['--version'], { encoding: 'utf8' });
  const version = `${v.stdout}${v.stderr}`.split('\n')[0]?.trim() ?? '';
  let failure = '';
  const seconds = bestOf(runs, () =>
    timed(() => {
      const r = spawnSync(tcpdump, ['-r', file, '-w', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) failure = r.stderr.toString().trim();
    }),
  );
  if (failure) throw new Error(`bench: tcpdump -r ${file} failed: ${failure}`);
  return {
    tool: 'tcpdump',
    command: `${tcpdump} -r ${file} -w /dev/null`,
    version,
    packets,
    seconds: round(seconds, 6),
    mpps: round(packets / seconds / 1e6, 3),
    nsPerPacket: round((seconds * 1e9) / packets, 2),
  };
}

/**
 * Load a classic pcap straight into one SharedArrayBuffer laid out as `workers` pcap images
 * (header + a disjoint run of records each), then time the workers. The file is read once into
 * the tail of the buffer and the slices are moved down in place (each destination lies before
 * its source), so memory holds one copy of the capture, not two.
 */
async function parseInWorkers(file: string, workers: number, runs: number): Promise<[number, number, number, number]> {
  const size = statSync(file).size;
  const shift = 24 * (workers - 1);
  const sab = new SharedArrayBuffer(size + shift);
  const whole = new Uint8Array(sab);
  const fd = openSync(file, 'r');
  try {
    for (let got = 0; got < size; ) {
      const n = readSync(fd, whole, shift + got, size - got, got);
      if (n <= 0) throw new Error(`bench: short read on ${file}`);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  const view = new DataView(sab);
  const starts: number[] = []; // record offsets in file coordinates
  for (let p = 24; p + 16 <= size; p += 16 + view.getUint32(shift + p + 8, true)) starts.push(p);
  const per = Math.ceil(starts.length / workers);
  const bounds: number[] = [];
  for (let s = 0; s < starts.length; s += per) bounds.push(starts[s]!);
  bounds.push(size);
  const slices = bounds.length - 1;
  const header = whole.slice(shift, shift + 24);
  const ranges: Array<[number, number]> = [];
  for (let s = 0; s < slices; s++) {
    const dest = bounds[s]! + 24 * (s - 1); // where slice s's header goes (slice 0: offset 0)
    whole.copyWithin(dest + 24, shift + bounds[s]!, shift + bounds[s + 1]!);
    whole.set(header, dest);
    ranges.push([dest, 24 + bounds[s + 1]! - bounds[s]!]);
  }
  const url = new URL('./parse-worker.js', import.meta.url);
  const pool = ranges.map(() => new Worker(url));
  try {
    const ready = pool.map((w) => new Promise<void>((res, rej) => w.once('message', () => res()).once('error', rej)));
    pool.forEach((w, s) => w.postMessage({ sab, offset: ranges[s]![0], size: ranges[s]![1] }));
    await Promise.all(ready);
    const run = async (): Promise<[number, number, number, number]> => {
      const done = pool.map((w) => new Promise<[number, number, number]>((res) => w.once('message', res)));
      const t0 = process.hrtime.bigint();
      for (const w of pool) w.postMessage('run');
      const parts = await Promise.all(done);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      let frames = 0;
      let bytes = 0;
      let x = 0;
      for (const [f, b, h] of parts) {
        frames += f;
        bytes += b;
        x ^= h;
      }
      return [dt, frames, bytes, x >>> 0];
    };
    await run(); // warm-up
    let best: [number, number, number, number] = [Infinity, 0, 0, 0];
    for (let i = 0; i < runs; i++) {
      const r = await run();
      if (r[0] < best[0]) best = r;
    }
    return best;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

async function runParse(ctx: BenchContext): Promise<ScenarioResult[]> {
  const { packets, runs } = ctx;
  const file = benchCapture(PARSE_SCENARIO, packets, PARSE_FLOWS, PARSE_SEED);
  const input = `synth ${PARSE_SCENARIO} --packets ${packets} --flows ${PARSE_FLOWS} --seed ${PARSE_SEED} (classic pcap, 60-byte frames)`;
  const batch = new FrameBatch();
  const out: ScenarioResult[] = [];
  let frames = 0;
  let bytes = 0;
  let hash = 0;
  const check = (mode: string, n: number): void => {
    if (n !== packets) throw new Error(`bench parse (${mode}): parsed ${n} frames, expected ${packets}`);
  };

  warmPageCache(file);
  const pc = bestOf(runs, () => timed(() => ([frames, bytes, hash] = parseAll(CaptureReader.openFile(file), batch))));
  check('page-cache', frames);
  out.push(makeResult('parse', 'page-cache', 1, frames, bytes, pc, hash, input));

  if (ctx.options.workers <= 1) {
    const data = readFileSync(file);
    const mem = bestOf(runs, () => timed(() => ([frames, bytes, hash] = parseAll(CaptureReader.fromBytes(data, file), batch))));
    check('memory', frames);
    out.push(makeResult('parse', 'memory', 1, frames, bytes, mem, hash, input));
  } else {
    const [dt, f, b, h] = await parseInWorkers(file, ctx.options.workers, runs);
    check('memory, workers', f);
    out.push(makeResult('parse', 'memory', ctx.options.workers, f, b, dt, h, input));
  }
  ctx.peer = tcpdumpPeer(file, packets, runs);
  return out;
}

function aclResult(name: string, mode: string, r: AclBenchRun, input: string): ScenarioResult {
  const res = makeResult(name, mode, 1, r.packets, r.bytes, r.seconds, r.checksum, input);
  res.memoryNs = r.memoryNs;
  return res;
}

async function runAclHitScenario(ctx: BenchContext): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const flows of [65536, 1 << 20]) {
    const packets = Math.max(ctx.packets, 2 * flows);
    const r = runAclHit(packets, flows, ctx.runs);
    out.push(aclResult('acl-hit', `${flows === 65536 ? '64k' : '1M'} flows`, r, `${packets} 60-byte TCP frames over ${flows} established flows (both directions), 100 ACL rules on the port`));
  }
  return out;
}

/** New flows per acl-miss pass (each installs a flow pair). */
export const ACL_MISS_PACKETS = 200_000;

async function runAclMissScenario(ctx: BenchContext): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  const packets = Math.min(ctx.packets, ACL_MISS_PACKETS);
  for (const rules of [10, 1000, 10000]) {
    const r = runAclMiss(packets, rules, ctx.runs);
    const res = aclResult('acl-miss', `${rules} rules`, r, `${packets} new TCP flows (one SYN each), ${rules} ACL rules, decided by the last`);
    res.usPerNewFlow = round((r.seconds * 1e6) / r.packets, 3);
    out.push(res);
  }
  return out;
}

/** replay: the established-flows input (its frame count is --packets). */
export const REPLAY_FLOWS = 4096;
/** replay: new flows per run by default (--packets / 2 otherwise). */
export const REPLAY_NEW_FLOWS = 1_000_000;
const REPLAY_SEED = 1;

async function runReplayScenario(ctx: BenchContext): Promise<ScenarioResult[]> {
  const frames = ctx.packets;
  const newFlows = ctx.options.packets === undefined ? REPLAY_NEW_FLOWS : Math.max(1000, Math.floor(frames / 2));
  const config = ctx.options.replayConfig ?? findSampleTopology();
  if (!config) {
    ctx.errors.push({ scenario: 'replay', mode: '*', message: 'pcaps/transparent.json not found next to the bench' });
    return [];
  }
  const flowsFile = benchCapture('transparent-flows', frames, REPLAY_FLOWS, REPLAY_SEED);
  const newFlowsFile = benchCapture('transparent-syns', newFlows, 1, REPLAY_SEED);
  const r = runReplayBench({
    flowsFile,
    flowsFrames: frames,
    flows: REPLAY_FLOWS,
    newFlowsFile,
    newFlowsFrames: newFlows,
    frameSize: 60,
    config,
    runs: ctx.runs,
    workDir: benchDir(),
    tcpdump: findTcpdump(),
    ...(ctx.options.replayModes ? { modes: ctx.options.replayModes } : {}),
  });
  for (const e of r.errors) ctx.errors.push({ scenario: 'replay', ...e });
  ctx.notes.push(...r.notes);
  const topology = ctx.options.replayConfig ?? 'pcaps/transparent.json';
  return r.results.map((m) => replayResult(m, frames, newFlows, topology));
}

function replayResult(m: ReplayModeResult, frames: number, newFlows: number, topology: string): ScenarioResult {
  const input =
    m.input === 'flows'
      ? `synth transparent-flows --packets ${frames} --flows ${REPLAY_FLOWS} --seed ${REPLAY_SEED} (classic pcap, 60-byte frames) through ${topology}`
      : `synth transparent-syns --packets ${newFlows} --seed ${REPLAY_SEED} (classic pcap, 60-byte SYNs) through ${topology}, --flow-capacity ${NEW_FLOWS_CAPACITY}`;
  const res = makeResult('replay', m.mode, 1, m.frames, m.bytes, m.ours.seconds, m.digest, input);
  res.peakRssMiB = m.ours.peakRssMiB;
  res.replay = {
    command: m.ours.command,
    samples: m.ours.samples,
    outputBytes: m.ours.outputBytes,
    peer: m.peer,
    ratio: m.ratio,
    newFlowsPerSecond: m.newFlowsPerSecond,
    target: m.target,
    met: m.met,
  };
  return res;
}

/** The scenarios, in run order. Append new ones here. */
export const BENCH_SCENARIOS: readonly BenchScenario[] = [
  {
    name: 'replay',
    description: 'what users run, as whole processes: vfp replay vs tcpdump -r F -w /dev/null, with --out (pcap --split, pcapng) vs tcpdump -w OUT, and 1M new stateful flows',
    run: runReplayScenario,
  },
  {
    name: 'parse',
    description: 'read + parse 64-byte frames: from the page cache, from memory (or N workers), and tcpdump -r IN -w /dev/null',
    run: runParse,
  },
  {
    name: 'acl-hit',
    description: 'the fast path: established flows (64k and 1M) through a port with 100 ACL rules, read from memory to a counting sink',
    run: runAclHitScenario,
  },
  {
    name: 'acl-miss',
    description: 'the slow path: one new flow per packet against 10, 1,000 and 10,000 ACL rules (µs per new flow)',
    run: runAclMissScenario,
  },
];

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const selected = BENCH_SCENARIOS.filter((s) => !options.filter || options.filter.test(s.name));
  if (selected.length === 0) {
    throw new Error(`no benchmark scenario matches ${String(options.filter)} (scenarios: ${BENCH_SCENARIOS.map((s) => s.name).join(', ')})`);
  }
  const ctx: BenchContext = { options, packets: options.packets ?? DEFAULT_BENCH_PACKETS, runs: options.runs ?? 3, peer: null, errors: [], notes: [] };
  const scenarios: ScenarioResult[] = [];
  for (const s of selected) scenarios.push(...(await s.run(ctx)));
  const parseRate = (mode: string): number | undefined => scenarios.find((r) => r.name === 'parse' && r.mode === mode)?.mpps;
  const ratioOf = (mpps: number | undefined): number | null => (ctx.peer && mpps !== undefined ? round(mpps / ctx.peer.mpps, 2) : null);
  const report: BenchReport = {
    scenarios,
    tcpdump: ctx.peer,
    ratio: ratioOf(parseRate('page-cache')),
    ratioMemory: ratioOf(parseRate('memory')),
    errors: ctx.errors,
    notes: ctx.notes,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}` },
  };
  options.out.write(options.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return report;
}

const compact = (n: number): string => (n >= 1e6 ? `${round(n / 1e6, 2)}M` : n >= 1e3 ? `${round(n / 1e3, 1)}k` : String(n));

function targetText(t: ReplayTarget): string {
  if (t.metric === 'ratio') return `>= ${t.min.toFixed(1)}x${t.aim !== null ? ` (aim ${t.aim.toFixed(1)}x)` : ''}`;
  return `>= ${compact(t.min)}/s${t.aim !== null ? ` (aim ${compact(t.aim)}/s)` : ''}`;
}

const rssText = (v: number | null): string => (v === null ? '?' : `${v} MiB`);

/** Lay out rows under a header: the columns listed in `left` left-aligned, the others right-aligned. */
function table(head: string[], rows: string[][], left: readonly number[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The replay table: one row per mode (and per failed mode, its error), then the commands. */
function formatReplay(r: BenchReport): string[] {
  const rows = r.scenarios.filter((x) => x.name === 'replay' && x.replay);
  const errors = (r.errors ?? []).filter((e) => e.scenario === 'replay');
  if (rows.length === 0 && errors.length === 0) return [];
  const runs = rows[0]?.replay?.samples.length;
  const out = [`replay: vfp replay as whole processes (spawn to exit), page cache warm, ${runs ? `best of ${runs} after a warm-up, ` : ''}interleaved with the peer`];
  const head = ['mode', 'packets', 'seconds', 'Mpps', 'peer', 'peer s', 'result', 'target', 'met', 'peak RSS', 'peer RSS'];
  const body = rows.map((x) => {
    const f = x.replay!;
    const peerCmd = f.peer ? f.peer.command.replace(/^\S*tcpdump -r \S+ -w (\S+)$/, (_m, w: string) => `tcpdump -w ${w === '/dev/null' ? w : 'OUT.pcap'}`) : '-';
    const result = f.newFlowsPerSecond !== null ? `${compact(f.newFlowsPerSecond)} new flows/s` : f.ratio !== null ? `${f.ratio.toFixed(2)}x` : '-';
    return [
      x.mode,
      String(x.packets),
      x.seconds.toFixed(3),
      x.mpps.toFixed(2),
      peerCmd,
      f.peer ? f.peer.seconds.toFixed(3) : '-',
      result,
      targetText(f.target),
      f.met === null ? '?' : f.met ? 'yes' : 'NO',
      rssText(x.peakRssMiB),
      f.peer ? rssText(f.peer.peakRssMiB) : '-',
    ];
  });
  out.push(...table(head, body, [0, 4, 7]));
  for (const e of errors) out.push(`${e.mode}  ERROR: ${e.message}`);
  out.push('');
  return out;
}

/** The human report: the replay table, then the other scenarios' table, tcpreplay-style totals per row, the tcpdump line, the machine. */
export function formatReport(r: BenchReport): string {
  const out = formatReplay(r);
  const head = ['scenario', 'mode', 'workers', 'packets', 'Mpps', 'Gbps', 'line Gbps', 'ns/pkt', 'peak RSS'];
  const rows = r.scenarios
    .filter((x) => !x.replay)
    .map((x) => [x.name, x.mode, String(x.workers), String(x.packets), x.mpps.toFixed(2), x.gbps.toFixed(2), x.lineGbps.toFixed(2), x.nsPerPacket.toFixed(1), rssText(x.peakRssMiB)]);
  if (r.tcpdump) {
    const t = r.tcpdump;
    rows.push(['parse', 'tcpdump -r -w /dev/null', '1', String(t.packets), t.mpps.toFixed(2), '', '', t.nsPerPacket.toFixed(1), '-']);
  }
  if (rows.length > 0) out.push(...table(head, rows, [0, 1]));
  for (const e of (r.errors ?? []).filter((x) => x.scenario !== 'replay')) out.push(`${e.scenario}  ${e.mode}  ERROR: ${e.message}`);
  if (rows.length > 0) out.push('');
  for (const x of r.scenarios) {
    out.push(`${x.name} (${x.mode}, ${x.workers} worker${x.workers === 1 ? '' : 's'}; checksum ${x.checksum}):`);
    const verb = x.name === 'parse' ? 'parsed' : x.replay ? 'replayed (whole process)' : 'processed';
    out.push(`Actual: ${x.packets} packets (${x.bytes} bytes) ${verb} in ${x.seconds.toFixed(6)} seconds${x.usPerNewFlow !== undefined ? ` (${x.usPerNewFlow} µs per new flow)` : ''}`);
    out.push(`Rated: ${(x.bytes / x.seconds).toFixed(1)} Bps, ${((x.bytes * 8) / x.seconds / 1e6).toFixed(2)} Mbps, ${(x.packets / x.seconds).toFixed(2)} pps`);
    if (x.memoryNs !== undefined) {
      out.push(`Memory: a random read over 8 MiB cost ${x.memoryNs} ns more than an L1 read just before the timed runs (on a shared host this moves with the load of the neighbours, and this figure with it)`);
    }
    const f = x.replay;
    if (f) {
      out.push(`Command: ${f.command}${f.outputBytes ? ` (wrote ${f.outputBytes} bytes)` : ''}; runs ${f.samples.map((v) => v.toFixed(3)).join(', ')} s`);
      if (f.peer) out.push(`Peer: ${f.peer.command}${f.peer.outputBytes ? ` (wrote ${f.peer.outputBytes} bytes)` : ''}; runs ${f.peer.samples.map((v) => v.toFixed(3)).join(', ')} s; ours / peer (speed): ${f.ratio}x`);
      if (f.newFlowsPerSecond !== null) out.push(`New flows: ${f.newFlowsPerSecond} flow pairs created per second, end to end`);
      out.push(`Target: ${targetText(f.target)}: ${f.met === null ? 'not judged (no peer)' : f.met ? 'met' : 'not met'}`);
    }
    out.push('');
  }
  if (r.tcpdump) {
    out.push(`tcpdump (${r.tcpdump.version}): ${r.tcpdump.command}`);
    out.push(`Actual: ${r.tcpdump.packets} packets read in ${r.tcpdump.seconds.toFixed(6)} seconds; Rated: ${(r.tcpdump.packets / r.tcpdump.seconds).toFixed(2)} pps`);
    out.push(`ours / tcpdump (pps): ${r.ratio ?? '-'}x from the page cache, ${r.ratioMemory ?? '-'}x from memory`);
  } else if (r.scenarios.some((x) => x.name === 'parse')) {
    // (tcpdump runs with the parse scenario only: without it there is nothing to say)
    out.push('tcpdump is not installed: no side-by-side figure (apt-get install tcpdump)');
  }
  for (const n of r.notes ?? []) out.push(`note: ${n}`);
  out.push(`machine: ${r.machine.cpus} cpus (${r.machine.model}), node ${r.machine.node}, ${r.machine.platform}`);
  return `${out.join('\n')}\n`;
}
