/**
 * Micro benchmark of the VFP layer classifier (tinybench 6): layers of 10, 100, 1,000 and 10,000
 * realistic ACL rules, classifying hits, misses and near misses, generated code against the
 * interpreter (the interpreter only up to 1,000 rules: it is linear).
 *
 *   npx tsc -p . && node dist/bench/micro-vfp.js            # all
 *   node dist/bench/micro-vfp.js 'codegen.*10000'             # those whose name matches the regex
 *
 * Rules look like an HNS ACL on the outbound side of an endpoint: a remote (destination) prefix
 * of /24 to /32 drawn at random, one specific remote port (a few hundred common ones, so ports
 * repeat across rules and prefixes do not), protocol TCP or UDP, priorities in definition order.
 * There is no catch-all rule (the layer default decides the rest), so misses exist:
 *   hit        the packet is inside a random rule's prefix, port and protocol
 *   miss       random destination address and port (checked: no rule matches)
 *   near-miss  inside a random rule's prefix with a port no rule of that prefix has (the
 *              candidate bucket is found and its rules checked: the index's worst case here)
 *
 * Every iteration classifies a batch of 1,024 packets (tinybench's timer saturates below ~100 ns);
 * figures are ns per packet, from the mean and from the median batch. Results
 * fold into a printed sink. The first table is the compile cost per layer size (lowering and
 * code generation, including building the index).
 */
import { microBench, runMicro } from './micro-report.js';
import { Prng } from '../src/base/bytes.js';
import { compileIR } from '../src/vfp/codegen.js';
import type { CompiledLayer } from '../src/vfp/codegen.js';
import { lowerLayer, prefixMaskWord } from '../src/vfp/ir.js';
import { interpretLayer } from '../src/vfp/interp.js';
import type { Layer, Rule } from '../src/vfp/model.js';
import { DIR_OUT, PKT_WORDS } from '../src/vfp/model.js';

const PACKETS = 1024;
const SIZES = [10, 100, 1000, 10000];

function aclLayer(n: number, rng: Prng): Layer {
  const common = Array.from({ length: 300 }, () => 1 + rng.below(65535));
  const rules: Rule[] = [];
  for (let i = 0; i < n; i++) {
    const length = 24 + rng.below(9);
    const addr = (rng.nextU32() & prefixMaskWord(length, 0)) >>> 0;
    const port = common[rng.below(common.length)]!;
    rules.push({
      id: `acl-${i}`,
      priority: 100 + i,
      conditions: {
        protocols: [rng.below(2) === 0 ? 6 : 17],
        dstPrefixes: [{ family: 4, words: [addr, 0, 0, 0], length }],
        dstPorts: [{ from: port, to: port }],
      },
      action: rng.below(4) === 0 ? { type: 'block', reason: 'acl-block' } : { type: 'allow' },
      terminating: false,
      stateful: true,
      flowTtl: 240,
      origin: 'bench',
    });
  }
  return {
    name: 'ACL_ENDPOINT_LAYER',
    priority: 1,
    defaultAllow: false,
    defaultReason: 'acl-default-deny',
    groups: [{ name: 'ACL_ENDPOINT_GROUP_IPV4_OUT', priority: 100, direction: 'out', family: 4, conditions: {}, rules }],
  };
}

function writePacket(p: Uint32Array, o: number, dst: number, proto: number, dport: number, rng: Prng): void {
  p.fill(0, o, o + PKT_WORDS);
  p[o] = 0xac10000a; // 172.16.0.10, the endpoint
  p[o + 4] = dst >>> 0;
  p[o + 8] = (((49152 + rng.below(16384)) << 16) | dport) >>> 0;
  p[o + 9] = ((4 << 24) | (proto << 16)) >>> 0;
  p[o + 11] = 0x0800;
  p[o + 12] = 0x0015;
  p[o + 13] = 0x5d00100a;
  p[o + 14] = 0x0015;
  p[o + 15] = 0x5d000001;
}

type Kind = 'hit' | 'miss' | 'near-miss';

function packets(layer: Layer, compiled: CompiledLayer, kind: Kind, rng: Prng): Uint32Array {
  const rules = layer.groups[0]!.rules;
  const p = new Uint32Array(PACKETS * PKT_WORDS);
  for (let i = 0; i < PACKETS; i++) {
    const o = i * PKT_WORDS;
    for (;;) {
      const r = rules[rng.below(rules.length)]!;
      const pre = r.conditions.dstPrefixes![0]!;
      const inside = (pre.words[0]! | (rng.nextU32() & ~prefixMaskWord(pre.length, 0))) >>> 0;
      if (kind === 'hit') writePacket(p, o, inside, r.conditions.protocols![0]!, r.conditions.dstPorts![0]!.from, rng);
      else if (kind === 'miss') writePacket(p, o, rng.nextU32(), rng.below(2) === 0 ? 6 : 17, 1 + rng.below(65535), rng);
      else writePacket(p, o, inside, r.conditions.protocols![0]!, 1 + rng.below(65535), rng);
      const got = interpretLayer(compiled.ir, p, o, DIR_OUT);
      if (kind === 'hit' ? got >= 0 : got < 0) break;
    }
  }
  return p;
}

let sink = 0;

async function main(): Promise<void> {
  const { bench, filter, add } = microBench('vfp-engine micro-vfp', 400);
  const compileTimes: Array<Record<string, string>> = [];
  for (const n of SIZES) {
    const rng = new Prng(n);
    const layer = aclLayer(n, rng);
    const t0 = performance.now();
    const ir = lowerLayer(layer);
    const t1 = performance.now();
    const compiled = compileIR(ir);
    const t2 = performance.now();
    compileTimes.push({
      rules: String(n),
      'lower (ms)': (t1 - t0).toFixed(1),
      'codegen (ms)': (t2 - t1).toFixed(1),
      'source (chars)': String(compiled.source.length),
    });
    const interp = compileIR(ir, { codegen: false });
    for (const kind of ['hit', 'miss', 'near-miss'] as const) {
      const pkts = packets(layer, compiled, kind, rng);
      const classify = compiled.classify;
      add(`codegen ${n} rules ${kind}`, () => {
        let x = 0;
        for (let i = 0; i < PACKETS; i++) x += classify(pkts, i * PKT_WORDS, DIR_OUT);
        sink = (sink + x) | 0;
      });
      if (n <= 1000) {
        const slow = interp.classify;
        add(`interp ${n} rules ${kind}`, () => {
          let x = 0;
          for (let i = 0; i < PACKETS; i++) x += slow(pkts, i * PKT_WORDS, DIR_OUT);
          sink = (sink + x) | 0;
        });
      }
    }
  }
  await runMicro(bench, { label: 'micro-vfp', unit: 'packet', perIteration: PACKETS, sink: () => sink, tables: [compileTimes] }, filter);
}

await main();
