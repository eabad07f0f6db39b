/**
 * `vfp compile`: the command's definition (arguments, options, help). Its work is in
 * ../commands/compile.ts, imported only when the command runs, so that `vfp --help` and the other
 * commands do not load it.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CompileOptions } from '../commands/compile.js';

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('show what a topology compiles to: VFP layers per port (vfpctrl-like), the rule IR, or the generated JavaScript')
    .requiredOption('--config <topo>', 'topology file (HNS JSON)')
    .addOption(new Option('--dump <stage>', 'which stage to print').choices(['ir', 'js', 'layers']).default('layers'))
    .option('--json', 'with --dump layers: JSON instead of vfpctrl-like text')
    .option('--port <name>', 'only this port')
    .addHelpText(
      'after',
      `
Examples:
  vfp compile --config pcaps/transparent.json
  vfp compile --config pcaps/transparent.json --port web --dump js`,
    )
    .action(async (opts: CompileOptions) => (await import('../commands/compile.js')).runCompile(opts));
}
