/**
 * `vfp compile --config TOPO [--dump ir|js|layers] [--json] [--port NAME]`
 *
 * Shows what a topology compiles to, stage by stage (the compiler's visible stages, as pflua
 * does): `layers` (default) prints each port's VFP layers, groups and rules as `vfpctrl
 * /list-layer`, `/list-group` and `/list-rule` would (with --json the same data as JSON, so nobody
 * has to scrape the text); `ir` prints the normalised IR of every layer (deterministic JSON);
 * `js` prints the JavaScript generated for every layer. Notes (what the HNS -> VFP stage
 * interpreted or left out) go to standard error.
 *
 * Its options and help text are in ../define/compile.ts; this module is imported when the command runs.
 */
import { TextOut } from '../../io/text-out.js';
import { irToJson } from '../../vfp/ir.js';
import { formatLayersText, layersToObject } from '../../vfp/dump.js';
import { loadPolicy, portByName } from '../replay-common.js';

export interface CompileOptions {
  config: string;
  dump: 'ir' | 'js' | 'layers';
  json?: boolean;
  port?: string;
}

export function runCompile(opts: CompileOptions): void {
  const policy = loadPolicy(opts.config);
  const only = opts.port !== undefined ? portByName(policy, opts.port, '--port') : -1;
  const ports = policy.policies.filter((p) => only < 0 || p.id === only);
  const out = new TextOut();
  if (opts.dump === 'layers') {
    if (opts.json) out.line(JSON.stringify(layersToObject(ports), null, 2));
    else out.line(formatLayersText(ports));
  } else {
    for (const p of ports) {
      const layers = policy.layers[p.id]!;
      if (layers.length === 0) {
        out.line(`// port ${p.name} (${p.kind}): no layers`);
        continue;
      }
      for (const cl of layers) {
        out.line(`// port ${p.name} (${p.kind}), layer ${cl.ir.name}`);
        out.line(opts.dump === 'ir' ? irToJson(cl.ir) : cl.source || '// (code generation off: the IR interpreter classifies)');
      }
    }
  }
  out.flush();
  for (const n of policy.notes) process.stderr.write(`vfp: note: ${n}\n`);
  for (const u of policy.unsupported) process.stderr.write(`vfp: warning: ${u}\n`);
}
