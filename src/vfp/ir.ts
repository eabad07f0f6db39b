/**
 * The normalised IR of one VFP layer: the second stage of the compiler (policy model.ts -> IR
 * here -> generated JS in codegen.ts; interp.ts walks this IR literally and is the oracle).
 *
 * What lowering does, once per policy generation (never per packet):
 *   - Flattens the rules: `rules[i]` is the i-th rule of the layer in definition order (groups in
 *     definition order, their rules in definition order). That position is the classifier's
 *     result, so a caller maps it back with `rules[i].group` / `rules[i].position`.
 *   - Orders evaluation: `directions[dir]` lists the group indices of one direction sorted by
 *     (priority, definition order); `groups[g].rules` lists the group's flat rule indices sorted
 *     by (priority, definition order). The first matching rule of that list is the group's best.
 *   - Turns conditions into numbers (ConditionsIR): prefixes as four words plus four masks
 *     (IPv4 uses word 0 only, the other masks are 0, so one comparison fits both families), port
 *     ranges clamped to 0..65535, sorted and merged into flat [from, to, ...] lists, protocol /
 *     VLAN / VNI sets sorted and deduplicated, MACs as sorted [hi, lo, ...] pairs.
 *   - Simplifies: a prefix of the other family is dropped (it can never hold, model.ts); a prefix
 *     contained in another of the same list is dropped; a /0 makes the list "any"; out-of-range
 *     values are dropped. A list that was given but lost every value can never hold: the whole
 *     conditions object becomes `never` (a rule that matches nothing; it is kept in `rules` so
 *     indices stay positions). A port condition restricts `protocols` to {6, 17}: an explicit
 *     protocol list without TCP or UDP next to a port condition is `never`.
 *
 * Invariants: an empty list means "any"; `never` objects have every list empty; numbers in the
 * IR are unsigned (u32 words, masks). Everything is plain data built in a fixed key order, so
 * `irToJson` is deterministic (used by `vfp compile --dump ir` and by the snapshot tests).
 *
 * Not handled here: LPM-type groups (every group is "Priority-based match"), tags / IP sets
 * (config/ expands them into prefix lists), the layer's flow cache (flow/).
 */
import type { DropReason } from '../base/reasons.js';
import type { Conditions, DirectionId, Layer, Mac, PortRange, Prefix, RuleAction } from './model.js';
import { DIR_IN, DIR_OUT } from './model.js';

export const IR_VERSION = 1;

export interface PrefixIR {
  /** Network words, host bits cleared (u32). */
  words: number[];
  /** Masks per word (u32): 0xffffffff for whole words, partial for the last, 0 after. */
  masks: number[];
  length: number;
}

export interface ConditionsIR {
  /** Some condition can never hold: the owner matches no packet. */
  never: boolean;
  /** IP protocols, sorted, unique. */
  protocols: number[];
  /** Prefixes of the group's family, sorted by words then length, none inside another. */
  srcPrefixes: PrefixIR[];
  dstPrefixes: PrefixIR[];
  /** Flat [from, to, from, to, ...], sorted, disjoint and non-adjacent. */
  srcPorts: number[];
  dstPorts: number[];
  /** Flat [hi, lo, ...] (hi 16 bits, lo 32 bits), sorted, unique. */
  srcMacs: number[];
  dstMacs: number[];
  /** VLAN ids 0..4095, sorted, unique. */
  vlans: number[];
  /** VNIs 0..2^24-1, sorted, unique. */
  vnis: number[];
}

export interface RuleIR {
  /** Flat index = position in `LayerIR.rules` = the classifier's result. */
  index: number;
  id: string;
  /** Index of the owning group in `LayerIR.groups` (definition order). */
  group: number;
  /** Position in the owning group's `rules` array of the policy. */
  position: number;
  priority: number;
  terminating: boolean;
  stateful: boolean;
  flowTtl: number;
  action: RuleAction;
  origin: string;
  conditions: ConditionsIR;
}

export interface GroupIR {
  /** Definition index in the layer. */
  index: number;
  name: string;
  priority: number;
  direction: DirectionId;
  family: 4 | 6;
  conditions: ConditionsIR;
  /** Flat rule indices in evaluation order: (priority, definition order). */
  rules: number[];
}

export interface LayerIR {
  version: typeof IR_VERSION;
  name: string;
  priority: number;
  defaultAllow: boolean;
  defaultReason: DropReason;
  /** Every rule, in definition order. */
  rules: RuleIR[];
  /** Every group, in definition order. */
  groups: GroupIR[];
  /** Group indices per DirectionId (DIR_OUT = 0, DIR_IN = 1), in evaluation order. */
  directions: [number[], number[]];
}

/** A ConditionsIR that holds for nothing. */
export function neverConditions(): ConditionsIR {
  return emptyConditions(true);
}

function emptyConditions(never: boolean): ConditionsIR {
  return {
    never,
    protocols: [],
    srcPrefixes: [],
    dstPrefixes: [],
    srcPorts: [],
    dstPorts: [],
    srcMacs: [],
    dstMacs: [],
    vlans: [],
    vnis: [],
  };
}

/** Mask word i of a prefix of `length` bits (u32). */
export function prefixMaskWord(length: number, i: number): number {
  const bits = length - 32 * i;
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Sentinel: the list was given and lost every value (the condition can never hold). */
const IMPOSSIBLE = null;

function lowerPrefixes(list: readonly Prefix[] | undefined, family: 4 | 6): PrefixIR[] | typeof IMPOSSIBLE {
  if (list === undefined || list.length === 0) return [];
  const max = family === 4 ? 32 : 128;
  const kept: PrefixIR[] = [];
  for (const p of list) {
    if (p.family !== family) continue;
    const length = Math.max(0, Math.min(max, Math.trunc(p.length)));
    const words: number[] = [];
    const masks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const m = prefixMaskWord(length, i);
      masks.push(m);
      words.push(((p.words[i] ?? 0) & m) >>> 0);
    }
    kept.push({ words, masks, length });
  }
  if (kept.length === 0) return IMPOSSIBLE;
  kept.sort(comparePrefixes);
  // Drop duplicates and prefixes inside another of the list: they add nothing to an OR. Two
  // prefixes either nest or are disjoint, and sorting by words then length puts a container
  // before everything it contains, so the kept ones are disjoint ranges in address order and
  // only the last kept one can contain the next.
  const out: PrefixIR[] = [];
  for (const q of kept) {
    const last = out[out.length - 1];
    if (last !== undefined && last.length <= q.length && prefixContains(last, q.words)) continue;
    out.push(q);
  }
  // A /0 matches every address of the family: the list says nothing.
  if (out.some((p) => p.length === 0)) return [];
  return out;
}

function comparePrefixes(a: PrefixIR, b: PrefixIR): number {
  for (let i = 0; i < 4; i++) {
    if (a.words[i] !== b.words[i]) return a.words[i]! < b.words[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

function prefixContains(p: PrefixIR, words: readonly number[]): boolean {
  for (let i = 0; i < 4; i++) if (((words[i]! & p.masks[i]!) >>> 0) !== p.words[i]) return false;
  return true;
}

function lowerPorts(list: readonly PortRange[] | undefined): number[] | typeof IMPOSSIBLE {
  if (list === undefined || list.length === 0) return [];
  const ranges: Array<[number, number]> = [];
  for (const r of list) {
    const from = Math.max(0, Math.ceil(r.from));
    const to = Math.min(65535, Math.floor(r.to));
    if (from <= to) ranges.push([from, to]);
  }
  if (ranges.length === 0) return IMPOSSIBLE;
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: number[] = [];
  for (const [from, to] of ranges) {
    const n = out.length;
    if (n > 0 && from <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, to);
    else out.push(from, to);
  }
  return out;
}

function lowerSet(list: readonly number[] | undefined, max: number): number[] | typeof IMPOSSIBLE {
  if (list === undefined || list.length === 0) return [];
  const kept = [...new Set(list.filter((v) => Number.isInteger(v) && v >= 0 && v <= max))].sort((a, b) => a - b);
  return kept.length === 0 ? IMPOSSIBLE : kept;
}

function lowerMacs(list: readonly Mac[] | undefined): number[] | typeof IMPOSSIBLE {
  if (list === undefined || list.length === 0) return [];
  const kept: Array<[number, number]> = [];
  for (const m of list) {
    if (Number.isInteger(m.hi) && m.hi >= 0 && m.hi <= 0xffff && Number.isInteger(m.lo)) kept.push([m.hi, m.lo >>> 0]);
  }
  if (kept.length === 0) return IMPOSSIBLE;
  kept.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: number[] = [];
  for (const [hi, lo] of kept) {
    const n = out.length;
    if (n > 0 && out[n - 2] === hi && out[n - 1] === lo) continue;
    out.push(hi, lo);
  }
  return out;
}

/** Lower one conditions object for a group of `family`. */
export function lowerConditions(c: Conditions, family: 4 | 6): ConditionsIR {
  const protocols = lowerSet(c.protocols, 255);
  const srcPrefixes = lowerPrefixes(c.srcPrefixes, family);
  const dstPrefixes = lowerPrefixes(c.dstPrefixes, family);
  const srcPorts = lowerPorts(c.srcPorts);
  const dstPorts = lowerPorts(c.dstPorts);
  const srcMacs = lowerMacs(c.srcMacs);
  const dstMacs = lowerMacs(c.dstMacs);
  const vlans = lowerSet(c.vlans, 4095);
  const vnis = lowerSet(c.vnis, 0xffffff);
  if (
    protocols === IMPOSSIBLE ||
    srcPrefixes === IMPOSSIBLE ||
    dstPrefixes === IMPOSSIBLE ||
    srcPorts === IMPOSSIBLE ||
    dstPorts === IMPOSSIBLE ||
    srcMacs === IMPOSSIBLE ||
    dstMacs === IMPOSSIBLE ||
    vlans === IMPOSSIBLE ||
    vnis === IMPOSSIBLE
  ) {
    return neverConditions();
  }
  let protos = protocols;
  if (srcPorts.length > 0 || dstPorts.length > 0) {
    // Port conditions hold only for TCP and UDP.
    if (protos.length > 0) {
      protos = protos.filter((p) => p === 6 || p === 17);
      if (protos.length === 0) return neverConditions();
    }
  }
  return { never: false, protocols: protos, srcPrefixes, dstPrefixes, srcPorts, dstPorts, srcMacs, dstMacs, vlans, vnis };
}

/** True when `c` holds for every packet of its group's family. */
export function conditionsAreAny(c: ConditionsIR): boolean {
  return (
    !c.never &&
    c.protocols.length === 0 &&
    c.srcPrefixes.length === 0 &&
    c.dstPrefixes.length === 0 &&
    c.srcPorts.length === 0 &&
    c.dstPorts.length === 0 &&
    c.srcMacs.length === 0 &&
    c.dstMacs.length === 0 &&
    c.vlans.length === 0 &&
    c.vnis.length === 0
  );
}

/** A canonical copy of an action: keys sorted, arrays copied, so the JSON is deterministic. */
function canonicalAction(a: RuleAction): RuleAction {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      const src = v as Record<string, unknown>;
      // `type` first for readability, then alphabetical.
      const keys = Object.keys(src).sort((x, y) => (x === 'type' ? -1 : y === 'type' ? 1 : x < y ? -1 : x > y ? 1 : 0));
      for (const k of keys) if (src[k] !== undefined) o[k] = sortKeys(src[k]);
      return o;
    }
    return v;
  };
  return sortKeys(a) as RuleAction;
}

/** Lower a layer of the policy model into the normalised IR. */
export function lowerLayer(layer: Layer): LayerIR {
  const rules: RuleIR[] = [];
  const groups: GroupIR[] = [];
  layer.groups.forEach((g, gi) => {
    const family: 4 | 6 = g.family === 6 ? 6 : 4;
    const first = rules.length;
    g.rules.forEach((r, position) => {
      rules.push({
        index: rules.length,
        id: r.id,
        group: gi,
        position,
        priority: r.priority,
        terminating: r.terminating,
        stateful: r.stateful,
        flowTtl: r.flowTtl,
        action: canonicalAction(r.action),
        origin: r.origin,
        conditions: lowerConditions(r.conditions, family),
      });
    });
    const order: number[] = [];
    for (let i = first; i < rules.length; i++) order.push(i);
    // Array.prototype.sort is stable (ES2019), and `order` starts in definition order.
    order.sort((a, b) => rules[a]!.priority - rules[b]!.priority);
    groups.push({
      index: gi,
      name: g.name,
      priority: g.priority,
      direction: g.direction === 'in' ? DIR_IN : DIR_OUT,
      family,
      conditions: lowerConditions(g.conditions, family),
      rules: order,
    });
  });
  const directions: [number[], number[]] = [[], []];
  for (const g of groups) directions[g.direction].push(g.index);
  for (const d of directions) d.sort((a, b) => groups[a]!.priority - groups[b]!.priority);
  return {
    version: IR_VERSION,
    name: layer.name,
    priority: layer.priority,
    defaultAllow: layer.defaultAllow,
    defaultReason: layer.defaultReason,
    rules,
    groups,
    directions,
  };
}

/**
 * Deterministic JSON of the IR: two-space indentation, arrays of numbers on one line (prefix
 * words, port lists), everything else one key per line.
 */
export function irToJson(ir: LayerIR): string {
  return stableJson(ir, '') + '\n';
}

function stableJson(v: unknown, indent: string): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => typeof x !== 'object' || x === null)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    return `[\n${v.map((x) => inner + stableJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${stableJson(x, inner)}`).join(',\n')}\n${indent}}`;
}
