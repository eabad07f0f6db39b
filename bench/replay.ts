/**
 * The machinery of `vfp bench`'s `replay` scenario (the essay is in suite.ts): run `vfp replay`
 * and its peer (tcpdump) as whole processes, interleaved, and keep only figures whose runs were
 * checked.
 *
 * A child is `process.execPath <dist>/src/cli/main.js replay ...` (the built CLI, found next to
 * this file once built), wrapped in GNU time (`/usr/bin/time -f %M -o FILE`) when present, for
 * its peak RSS; the peer is wrapped the same way, so both pay the same wrapper. Time is the bench
 * process's wall clock around spawnSync: from spawn to exit, start-up and module loading
 * included, as a user waits for it.
 *
 * Checks. Every run of ours must exit 0 and print a JSON summary whose packets.in is the frame
 * count, with every frame forwarded and none dropped, the number of slow-path runs the input
 * implies (flows.misses), no flow refused by a full table (new flows), and as many frames in the
 * output as forwarded (output modes). Every peer run must exit 0 and (with -w FILE) write a file
 * as large as its input (the same records). A mode whose run fails a check reports an error and
 * no figure.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a mode must reach: a speed ratio to its peer, or new flows per second. */
export interface ReplayTarget {
  metric: 'ratio' | 'newFlowsPerSecond';
  /** The floor the issue sets (one worker). */
  min: number;
  /** Where we are headed (null: no aim beyond the floor). */
  aim: number | null;
}

/** One side of a comparison: the best of the timed runs. */
export interface ChildFigures {
  /** The command as a user types it (`vfp ...` for ours). */
  command: string;
  /** Best (smallest) wall-clock seconds, spawn to exit. */
  seconds: number;
  /** Every timed run, in order (the warm-up excluded). */
  samples: number[];
  /** Peak RSS of the child (GNU time %M), of its best run; null without GNU time. */
  peakRssMiB: number | null;
  /** Bytes written to the output file(s) (0 without output). */
  outputBytes: number;
}

export interface ReplayModeResult {
  mode: string;
  /** 'flows' (established flows, flow-cache hits) or 'new-flows' (one SYN per new flow pair). */
  input: 'flows' | 'new-flows';
  file: string;
  frames: number;
  /** Captured bytes of the input's frames. */
  bytes: number;
  ours: ChildFigures;
  peer: ChildFigures | null;
  /** Peer seconds / our seconds: > 1 means faster than the peer; null without a peer. */
  ratio: number | null;
  /** New flows mode: frames (each a new flow pair) per second, spawn to exit. */
  newFlowsPerSecond: number | null;
  target: ReplayTarget;
  /** Whether the target is met; null when it cannot be judged (no peer). */
  met: boolean | null;
  /** FNV-1a of the child's counters (packets, ports, flow misses): equal for every mode over the same input. */
  digest: number;
}

export interface ReplayBenchError {
  mode: string;
  message: string;
}

export interface ReplayBenchInput {
  /** 64-byte frames of established flows through `config` (flows.misses must equal `flows`). */
  flowsFile: string;
  flowsFrames: number;
  flows: number;
  /** One TCP SYN per frame, each a new stateful flow pair. */
  newFlowsFile: string;
  newFlowsFrames: number;
  /** Captured bytes per frame of both inputs (60). */
  frameSize: number;
  config: string;
  /** Timed runs per side after one warm-up each. */
  runs: number;
  /** Where outputs go (a private subdirectory is made and removed). */
  workDir: string;
  /** tcpdump's path, null when not installed. */
  tcpdump: string | null;
  /** The built CLI (default: found next to this file). */
  vfpMain?: string;
  /** Only modes whose name matches (default all). */
  modes?: RegExp;
}

export interface ReplayBenchOutput {
  results: ReplayModeResult[];
  errors: ReplayBenchError[];
  notes: string[];
}

/** `--flow-capacity` of the new-flows mode: room for 1,000,000 flow pairs and then some. */
export const NEW_FLOWS_CAPACITY = 4194304;
/** GNU time, for the peak RSS of a child. */
const GNU_TIME = '/usr/bin/time';
/** A child that runs longer than this is killed and its mode reports an error. */
const CHILD_TIMEOUT_MS = 900_000;

export const REPLAY_TARGETS = {
  plain: { metric: 'ratio', min: 1.0, aim: 1.5 },
  split: { metric: 'ratio', min: 1.0, aim: 1.5 },
  pcapng: { metric: 'ratio', min: 0.5, aim: null },
  newFlows: { metric: 'newFlowsPerSecond', min: 500_000, aim: 1_000_000 },
} as const satisfies Record<string, ReplayTarget>;

/** The built `vfp` entry: dist/src/cli/vfp.cjs, seen from dist/bench/ (built) or bench/ (sources under a test runner). */
export function findVfpMain(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const c of [resolve(here, '../src/cli/vfp.cjs'), resolve(here, '../dist/src/cli/vfp.cjs')]) if (existsSync(c)) return c;
  return null;
}

/** pcaps/transparent.json of this package, seen from dist/bench/ or bench/. */
export function findSampleTopology(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const c of [resolve(here, '../../pcaps/transparent.json'), resolve(here, '../pcaps/transparent.json')]) if (existsSync(c)) return c;
  return null;
}

/** Read the file once through a 1 MiB buffer: into the page cache, without growing our RSS. */
export function warmPageCache(file: string): void {
  const fd = openSync(file, 'r');
  const buf = new Uint8Array(1 << 20);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

let gnuTime: boolean | undefined;
function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    gnuTime = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', '-o', '/dev/null', 'true'], { stdio: 'ignore' }).status === 0;
  }
  return gnuTime;
}

interface ChildRun {
  seconds: number;
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  rssMiB: number | null;
  outputBytes: number;
  error: string | null;
}

/** Run one child, timed from spawn to exit; then measure and delete what it wrote into `outDir`. */
function runChild(cmd: string, args: string[], outDir: string): ChildRun {
  const rssFile = join(outDir, '..', `rss-${process.pid}.txt`);
  const wrap = hasGnuTime();
  const t0 = process.hrtime.bigint();
  const r = wrap
    ? spawnSync(GNU_TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: CHILD_TIMEOUT_MS })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: CHILD_TIMEOUT_MS });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let rssMiB: number | null = null;
  if (wrap && existsSync(rssFile)) {
    // GNU time writes "Command exited with non-zero status N" before the figure when it fails.
    const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
    if (/^\d+$/.test(last)) rssMiB = Math.round(Number(last) / 1024);
    rmSync(rssFile, { force: true });
  }
  let outputBytes = 0;
  for (const f of readdirSync(outDir)) {
    const p = join(outDir, f);
    outputBytes += statSync(p).size;
    rmSync(p, { force: true });
  }
  return {
    seconds,
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    rssMiB,
    outputBytes,
    error: r.error ? r.error.message : null,
  };
}

/** Why a run failed in a line (exit status, signal, last line of stderr), or null. */
function exitProblem(r: ChildRun, what: string): string | null {
  if (r.error) return `${what}: ${r.error}`;
  if (r.status === 0) return null;
  const last = r.stderr.trim().split('\n').filter((l) => l && !/^Command exited with/.test(l)).pop() ?? '';
  return `${what} ${r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`}${last ? `: ${last}` : ''}`;
}

/** The fields of `vfp replay --json` the checks read. */
interface Summary {
  packets: { in: number; out: number; dropped: number };
  ports: Record<string, { rx: number; tx: number }>;
  flows: Record<string, number>;
  drops: Record<string, number>;
  outputFrames?: number;
}

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface ModeSpec {
  mode: string;
  input: 'flows' | 'new-flows';
  /** vfp replay arguments after `IN --config TOPO` (before --json). */
  extra: (out: string) => string[];
  /** The peer's -w target: '/dev/null', 'file' (in the output dir), or null (no peer). */
  peer: '/dev/null' | 'file' | null;
  output: boolean;
  target: ReplayTarget;
}

function modeSpecs(comments: boolean): ModeSpec[] {
  const specs: ModeSpec[] = [
    { mode: 'no output', input: 'flows', extra: () => [], peer: '/dev/null', output: false, target: REPLAY_TARGETS.plain },
    { mode: 'pcap --split', input: 'flows', extra: (o) => ['--out', join(o, 'out.pcap'), '--split'], peer: 'file', output: true, target: REPLAY_TARGETS.split },
    { mode: 'pcapng', input: 'flows', extra: (o) => ['--out', join(o, 'out.pcapng')], peer: 'file', output: true, target: REPLAY_TARGETS.pcapng },
  ];
  if (comments) {
    specs.push({ mode: 'pcapng --comments verdict', input: 'flows', extra: (o) => ['--out', join(o, 'out.pcapng'), '--comments', 'verdict'], peer: 'file', output: true, target: REPLAY_TARGETS.pcapng });
  }
  specs.push({ mode: 'new flows', input: 'new-flows', extra: () => ['--flow-capacity', String(NEW_FLOWS_CAPACITY)], peer: null, output: false, target: REPLAY_TARGETS.newFlows });
  return specs;
}

/** Whether this `vfp replay` has `--comments` (another change adds it). */
function replayHasComments(main: string): boolean {
  const r = spawnSync(process.execPath, [main, 'replay', '--help'], { encoding: 'utf8' });
  return /--comments\b/.test(r.stdout ?? '');
}

/** Check a run of ours against what the input implies; returns the summary or throws with the reason. */
function checkOurs(r: ChildRun, spec: ModeSpec, frames: number, misses: number): Summary {
  const p = exitProblem(r, 'vfp replay');
  if (p) throw new Error(p);
  let s: Summary;
  try {
    s = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Summary;
  } catch {
    throw new Error(`vfp replay printed no JSON summary (stdout: ${JSON.stringify(r.stdout.slice(0, 200))})`);
  }
  const problems: string[] = [];
  if (s?.packets?.in !== frames) problems.push(`packets.in ${s?.packets?.in}, expected ${frames}`);
  if (s?.packets?.out !== frames || s?.packets?.dropped !== 0) {
    const drops = Object.entries(s?.drops ?? {})
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    problems.push(`out ${s?.packets?.out}, dropped ${s?.packets?.dropped} of ${frames} (every frame should be forwarded${drops ? `; drops: ${drops}` : ''})`);
  }
  if (s?.flows?.['misses'] !== misses) problems.push(`flows.misses ${s?.flows?.['misses']}, expected ${misses}`);
  if (spec.input === 'new-flows' && s?.flows?.['full'] !== 0) problems.push(`flows.full ${s?.flows?.['full']}: the table refused new flows`);
  if (spec.output && s?.outputFrames !== frames) problems.push(`${s?.outputFrames} frames written, expected ${frames}`);
  if (spec.output && r.outputBytes === 0) problems.push('no output file written');
  if (problems.length) throw new Error(`vfp replay: ${problems.join('; ')}`);
  return s;
}

function checkPeer(r: ChildRun, spec: ModeSpec, inputSize: number): void {
  const p = exitProblem(r, 'tcpdump');
  if (p) throw new Error(p);
  if (spec.peer === 'file' && r.outputBytes !== inputSize) throw new Error(`tcpdump wrote ${r.outputBytes} bytes, expected ${inputSize} (a copy of the input)`);
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** Display form: `vfp` for our CLI. */
function display(cmd: string, args: string[], main: string): string {
  return cmd === process.execPath && args[0] === main ? ['vfp', ...args.slice(1)].join(' ') : [cmd, ...args].join(' ');
}

/** Run every mode; a failing mode yields an error and no result, the others still run. */
export function runReplayBench(input: ReplayBenchInput): ReplayBenchOutput {
  const out: ReplayBenchOutput = { results: [], errors: [], notes: [] };
  const main = input.vfpMain ?? findVfpMain();
  if (!main || !existsSync(main)) {
    out.errors.push({ mode: '*', message: 'the built CLI (dist/src/cli/vfp.cjs) is missing: run npm run build' });
    return out;
  }
  const comments = replayHasComments(main);
  if (!comments) out.notes.push("pcapng --comments verdict: skipped (this vfp replay has no --comments option yet)");
  if (!input.tcpdump) out.notes.push('tcpdump is not installed: the replay modes have no peer and no ratio (apt-get install tcpdump)');
  if (!hasGnuTime()) out.notes.push(`${GNU_TIME} (GNU time) is missing: peak RSS of the children not measured`);
  const outDir = join(input.workDir, `replay-out-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  try {
    if (!input.modes || input.modes.test('no output')) {
      try {
        out.notes.push(startupNote(input, main, outDir));
      } catch (e) {
        out.errors.push({ mode: 'start-up', message: (e as Error).message });
      }
    }
    for (const spec of modeSpecs(comments)) {
      if (input.modes && !input.modes.test(spec.mode)) continue;
      try {
        out.results.push(runMode(spec, input, main, outDir));
      } catch (e) {
        out.errors.push({ mode: spec.mode, message: (e as Error).message });
      }
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return out;
}

/**
 * What every run pays before its frames, as a note: a bare `node -e 0` (Node's own start) and
 * `vfp replay` of the first frame of the flows input (Node's start, loading the command, the
 * topology compiled, the tables made, one frame, the summary), interleaved, best of each.
 */
function startupNote(input: ReplayBenchInput, main: string, outDir: string): string {
  // The pcap file header and the first record of the flows input (a classic pcap).
  const one = join(outDir, '..', `one-frame-${process.pid}.pcap`);
  const head = new Uint8Array(24 + 16 + input.frameSize);
  const fd = openSync(input.flowsFile, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  writeFileSync(one, head);
  try {
    const node: number[] = [];
    const vfp: number[] = [];
    for (let r = 0; r <= input.runs; r++) {
      const a = runChild(process.execPath, ['-e', '0'], outDir);
      const p = exitProblem(a, 'node -e 0');
      if (p) throw new Error(p);
      const b = runChild(process.execPath, [main, 'replay', one, '--config', input.config, '--json'], outDir);
      const q = exitProblem(b, 'vfp replay (one frame)');
      if (q) throw new Error(q);
      if ((JSON.parse(b.stdout.trim().split('\n').pop() ?? '{}') as Summary).packets?.in !== 1) throw new Error('vfp replay of one frame did not read one frame');
      if (r > 0) {
        node.push(a.seconds);
        vfp.push(b.seconds);
      }
    }
    const n = Math.min(...node);
    const v = Math.min(...vfp);
    return `start-up: a bare \`node -e 0\` takes ${n.toFixed(3)} s and \`vfp replay\` of a one-frame capture ${v.toFixed(3)} s (best of ${input.runs}, interleaved): every replay pays these before its frames; the ratios above include them`;
  } finally {
    rmSync(one, { force: true });
  }
}

function runMode(spec: ModeSpec, input: ReplayBenchInput, main: string, outDir: string): ReplayModeResult {
  const newFlows = spec.input === 'new-flows';
  const file = newFlows ? input.newFlowsFile : input.flowsFile;
  const frames = newFlows ? input.newFlowsFrames : input.flowsFrames;
  const misses = newFlows ? frames : Math.min(input.flows, frames);
  const inputSize = statSync(file).size;
  const ourArgs = [main, 'replay', file, '--config', input.config, ...spec.extra(outDir), '--json'];
  const peerArgs = spec.peer && input.tcpdump ? ['-r', file, '-w', spec.peer === 'file' ? join(outDir, 'tcpdump.pcap') : '/dev/null'] : null;
  warmPageCache(file);
  const ours: ChildRun[] = [];
  const peers: ChildRun[] = [];
  let summary: Summary | null = null;
  // A B A B ...: run 0 of each side is the warm-up.
  for (let r = 0; r <= input.runs; r++) {
    const a = runChild(process.execPath, ourArgs, outDir);
    summary = checkOurs(a, spec, frames, misses);
    if (r > 0) ours.push(a);
    if (peerArgs) {
      const b = runChild(input.tcpdump!, peerArgs, outDir);
      checkPeer(b, spec, inputSize);
      if (r > 0) peers.push(b);
    }
  }
  const best = (runs: ChildRun[]): ChildRun => runs.reduce((x, y) => (y.seconds < x.seconds ? y : x));
  const figures = (runs: ChildRun[], command: string): ChildFigures => {
    const b = best(runs);
    return { command, seconds: round(b.seconds, 6), samples: runs.map((x) => round(x.seconds, 6)), peakRssMiB: b.rssMiB, outputBytes: b.outputBytes };
  };
  const o = figures(ours, display(process.execPath, ourArgs, main));
  const p = peerArgs ? figures(peers, display(input.tcpdump!, peerArgs, main)) : null;
  const ratio = p ? round(p.seconds / o.seconds, 3) : null;
  const newFlowsPerSecond = newFlows ? Math.round(frames / o.seconds) : null;
  const value = spec.target.metric === 'ratio' ? ratio : newFlowsPerSecond;
  const s = summary!;
  return {
    mode: spec.mode,
    input: spec.input,
    file,
    frames,
    bytes: frames * input.frameSize,
    ours: o,
    peer: p,
    ratio,
    newFlowsPerSecond,
    target: spec.target,
    met: value === null ? null : value >= spec.target.min,
    digest: fnv(JSON.stringify([s.packets, s.ports, s.flows['misses']])),
  };
}
