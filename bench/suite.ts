/**
 * The macro benchmark harness behind `vfp bench`: whole-pipeline scenarios over millions of
 * frames, timed by the wall clock, reported as Mpps, Gbps (captured frame bytes x 8), ns/packet
 * and peak RSS, with tcpreplay-style totals; peers (tcpdump) are timed on the same file in the
 * same run. Targets are checked here, never in timed unit tests.
 *
 * Scenarios (more arrive with replay, NAT and VXLAN issues; add them to SCENARIOS):
 *   parse  2,000,000 64-byte frames (60 captured; `vfp synth mix64`, 65,536 flows, seed 1) as a
 *          classic pcap cached under the OS temp dir. Modes:
 *          - page-cache: CaptureReader.openFile + parseBatch, file warm in the page cache;
 *          - memory: the file loaded into one Buffer, CaptureReader.fromBytes + parseBatch;
 *          - tcpdump: `tcpdump -r IN -w /dev/null` on the same file (when installed).
 *          Each mode: one warm-up, then the best of 3. With --workers N > 1, the memory mode runs
 *          N worker threads, each parsing its own slice of the capture from a SharedArrayBuffer.
 *
 * The parse result is consumed (the XOR of all flow hashes is reported as `checksum`), so the
 * JIT cannot drop the work. Page-cache runs first, so its peak RSS is not inflated by the
 * in-memory copy of the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FrameBatch } from '../src/frame/batch.js';
import { CaptureReader } from '../src/io/reader.js';
import { PcapWriter } from '../src/io/writer.js';
import { parseBatch } from '../src/parse/parse.js';
import { synthesize } from '../src/synth/scenarios.js';

export interface BenchOptions {
  json: boolean;
  workers: number;
  filter?: RegExp;
  packets?: number;
  out: NodeJS.WritableStream;
  /** Runs per mode after the warm-up (default 3). */
  runs?: number;
}

export interface BenchResult {
  scenario: string;
  mode: string;
  workers: number;
  packets: number;
  bytes: number;
  seconds: number;
  mpps: number;
  gbps: number;
  nsPerPacket: number;
  peakRssMiB: number;
  checksum?: number;
}

export interface BenchReport {
  results: BenchResult[];
  /** Our page-cache parse rate divided by tcpdump's on the same file (null without tcpdump). */
  ratioToTcpdump: number | null;
  tcpdump: string | null;
  machine: { cpus: number; model: string; node: string };
}

const PARSE_FLOWS = 65536;
const PARSE_SEED = 1;

/** Generate (once) and return the path of the parse scenario's capture. */
export function parseCapture(packets: number): string {
  const dir = join(tmpdir(), 'vfp-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `mix64-${packets}-f${PARSE_FLOWS}-s${PARSE_SEED}-v1.pcap`);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const w = PcapWriter.toFile(tmp);
  synthesize('mix64', { packets, flows: PARSE_FLOWS, seed: PARSE_SEED }, (b, o, l, wl, s, ns) => w.writeFrame(b, o, l, wl, s, ns));
  w.close();
  renameSync(tmp, file);
  return file;
}

/** Read + parse a whole capture; returns [frames, bytes, xor of hashes]. */
export function parseAll(reader: CaptureReader, batch: FrameBatch): [number, number, number] {
  let frames = 0;
  let bytes = 0;
  let x = 0;
  for (;;) {
    const n = reader.read(batch);
    if (n === 0) break;
    parseBatch(batch);
    const h = batch.hashes;
    const l = batch.lengths;
    for (let i = 0; i < n; i++) {
      x ^= h[i]!;
      bytes += l[i]!;
    }
    frames += n;
  }
  reader.close();
  return [frames, bytes, x >>> 0];
}

function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function result(scenario: string, mode: string, workers: number, packets: number, bytes: number, seconds: number, checksum?: number): BenchResult {
  const r: BenchResult = {
    scenario,
    mode,
    workers,
    packets,
    bytes,
    seconds: Number(seconds.toFixed(6)),
    mpps: Number((packets / seconds / 1e6).toFixed(3)),
    gbps: Number(((bytes * 8) / seconds / 1e9).toFixed(3)),
    nsPerPacket: Number(((seconds * 1e9) / packets).toFixed(2)),
    peakRssMiB: peakRssMiB(),
  };
  if (checksum !== undefined) r.checksum = checksum;
  return r;
}

function bestOf(runs: number, fn: () => number): number {
  fn(); // warm-up
  let best = Infinity;
  for (let r = 0; r < runs; r++) best = Math.min(best, fn());
  return best;
}

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function findTcpdump(): string | null {
  for (const p of ['/usr/bin/tcpdump', '/usr/sbin/tcpdump', '/usr/local/bin/tcpdump', '/usr/local/sbin/tcpdump']) {
    if (existsSync(p)) return p;
  }
  const r = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

async function parseInWorkers(data: Uint8Array, workers: number): Promise<[number, number, number, number]> {
  // Split the records into `workers` slices; each slice becomes its own pcap image (the 24-byte
  // header + its records) inside one SharedArrayBuffer, so workers share memory and copy nothing.
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bounds: number[] = [24];
  let p = 24;
  let records = 0;
  while (p + 16 <= data.length) {
    p += 16 + view.getUint32(p + 8, true);
    records++;
  }
  const per = Math.ceil(records / workers);
  p = 24;
  let r = 0;
  while (p + 16 <= data.length) {
    if (r > 0 && r % per === 0) bounds.push(p);
    p += 16 + view.getUint32(p + 8, true);
    r++;
  }
  bounds.push(p);
  const slices = bounds.length - 1;
  const sab = new SharedArrayBuffer(data.length + 24 * slices);
  const whole = new Uint8Array(sab);
  const ranges: Array<[number, number]> = [];
  let at = 0;
  for (let s = 0; s < slices; s++) {
    whole.set(data.subarray(0, 24), at);
    whole.set(data.subarray(bounds[s]!, bounds[s + 1]!), at + 24);
    const size = 24 + bounds[s + 1]! - bounds[s]!;
    ranges.push([at, size]);
    at += size;
  }
  const url = new URL('./parse-worker.js', import.meta.url);
  const pool = ranges.map(() => new Worker(url));
  const ready = pool.map((w) => new Promise<void>((res) => w.once('message', () => res())));
  pool.forEach((w, s) => w.postMessage({ sab, offset: ranges[s]![0], size: ranges[s]![1] }));
  await Promise.all(ready);
  // Workers are loaded and warm; start them together and time until the last one is done.
  const run = async (): Promise<[number, number, number, number]> => {
    const t0 = process.hrtime.bigint();
    const done = pool.map(
      (w) => new Promise<[number, number, number]>((res) => w.once('message', (m: [number, number, number]) => res(m))),
    );
    pool.forEach((w) => w.postMessage('run'));
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
  for (let i = 0; i < 3; i++) {
    const r2 = await run();
    if (r2[0] < best[0]) best = r2;
  }
  await Promise.all(pool.map((w) => w.terminate()));
  return best;
}

async function parseScenario(opts: BenchOptions, results: BenchResult[]): Promise<{ ratio: number | null; tcpdump: string | null }> {
  const packets = opts.packets ?? 2_000_000;
  const runs = opts.runs ?? 3;
  const file = parseCapture(packets);
  const batch = new FrameBatch(256);
  let frames = 0;
  let bytes = 0;
  let hash = 0;

  // page cache: warm the cache with one read, then time full reads + parses.
  readFileSync(file);
  const pc = bestOf(runs, () =>
    seconds(() => {
      [frames, bytes, hash] = parseAll(CaptureReader.openFile(file), batch);
    }),
  );
  if (frames !== packets) throw new Error(`bench: parsed ${frames} frames, expected ${packets}`);
  const pageCache = result('parse', 'page-cache', 1, frames, bytes, pc, hash);
  results.push(pageCache);

  // memory
  const data = readFileSync(file);
  if (opts.workers <= 1) {
    const mem = bestOf(runs, () =>
      seconds(() => {
        [frames, bytes, hash] = parseAll(CaptureReader.fromBytes(data, file), batch);
      }),
    );
    results.push(result('parse', 'memory', 1, frames, bytes, mem, hash));
  } else {
    const [dt, f, b, h] = await parseInWorkers(data, opts.workers);
    if (f !== packets) throw new Error(`bench: workers parsed ${f} frames, expected ${packets}`);
    results.push(result('parse', 'memory', opts.workers, f, b, dt, h));
  }

  // tcpdump on the same file
  const tcpdump = findTcpdump();
  let ratio: number | null = null;
  if (tcpdump) {
    let failed = '';
    const td = bestOf(runs, () =>
      seconds(() => {
        const r = spawnSync(tcpdump, ['-r', file, '-w', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
        if (r.status !== 0) failed = r.stderr.toString().trim();
      }),
    );
    if (failed) throw new Error(`bench: tcpdump failed: ${failed}`);
    const tdResult = result('parse', 'tcpdump -r IN -w /dev/null', 1, packets, bytes, td);
    tdResult.peakRssMiB = NaN; // a child process: its RSS is not ours
    results.push(tdResult);
    ratio = Number((pageCache.mpps / tdResult.mpps).toFixed(2));
  }
  return { ratio, tcpdump };
}

const SCENARIOS: Record<string, (opts: BenchOptions, results: BenchResult[]) => Promise<{ ratio: number | null; tcpdump: string | null }>> = {
  parse: parseScenario,
};

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const results: BenchResult[] = [];
  let ratio: number | null = null;
  let tcpdump: string | null = null;
  const names = Object.keys(SCENARIOS).filter((n) => !opts.filter || opts.filter.test(n));
  if (names.length === 0) throw new Error(`no benchmark scenario matches ${String(opts.filter)} (scenarios: ${Object.keys(SCENARIOS).join(', ')})`);
  for (const name of names) {
    const r = await SCENARIOS[name]!(opts, results);
    if (name === 'parse') {
      ratio = r.ratio;
      tcpdump = r.tcpdump;
    }
  }
  const report: BenchReport = {
    results,
    ratioToTcpdump: ratio,
    tcpdump,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  };
  if (opts.json) {
    opts.out.write(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v)) + '\n');
  } else {
    opts.out.write(formatReport(report));
  }
  return report;
}

function formatReport(r: BenchReport): string {
  const head = ['scenario', 'mode', 'workers', 'packets', 'Mpps', 'Gbps', 'ns/pkt', 'peak RSS'];
  const rows = r.results.map((x) => [
    x.scenario,
    x.mode,
    String(x.workers),
    String(x.packets),
    x.mpps.toFixed(2),
    x.gbps.toFixed(2),
    x.nsPerPacket.toFixed(1),
    Number.isNaN(x.peakRssMiB) ? '-' : `${x.peakRssMiB} MiB`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  for (const x of r.results) {
    out.push('');
    out.push(`${x.scenario} (${x.mode}, ${x.workers} worker${x.workers === 1 ? '' : 's'}):`);
    out.push(`Actual: ${x.packets} packets (${x.bytes} bytes) processed in ${x.seconds.toFixed(6)} seconds`);
    out.push(`Rated: ${((x.bytes / x.seconds) | 0).toLocaleString('en-US').replace(/,/g, '')} Bps, ${((x.bytes * 8) / x.seconds / 1e6).toFixed(2)} Mbps, ${(x.packets / x.seconds).toFixed(2)} pps`);
  }
  out.push('');
  out.push(
    r.tcpdump
      ? `parse from the page cache vs tcpdump -r IN -w /dev/null: ${r.ratioToTcpdump}x`
      : 'tcpdump is not installed: no side-by-side figure (apt-get install tcpdump)',
  );
  out.push(`machine: ${r.machine.cpus} cpus (${r.machine.model}), node ${r.machine.node}`);
  return out.join('\n') + '\n';
}
