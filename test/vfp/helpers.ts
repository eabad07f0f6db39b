/**
 * Builders shared by the VFP tests: prefixes and MACs from text, rules, groups and layers with
 * defaults, and packets as PKT_WORDS words.
 */
import { parseIPv4 } from '../../src/wire/format.js';
import { ipv6 } from '../../src/synth/build.js';
import type { Conditions, Group, Layer, Mac, Prefix, Rule, RuleAction } from '../../src/vfp/model.js';
import {
  PKT_DST,
  PKT_DST_MAC_HI,
  PKT_DST_MAC_LO,
  PKT_ETHERTYPE,
  PKT_PORTS,
  PKT_PROTO,
  PKT_SRC,
  PKT_SRC_MAC_HI,
  PKT_SRC_MAC_LO,
  PKT_VNI,
  PKT_WORDS,
} from '../../src/vfp/model.js';
import { prefixMaskWord } from '../../src/vfp/ir.js';

/** Four words of an address: IPv4 in word 0, IPv6 as four big-endian words. */
export function addrWords(text: string): number[] {
  if (!text.includes(':')) return [parseIPv4(text) >>> 0, 0, 0, 0];
  const b = ipv6(text);
  const out: number[] = [];
  for (let i = 0; i < 4; i++) out.push(((b[4 * i]! << 24) | (b[4 * i + 1]! << 16) | (b[4 * i + 2]! << 8) | b[4 * i + 3]!) >>> 0);
  return out;
}

/** "10.0.0.0/8", "2001:db8::/33"; host bits are cleared as the model requires. */
export function pfx(text: string): Prefix {
  const [addr, len] = text.split('/');
  const family = addr!.includes(':') ? 6 : 4;
  const length = len === undefined ? (family === 4 ? 32 : 128) : Number(len);
  const words = addrWords(addr!).map((w, i) => (w & prefixMaskWord(length, i)) >>> 0);
  return { family, words, length };
}

export function mac(text: string): Mac {
  const h = text.split(/[:-]/).map((x) => parseInt(x, 16));
  return { hi: (h[0]! << 8) | h[1]!, lo: ((h[2]! << 24) | (h[3]! << 16) | (h[4]! << 8) | h[5]!) >>> 0 };
}

export function rule(id: string, priority: number, conditions: Conditions = {}, extra: Partial<Rule> = {}): Rule {
  return {
    id,
    priority,
    conditions,
    action: { type: 'allow' },
    terminating: false,
    stateful: false,
    flowTtl: 0,
    origin: 'test',
    ...extra,
  };
}

export const block = (): RuleAction => ({ type: 'block', reason: 'acl-block' });

export function group(name: string, priority: number, rules: Rule[], extra: Partial<Group> = {}): Group {
  return { name, priority, direction: 'out', family: 4, conditions: {}, rules, ...extra };
}

export function layer(groups: Group[], extra: Partial<Layer> = {}): Layer {
  return { name: 'TEST_LAYER', priority: 1, defaultAllow: false, defaultReason: 'acl-default-deny', groups, ...extra };
}

export interface PacketSpec {
  family?: number;
  src?: string;
  dst?: string;
  proto?: number;
  sport?: number;
  dport?: number;
  /** Raw ports word (overrides sport/dport), e.g. an ICMP type/code/id. */
  portsWord?: number;
  vlan?: number;
  vni?: number;
  smac?: string;
  dmac?: string;
}

/** One packet's words; placed at `o` in a buffer of `o + PKT_WORDS + 3` words (room after it too). */
export function packet(spec: PacketSpec, o = 0): Uint32Array {
  const p = new Uint32Array(o + PKT_WORDS + 3).fill(0xdeadbeef);
  const family = spec.family ?? (spec.src?.includes(':') || spec.dst?.includes(':') ? 6 : 4);
  const src = spec.src ? addrWords(spec.src) : [0, 0, 0, 0];
  const dst = spec.dst ? addrWords(spec.dst) : [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    p[o + PKT_SRC + i] = src[i]!;
    p[o + PKT_DST + i] = dst[i]!;
  }
  p[o + PKT_PORTS] = spec.portsWord ?? (((spec.sport ?? 0) << 16) | (spec.dport ?? 0)) >>> 0;
  p[o + PKT_PROTO] = ((family << 24) | ((spec.proto ?? 0) << 16) | (spec.vlan ?? 0)) >>> 0;
  p[o + PKT_VNI] = spec.vni === undefined ? 0 : (0x80000000 | spec.vni) >>> 0;
  p[o + PKT_ETHERTYPE] = (3 << 16) | (family === 6 ? 0x86dd : family === 4 ? 0x0800 : 0x0806);
  const s = mac(spec.smac ?? '00:15:5d:00:00:01');
  const d = mac(spec.dmac ?? '00:15:5d:00:00:02');
  p[o + PKT_SRC_MAC_HI] = s.hi;
  p[o + PKT_SRC_MAC_LO] = s.lo;
  p[o + PKT_DST_MAC_HI] = d.hi;
  p[o + PKT_DST_MAC_LO] = d.lo;
  return p;
}
