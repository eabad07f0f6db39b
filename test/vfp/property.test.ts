/**
 * Differential property test (the interpreter is the oracle of the generated code): random layers x random packets, the generated
 * classifier must return exactly what the interpreter returns. Values come from a small universe
 * so that hits are frequent; some layers hold large groups (100-2,000 rules) so that the index
 * path of codegen.ts is exercised, and the `codegen: false` fallback is checked on a share of the
 * layers. Fixed seed; VFP_PROP_SEED changes it, VFP_PROP_CASES the number of cases.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { compileIR } from '../../src/vfp/codegen.js';
import { prefixMaskWord } from '../../src/vfp/ir.js';
import { lowerLayer } from '../../src/vfp/ir.js';
import { interpretLayer } from '../../src/vfp/interp.js';
import type { Conditions, Group, Layer, Mac, Prefix, PortRange, Rule } from '../../src/vfp/model.js';
import { DIR_IN, DIR_OUT, PKT_WORDS } from '../../src/vfp/model.js';

const SEED = Number(process.env.VFP_PROP_SEED ?? 20240611) >>> 0;
const MIN_CASES = Number(process.env.VFP_PROP_CASES ?? 100_000);

const V4 = [0x0a000000, 0x0a000001, 0x0a000007, 0x0a000100, 0x0a000105, 0x0a010000, 0x0a010203, 0x0a0201ff, 0xc0a80001, 0x80000000];
const V6W0 = [0x20010db8, 0x20010db9, 0xfe800000];
const V6W1 = [0, 1, 0x80000000];
const V6W2 = [0, 5];
const V6W3 = [1, 2, 0x80000001];
const V4_LENGTHS = [0, 1, 8, 16, 20, 23, 24, 25, 28, 31, 32, 32, 32];
const V6_LENGTHS = [0, 1, 16, 31, 32, 33, 63, 64, 65, 96, 127, 128, 128];
// Range ends and their neighbours, so off-by-one merges and bounds show.
const PORTS = [0, 1, 2, 3, 4, 5, 6, 52, 53, 54, 79, 80, 81, 442, 443, 444, 999, 1000, 1001, 1002, 1003, 1800, 1801, 65535];
const PORT_RANGES: PortRange[] = [
  { from: 80, to: 80 },
  { from: 443, to: 443 },
  { from: 0, to: 3 },
  { from: 1000, to: 1002 },
  { from: 2, to: 1001 },
  { from: 53, to: 53 },
  { from: 5, to: 5 },
  { from: 81, to: 442 },
  { from: 0, to: 65535 },
  { from: 1000, to: 1800 },
  { from: 70000, to: 70001 },
  { from: 90, to: 80 },
];
const PROTOS = [1, 6, 6, 17, 17, 58, 0, 300];
const MACS: Mac[] = [
  { hi: 0x0015, lo: 0x5d000001 },
  { hi: 0x0015, lo: 0x5d000002 },
  { hi: 0x0200, lo: 0xffffffff },
];

function pick<T>(rng: Prng, list: readonly T[]): T {
  return list[rng.below(list.length)]!;
}

function v6Addr(rng: Prng): number[] {
  return [pick(rng, V6W0), pick(rng, V6W1), pick(rng, V6W2), pick(rng, V6W3)];
}

function randomPrefix(rng: Prng, family: 4 | 6): Prefix {
  if (family === 4) {
    const length = pick(rng, V4_LENGTHS);
    return { family, words: [(pick(rng, V4) & prefixMaskWord(length, 0)) >>> 0, 0, 0, 0], length };
  }
  const length = pick(rng, V6_LENGTHS);
  return { family, words: v6Addr(rng).map((w, i) => (w & prefixMaskWord(length, i)) >>> 0), length };
}

function some<T>(rng: Prng, max: number, make: () => T): T[] {
  const n = 1 + rng.below(max);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(make());
  return out;
}

/** Random conditions; `density` is the chance of each field being present. */
function randomConditions(rng: Prng, family: 4 | 6, density: number): Conditions {
  const c: Conditions = {};
  const on = (): boolean => rng.below(1000) < density * 1000;
  const fam = (): 4 | 6 => (rng.below(10) === 0 ? (family === 4 ? 6 : 4) : family);
  if (on()) c.protocols = some(rng, 3, () => pick(rng, PROTOS));
  if (on()) c.srcPrefixes = some(rng, 3, () => randomPrefix(rng, fam()));
  if (on() || on()) c.dstPrefixes = some(rng, 3, () => randomPrefix(rng, fam()));
  if (on()) c.srcPorts = some(rng, 2, () => pick(rng, PORT_RANGES));
  if (on() || on()) c.dstPorts = some(rng, 2, () => pick(rng, PORT_RANGES));
  if (on() && rng.below(2) === 0) c.srcMacs = some(rng, 2, () => pick(rng, MACS));
  if (on() && rng.below(2) === 0) c.dstMacs = some(rng, 2, () => pick(rng, MACS));
  if (on() && rng.below(2) === 0) c.vlans = some(rng, 2, () => pick(rng, [0, 1, 2, 5000]));
  if (on() && rng.below(2) === 0) c.vnis = some(rng, 2, () => pick(rng, [0, 1, 2]));
  if (rng.below(40) === 0) c.dstPrefixes = []; // given but empty: any
  return c;
}

function randomRule(rng: Prng, id: number, family: 4 | 6, priorities: number): Rule {
  return {
    id: `r${id}`,
    priority: rng.below(priorities),
    conditions: randomConditions(rng, family, 0.35),
    action: rng.below(2) === 0 ? { type: 'allow' } : { type: 'block', reason: 'acl-block' },
    terminating: rng.below(5) === 0,
    stateful: false,
    flowTtl: 0,
    origin: 'property',
  };
}

function randomLayer(rng: Prng, n: number, large: boolean): Layer {
  const groups: Group[] = [];
  const groupCount = 1 + rng.below(6);
  let id = 0;
  const largeAt = large ? rng.below(groupCount) : -1;
  for (let g = 0; g < groupCount; g++) {
    const family: 4 | 6 = rng.below(3) === 0 ? 6 : 4;
    const count = g === largeAt ? 100 + rng.below(1901) : rng.below(4) === 0 ? 25 + rng.below(60) : rng.below(20);
    const rules: Rule[] = [];
    const priorities = count > 50 ? 1 + rng.below(count) : 1 + rng.below(8);
    for (let r = 0; r < count; r++) rules.push(randomRule(rng, id++, family, priorities));
    groups.push({
      name: `G${g}`,
      priority: rng.below(4),
      direction: rng.below(2) === 0 ? 'out' : 'in',
      family,
      conditions: rng.below(3) === 0 ? randomConditions(rng, family, 0.15) : {},
      rules,
    });
  }
  return { name: `L${n}`, priority: 0, defaultAllow: rng.below(2) === 0, defaultReason: 'acl-default-deny', groups };
}

/** A random packet at `o`. */
function randomPacket(rng: Prng, p: Uint32Array, o: number): void {
  const f = rng.below(20);
  const family = f < 9 ? 4 : f < 18 ? 6 : f === 18 ? 1 : 0;
  const addr = (): number[] => {
    if (family === 6) return rng.below(10) === 0 ? [rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32()] : v6Addr(rng);
    return [rng.below(10) === 0 ? rng.nextU32() : pick(rng, V4), 0, 0, 0];
  };
  const s = addr();
  const d = addr();
  for (let i = 0; i < 4; i++) {
    p[o + i] = s[i]!;
    p[o + 4 + i] = d[i]!;
  }
  const proto = pick(rng, [1, 6, 6, 6, 17, 17, 58, 0, 47]);
  const port = (): number => (rng.below(8) === 0 ? rng.below(65536) : pick(rng, PORTS));
  p[o + 8] = ((port() << 16) | port()) >>> 0;
  p[o + 9] = ((family << 24) | (proto << 16) | pick(rng, [0, 0, 1, 2, 4095])) >>> 0;
  p[o + 10] = rng.below(2) === 0 ? 0 : (0x80000000 | pick(rng, [0, 1, 2, 77])) >>> 0;
  p[o + 11] = (rng.below(4) << 16) | 0x0800;
  const sm = rng.below(5) === 0 ? { hi: rng.below(65536), lo: rng.nextU32() } : pick(rng, MACS);
  const dm = rng.below(5) === 0 ? { hi: rng.below(65536), lo: rng.nextU32() } : pick(rng, MACS);
  p[o + 12] = sm.hi;
  p[o + 13] = sm.lo;
  p[o + 14] = dm.hi;
  p[o + 15] = dm.lo;
}

/**
 * A second, naive oracle straight from the model's essay, on the *policy* (no IR): it checks the
 * lowering and its simplifications, which the interpreter shares with the generated code.
 */
function naiveConditions(c: Conditions, pkt: Uint32Array, o: number): boolean {
  const family = pkt[o + 9]! >>> 24;
  const proto = (pkt[o + 9]! >>> 16) & 255;
  const prefixHolds = (p: Prefix, at: number): boolean => {
    if (p.family !== family) return false;
    for (let i = 0; i < 4; i++) {
      const m = prefixMaskWord(p.length, i);
      if (((pkt[at + i]! & m) >>> 0) !== ((p.words[i]! & m) >>> 0)) return false;
    }
    return true;
  };
  if (c.protocols?.length && !c.protocols.includes(proto)) return false;
  if (c.srcPrefixes?.length && !c.srcPrefixes.some((p) => prefixHolds(p, o))) return false;
  if (c.dstPrefixes?.length && !c.dstPrefixes.some((p) => prefixHolds(p, o + 4))) return false;
  const sp = pkt[o + 8]! >>> 16;
  const dp = pkt[o + 8]! & 0xffff;
  const l4 = proto === 6 || proto === 17;
  if (c.srcPorts?.length && !(l4 && c.srcPorts.some((r) => r.from <= sp && sp <= r.to))) return false;
  if (c.dstPorts?.length && !(l4 && c.dstPorts.some((r) => r.from <= dp && dp <= r.to))) return false;
  if (c.srcMacs?.length && !c.srcMacs.some((m) => m.hi === pkt[o + 12] && m.lo === pkt[o + 13])) return false;
  if (c.dstMacs?.length && !c.dstMacs.some((m) => m.hi === pkt[o + 14] && m.lo === pkt[o + 15])) return false;
  if (c.vlans?.length && !c.vlans.includes(pkt[o + 9]! & 0xffff)) return false;
  if (c.vnis?.length && !c.vnis.includes(pkt[o + 10]! & 0xffffff)) return false;
  return true;
}

function naiveLayer(layer: Layer, pkt: Uint32Array, o: number, dir: 0 | 1): number {
  const family = pkt[o + 9]! >>> 24;
  const firsts: number[] = [];
  let n = 0;
  for (const g of layer.groups) {
    firsts.push(n);
    n += g.rules.length;
  }
  const order = layer.groups
    .map((g, i) => ({ g, i }))
    .filter(({ g }) => (g.direction === 'in' ? 1 : 0) === dir && g.family === family)
    .sort((a, b) => a.g.priority - b.g.priority || a.i - b.i);
  let decision = -1;
  for (const { g, i } of order) {
    if (!naiveConditions(g.conditions, pkt, o)) continue;
    let best = -1;
    g.rules.forEach((r, j) => {
      if (!naiveConditions(r.conditions, pkt, o)) return;
      if (best < 0 || r.priority < g.rules[best]!.priority) best = j;
    });
    if (best < 0) continue;
    decision = firsts[i]! + best;
    if (g.rules[best]!.terminating) break;
  }
  return decision;
}

describe('vfp classifier: generated code == interpreter', () => {
  it(`agrees on >= ${MIN_CASES} random cases (seed ${SEED})`, () => {
    const rng = new Prng(SEED);
    const PACKETS = 240;
    const buf = new Uint32Array(PACKETS * PKT_WORDS + 7);
    let cases = 0;
    let hits = 0;
    let layers = 0;
    let largeLayers = 0;
    let fallbackCases = 0;
    let naiveCases = 0;
    const kinds = new Set<string>();
    while (cases < MIN_CASES) {
      const large = rng.below(10) < 3;
      const layer = randomLayer(rng, layers, large);
      const ir = lowerLayer(layer);
      const compiled = compileIR(ir);
      const fallback = layers % 8 === 0 ? compileIR(ir, { codegen: false }) : null;
      // Every group indexed, however small: the index path on the many small random groups too.
      const indexed = layers % 4 === 1 ? compileIR(ir, { smallGroupMax: 0 }) : null;
      for (const src of [compiled.source, indexed?.source ?? '']) {
        for (const m of src.matchAll(/\/\/ (\S+): \d+ keys/g)) kinds.add(m[1]!);
        if (src.includes('// residual')) kinds.add('residual');
      }
      layers++;
      if (large) largeLayers++;
      // The naive oracle is slow on large groups: a share of the small layers.
      const naive = !large && layers % 2 === 0;
      const base = rng.below(8); // packets at odd offsets too
      for (let i = 0; i < PACKETS; i++) randomPacket(rng, buf, base + i * PKT_WORDS);
      for (let i = 0; i < PACKETS; i++) {
        const o = base + i * PKT_WORDS;
        for (const dir of [DIR_OUT, DIR_IN] as const) {
          const want = interpretLayer(ir, buf, o, dir);
          const got = compiled.classify(buf, o, dir);
          if (got !== want) {
            const words = Array.from(buf.subarray(o, o + PKT_WORDS), (w) => w.toString(16));
            expect.fail(
              `seed ${SEED} layer ${layers - 1} dir ${dir}: codegen ${got}, interpreter ${want}; packet [${words.join(' ')}]\n` +
                `layer ${JSON.stringify(layer).slice(0, 4000)}`,
            );
          }
          if (indexed !== null && indexed.classify(buf, o, dir) !== want) {
            expect.fail(`seed ${SEED} layer ${layers - 1} dir ${dir} (all groups indexed): ${indexed.classify(buf, o, dir)} != ${want}`);
          }
          if (naive) {
            naiveCases++;
            if (naiveLayer(layer, buf, o, dir) !== want) {
              expect.fail(`seed ${SEED} layer ${layers - 1} dir ${dir}: naive model ${naiveLayer(layer, buf, o, dir)} != interpreter ${want}`);
            }
          }
          if (fallback !== null) {
            fallbackCases++;
            expect(fallback.classify(buf, o, dir)).toBe(want);
          }
          cases++;
          if (want >= 0) hits++;
        }
      }
    }
    console.log(
      `vfp property: ${cases} cases, ${hits} hits, ${cases - hits} misses, ${layers} layers (${largeLayers} with a large group), ` +
        `${fallbackCases} fallback and ${naiveCases} naive-model cases, seed ${SEED}; bucket kinds used: ${[...kinds].sort().join(' ')}`,
    );
    // The index must have been exercised in every bucket kind that random conditions can produce.
    for (const k of ['dst4/24', 'src4/24', 'dst4/16', 'dst6/64', 'dst6/32', 'dport', 'sport', 'proto', 'residual']) expect(kinds).toContain(k);
    expect(hits).toBeGreaterThan(cases / 10);
    expect(cases - hits).toBeGreaterThan(cases / 10);
  });
});
