/**
 * Human and machine dumps of a port's VFP policy (`vfp compile --dump layers`): text shaped like
 * `vfpctrl /port P /list-layer`, `/layer L /list-group` and `/group G /list-rule` run in turn,
 * and the same data as JSON so that nobody has to scrape the text (Microsoft's own SdnDiagnostics
 * PowerShell module spends hundreds of lines parsing vfpctrl output back into objects).
 *
 * Layout of the text: per port a `Port : name` header, then one `ITEM LIST` / `===========`
 * banner over its layers; blocks of `Key : value` lines nested by two spaces: LAYER (Priority,
 * Flags `0x1 Default Allow`), GROUP (Priority, Direction IN/OUT, Type IPv4/IPv6, Conditions,
 * Match type), RULE (Friendly name = origin, Priority, Type, Conditions or `<none>`, Flow TTL,
 * Flags `3 terminating stateful`, action details). Each port ends with `Command list-rule
 * succeeded!` as vfpctrl does. Conditions print the policy as written (model.ts), not the
 * simplified IR (that is `--dump ir`): a user compares this with what they configured.
 *
 * Rule type names: allow, block, rewrite, encap, decap, mac-rewrite, vlan-push, vlan-pop, meter,
 * mss-clamp. Not a per-packet module: it allocates strings freely.
 */
import { formatIPv4Word, formatIPv6 } from '../wire/format.js';
import type { Conditions, Group, Layer, Mac, PortPolicy, Prefix, Rule, RuleAction } from './model.js';

/** vfpctrl layer flag bits. */
export const LAYER_FLAG_DEFAULT_ALLOW = 0x1;
/** vfpctrl rule flag bits (`1 terminating`, `3 terminating stateful`). */
export const RULE_FLAG_TERMINATING = 0x1;
export const RULE_FLAG_STATEFUL = 0x2;

export const MATCH_TYPE_PRIORITY = 'Priority-based match';

export function formatMacValue(m: Mac): string {
  const b = [(m.hi >>> 8) & 255, m.hi & 255, m.lo >>> 24, (m.lo >>> 16) & 255, (m.lo >>> 8) & 255, m.lo & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function formatWords6(words: readonly number[]): string {
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const w = words[i] ?? 0;
    b[4 * i] = w >>> 24;
    b[4 * i + 1] = (w >>> 16) & 255;
    b[4 * i + 2] = (w >>> 8) & 255;
    b[4 * i + 3] = w & 255;
  }
  return formatIPv6(b, 0);
}

export function formatPrefix(p: Prefix): string {
  return `${p.family === 4 ? formatIPv4Word(p.words[0] ?? 0) : formatWords6(p.words)}/${p.length}`;
}

/** An address of a rewrite action: IPv4 when only the first word is used. */
function formatAddrWords(words: readonly number[]): string {
  return words.length <= 1 || words.slice(1).every((w) => w === 0) ? formatIPv4Word(words[0] ?? 0) : formatWords6(words);
}

function formatRange(r: { from: number; to: number }): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

/** Conditions as (label, values) pairs in vfpctrl's order; only the present ones. */
function conditionEntries(c: Conditions): Array<[label: string, key: string, values: string[]]> {
  const out: Array<[string, string, string[]]> = [];
  const add = (label: string, key: string, values: string[] | undefined): void => {
    if (values !== undefined && values.length > 0) out.push([label, key, values]);
  };
  add('Protocols', 'protocols', c.protocols?.map(String));
  add('Source IP', 'sourceIps', c.srcPrefixes?.map(formatPrefix));
  add('Destination IP', 'destinationIps', c.dstPrefixes?.map(formatPrefix));
  add('Source ports', 'sourcePorts', c.srcPorts?.map(formatRange));
  add('Destination ports', 'destinationPorts', c.dstPorts?.map(formatRange));
  add('Source MAC', 'sourceMacs', c.srcMacs?.map(formatMacValue));
  add('Destination MAC', 'destinationMacs', c.dstMacs?.map(formatMacValue));
  add('VLAN', 'vlans', c.vlans?.map(String));
  add('VNI', 'vnis', c.vnis?.map(String));
  return out;
}

function conditionsObject(c: Conditions): Record<string, string[]> {
  const o: Record<string, string[]> = {};
  for (const [, key, values] of conditionEntries(c)) o[key] = values;
  return o;
}

export function ruleFlags(r: Rule): number {
  return (r.terminating ? RULE_FLAG_TERMINATING : 0) | (r.stateful ? RULE_FLAG_STATEFUL : 0);
}

function ruleFlagNames(r: Rule): string[] {
  const n: string[] = [];
  if (r.terminating) n.push('terminating');
  if (r.stateful) n.push('stateful');
  return n;
}

export function layerFlags(l: Layer): number {
  return l.defaultAllow ? LAYER_FLAG_DEFAULT_ALLOW : 0;
}

/** The action's own lines (after `Type`), as (key, value) pairs. */
function actionDetails(a: RuleAction): Array<[string, string]> {
  switch (a.type) {
    case 'allow':
    case 'decap':
    case 'vlan-pop':
      return [];
    case 'block':
      return [['Drop reason', a.reason]];
    case 'rewrite': {
      const out: Array<[string, string]> = [];
      if (a.srcAddr !== undefined) out.push(['Modify source IP', formatAddrWords(a.srcAddr)]);
      if (a.srcPort !== undefined) out.push(['Modify source port', String(a.srcPort)]);
      if (a.dstAddr !== undefined) out.push(['Modify destination IP', formatAddrWords(a.dstAddr)]);
      if (a.dstPort !== undefined) out.push(['Modify destination port', String(a.dstPort)]);
      return out;
    }
    case 'encap':
      return [
        ['Encap type', 'VXLAN'],
        ['VNI', String(a.vni)],
        ['Encap source IP', formatIPv4Word(a.srcIp)],
        ['Encap destination', formatIPv4Word(a.dstIp)],
        ['Encap source MAC', formatMacValue(a.srcMac)],
        ['Encap destination MAC', formatMacValue(a.dstMac)],
        ['UDP port', String(a.udpPort)],
      ];
    case 'mac-rewrite': {
      const out: Array<[string, string]> = [];
      if (a.src !== undefined) out.push(['Modify source MAC', formatMacValue(a.src)]);
      if (a.dst !== undefined) out.push(['Modify destination MAC', formatMacValue(a.dst)]);
      return out;
    }
    case 'vlan-push':
      return [['VLAN', String(a.vid)]];
    case 'meter':
      return [['Meter', a.meter]];
    case 'mss-clamp':
      return [['MSS delta', String(a.delta)]];
  }
}

function conditionLines(c: Conditions, pad: string): string[] {
  const entries = conditionEntries(c);
  const out = [`${pad}Conditions:`];
  if (entries.length === 0) out.push(`${pad}  <none>`);
  for (const [label, , values] of entries) out.push(`${pad}  ${label} : ${values.join(', ')}`);
  return out;
}

function ruleLines(r: Rule, pad: string): string[] {
  const inner = pad + '  ';
  const flags = ruleFlags(r);
  const names = ruleFlagNames(r);
  return [
    `${pad}RULE : ${r.id}`,
    `${inner}Friendly name : ${r.origin}`,
    `${inner}Priority : ${r.priority}`,
    `${inner}Type : ${r.action.type}`,
    ...actionDetails(r.action).map(([k, v]) => `${inner}${k} : ${v}`),
    ...conditionLines(r.conditions, inner),
    `${inner}Flow TTL : ${r.flowTtl}`,
    `${inner}Flags : ${flags}${names.length > 0 ? ' ' + names.join(' ') : ''}`,
    `${inner}FlagsEx : 0`,
  ];
}

function groupLines(g: Group, pad: string): string[] {
  const inner = pad + '  ';
  const out = [
    `${pad}GROUP : ${g.name}`,
    `${inner}Priority : ${g.priority}`,
    `${inner}Direction : ${g.direction === 'in' ? 'IN' : 'OUT'}`,
    `${inner}Type : IPv${g.family}`,
    ...conditionLines(g.conditions, inner),
    `${inner}Match type : ${MATCH_TYPE_PRIORITY}`,
  ];
  if (g.rules.length === 0) out.push('', `${inner}<no rules>`);
  for (const r of g.rules) out.push('', ...ruleLines(r, inner));
  return out;
}

function layerLines(l: Layer, pad: string): string[] {
  const inner = pad + '  ';
  const out = [
    `${pad}LAYER : ${l.name}`,
    `${inner}Priority : ${l.priority}`,
    `${inner}Flags : 0x${layerFlags(l).toString(16)}${l.defaultAllow ? ' Default Allow' : ''}`,
  ];
  if (!l.defaultAllow) out.push(`${inner}Default drop reason : ${l.defaultReason}`);
  if (l.groups.length === 0) out.push('', `${inner}<no groups>`);
  for (const g of l.groups) out.push('', ...groupLines(g, inner));
  return out;
}

/** vfpctrl-like text of every port's layers, groups and rules. */
export function formatLayersText(ports: readonly PortPolicy[]): string {
  const out: string[] = [];
  for (const p of ports) {
    out.push(`Port : ${p.name}`, `  Port id : ${p.id}`, `  Port kind : ${p.kind}`, '', 'ITEM LIST', '===========', '');
    if (p.layers.length === 0) out.push('  <no layers>', '');
    for (const l of p.layers) out.push(...layerLines(l, '  '), '');
    out.push('Command list-rule succeeded!', '');
  }
  return out.join('\n');
}

export interface RuleJson {
  id: string;
  friendlyName: string;
  priority: number;
  type: RuleAction['type'];
  details: Record<string, string>;
  conditions: Record<string, string[]>;
  flowTtl: number;
  flags: number;
  flagNames: string[];
  action: RuleAction;
}

export interface GroupJson {
  name: string;
  priority: number;
  direction: 'IN' | 'OUT';
  type: 'IPv4' | 'IPv6';
  matchType: string;
  conditions: Record<string, string[]>;
  rules: RuleJson[];
}

export interface LayerJson {
  name: string;
  priority: number;
  flags: number;
  flagNames: string[];
  defaultAllow: boolean;
  defaultReason: string;
  groups: GroupJson[];
}

export interface PortJson {
  id: number;
  name: string;
  kind: string;
  layers: LayerJson[];
}

/** The data of formatLayersText as plain objects. */
export function layersToObject(ports: readonly PortPolicy[]): PortJson[] {
  return ports.map((p) => ({
    id: p.id,
    name: p.name,
    kind: p.kind,
    layers: p.layers.map((l) => ({
      name: l.name,
      priority: l.priority,
      flags: layerFlags(l),
      flagNames: l.defaultAllow ? ['Default Allow'] : [],
      defaultAllow: l.defaultAllow,
      defaultReason: l.defaultReason,
      groups: l.groups.map((g) => ({
        name: g.name,
        priority: g.priority,
        direction: g.direction === 'in' ? ('IN' as const) : ('OUT' as const),
        type: g.family === 6 ? ('IPv6' as const) : ('IPv4' as const),
        matchType: MATCH_TYPE_PRIORITY,
        conditions: conditionsObject(g.conditions),
        rules: g.rules.map((r) => ({
          id: r.id,
          friendlyName: r.origin,
          priority: r.priority,
          type: r.action.type,
          details: Object.fromEntries(actionDetails(r.action)),
          conditions: conditionsObject(r.conditions),
          flowTtl: r.flowTtl,
          flags: ruleFlags(r),
          flagNames: ruleFlagNames(r),
          action: r.action,
        })),
      })),
    })),
  }));
}

/** JSON text of layersToObject, two-space indented, with a final newline. */
export function layersToJson(ports: readonly PortPolicy[]): string {
  return JSON.stringify(layersToObject(ports), null, 2) + '\n';
}

