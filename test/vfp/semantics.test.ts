/**
 * The semantics of one layer (model.ts essay; docs/defaults.md), one point per test. Every decision
 * is asked of four classifiers that must agree: the interpreter, the generated code, the
 * generated code with every group indexed (smallGroupMax 0) and the `codegen: false` fallback.
 * Results are compared as rule ids (null = no rule decides: the layer default applies).
 */
import { describe, expect, it } from 'vitest';
import { compileIR } from '../../src/vfp/codegen.js';
import { lowerLayer } from '../../src/vfp/ir.js';
import { createLayerTrace, interpretLayer } from '../../src/vfp/interp.js';
import type { Group, Layer } from '../../src/vfp/model.js';
import { DIR_IN, DIR_OUT } from '../../src/vfp/model.js';
import type { DirectionId } from '../../src/vfp/model.js';
import type { PacketSpec } from './helpers.js';
import { block, group, layer, mac, packet, pfx, rule } from './helpers.js';

/** The deciding rule's id (or null), after checking that every classifier agrees. */
function decide(l: Layer, spec: PacketSpec, dir: DirectionId = DIR_OUT): string | null {
  const ir = lowerLayer(l);
  const classifiers = [compileIR(ir), compileIR(ir, { smallGroupMax: 0 }), compileIR(ir, { codegen: false })];
  for (const o of [0, 5]) {
    const p = packet(spec, o);
    const want = interpretLayer(ir, p, o, dir);
    for (const c of classifiers) expect(c.classify(p, o, dir)).toBe(want);
    if (o === 5) return want < 0 ? null : ir.rules[want]!.id;
  }
  return null;
}

const tcp = (dst: string, dport: number, extra: PacketSpec = {}): PacketSpec => ({ src: '10.0.0.1', dst, proto: 6, sport: 40000, dport, ...extra });

describe('groups', () => {
  it('the last matching group decides (a later group overrides an earlier one)', () => {
    const l = layer([group('G1', 1, [rule('allow', 1)]), group('G2', 2, [rule('block', 1, { dstPorts: [{ from: 80, to: 80 }] }, { action: block() })])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('block');
    expect(decide(l, tcp('1.2.3.4', 81))).toBe('allow');
  });

  it('groups are visited by priority, not definition order; ties by definition order', () => {
    const l = layer([group('late', 9, [rule('late', 1)]), group('early', 1, [rule('early', 1)])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('late');
    const tie = layer([group('A', 5, [rule('a', 1)]), group('B', 5, [rule('b', 1)])]);
    expect(decide(tie, tcp('1.2.3.4', 80))).toBe('b');
  });

  it('a terminating best ends the layer; a terminating rule that is not the best does not', () => {
    const l = layer([group('G1', 1, [rule('t', 1, {}, { terminating: true, action: block() })]), group('G2', 2, [rule('later', 1)])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('t');
    const notBest = layer([
      group('G1', 1, [rule('t', 2, {}, { terminating: true }), rule('best', 1)]),
      group('G2', 2, [rule('later', 1)]),
    ]);
    expect(decide(notBest, tcp('1.2.3.4', 80))).toBe('later');
  });

  it('a group that matches but has no matching rule keeps the earlier decision', () => {
    const l = layer([group('G1', 1, [rule('first', 1)]), group('G2', 2, [rule('never', 1, { protocols: [17] })])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('first');
  });

  it("a group's own conditions gate all its rules", () => {
    const l = layer([
      group('G1', 1, [rule('base', 1)]),
      group('web', 2, [rule('web', 1)], { conditions: { dstPorts: [{ from: 80, to: 80 }], protocols: [6] } }),
    ]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('web');
    expect(decide(l, tcp('1.2.3.4', 443))).toBe('base');
    expect(decide(l, { ...tcp('1.2.3.4', 80), proto: 17 })).toBe('base');
  });

  it('direction: OUT groups do not see IN packets and vice versa', () => {
    const l = layer([group('out', 1, [rule('out', 1)]), group('in', 1, [rule('in', 1)], { direction: 'in' })]);
    expect(decide(l, tcp('1.2.3.4', 80), DIR_OUT)).toBe('out');
    expect(decide(l, tcp('1.2.3.4', 80), DIR_IN)).toBe('in');
  });

  it('no decision: -1, the caller applies the default', () => {
    const l = layer([group('G', 1, [rule('r', 1, { protocols: [17] })])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBeNull();
    expect(decide(layer([]), tcp('1.2.3.4', 80))).toBeNull();
    expect(decide(layer([group('empty', 1, [])]), tcp('1.2.3.4', 80))).toBeNull();
  });
});

describe('rules within a group', () => {
  it('the lowest priority number wins, whatever the definition order', () => {
    const l = layer([group('G', 1, [rule('p5', 5), rule('p1', 1), rule('p3', 3)])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('p1');
  });

  it('ties go to definition order', () => {
    const l = layer([group('G', 1, [rule('p2', 2), rule('first', 1), rule('second', 1)])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('first');
  });

  it('empty conditions match every packet of the family; an empty list is "any"', () => {
    const l = layer([group('G', 1, [rule('any', 1, { protocols: [], dstPrefixes: [], dstPorts: [] })])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('any');
    expect(decide(l, { src: '10.0.0.1', dst: '8.8.8.8', proto: 1, portsWord: 0x08000001 })).toBe('any');
  });

  it('AND across conditions, OR within one', () => {
    const l = layer([
      group('G', 1, [rule('r', 1, { protocols: [6, 17], dstPrefixes: [pfx('10.1.0.0/16'), pfx('10.2.0.0/16')], dstPorts: [{ from: 80, to: 80 }, { from: 443, to: 443 }] })]),
    ]);
    expect(decide(l, tcp('10.1.2.3', 80))).toBe('r');
    expect(decide(l, tcp('10.2.2.3', 443))).toBe('r');
    expect(decide(l, { ...tcp('10.2.2.3', 443), proto: 17 })).toBe('r');
    expect(decide(l, tcp('10.3.2.3', 443))).toBeNull();
    expect(decide(l, tcp('10.1.2.3', 8080))).toBeNull();
  });
});

describe('conditions', () => {
  it('non-IP packets (ARP, other) match no group, even with empty conditions', () => {
    const l = layer([group('v4', 1, [rule('v4', 1)]), group('v6', 1, [rule('v6', 1)], { family: 6 })]);
    expect(decide(l, { family: 1, src: '10.0.0.1', dst: '10.0.0.2', proto: 1 })).toBeNull();
    expect(decide(l, { family: 0 })).toBeNull();
  });

  it('family: a v4 group never sees v6 packets; a v6 prefix in a v4 group never holds', () => {
    const l = layer([group('v4', 1, [rule('v4', 1)]), group('v6', 2, [rule('v6', 1)], { family: 6 })]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('v4');
    expect(decide(l, { src: '2001:db8::1', dst: '2001:db8::2', proto: 6, dport: 80 })).toBe('v6');
    const wrong = layer([group('v4', 1, [rule('v6-only', 1, { dstPrefixes: [pfx('::/0')] }), rule('mixed', 2, { dstPrefixes: [pfx('::/0'), pfx('1.2.3.0/24')] })])]);
    expect(decide(wrong, tcp('1.2.3.4', 80))).toBe('mixed');
    expect(decide(wrong, tcp('1.2.4.4', 80))).toBeNull();
    expect(lowerLayer(wrong).rules[0]!.conditions.never).toBe(true);
  });

  it('port conditions hold only for TCP and UDP (never ICMP, whatever its type/code/id word)', () => {
    const l = layer([group('G', 1, [rule('ports', 1, { dstPorts: [{ from: 0, to: 65535 }] }), rule('src', 2, { srcPorts: [{ from: 0, to: 65535 }] })])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('ports');
    expect(decide(l, { ...tcp('1.2.3.4', 53), proto: 17 })).toBe('ports');
    for (const proto of [1, 58, 47, 0]) expect(decide(l, { src: '10.0.0.1', dst: '1.2.3.4', proto, portsWord: 0x08000050 })).toBeNull();
    const icmpPorts = layer([group('G', 1, [rule('never', 1, { protocols: [1], dstPorts: [{ from: 80, to: 80 }] })])]);
    expect(lowerLayer(icmpPorts).rules[0]!.conditions.never).toBe(true);
    expect(decide(icmpPorts, { src: '10.0.0.1', dst: '1.2.3.4', proto: 1, portsWord: 80 })).toBeNull();
  });

  it('port ranges: bounds inclusive, several ranges, overlapping ones merged, source ports', () => {
    const l = layer([group('G', 1, [rule('r', 1, { dstPorts: [{ from: 1000, to: 2000 }, { from: 1500, to: 2500 }, { from: 22, to: 22 }, { from: 2501, to: 2600 }] })])]);
    expect(lowerLayer(l).rules[0]!.conditions.dstPorts).toEqual([22, 22, 1000, 2600]);
    for (const [port, hit] of [[21, false], [22, true], [23, false], [999, false], [1000, true], [2600, true], [2601, false], [65535, false]] as const) {
      expect(decide(l, tcp('1.2.3.4', port))).toBe(hit ? 'r' : null);
    }
    const src = layer([group('G', 1, [rule('s', 1, { srcPorts: [{ from: 49152, to: 65535 }] })])]);
    expect(decide(src, { ...tcp('1.2.3.4', 80), sport: 49152 })).toBe('s');
    expect(decide(src, { ...tcp('1.2.3.4', 80), sport: 49151 })).toBeNull();
    expect(decide(src, { ...tcp('1.2.3.4', 80), sport: 65535 })).toBe('s');
    const inverted = layer([group('G', 1, [rule('bad', 1, { dstPorts: [{ from: 90, to: 80 }] })])]);
    expect(decide(inverted, tcp('1.2.3.4', 85))).toBeNull();
  });

  it('IPv4 prefixes of /0, /1, /31, /32', () => {
    const at = (p: string): Layer => layer([group('G', 1, [rule('r', 1, { dstPrefixes: [pfx(p)] })])]);
    expect(decide(at('0.0.0.0/0'), tcp('255.255.255.255', 1))).toBe('r');
    expect(decide(at('128.0.0.0/1'), tcp('128.0.0.0', 1))).toBe('r');
    expect(decide(at('128.0.0.0/1'), tcp('127.255.255.255', 1))).toBeNull();
    expect(decide(at('10.0.0.2/31'), tcp('10.0.0.3', 1))).toBe('r');
    expect(decide(at('10.0.0.2/31'), tcp('10.0.0.4', 1))).toBeNull();
    expect(decide(at('10.0.0.2/32'), tcp('10.0.0.2', 1))).toBe('r');
    expect(decide(at('10.0.0.2/32'), tcp('10.0.0.3', 1))).toBeNull();
    // Source prefixes too.
    const src = layer([group('G', 1, [rule('r', 1, { srcPrefixes: [pfx('10.0.0.0/24')] })])]);
    expect(decide(src, tcp('1.2.3.4', 1))).toBe('r');
    expect(decide(src, { ...tcp('1.2.3.4', 1), src: '10.0.1.1' })).toBeNull();
  });

  it('IPv6 prefixes of /0, /1, /33, /127, /128', () => {
    const at = (p: string): Layer => layer([group('G', 1, [rule('r', 1, { dstPrefixes: [pfx(p)] })], { family: 6 })]);
    const v6 = (dst: string): PacketSpec => ({ src: '2001:db8::1', dst, proto: 6, dport: 443 });
    expect(decide(at('::/0'), v6('ffff::1'))).toBe('r');
    expect(decide(at('8000::/1'), v6('8000::'))).toBe('r');
    expect(decide(at('8000::/1'), v6('7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))).toBeNull();
    expect(decide(at('2001:db8:8000::/33'), v6('2001:db8:ffff::1'))).toBe('r');
    expect(decide(at('2001:db8:8000::/33'), v6('2001:db8:7fff::1'))).toBeNull();
    expect(decide(at('2001:db8::/33'), v6('2001:db8:7fff:ffff::'))).toBe('r');
    expect(decide(at('2001:db8::/33'), v6('2001:db9::'))).toBeNull();
    expect(decide(at('2001:db8::2/127'), v6('2001:db8::3'))).toBe('r');
    expect(decide(at('2001:db8::2/127'), v6('2001:db8::4'))).toBeNull();
    expect(decide(at('2001:db8::2/127'), v6('2001:db9::3'))).toBeNull();
    expect(decide(at('2001:db8::1:2/128'), v6('2001:db8::1:2'))).toBe('r');
    expect(decide(at('2001:db8::1:2/128'), v6('2001:db8::1:3'))).toBeNull();
    expect(decide(at('2001:db8::1:2/128'), v6('2001:db8:0:1::1:2'))).toBeNull();
  });

  it('MAC, VLAN and VNI conditions', () => {
    const l = layer([
      group('G', 1, [
        rule('smac', 1, { srcMacs: [mac('00:15:5d:aa:10:0a'), mac('ff:ff:ff:ff:ff:fe')] }),
        rule('dmac', 2, { dstMacs: [mac('02:00:0a:63:00:01')] }),
        rule('vlan', 3, { vlans: [100, 4095] }),
        rule('vni', 4, { vnis: [4096, 0xffffff] }),
      ]),
    ]);
    const base = tcp('1.2.3.4', 80);
    expect(decide(l, { ...base, smac: '00:15:5d:aa:10:0a' })).toBe('smac');
    expect(decide(l, { ...base, smac: 'ff:ff:ff:ff:ff:fe' })).toBe('smac');
    expect(decide(l, { ...base, smac: '00:15:5d:aa:10:0b' })).toBeNull();
    expect(decide(l, { ...base, smac: '01:15:5d:aa:10:0a' })).toBeNull();
    expect(decide(l, { ...base, dmac: '02:00:0a:63:00:01' })).toBe('dmac');
    expect(decide(l, { ...base, vlan: 100 })).toBe('vlan');
    expect(decide(l, { ...base, vlan: 4095 })).toBe('vlan');
    expect(decide(l, { ...base, vlan: 101 })).toBeNull();
    expect(decide(l, { ...base, vni: 4096 })).toBe('vni');
    expect(decide(l, { ...base, vni: 0xffffff })).toBe('vni');
    expect(decide(l, { ...base, vni: 4097 })).toBeNull();
    // VNI 0 matches an unencapsulated frame (bit 31 is not part of the VNI).
    const zero = layer([group('G', 1, [rule('vni0', 1, { vnis: [0] })])]);
    expect(decide(zero, base)).toBe('vni0');
    // VLAN values outside 0..4095 never hold.
    const bad = layer([group('G', 1, [rule('bad', 1, { vlans: [5000] })])]);
    expect(lowerLayer(bad).rules[0]!.conditions.never).toBe(true);
  });

  it('long lists (beyond the inline limit) go through the condition tables', () => {
    const protos = Array.from({ length: 20 }, (_, i) => i * 3); // includes 6, excludes 17
    const prefixes = Array.from({ length: 20 }, (_, i) => pfx(`10.${i}.0.0/16`));
    const ports = Array.from({ length: 20 }, (_, i) => ({ from: 100 * i, to: 100 * i + 9 }));
    const l = layer([group('G', 1, [rule('long', 1, { protocols: protos, dstPrefixes: prefixes, dstPorts: ports, vnis: Array.from({ length: 12 }, (_, i) => i) })])]);
    expect(decide(l, tcp('10.19.1.1', 1909))).toBe('long');
    expect(decide(l, tcp('10.19.1.1', 1910))).toBeNull();
    expect(decide(l, tcp('10.20.1.1', 1909))).toBeNull();
    expect(decide(l, { ...tcp('10.3.1.1', 5), proto: 17 })).toBeNull();
    expect(decide(l, { ...tcp('10.3.1.1', 5), vni: 12 })).toBeNull();
  });

  it('packets at a non-zero offset in a larger buffer', () => {
    // decide() already runs every case at offsets 0 and 5; this one checks the words around are ignored.
    const l = layer([group('G', 1, [rule('r', 1, { dstPrefixes: [pfx('0.0.0.0/1')] })])]);
    expect(decide(l, tcp('1.2.3.4', 80))).toBe('r');
  });
});

describe('large groups (indexed)', () => {
  function aclGroup(n: number): Group {
    const rules = [];
    for (let i = 0; i < n; i++) {
      rules.push(rule(`r${i}`, 1000 + (i % 50), { protocols: [6], dstPrefixes: [pfx(`10.${i >> 8}.${i & 255}.0/24`)], dstPorts: [{ from: 80 + (i % 7), to: 80 + (i % 7) }] }));
    }
    return group('ACL', 1, rules);
  }

  it('hits, misses, priority over definition order, and a residual catch-all', () => {
    const g = aclGroup(600);
    g.rules.push(rule('catch-all', 5000, {}, { action: block() }));
    g.rules.push(rule('vip', 1, { dstPrefixes: [pfx('10.1.2.3/32')] }, { terminating: true }));
    const l = layer([g, group('later', 2, [rule('later', 1, { dstPorts: [{ from: 9999, to: 9999 }] })])]);
    expect(decide(l, tcp('10.0.5.9', 80 + 5))).toBe('r5');
    expect(decide(l, tcp('10.0.5.9', 80))).toBe('catch-all');
    expect(decide(l, tcp('10.1.2.3', 80 + ((256 + 2) % 7)))).toBe('vip');
    expect(decide(l, tcp('10.1.2.4', 80 + ((256 + 2) % 7)))).toBe('r258');
    expect(decide(l, tcp('10.9.9.9', 9999))).toBe('later');
    const compiled = compileIR(lowerLayer(l));
    expect(compiled.source).toContain('dst4/24');
    expect(compiled.source).toContain('// residual: 1 rules');
  });
});

describe('trace', () => {
  it('records each visited group: name, matched, best, stopped', () => {
    const l = layer([
      group('A', 1, [rule('a', 1)]),
      group('B', 2, [rule('b', 1)], { conditions: { protocols: [17] } }),
      group('C', 3, [rule('c', 1, { protocols: [17] })]),
      group('D', 4, [rule('d', 1, {}, { terminating: true })]),
      group('E', 5, [rule('e', 1)]),
      group('v6', 0, [rule('v6', 1)], { family: 6 }),
    ]);
    const ir = lowerLayer(l);
    const t = createLayerTrace();
    const p = packet(tcp('1.2.3.4', 80));
    const d = interpretLayer(ir, p, 0, DIR_OUT, t);
    expect(ir.rules[d]!.id).toBe('d');
    expect(t.groups).toEqual(['A', 'B', 'C', 'D']);
    expect(t.matched).toEqual([true, false, true, true]);
    expect(t.best.map((b) => (b < 0 ? null : ir.rules[b]!.id))).toEqual(['a', null, null, 'd']);
    expect(t.stopped).toEqual([false, false, false, true]);
    expect(t.decision).toBe(d);
    // Reusable: a second call starts afresh.
    interpretLayer(ir, packet({ family: 1 }), 0, DIR_OUT, t);
    expect(t.groups).toEqual([]);
    expect(t.decision).toBe(-1);
  });
});
