/**
 * The backend of the VFP rule compiler: LayerIR (ir.ts) -> JavaScript source -> a classifier
 * made with `new Function`. The interpreter (interp.ts) is the oracle: for every packet and
 * direction the generated `classify` returns exactly what `interpretLayer` returns (the deciding
 * flat rule index, or -1), which the property test checks on >= 100,000 random cases a run.
 *
 * Shape of the generated code. One function per (direction, family): `out4`, `in4`, `out6`,
 * `in6`; `classify` reads the family from the packet and dispatches (non-IP: -1 at once). Each
 * function loads the packet words it uses into locals once, then runs its groups in evaluation
 * order as labelled blocks: `d` holds the current decision, a later group's best overwrites it, a
 * terminating best returns at once. Two strategies per group:
 *
 *  - Small groups (<= SMALL_GROUP_MAX live rules): straight-line tests with the constants
 *    inlined, rules in evaluation order, the first that holds decides the group
 *    (`if ((d0 & -256) === 167772416 && dp === 80) { d = 12; break g0; }`). Lists longer than
 *    INLINE_LIST_MAX values call the table-driven `clause()` instead of a long `||` chain.
 *
 *  - Large groups: an index built here, at compile time, in typed arrays. Every rule is placed in
 *    exactly one *bucket kind* (or in the group's residual list): exact destination / source
 *    port (ranges up to EXPAND_MAX ports expanded), the high 24 or 16 bits of a destination /
 *    source IPv4 prefix of length >= 24 / 16, the first 64 or 32 bits of an IPv6 prefix of length
 *    >= 64 / 32, exact MAC, VNI, VLAN or protocol. A kind is eligible for a rule when every value
 *    of the rule's list for that field yields a key (e.g. all its destination prefixes are >= /24);
 *    the rule goes to its *most selective* eligible kind: the one whose buckets for the rule's keys
 *    hold the fewest rules (sum over its keys), counted over all eligible rules first and refined
 *    once over the actual placement; ties go to the order of KINDS. Per (group, kind) an open-
 *    addressing hash table (load <= 1/2) maps a key to a candidate list of rules sorted by rank
 *    (the rule's position in the group's evaluation order). Lookup computes each kind's key from
 *    the packet, probes, and scans only the candidate lists plus the residual list: within a list
 *    it stops at the first rule whose full conditions hold, or at the first rank not better than
 *    the best found so far (lists are rank-sorted, so nothing after it can win). Candidates are
 *    checked against the full conditions from the condition tables (`check()`), so a bucket only
 *    has to be a superset: no bucket kind is trusted to imply its own condition. A miss costs one
 *    hash probe per kind present plus the residual list, whatever the group's size.
 *
 * Tables (LayerTables, all typed arrays, built deterministically from the IR):
 *   RC  rule -> clause range [RC[r], RC[r+1]) (clauses of rules first, then those of groups)
 *   CK  3 ints per clause: kind (CL_*), start and end in CV
 *   CV  clause values as int32: protocols / VLANs / VNIs sorted; port ranges as sorted pairs;
 *       IPv4 prefixes as (word, mask) pairs; IPv6 prefixes as 4 words then 4 masks; MACs (hi, lo)
 *   RK  rule -> rank in its group's evaluation order
 *   RT  rule -> 1 when terminating
 *   GR  per indexed group, from a base: rank -> flat rule index
 *   HT  hash slots, 4 ints each: key word 1, key word 2, list start, list end (end 0 = empty)
 *   HL  candidate lists: flat rule indices, each list sorted by rank
 * The generated source names table offsets and masks as literals and receives the tables as its
 * one parameter `T`, so source text + tables is all a worker thread needs (the source is a pure
 * function of the IR: same layer, same text; the tests snapshot it).
 *
 * Measured (bench/micro-vfp.ts, Node 20, 2 vCPUs, median batch of 1,024 packets; ACL rules with a
 * random /24-/32 remote prefix, one remote port, TCP or UDP): 10 rules (inlined) 8 ns/packet for
 * hits and misses; 100 / 1,000 / 10,000 rules (indexed) hit 38 / 42 / 54 ns, miss 10 / 10 / 11 ns,
 * near miss (inside a rule's prefix, wrong port) 34 / 41 / 41 ns. The interpreter needs 21 µs for
 * a miss at 1,000 rules. Compiling 10,000 rules (lowering + index + source) takes ~0.4 s cold.
 *
 * Where the index does not help: rules whose only selective fields are wide (prefixes shorter
 * than /16, port ranges over EXPAND_MAX ports, no MAC/VNI/VLAN) land in the `proto` bucket or the
 * residual list, which are scanned linearly (with the rank cut-off). A layer of thousands of such
 * rules would want a decision tree or range tables; none of the HNS-generated layers look like it.
 *
 * Invariants: `classify` allocates nothing (integers and typed-array reads only), never throws
 * for an in-range offset, and depends only on words PKT_SRC..PKT_DST_MAC_LO. Deliberately not
 * done: decision trees over several fields, merging groups, caching per flow (flow/ does that),
 * LPM groups. `codegen: false` keeps the interpreter as the classifier (tier 0: the generic path
 * keeps working when code generation is off).
 */
import type { ConditionsIR, GroupIR, LayerIR, PrefixIR } from './ir.js';
import { lowerLayer } from './ir.js';
import { interpretLayer } from './interp.js';
import type { DirectionId, Layer } from './model.js';

/** Live rules up to which a group is compiled to straight-line tests. */
export const SMALL_GROUP_MAX = 24;
/** Values of one condition list up to which it is inlined as an `||` chain. */
export const INLINE_LIST_MAX = 8;
/** Values a rule may expand to in one bucket kind (e.g. ports of its ranges). */
export const EXPAND_MAX = 512;

/** Clause kinds of the condition tables (CK). */
export const CL_PROTO = 0;
export const CL_SRC4 = 1;
export const CL_DST4 = 2;
export const CL_SRC6 = 3;
export const CL_DST6 = 4;
export const CL_SPORT = 5;
export const CL_DPORT = 6;
export const CL_SMAC = 7;
export const CL_DMAC = 8;
export const CL_VLAN = 9;
export const CL_VNI = 10;
export const CL_NEVER = 11;

export interface LayerTables {
  RC: Int32Array;
  CK: Int32Array;
  CV: Int32Array;
  RK: Int32Array;
  RT: Uint8Array;
  GR: Int32Array;
  HT: Int32Array;
  HL: Int32Array;
}

export type ClassifyFn = (pkt: Uint32Array, o: number, dir: DirectionId) => number;

export interface CompileOptions {
  /** Generate JavaScript (default true); false keeps the interpreter as the classifier. */
  codegen?: boolean;
  /** Live rules up to which a group is inlined (default SMALL_GROUP_MAX); 0 indexes every group (tests). */
  smallGroupMax?: number;
}

export interface CompiledLayer {
  ir: LayerIR;
  /** Generated JS (the body of `new Function('T', source)`), '' when codegen is off. */
  source: string;
  /** The tables the source reads, null when codegen is off. */
  tables: LayerTables | null;
  classify(pkt: Uint32Array, o: number, dir: DirectionId): number;
}

export function compileLayer(layer: Layer, options: CompileOptions = {}): CompiledLayer {
  return compileIR(lowerLayer(layer), options);
}

export function compileIR(ir: LayerIR, options: CompileOptions = {}): CompiledLayer {
  if (options.codegen === false) {
    return { ir, source: '', tables: null, classify: (pkt, o, dir) => interpretLayer(ir, pkt, o, dir) };
  }
  const { source, tables } = generateLayer(ir, options.smallGroupMax ?? SMALL_GROUP_MAX);
  return { ir, source, tables, classify: instantiateLayer(source, tables) };
}

/** Build the classifier from generated source and its tables (also what a worker thread does). */
export function instantiateLayer(source: string, tables: LayerTables): ClassifyFn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('T', source)(tables) as ClassifyFn;
}

/** The hash of a two-word bucket key; the generated prelude has the same function as text. */
export function hashKey(k1: number, k2: number): number {
  let h = Math.imul(k1 ^ Math.imul(k2 ^ 0x2545f491, 0x9e3779b1 | 0), 0x85ebca6b | 0);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35 | 0);
  return h ^ (h >>> 16);
}

const NONE = 0x7fffffff;

/**
 * The runtime part of every generated classifier: table-driven condition checks and the bucket
 * scan. Kept as literal text (not `fn.toString()`) so the source is identical whatever compiled
 * this module.
 */
const PRELUDE = `'use strict';
const RC = T.RC, CK = T.CK, CV = T.CV, RK = T.RK, RT = T.RT, GR = T.GR, HT = T.HT, HL = T.HL;
function inSorted(v, a, b) {
  while (a < b) {
    const m = (a + b) >>> 1, x = CV[m];
    if (x === v) return true;
    if (x < v) a = m + 1; else b = m;
  }
  return false;
}
function inRanges(v, a, b) {
  let lo = 0, hi = (b - a) >> 1;
  while (lo < hi) {
    const m = (lo + hi) >>> 1, i = a + 2 * m;
    if (v < CV[i]) hi = m; else if (v > CV[i + 1]) lo = m + 1; else return true;
  }
  return false;
}
function clause(c, pkt, o) {
  const i = 3 * c, k = CK[i], e = CK[i + 2];
  let a = CK[i + 1];
  switch (k) {
    case ${CL_PROTO}: return inSorted((pkt[o + 9] >>> 16) & 255, a, e);
    case ${CL_SRC4}: case ${CL_DST4}: {
      const v = pkt[o + (k === ${CL_SRC4} ? 0 : 4)] | 0;
      for (; a < e; a += 2) if ((v & CV[a + 1]) === CV[a]) return true;
      return false;
    }
    case ${CL_SRC6}: case ${CL_DST6}: {
      const p = o + (k === ${CL_SRC6} ? 0 : 4), v0 = pkt[p] | 0, v1 = pkt[p + 1] | 0, v2 = pkt[p + 2] | 0, v3 = pkt[p + 3] | 0;
      for (; a < e; a += 8) {
        if ((v0 & CV[a + 4]) === CV[a] && (v1 & CV[a + 5]) === CV[a + 1] && (v2 & CV[a + 6]) === CV[a + 2] && (v3 & CV[a + 7]) === CV[a + 3]) return true;
      }
      return false;
    }
    case ${CL_SPORT}: case ${CL_DPORT}: {
      const p = (pkt[o + 9] >>> 16) & 255;
      if (p !== 6 && p !== 17) return false;
      const w = pkt[o + 8];
      return inRanges(k === ${CL_SPORT} ? w >>> 16 : w & 65535, a, e);
    }
    case ${CL_SMAC}: case ${CL_DMAC}: {
      const p = o + (k === ${CL_SMAC} ? 12 : 14), hi = pkt[p] | 0, lo = pkt[p + 1] | 0;
      for (; a < e; a += 2) if (CV[a] === hi && CV[a + 1] === lo) return true;
      return false;
    }
    case ${CL_VLAN}: return inSorted(pkt[o + 9] & 65535, a, e);
    case ${CL_VNI}: return inSorted(pkt[o + 10] & 16777215, a, e);
  }
  return false;
}
function check(r, pkt, o) {
  for (let c = RC[r], e = RC[r + 1]; c < e; c++) if (!clause(c, pkt, o)) return false;
  return true;
}
function scan(a, e, best, pkt, o) {
  for (; a < e; a++) {
    const r = HL[a], k = RK[r];
    if (k >= best) return best;
    if (check(r, pkt, o)) return k;
  }
  return best;
}
function hashKey(k1, k2) {
  let h = Math.imul(k1 ^ Math.imul(k2 ^ 0x2545f491, 0x9e3779b1 | 0), 0x85ebca6b | 0);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35 | 0);
  return h ^ (h >>> 16);
}
function probe(base, mask, k1, k2, best, pkt, o) {
  let s = hashKey(k1, k2) & mask;
  for (;;) {
    const i = base + (s << 2), e = HT[i + 3];
    if (e === 0) return best;
    if (HT[i] === k1 && HT[i + 1] === k2) return scan(HT[i + 2], e, best, pkt, o);
    s = (s + 1) & mask;
  }
}
`;

/** A bucket kind of the large-group index. */
interface KindDef {
  name: string;
  /** Family of the groups it applies to; 0 = both. */
  family: 0 | 4 | 6;
  /** JS condition under which the kind is probed ('' = always). */
  guard: string;
  /** JS expressions of the key words, over the locals of the generated function. */
  k1: string;
  k2: string;
  /** The rule's keys in this kind, or null when the kind is not eligible for it. */
  keys(c: ConditionsIR): Array<[number, number]> | null;
}

function prefixKeys(list: readonly PrefixIR[], min: number, f: (p: PrefixIR) => [number, number]): Array<[number, number]> | null {
  if (list.length === 0) return null;
  for (const p of list) if (p.length < min) return null;
  return list.map(f);
}

function rangeKeys(list: readonly number[]): Array<[number, number]> | null {
  if (list.length === 0) return null;
  let n = 0;
  for (let i = 0; i < list.length; i += 2) n += list[i + 1]! - list[i]! + 1;
  if (n > EXPAND_MAX) return null;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < list.length; i += 2) for (let p = list[i]!; p <= list[i + 1]!; p++) out.push([p, 0]);
  return out;
}

function setKeys(list: readonly number[]): Array<[number, number]> | null {
  if (list.length === 0 || list.length > EXPAND_MAX) return null;
  return list.map((v) => [v | 0, 0]);
}

function macKeys(list: readonly number[]): Array<[number, number]> | null {
  if (list.length === 0 || list.length > 2 * EXPAND_MAX) return null;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < list.length; i += 2) out.push([list[i]! | 0, list[i + 1]! | 0]);
  return out;
}

/** Bucket kinds, in tie-break order (the most selective kinds of realistic ACLs first). */
const KINDS: readonly KindDef[] = [
  { name: 'dst4/24', family: 4, guard: '', k1: 'd0 >>> 8', k2: '0', keys: (c) => prefixKeys(c.dstPrefixes, 24, (p) => [p.words[0]! >>> 8, 0]) },
  { name: 'src4/24', family: 4, guard: '', k1: 's0 >>> 8', k2: '0', keys: (c) => prefixKeys(c.srcPrefixes, 24, (p) => [p.words[0]! >>> 8, 0]) },
  { name: 'dst6/64', family: 6, guard: '', k1: 'd0', k2: 'd1', keys: (c) => prefixKeys(c.dstPrefixes, 64, (p) => [p.words[0]! | 0, p.words[1]! | 0]) },
  { name: 'src6/64', family: 6, guard: '', k1: 's0', k2: 's1', keys: (c) => prefixKeys(c.srcPrefixes, 64, (p) => [p.words[0]! | 0, p.words[1]! | 0]) },
  { name: 'dport', family: 0, guard: 'l4', k1: 'dp', k2: '0', keys: (c) => rangeKeys(c.dstPorts) },
  { name: 'sport', family: 0, guard: 'l4', k1: 'sp', k2: '0', keys: (c) => rangeKeys(c.srcPorts) },
  { name: 'dmac', family: 0, guard: '', k1: 'dmh', k2: 'dml', keys: (c) => macKeys(c.dstMacs) },
  { name: 'smac', family: 0, guard: '', k1: 'smh', k2: 'sml', keys: (c) => macKeys(c.srcMacs) },
  { name: 'dst4/16', family: 4, guard: '', k1: 'd0 >>> 16', k2: '0', keys: (c) => prefixKeys(c.dstPrefixes, 16, (p) => [p.words[0]! >>> 16, 0]) },
  { name: 'src4/16', family: 4, guard: '', k1: 's0 >>> 16', k2: '0', keys: (c) => prefixKeys(c.srcPrefixes, 16, (p) => [p.words[0]! >>> 16, 0]) },
  { name: 'dst6/32', family: 6, guard: '', k1: 'd0', k2: '0', keys: (c) => prefixKeys(c.dstPrefixes, 32, (p) => [p.words[0]! | 0, 0]) },
  { name: 'src6/32', family: 6, guard: '', k1: 's0', k2: '0', keys: (c) => prefixKeys(c.srcPrefixes, 32, (p) => [p.words[0]! | 0, 0]) },
  { name: 'vni', family: 0, guard: '', k1: 'vn', k2: '0', keys: (c) => setKeys(c.vnis) },
  { name: 'vlan', family: 0, guard: '', k1: 'vl', k2: '0', keys: (c) => setKeys(c.vlans) },
  { name: 'proto', family: 0, guard: '', k1: 'pr', k2: '0', keys: (c) => setKeys(c.protocols) },
];

/** Distinct keys, sorted (so layout and text are a function of the IR only). */
function uniqueKeys(keys: Array<[number, number]>): Array<[number, number]> {
  keys.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const k of keys) {
    const last = out[out.length - 1];
    if (last === undefined || last[0] !== k[0] || last[1] !== k[1]) out.push(k);
  }
  return out;
}

const keyId = (kind: number, k: [number, number]): string => `${kind}:${k[0]}:${k[1]}`;

/** Accumulates the tables as plain arrays; `finish` turns them into typed arrays. */
class TableBuilder {
  readonly rc: number[] = [0];
  readonly ck: number[] = [];
  readonly cv: number[] = [];
  rk: number[] = [];
  rt: number[] = [];
  readonly gr: number[] = [];
  readonly ht: number[] = [];
  readonly hl: number[] = [];

  /** Add the clauses of `c`; returns clause ids by field (absent = no clause for it). */
  addClauses(c: ConditionsIR, family: 4 | 6): Map<string, number> {
    const ids = new Map<string, number>();
    const add = (field: string, kind: number, values: readonly number[]): void => {
      ids.set(field, this.ck.length / 3);
      this.ck.push(kind, this.cv.length, this.cv.length + values.length);
      for (const v of values) this.cv.push(v | 0);
    };
    if (c.never) {
      add('never', CL_NEVER, []);
      return ids;
    }
    // Check order: the most selective fields first, protocol last.
    const prefixValues = (list: readonly PrefixIR[]): number[] =>
      family === 4 ? list.flatMap((p) => [p.words[0]!, p.masks[0]!]) : list.flatMap((p) => [...p.words, ...p.masks]);
    if (c.dstPrefixes.length > 0) add('dstPrefixes', family === 4 ? CL_DST4 : CL_DST6, prefixValues(c.dstPrefixes));
    if (c.srcPrefixes.length > 0) add('srcPrefixes', family === 4 ? CL_SRC4 : CL_SRC6, prefixValues(c.srcPrefixes));
    if (c.dstPorts.length > 0) add('dstPorts', CL_DPORT, c.dstPorts);
    if (c.srcPorts.length > 0) add('srcPorts', CL_SPORT, c.srcPorts);
    if (c.dstMacs.length > 0) add('dstMacs', CL_DMAC, c.dstMacs);
    if (c.srcMacs.length > 0) add('srcMacs', CL_SMAC, c.srcMacs);
    if (c.vnis.length > 0) add('vnis', CL_VNI, c.vnis);
    if (c.vlans.length > 0) add('vlans', CL_VLAN, c.vlans);
    if (c.protocols.length > 0) add('protocols', CL_PROTO, c.protocols);
    return ids;
  }

  finish(): LayerTables {
    return {
      RC: Int32Array.from(this.rc),
      CK: Int32Array.from(this.ck),
      CV: Int32Array.from(this.cv),
      RK: Int32Array.from(this.rk),
      RT: Uint8Array.from(this.rt),
      GR: Int32Array.from(this.gr),
      // Never empty, so that a probe of a zero-key table cannot be generated by mistake unnoticed.
      HT: Int32Array.from(this.ht.length > 0 ? this.ht : [0, 0, 0, 0]),
      HL: Int32Array.from(this.hl),
    };
  }
}

/** The names of the locals a generated function may use, in declaration order, with their code. */
const LOCALS: ReadonlyArray<[string, string, readonly string[]]> = [
  ['pw', 'pkt[o + 9]', []],
  ['pr', '(pw >>> 16) & 255', ['pw']],
  ['vl', 'pw & 65535', ['pw']],
  ['l4', 'pr === 6 || pr === 17', ['pr']],
  ['pt', 'pkt[o + 8]', []],
  ['sp', 'pt >>> 16', ['pt']],
  ['dp', 'pt & 65535', ['pt']],
  ['vn', 'pkt[o + 10] & 16777215', []],
  ['s0', 'pkt[o] | 0', []],
  ['s1', 'pkt[o + 1] | 0', []],
  ['s2', 'pkt[o + 2] | 0', []],
  ['s3', 'pkt[o + 3] | 0', []],
  ['d0', 'pkt[o + 4] | 0', []],
  ['d1', 'pkt[o + 5] | 0', []],
  ['d2', 'pkt[o + 6] | 0', []],
  ['d3', 'pkt[o + 7] | 0', []],
  ['smh', 'pkt[o + 12] | 0', []],
  ['sml', 'pkt[o + 13] | 0', []],
  ['dmh', 'pkt[o + 14] | 0', []],
  ['dml', 'pkt[o + 15] | 0', []],
];

const orJoin = (parts: string[]): string => (parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`);

function prefixTest(p: PrefixIR, v: 's' | 'd'): string {
  const parts: string[] = [];
  for (let i = 0; i < 4; i++) {
    const m = p.masks[i]!;
    if (m === 0) continue;
    parts.push(m === 0xffffffff ? `${v}${i} === ${p.words[i]! | 0}` : `(${v}${i} & ${m | 0}) === ${p.words[i]! | 0}`);
  }
  // A /0 never reaches here (ir.ts turns a list with a /0 into "any").
  return parts.length === 1 ? parts[0]! : `(${parts.join(' && ')})`;
}

function rangeTest(v: string, list: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < list.length; i += 2) {
    const a = list[i]!;
    const b = list[i + 1]!;
    parts.push(a === b ? `${v} === ${a}` : `(${v} >= ${a} && ${v} <= ${b})`);
  }
  return orJoin(parts);
}

/** An inline JS expression for `c`; '' when it holds for every packet of the family. */
function conditionExpr(c: ConditionsIR, clauses: Map<string, number>): string {
  if (c.never) return 'false';
  const parts: string[] = [];
  const viaClause = (field: string): string => `clause(${clauses.get(field)!}, pkt, o)`;
  const list = (field: string, count: number, inline: () => string): void => {
    if (count === 0) return;
    parts.push(count > INLINE_LIST_MAX ? viaClause(field) : inline());
  };
  list('dstPrefixes', c.dstPrefixes.length, () => orJoin(c.dstPrefixes.map((p) => prefixTest(p, 'd'))));
  list('srcPrefixes', c.srcPrefixes.length, () => orJoin(c.srcPrefixes.map((p) => prefixTest(p, 's'))));
  // ir.ts narrows a non-empty protocol list to {6, 17} next to a port condition, so the explicit
  // TCP/UDP test is needed only when the protocol list is empty.
  if ((c.dstPorts.length > 0 || c.srcPorts.length > 0) && c.protocols.length === 0) parts.push('l4');
  list('dstPorts', c.dstPorts.length / 2, () => rangeTest('dp', c.dstPorts));
  list('srcPorts', c.srcPorts.length / 2, () => rangeTest('sp', c.srcPorts));
  const macs = (field: string, l: readonly number[], hi: string, lo: string): void =>
    list(field, l.length / 2, () => {
      const ps: string[] = [];
      for (let i = 0; i < l.length; i += 2) ps.push(`(${hi} === ${l[i]! | 0} && ${lo} === ${l[i + 1]! | 0})`);
      return orJoin(ps);
    });
  macs('dstMacs', c.dstMacs, 'dmh', 'dml');
  macs('srcMacs', c.srcMacs, 'smh', 'sml');
  list('vnis', c.vnis.length, () => orJoin(c.vnis.map((v) => `vn === ${v}`)));
  list('vlans', c.vlans.length, () => orJoin(c.vlans.map((v) => `vl === ${v}`)));
  list('protocols', c.protocols.length, () => orJoin(c.protocols.map((v) => `pr === ${v}`)));
  return parts.join(' && ');
}

/** One large group's index: fills the tables, returns the statements of its lookup. */
function buildIndex(ir: LayerIR, g: GroupIR, live: number[], tb: TableBuilder, pad: string): string[] {
  const grBase = tb.gr.length;
  for (const r of g.rules) tb.gr.push(r);
  const kinds = KINDS.map((k, i) => ({ def: k, i })).filter((k) => k.def.family === 0 || k.def.family === g.family);
  // Eligible keys per rule and kind.
  const eligible = live.map((r) => {
    const c = ir.rules[r]!.conditions;
    return kinds.map((k) => {
      const keys = k.def.keys(c);
      return keys === null ? null : uniqueKeys(keys);
    });
  });
  const tally = (counts: Map<string, number>, kind: number, keys: Array<[number, number]>, delta: number): void => {
    for (const key of keys) {
      const id = keyId(kind, key);
      counts.set(id, (counts.get(id) ?? 0) + delta);
    }
  };
  const score = (counts: Map<string, number>, kind: number, keys: Array<[number, number]>, extra: number): number => {
    let s = 0;
    for (const key of keys) s += (counts.get(keyId(kind, key)) ?? 0) + extra;
    return s;
  };
  // Pass 1: crowding if every eligible rule went to every kind it could.
  const all = new Map<string, number>();
  eligible.forEach((row) => row.forEach((keys, ki) => keys !== null && tally(all, ki, keys, 1)));
  const choice = eligible.map((row) => {
    let best = -1;
    let bestScore = Infinity;
    row.forEach((keys, ki) => {
      if (keys === null) return;
      const s = score(all, ki, keys, 0);
      if (s < bestScore) {
        bestScore = s;
        best = ki;
      }
    });
    return best;
  });
  // Pass 2: move each rule, in rank order, to the kind that is least crowded by the actual
  // placement (+1 per key for the rule itself).
  const placed = new Map<string, number>();
  choice.forEach((ki, j) => ki >= 0 && tally(placed, ki, eligible[j]![ki]!, 1));
  choice.forEach((ki, j) => {
    if (ki < 0) return;
    const row = eligible[j]!;
    tally(placed, ki, row[ki]!, -1);
    let best = ki;
    let bestScore = Infinity;
    row.forEach((keys, kj) => {
      if (keys === null) return;
      const s = score(placed, kj, keys, 1);
      if (s < bestScore) {
        bestScore = s;
        best = kj;
      }
    });
    choice[j] = best;
    tally(placed, best, row[best]!, 1);
  });

  const lines: string[] = [];
  lines.push(`${pad}let b = ${NONE};`);
  const residual: number[] = [];
  const perKind: Array<Map<string, { key: [number, number]; rules: number[] }>> = kinds.map(() => new Map());
  live.forEach((r, j) => {
    const ki = choice[j]!;
    if (ki < 0) {
      residual.push(r);
      return;
    }
    for (const key of eligible[j]![ki]!) {
      const id = keyId(ki, key);
      let bucket = perKind[ki]!.get(id);
      if (bucket === undefined) perKind[ki]!.set(id, (bucket = { key, rules: [] }));
      bucket.rules.push(r); // `live` is in rank order, so every list is rank-sorted
    }
  });
  perKind.forEach((buckets, ki) => {
    if (buckets.size === 0) return;
    const entries = [...buckets.values()].sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
    let slots = 4;
    while (slots < 2 * entries.length) slots *= 2;
    const mask = slots - 1;
    const base = tb.ht.length;
    for (let i = 0; i < 4 * slots; i++) tb.ht.push(0);
    let ruleCount = 0;
    for (const e of entries) {
      const start = tb.hl.length;
      for (const r of e.rules) tb.hl.push(r);
      ruleCount += e.rules.length;
      let s = hashKey(e.key[0], e.key[1]) & mask;
      while (tb.ht[base + 4 * s + 3] !== 0) s = (s + 1) & mask;
      tb.ht[base + 4 * s] = e.key[0];
      tb.ht[base + 4 * s + 1] = e.key[1];
      tb.ht[base + 4 * s + 2] = start;
      tb.ht[base + 4 * s + 3] = tb.hl.length;
    }
    const k = kinds[ki]!.def;
    const call = `b = probe(${base}, ${mask}, ${k.k1}, ${k.k2}, b, pkt, o);`;
    lines.push(`${pad}${k.guard ? `if (${k.guard}) ` : ''}${call} // ${k.name}: ${entries.length} keys, ${ruleCount} entries`);
  });
  if (residual.length > 0) {
    const start = tb.hl.length;
    for (const r of residual) tb.hl.push(r);
    lines.push(`${pad}b = scan(${start}, ${tb.hl.length}, b, pkt, o); // residual: ${residual.length} rules`);
  }
  const anyTerminating = live.some((r) => ir.rules[r]!.terminating);
  const allTerminating = live.every((r) => ir.rules[r]!.terminating);
  if (allTerminating) lines.push(`${pad}if (b !== ${NONE}) return GR[${grBase} + b];`);
  else if (anyTerminating) lines.push(`${pad}if (b !== ${NONE}) { const r = GR[${grBase} + b]; if (RT[r] === 1) return r; d = r; }`);
  else lines.push(`${pad}if (b !== ${NONE}) d = GR[${grBase} + b];`);
  return lines;
}

const FUNCTION_NAMES = ['out', 'in'] as const;

/** Generate the classifier source and its tables for a layer's IR (deterministic). */
export function generateLayer(ir: LayerIR, smallGroupMax: number = SMALL_GROUP_MAX): { source: string; tables: LayerTables } {
  const tb = new TableBuilder();
  tb.rk = new Array<number>(ir.rules.length).fill(0);
  tb.rt = ir.rules.map((r) => (r.terminating ? 1 : 0));
  // Rule clauses first, so that rule r's clauses are the contiguous range RC[r]..RC[r+1].
  const ruleClauses = ir.rules.map((r) => {
    const ids = tb.addClauses(r.conditions, ir.groups[r.group]!.family);
    tb.rc.push(tb.ck.length / 3);
    return ids;
  });
  for (const g of ir.groups) g.rules.forEach((r, rank) => (tb.rk[r] = rank));

  const out: string[] = [PRELUDE];
  out.push(`// layer ${JSON.stringify(ir.name)}: ${ir.rules.length} rules, ${ir.groups.length} groups`);
  for (const dir of [0, 1] as const) {
    for (const family of [4, 6] as const) {
      const body: string[] = [];
      for (const gi of ir.directions[dir]) {
        const g = ir.groups[gi]!;
        if (g.family !== family) continue;
        const label = `g${gi}`;
        const head = `  // group ${gi} ${JSON.stringify(g.name)}, priority ${g.priority}`;
        const live = g.rules.filter((r) => !ir.rules[r]!.conditions.never);
        if (g.conditions.never || live.length === 0) {
          body.push(`${head}: never decides`);
          continue;
        }
        const gexpr = conditionExpr(g.conditions, tb.addClauses(g.conditions, family));
        const lines: string[] = [];
        if (gexpr !== '') lines.push(`    if (!(${gexpr})) break ${label};`);
        let indexed = false;
        if (live.length <= smallGroupMax) {
          for (const r of live) {
            const rule = ir.rules[r]!;
            const expr = conditionExpr(rule.conditions, ruleClauses[r]!);
            const act = rule.terminating ? `return ${r};` : `{ d = ${r}; break ${label}; }`;
            if (expr === '') {
              // Holds for every packet: the rules after it can never be the group's best.
              lines.push(`    ${rule.terminating ? act : `d = ${r}; break ${label};`}`);
              break;
            }
            lines.push(`    if (${expr}) ${act}`);
          }
        } else {
          indexed = true;
          lines.push(...buildIndex(ir, g, live, tb, '    '));
        }
        body.push(`${head}, ${live.length} rules${indexed ? ', indexed' : ''}`);
        body.push(`  ${label}: {`, ...lines, '  }');
      }
      const text = body.join('\n');
      const used = new Set<string>();
      const need = (name: string): void => {
        if (used.has(name)) return;
        for (const [n, , deps] of LOCALS) if (n === name) deps.forEach(need);
        used.add(name);
      };
      for (const [name] of LOCALS) if (new RegExp(`\\b${name}\\b`).test(text)) need(name);
      out.push(`function ${FUNCTION_NAMES[dir]}${family}(pkt, o) {`);
      const decls = LOCALS.filter(([n]) => used.has(n)).map(([n, code]) => `${n} = ${code}`);
      if (decls.length > 0) out.push(`  const ${decls.join(', ')};`);
      if (body.length > 0) out.push('  let d = -1;', text, '  return d;');
      else out.push('  return -1;');
      out.push('}');
    }
  }
  out.push(`return function classify(pkt, o, dir) {
  const f = pkt[o + 9] >>> 24;
  if (f === 4) return dir === 0 ? out4(pkt, o) : in4(pkt, o);
  if (f === 6) return dir === 0 ? out6(pkt, o) : in6(pkt, o);
  return -1;
};
`);
  return { source: out.join('\n'), tables: tb.finish() };
}
