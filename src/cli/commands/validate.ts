/**
 * `vfp validate TOPO [--json] [--strict]`
 *
 * Loads a topology file (config/topology.ts), reports every problem at once, and lints what
 * loads (config/lint.ts). Output:
 *   - valid: `TOPO: ok: N networks, N endpoints, N load balancers, N uplinks`, then one line per
 *     normalisation note (`note: PATH: ...`) and per lint finding (`lint CODE: PATH: message`) on
 *     standard output; exit 0, or 1 with --strict when there are lint findings;
 *   - invalid: one line per problem on standard error, `vfp: TOPO: PATH: message`; exit 2;
 *   - --json: one object on standard output in both cases,
 *     `{file, ok, problems: [{path, message}], lint: [{code, path, message}], notes, counts}`
 *     (problems still go to standard error too, so a pipeline's log shows them).
 * A JSON syntax error or an undecodable file is a problem like any other (its path is
 * `line L, column C` or `byte offset N`).
 *
 * Its options and help text are in ../define/validate.ts; this module is imported when the command runs.
 */
import { ConfigError, EXIT_RUNTIME, EXIT_USAGE } from '../../base/errors.js';
import { lintTopology } from '../../config/lint.js';
import type { LintFinding, Topology } from '../../config/model.js';
import { analyseTopology, decodeTopologyText, type Problem } from '../../config/topology.js';
import { readFileBytes } from '../../io/file.js';
import { TextOut } from '../../io/text-out.js';

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
}

interface Report {
  file: string;
  ok: boolean;
  problems: Problem[];
  lint: LintFinding[];
  notes: string[];
  counts: { networks: number; endpoints: number; remoteEndpoints: number; loadBalancers: number; uplinks: number };
}

export function runValidate(file: string, opts: ValidateOptions): void {
  const bytes = readFileBytes(file);
  let problems: Problem[] = [];
  let notes: string[] = [];
  let topology: Topology | null = null;
  try {
    const r = analyseTopology(decodeTopologyText(bytes, file), file);
    problems = r.problems;
    notes = r.notes;
    topology = r.topology;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // A file that is not JSON: its one problem, with the message minus the "FILE: PATH: " head.
    problems = [{ path: e.path, message: e.message.slice(`${e.file}: ${e.path}: `.length) }];
  }
  const lint = topology ? lintTopology(topology) : [];
  const report: Report = {
    file,
    ok: problems.length === 0,
    problems,
    lint,
    notes,
    counts: {
      networks: topology?.networks.length ?? 0,
      endpoints: topology?.endpoints.length ?? 0,
      remoteEndpoints: topology?.endpoints.filter((e) => e.remote).length ?? 0,
      loadBalancers: topology?.loadBalancers.length ?? 0,
      uplinks: topology?.host.uplinks.length ?? 0,
    },
  };

  const out = new TextOut();
  if (opts.json) out.line(JSON.stringify(report));
  else if (report.ok) {
    const c = report.counts;
    out.line(`${file}: ok: ${plural(c.networks, 'network')}, ${plural(c.endpoints, 'endpoint')}, ${plural(c.loadBalancers, 'load balancer')}, ${plural(c.uplinks, 'uplink')}`);
    for (const n of notes) out.line(`note: ${n}`);
    for (const f of lint) out.line(`lint ${f.code}: ${f.path}: ${f.message}`);
  }
  out.flush();
  for (const p of problems) process.stderr.write(`vfp: ${file}: ${p.path}: ${p.message}\n`);
  if (problems.length > 0) process.exitCode = EXIT_USAGE;
  else if (opts.strict && lint.length > 0) process.exitCode = EXIT_RUNTIME;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
