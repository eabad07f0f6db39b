/**
 * `vfp validate`: the command's definition (arguments, options, help). Its work is in
 * ../commands/validate.ts, imported only when the command runs, so that `vfp --help` and the other
 * commands do not load it.
 */
import type { Command } from 'commander';
import type { ValidateOptions } from '../commands/validate.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('validate and lint a topology file (HNS v1/v2 JSON): every problem at once, then known traps')
    .argument('<topo>', "topology file ({host, networks, endpoints, loadBalancers}; '-' reads standard input)")
    .option('--json', 'one JSON object: {file, ok, problems, lint, notes, counts}')
    .option('--strict', 'exit 1 when there are lint findings (problems always exit 2)')
    .addHelpText(
      'after',
      `
Accepts UTF-8 and UTF-16 (PowerShell 5.1 '>') files; HNS objects in the v2 (HCN) or v1 schema as
Get-HnsNetwork, Get-HnsEndpoint, Get-HnsPolicyList or hnsdiag list all -d print them. Export
with ConvertTo-Json -Depth 10 (the default depth 2 cuts policies off).

Exit status: 0 valid (lint findings are warnings), 1 lint findings with --strict, 2 problems.

Examples:
  vfp validate topo.json
  vfp validate topo.json --json | jq .lint
  Get-HnsEndpoint | ConvertTo-Json -Depth 10   (on Windows, to export endpoints)`,
    )
    .action(async (topo: string, opts: ValidateOptions) => (await import('../commands/validate.js')).runValidate(topo, opts));
}
