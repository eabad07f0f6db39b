/**
 * What every micro benchmark script (bench/micro*.ts) does after registering its tasks: run the
 * tinybench Bench and print one table row per task, the time per operation computed from the
 * mean batch latency (each iteration processes `perIteration` operations, because tinybench's
 * timer saturates below ~100 ns), the median as well (robust when another process steals the
 * CPU), then any extra tables and notes, and the sink value that keeps the JIT from skipping work.
 */
import { Bench } from 'tinybench';

/** A Bench whose `add` registers only the tasks the command-line filter (argv[2], a regex) selects. */
export function microBench(name: string, time: number): { bench: Bench; filter: RegExp | null; add: (task: string, fn: () => void) => void } {
  const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
  const bench = new Bench({ name, time });
  const add = (task: string, fn: () => void): void => {
    if (!filter || filter.test(task)) bench.add(task, fn);
  };
  return { bench, filter, add };
}

export interface MicroReport {
  /** Script name for messages, e.g. `micro-flow`. */
  label: string;
  /** What one operation is: `frame`, `packet`, `op`. */
  unit: string;
  /** Operations per iteration. */
  perIteration: number;
  /** Operations per counted unit for a task (default 1; e.g. 2 when a task does two copies per frame). */
  opsPer?: (taskName: string) => number;
  /** Extra tables printed before the results (e.g. compile times). */
  tables?: unknown[];
  notes?: string[];
  sink: () => number;
}

/** Run and print; returns false (and sets exit code 2) when the filter left no task. */
export async function runMicro(bench: Bench, r: MicroReport, filter: RegExp | null | undefined): Promise<boolean> {
  if (bench.tasks.length === 0) {
    process.stderr.write(`${r.label}: nothing matches ${String(filter)}\n`);
    process.exitCode = 2;
    return false;
  }
  await bench.run();
  const rate = r.unit === 'op' ? 'Mops/s' : 'Mpps';
  const rows: Array<Record<string, string>> = [];
  for (const task of bench.tasks) {
    const res = task.result;
    if (res.state !== 'completed') {
      rows.push({ name: task.name, state: res.state });
      continue;
    }
    const per = r.perIteration * (r.opsPer?.(task.name) ?? 1);
    const ns = (res.latency.mean * 1e6) / per;
    rows.push({
      name: task.name,
      [`ns/${r.unit}`]: ns.toFixed(1),
      [`ns/${r.unit} p50`]: ((res.latency.p50! * 1e6) / per).toFixed(1),
      [rate]: (1e3 / ns).toFixed(2),
      'batch p50 (µs)': (res.latency.p50! * 1e3).toFixed(1),
      'rme %': res.latency.rme.toFixed(2),
      samples: String(res.latency.samplesCount),
    });
  }
  console.log(`${bench.name}: ${r.perIteration} ${r.unit}s per iteration, node ${process.version}`);
  for (const t of r.tables ?? []) console.table(t);
  console.table(rows);
  for (const note of r.notes ?? []) console.log(note);
  console.log(`(sink ${r.sink() >>> 0})`);
  return true;
}
