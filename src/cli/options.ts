/**
 * Option parsers shared by the `vfp` commands, and the options replay and trace share. The
 * parsers turn bad values into commander's InvalidArgumentError, which program.ts reports in one
 * line with exit code 2. Loaded with the command definitions (define/), so nothing heavy here.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';

/** How much each output packet's comment says (replay --comments): nothing, the verdict line, or the verdict and who decided (default). */
export const COMMENT_MODES = ['none', 'verdict', 'full'] as const;
export type CommentMode = (typeof COMMENT_MODES)[number];

export function intOption(name: string, min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function regexOption(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch {
    throw new InvalidArgumentError(`not a valid regular expression: '${value}'`);
  }
}

/** The options replay and trace share: policy updates, ingress, and the flow table's size and timeouts. */
export function addPipelineOptions(cmd: Command): void {
  cmd
    .option('--update <n:topo>', 'from packet N on, the topology in TOPO is in force (a new policy generation; repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--ingress <port>', 'ingress port of frames whose capture interface names no port')
    .option('--flow-capacity <n>', 'flow table entries (default 262144)', intOption('--flow-capacity', 2, 1 << 24))
    .addOption(new Option('--when-full <what>', 'a full flow table drops new flows or evicts the idlest').choices(['drop', 'evict-idle']))
    .option('--uft-ttl <s>', 'idle timeout of cached flows no stateful rule decided, seconds (default 240)', intOption('--uft-ttl', 1, 2147483))
    .option('--rst-timeout <s>', 'seconds a flow lives after a TCP RST (default 5)', intOption('--rst-timeout', 0, 2147483));
}
