/**
 * Readers for the values of a topology file: JSON types, addresses and prefixes, MACs, port
 * lists, protocol lists. Every reader takes a `Field` (a value and the JSON path it sits at) and a
 * `Collector`; on a bad value it records one problem at that path and returns null, so the loader
 * keeps going and reports every problem of a file at once, not only the first.
 *
 * Conventions shared by all readers:
 *   - JSON `null` is the same as an absent field (HNS dumps print `"Dns": null`, PowerShell
 *     prints `$null` members): readers return undefined for both.
 *   - Field names are matched exactly first, then case-insensitively, as Go's encoding/json (and
 *     so HNS itself) does; the path names the key as the file spells it.
 *   - A single object where an array is expected is read as a one-element array (PowerShell's
 *     ConvertTo-Json prints a one-object pipeline as the object) and noted. Its elements keep
 *     the path of the field itself (`networks.Name`, not `networks[0].Name`), which is where they
 *     really are in the file.
 *   - Lists given as strings are comma separated (`"192.168.100.0/24,10.0.0.21"`, `"80,8080"`,
 *     `"6,17"`), as HNS v2 writes them; arrays of such strings are accepted too.
 *
 * Addresses are parsed and printed with `ip-address` (load time only) and turned into the four
 * u32 words of model.ts; nothing of that package reaches per-packet code. IPv6 zone indices
 * (`fe80::1%eth0`) are refused: HNS objects never carry them. IPv4-mapped IPv6 stays family 6.
 */
import { Address4, Address6 } from 'ip-address';
import type { Family, IpAddr, IpPrefix, MacAddr, PortRange } from './model.js';

export interface Problem {
  path: string;
  message: string;
}

/** Problems and notes of one load, in file order. */
export class Collector {
  readonly problems: Problem[] = [];
  readonly notes: string[] = [];
  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  note(path: string, message: string): void {
    this.notes.push(`${path}: ${message}`);
  }
}

/** A value and where it is. */
export interface Field {
  value: unknown;
  path: string;
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `a` + `.key`, the JSON-path step; keys that are not identifiers are quoted. */
export function join(path: string, key: string): string {
  const step = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (path === '') return step;
  return step.startsWith('"') ? `${path}[${step}]` : `${path}.${step}`;
}

/** A short description of a JSON value for messages: `a string ("80")`, `an object`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
    case 'number':
      return `a number (${v})`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/**
 * The first of `names` present in `obj` (exact spelling first, then any case); null counts as
 * absent. Returns the matching key too, so a caller can tell a v1 alias from the v2 name.
 */
export function field(obj: Obj, path: string, ...names: string[]): (Field & { key: string }) | undefined {
  for (const n of names) {
    if (Object.hasOwn(obj, n) && obj[n] !== null && obj[n] !== undefined) return { value: obj[n], path: join(path, n), key: n };
  }
  const lower = names.map((n) => n.toLowerCase());
  for (const k of Object.keys(obj)) {
    const i = lower.indexOf(k.toLowerCase());
    if (i >= 0 && obj[k] !== null && obj[k] !== undefined) return { value: obj[k], path: join(path, k), key: names[i]! };
  }
  return undefined;
}

export function readString(c: Collector, f: Field | undefined): string | null | undefined {
  if (!f) return undefined;
  if (typeof f.value === 'string') return f.value;
  c.problem(f.path, `expected a string, got ${describe(f.value)}`);
  return null;
}

/** A whole number in [min, max]. */
export function readInt(c: Collector, f: Field | undefined, min: number, max: number, what = 'a whole number'): number | null | undefined {
  if (!f) return undefined;
  const v = f.value;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    c.problem(f.path, `expected ${what}, got ${describe(v)}`);
    return null;
  }
  if (v < min || v > max) {
    c.problem(f.path, `${what} must be between ${min} and ${max}, got ${v}`);
    return null;
  }
  return v;
}

export function readBool(c: Collector, f: Field | undefined): boolean | null | undefined {
  if (!f) return undefined;
  if (typeof f.value === 'boolean') return f.value;
  c.problem(f.path, `expected true or false, got ${describe(f.value)}`);
  return null;
}

export function readObj(c: Collector, f: Field | undefined): Obj | null | undefined {
  if (!f) return undefined;
  if (isObj(f.value)) return f.value;
  c.problem(f.path, `expected an object, got ${describe(f.value)}`);
  return null;
}

/** An array field as its elements (a lone object is a one-element array, noted). */
export function readArray(c: Collector, f: Field | undefined): Field[] | null | undefined {
  if (!f) return undefined;
  if (Array.isArray(f.value)) return f.value.map((value, i) => ({ value, path: `${f.path}[${i}]` }));
  if (isObj(f.value)) {
    c.note(f.path, 'a single object where a list is expected: read as a one-element list (PowerShell one-object pipeline)');
    return [{ value: f.value, path: f.path }];
  }
  c.problem(f.path, `expected a list, got ${describe(f.value)}`);
  return null;
}

/** The items of a list that may be a comma-separated string, a number, or an array of either. */
function listItems(c: Collector, f: Field, what: string): { text: string; path: string }[] | null {
  const out: { text: string; path: string }[] = [];
  const add = (v: unknown, path: string): boolean => {
    if (typeof v === 'number') {
      out.push({ text: String(v), path });
      return true;
    }
    if (typeof v === 'string') {
      for (const part of v.split(',')) if (part.trim() !== '') out.push({ text: part.trim(), path });
      return true;
    }
    c.problem(path, `expected ${what}, got ${describe(v)}`);
    return false;
  };
  if (Array.isArray(f.value)) {
    let ok = true;
    f.value.forEach((v, i) => {
      if (v !== null) ok = add(v, `${f.path}[${i}]`) && ok;
    });
    return ok ? out : null;
  }
  return add(f.value, f.path) ? out : null;
}

// ---------------------------------------------------------------------------------------------
// Addresses

function ipv6Words(big: bigint): [number, number, number, number] {
  return [Number((big >> 96n) & 0xffffffffn), Number((big >> 64n) & 0xffffffffn), Number((big >> 32n) & 0xffffffffn), Number(big & 0xffffffffn)];
}

function dotted(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/**
 * Canonical text: dotted quad, or RFC 5952 for IPv6 (ip-address's correctForm, except that
 * IPv4-mapped addresses keep the dotted quad, RFC 5952 §5, as wire/format.ts prints them in
 * `vfp parse`). wire/ is the same layer as config/, so it cannot be imported here.
 */
export function wordsText(family: Family, w: readonly number[]): string {
  if (family === 4) return dotted(w[0]!);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return `::ffff:${dotted(w[3]!)}`;
  const big = (BigInt(w[0]!) << 96n) | (BigInt(w[1]!) << 64n) | (BigInt(w[2]!) << 32n) | BigInt(w[3]!);
  return Address6.fromBigInt(big).correctForm();
}

/** Words with the bits after `length` cleared. */
export function maskWords(family: Family, w: readonly number[], length: number): [number, number, number, number] {
  const total = family === 4 ? 32 : 128;
  const out: [number, number, number, number] = [0, 0, 0, 0];
  const words = family === 4 ? 1 : 4;
  for (let i = 0; i < words; i++) {
    const bits = Math.max(0, Math.min(32, Math.min(length, total) - 32 * i));
    const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    out[i] = (w[i]! & mask) >>> 0;
  }
  return out;
}

interface ParsedIp {
  family: Family;
  words: [number, number, number, number];
  /** Prefix length written after a slash, or null. */
  length: number | null;
}

/** Parse `a.b.c.d[/n]` or an IPv6 address `[/n]`; a message on failure. */
export function parseIpText(text: string): ParsedIp | string {
  const t = text.trim();
  if (t === '') return 'empty address';
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const lenText = slash < 0 ? null : t.slice(slash + 1);
  if (lenText !== null && !/^\d{1,3}$/.test(lenText)) return `'${text}' has a bad prefix length`;
  const length = lenText === null ? null : Number(lenText);
  if (addr.includes(':')) {
    if (addr.includes('%')) return `'${text}': IPv6 zone indices are not supported`;
    if (length !== null && length > 128) return `'${text}': an IPv6 prefix length is 0..128`;
    try {
      const a = new Address6(addr);
      return { family: 6, words: ipv6Words(a.bigInt()), length };
    } catch {
      return `'${text}' is not an IPv4 or IPv6 address`;
    }
  }
  if (length !== null && length > 32) return `'${text}': an IPv4 prefix length is 0..32`;
  try {
    const a = new Address4(addr);
    const p = a.toArray();
    return { family: 4, words: [((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0, 0, 0, 0], length };
  } catch {
    return `'${text}' is not an IPv4 or IPv6 address`;
  }
}

export function makeAddr(family: Family, words: readonly number[]): IpAddr {
  const w: [number, number, number, number] = [words[0]! >>> 0, words[1]! >>> 0, words[2]! >>> 0, words[3]! >>> 0];
  return { family, words: w, text: wordsText(family, w) };
}

export function makePrefix(family: Family, words: readonly number[], length: number): IpPrefix {
  const w = maskWords(family, words, length);
  return { family, words: w, length, text: `${wordsText(family, w)}/${length}` };
}

/** A plain address from text (no prefix length allowed). */
export function addrFromText(text: string): IpAddr | string {
  const p = parseIpText(text);
  if (typeof p === 'string') return p;
  if (p.length !== null) return `'${text}' is a prefix where an address is expected`;
  return makeAddr(p.family, p.words);
}

/** An address field (a string). */
export function readAddr(c: Collector, f: Field | undefined): IpAddr | null | undefined {
  const s = readString(c, f);
  if (s === undefined || s === null) return s;
  if (s.trim() === '') return undefined; // kube-proxy writes "" for "none" (SourceVIP, VIP)
  const a = addrFromText(s);
  if (typeof a === 'string') {
    c.problem(f!.path, a);
    return null;
  }
  return a;
}

/**
 * A prefix from text. `bare`: what a plain address means (`host` = /32 or /128; `required` = a
 * problem). Host bits are cleared, with a note (HNS treats `10.0.0.5/24` as `10.0.0.0/24`).
 */
export function prefixFromText(c: Collector, text: string, path: string, bare: 'host' | 'required'): IpPrefix | null {
  const p = parseIpText(text);
  if (typeof p === 'string') {
    c.problem(path, p);
    return null;
  }
  let length = p.length;
  if (length === null) {
    if (bare === 'required') {
      c.problem(path, `'${text}' needs a prefix length (e.g. ${text}/${p.family === 4 ? 24 : 64})`);
      return null;
    }
    length = p.family === 4 ? 32 : 128;
  }
  const prefix = makePrefix(p.family, p.words, length);
  const same = prefix.words.every((w, i) => w === p.words[i]);
  if (!same) c.note(path, `'${text.trim()}' has host bits set: read as ${prefix.text}`);
  return prefix;
}

export function readPrefix(c: Collector, f: Field | undefined, bare: 'host' | 'required'): IpPrefix | null | undefined {
  const s = readString(c, f);
  if (s === undefined || s === null) return s;
  return prefixFromText(c, s, f!.path, bare);
}

/**
 * An interface address `a.b.c.d/n` (host bits kept in the address, cleared in the on-link
 * prefix); a bare address is a host prefix (/32, /128) and `bareLength` says so to the caller.
 */
export function readInterfaceAddr(c: Collector, f: Field | undefined): { address: IpAddr; prefix: IpPrefix; bare: boolean } | null | undefined {
  const s = readString(c, f);
  if (s === undefined || s === null) return s;
  const p = parseIpText(s);
  if (typeof p === 'string') {
    c.problem(f!.path, p);
    return null;
  }
  const length = p.length ?? (p.family === 4 ? 32 : 128);
  return { address: makeAddr(p.family, p.words), prefix: makePrefix(p.family, p.words, length), bare: p.length === null };
}

/** A list of prefixes: comma-separated string or array; plain addresses are host prefixes; `*`/`any` = none. */
export function readPrefixList(c: Collector, f: Field | undefined): IpPrefix[] | null {
  if (!f) return [];
  const items = listItems(c, f, 'an address list');
  if (!items) return null;
  const out: IpPrefix[] = [];
  let ok = true;
  for (const it of items) {
    if (it.text === '*' || it.text.toLowerCase() === 'any') continue;
    const p = prefixFromText(c, it.text, it.path, 'host');
    if (p) out.push(p);
    else ok = false;
  }
  return ok ? out : null;
}

/** An address list (no prefixes): comma-separated string or array. */
export function readAddrList(c: Collector, f: Field | undefined): IpAddr[] | null {
  if (!f) return [];
  const items = listItems(c, f, 'an address list');
  if (!items) return null;
  const out: IpAddr[] = [];
  let ok = true;
  for (const it of items) {
    const a = addrFromText(it.text);
    if (typeof a === 'string') {
      c.problem(it.path, a);
      ok = false;
    } else out.push(a);
  }
  return ok ? out : null;
}

export function prefixContains(p: IpPrefix, a: IpAddr): boolean {
  if (p.family !== a.family) return false;
  const m = maskWords(p.family, a.words, p.length);
  return m[0] === p.words[0] && m[1] === p.words[1] && m[2] === p.words[2] && m[3] === p.words[3];
}

/** Whether two prefixes share any address (one contains the other). */
export function prefixesOverlap(a: IpPrefix, b: IpPrefix): boolean {
  if (a.family !== b.family) return false;
  const len = Math.min(a.length, b.length);
  const x = maskWords(a.family, a.words, len);
  const y = maskWords(b.family, b.words, len);
  return x[0] === y[0] && x[1] === y[1] && x[2] === y[2] && x[3] === y[3];
}

/** Whether prefix `outer` contains all of `inner`. */
export function prefixCovers(outer: IpPrefix, inner: IpPrefix): boolean {
  return outer.family === inner.family && outer.length <= inner.length && prefixesOverlap(outer, inner);
}

export function sameAddr(a: IpAddr, b: IpAddr): boolean {
  return a.family === b.family && a.words[0] === b.words[0] && a.words[1] === b.words[1] && a.words[2] === b.words[2] && a.words[3] === b.words[3];
}

// ---------------------------------------------------------------------------------------------
// MACs

const HEX2 = (n: number): string => n.toString(16).padStart(2, '0');

/** A MAC from its 48-bit value (0 .. 2^48-1, a safe integer). */
export function macFromNumber(n: number): MacAddr {
  const hi = Math.floor(n / 0x100000000) & 0xffff;
  const lo = n % 0x100000000 >>> 0;
  const text = [hi >>> 8, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255].map(HEX2).join(':');
  return { hi, lo, text };
}

export function macNumber(m: MacAddr): number {
  return m.hi * 0x100000000 + m.lo;
}

/** `00-15-5D-AA-10-0A` or `00:15:5d:aa:10:0a`, any case. */
export function macFromText(text: string): MacAddr | string {
  const m = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) return `'${text}' is not a MAC address (expected 00-15-5D-AA-10-0A or 00:15:5d:aa:10:0a)`;
  const b = [m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h!, 16));
  return macFromNumber(((b[0]! << 8) | b[1]!) * 0x100000000 + (((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0));
}

export function readMac(c: Collector, f: Field | undefined): MacAddr | null | undefined {
  const s = readString(c, f);
  if (s === undefined || s === null) return s;
  const m = macFromText(s);
  if (typeof m === 'string') {
    c.problem(f!.path, m);
    return null;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Ports and protocols

/** A port list: `"80,8080"`, `"1000-2000"`, a number, or an array of these. Empty = any. */
export function readPortList(c: Collector, f: Field | undefined): PortRange[] | null {
  if (!f) return [];
  const items = listItems(c, f, 'a port list');
  if (!items) return null;
  const out: PortRange[] = [];
  let ok = true;
  for (const it of items) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(it.text);
    if (!m) {
      c.problem(it.path, `'${it.text}' is not a port or a port range (e.g. 80 or 1000-2000)`);
      ok = false;
      continue;
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > 65535 || to > 65535) {
      c.problem(it.path, `port ${from > 65535 ? from : to} is out of range 0..65535`);
      ok = false;
    } else if (from > to) {
      c.problem(it.path, `port range ${from}-${to} runs backwards`);
      ok = false;
    } else out.push({ from, to });
  }
  return ok ? out : null;
}

/** A single port number 0..65535 (a JSON number). */
export function readPort(c: Collector, f: Field | undefined): number | null | undefined {
  return readInt(c, f, 0, 65535, 'a port number');
}

export const PROTOCOL_NAMES: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  sctp: 132,
};

/** v1 ACL protocol meaning "any protocol". */
export const PROTOCOL_ANY_V1 = 256;

/**
 * One protocol item: a number 0..255, 256 (v1 "any"), or a name (TCP, UDP, ICMP, ICMPv6, IGMP,
 * GRE, ESP, AH, SCTP; `Any`/`*` = any). Returns 'any', the number, or null after a problem.
 */
function protocolItem(c: Collector, text: string, path: string): number | 'any' | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n === PROTOCOL_ANY_V1) {
      c.note(path, 'protocol 256 (v1 "any") read as any protocol');
      return 'any';
    }
    if (n > 255) {
      c.problem(path, `protocol ${n} is out of range 0..255 (256 = any, v1)`);
      return null;
    }
    return n;
  }
  const lower = t.toLowerCase();
  if (lower === 'any' || lower === '*') return 'any';
  const n = PROTOCOL_NAMES[lower];
  if (n === undefined) {
    c.problem(path, `'${t}' is not a protocol number or name (TCP, UDP, ICMP, ICMPv6, IGMP, ...)`);
    return null;
  }
  c.note(path, `protocol name '${t}' read as ${n}`);
  return n;
}

/** A protocol list for an ACL: null = any. `undefined` (absent) is any too. */
export function readProtocols(c: Collector, f: Field | undefined): number[] | null | 'bad' {
  if (!f) return null;
  const items = listItems(c, f, 'a protocol list');
  if (!items) return 'bad';
  const out: number[] = [];
  let any = items.length === 0;
  let ok = true;
  for (const it of items) {
    const p = protocolItem(c, it.text, it.path);
    if (p === null) ok = false;
    else if (p === 'any') any = true;
    else if (!out.includes(p)) out.push(p);
  }
  if (!ok) return 'bad';
  return any ? null : out;
}

/** One protocol (port mappings, load balancers): a number 0..255 or a name. */
export function readProtocol(c: Collector, f: Field | undefined): number | null | undefined {
  if (!f) return undefined;
  if (typeof f.value !== 'number' && typeof f.value !== 'string') {
    c.problem(f.path, `expected a protocol number or name, got ${describe(f.value)}`);
    return null;
  }
  if (typeof f.value === 'number' && !Number.isInteger(f.value)) {
    c.problem(f.path, `expected a protocol number or name, got ${describe(f.value)}`);
    return null;
  }
  const p = protocolItem(c, String(f.value), f.path);
  if (p === 'any') {
    c.problem(f.path, 'a single protocol is needed here (6 TCP or 17 UDP), not "any"');
    return null;
  }
  return p;
}
