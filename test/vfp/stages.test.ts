/**
 * The compiler's visible stages: the IR's normal form and its deterministic JSON (`--dump ir`),
 * the generated source's determinism (`--dump js`, snapshot), the fallback, and the vfpctrl-like
 * dump of the policy (`--dump layers`).
 */
import { describe, expect, it } from 'vitest';
import { compileLayer, instantiateLayer } from '../../src/vfp/codegen.js';
import { formatLayersText, layersToJson, layersToObject } from '../../src/vfp/dump.js';
import { irToJson, lowerLayer } from '../../src/vfp/ir.js';
import type { Layer, PortPolicy } from '../../src/vfp/model.js';
import { DIR_IN, DIR_OUT } from '../../src/vfp/model.js';
import { block, group, layer, mac, packet, pfx, rule } from './helpers.js';

function sampleLayer(): Layer {
  return layer(
    [
      group('ACL_ENDPOINT_GROUP_IPV4_OUT', 100, [
        rule('block-smtp', 10, { protocols: [6, 6, 17, 1], dstPorts: [{ from: 25, to: 25 }, { from: 20, to: 24 }] }, { action: block(), terminating: true }),
        rule('allow-web', 20, { protocols: [6], dstPrefixes: [pfx('10.1.0.0/16'), pfx('10.1.2.0/24'), pfx('192.168.0.0/24')], dstPorts: [{ from: 443, to: 443 }, { from: 80, to: 80 }] }, { stateful: true, flowTtl: 240 }),
        rule('v6-in-v4', 20, { dstPrefixes: [pfx('2001:db8::/32')] }),
        rule('any', 20, { dstPrefixes: [pfx('10.0.0.0/8'), pfx('0.0.0.0/0')] }),
      ]),
      group('ACL_ENDPOINT_GROUP_IPV6_IN', 100, [rule('v6', 1, { srcPrefixes: [pfx('2001:db8:8000::/33')], srcMacs: [mac('00:15:5d:00:00:01')], vlans: [7, 3, 7], vnis: [9] })], { direction: 'in', family: 6 }),
    ],
    { name: 'ACL_ENDPOINT_LAYER', defaultAllow: true },
  );
}

describe('IR', () => {
  it('normalises: sorted unique sets, merged ports, contained prefixes dropped, /0 = any, family mismatch = never', () => {
    const ir = lowerLayer(sampleLayer());
    const [smtp, web, v6in4, any] = ir.rules;
    expect(smtp!.conditions.protocols).toEqual([6, 17]); // ICMP cannot carry ports
    expect(smtp!.conditions.dstPorts).toEqual([20, 25]);
    expect(web!.conditions.dstPrefixes.map((p) => p.length)).toEqual([16, 24]);
    expect(web!.conditions.dstPrefixes[0]!.masks).toEqual([0xffff0000, 0, 0, 0]);
    expect(web!.conditions.dstPorts).toEqual([80, 80, 443, 443]);
    expect(v6in4!.conditions.never).toBe(true);
    expect(any!.conditions.dstPrefixes).toEqual([]);
    expect(any!.conditions.never).toBe(false);
    const v6 = ir.rules[4]!;
    expect(v6.conditions.srcPrefixes[0]!.masks).toEqual([0xffffffff, 0x80000000, 0, 0]);
    expect(v6.conditions.srcMacs).toEqual([0x0015, 0x5d000001]);
    expect(v6.conditions.vlans).toEqual([3, 7]);
    expect(ir.directions).toEqual([[0], [1]]);
    expect(ir.groups[0]!.rules).toEqual([0, 1, 2, 3]);
  });

  it('irToJson is deterministic and round-trips through JSON.parse', () => {
    const a = irToJson(lowerLayer(sampleLayer()));
    const b = irToJson(lowerLayer(sampleLayer()));
    expect(a).toBe(b);
    expect(JSON.parse(a)).toEqual(JSON.parse(JSON.stringify(lowerLayer(sampleLayer()))));
    expect(a).toMatchSnapshot();
  });

  it('action keys come out in a canonical order whatever the input order', () => {
    const l1 = layer([group('G', 1, [rule('r', 1, {}, { action: { type: 'rewrite', dstPort: 80, srcPort: 5 } })])]);
    const l2 = layer([group('G', 1, [rule('r', 1, {}, { action: { srcPort: 5, type: 'rewrite', dstPort: 80 } as never })])]);
    expect(irToJson(lowerLayer(l1))).toBe(irToJson(lowerLayer(l2)));
  });
});

describe('generated code', () => {
  it('is deterministic text (snapshot) and rebuilds from source + tables', () => {
    const a = compileLayer(sampleLayer());
    const b = compileLayer(sampleLayer());
    expect(a.source).toBe(b.source);
    expect(a.source).toMatchSnapshot();
    const again = instantiateLayer(a.source, a.tables!);
    const p = packet({ src: '10.0.0.1', dst: '10.1.9.9', proto: 6, dport: 443 });
    expect(again(p, 0, DIR_OUT)).toBe(a.classify(p, 0, DIR_OUT));
    expect(a.ir.rules[a.classify(p, 0, DIR_OUT)]!.id).toBe('allow-web');
  });

  it('is deterministic for a large indexed group too, tables included', () => {
    const big = (): Layer => {
      const rules = [];
      for (let i = 0; i < 500; i++) rules.push(rule(`r${i}`, i % 37, { dstPrefixes: [pfx(`10.${i % 3}.${i % 251}.0/24`)], dstPorts: [{ from: i % 90, to: (i % 90) + (i % 4) }] }));
      for (let i = 0; i < 50; i++) rules.push(rule(`p${i}`, i, { protocols: [i] }));
      return layer([group('BIG', 1, rules)]);
    };
    const a = compileLayer(big());
    const b = compileLayer(big());
    expect(a.source).toBe(b.source);
    expect(a.source).toContain('indexed');
    for (const k of Object.keys(a.tables!) as Array<keyof typeof a.tables & string>) {
      expect(Array.from(a.tables![k] as ArrayLike<number>)).toEqual(Array.from(b.tables![k] as ArrayLike<number>));
    }
  });

  it('codegen:false falls back to the interpreter with the same answers', () => {
    const fast = compileLayer(sampleLayer());
    const slow = compileLayer(sampleLayer(), { codegen: false });
    expect(slow.source).toBe('');
    expect(slow.tables).toBeNull();
    const cases = [
      packet({ src: '10.0.0.1', dst: '10.1.9.9', proto: 6, dport: 443 }),
      packet({ src: '10.0.0.1', dst: '10.1.9.9', proto: 6, dport: 25 }),
      packet({ src: '10.0.0.1', dst: '172.16.0.1', proto: 17, dport: 53 }),
      packet({ src: '2001:db8:8000::1', dst: '2001:db8::2', proto: 6, dport: 80, vlan: 7, vni: 9, smac: '00:15:5d:00:00:01' }),
      packet({ family: 1 }),
    ];
    for (const p of cases) for (const dir of [DIR_OUT, DIR_IN] as const) expect(slow.classify(p, 0, dir)).toBe(fast.classify(p, 0, dir));
  });
});

describe('layer dump (vfpctrl-like)', () => {
  const ports: PortPolicy[] = [
    {
      id: 0,
      name: 'web',
      kind: 'endpoint',
      layers: [
        sampleLayer(),
        layer(
          [
            group('VNET_GROUP', 200, [
              rule('encap', 1, { dstPrefixes: [pfx('10.244.2.0/24')] }, { action: { type: 'encap', vni: 4096, srcMac: mac('00:15:5d:00:00:01'), dstMac: mac('00:15:5d:00:00:02'), srcIp: 0x0a630002, dstIp: 0x0a630003, udpPort: 4789 } }),
              rule('nat', 2, {}, { action: { type: 'rewrite', srcAddr: [0x0a630002, 0, 0, 0], srcPort: 50000 }, stateful: true, flowTtl: 240 }),
              rule('mss', 3, {}, { action: { type: 'mss-clamp', delta: 50 } }),
            ]),
          ],
          { name: 'VNET_ENCAP_LAYER', priority: 2 },
        ),
      ],
    },
    { id: 1, name: 'eth0', kind: 'uplink', layers: [] },
  ];

  it('prints banners, layers, groups and rules as Key : value blocks', () => {
    const text = formatLayersText(ports);
    expect(text).toContain('ITEM LIST\n===========');
    expect(text).toContain('LAYER : ACL_ENDPOINT_LAYER');
    expect(text).toContain('Flags : 0x1 Default Allow');
    expect(text).toContain('Flags : 0x0\n');
    expect(text).toContain('Default drop reason : acl-default-deny');
    expect(text).toContain('GROUP : ACL_ENDPOINT_GROUP_IPV6_IN');
    expect(text).toMatch(/Direction : IN\n\s+Type : IPv6/);
    expect(text).toContain('Match type : Priority-based match');
    expect(text).toMatch(/RULE : block-smtp\n.*\n\s+Priority : 10\n\s+Type : block\n\s+Drop reason : acl-block/);
    expect(text).toContain('Destination ports : 25, 20-24');
    expect(text).toContain('Destination IP : 10.1.0.0/16, 10.1.2.0/24, 192.168.0.0/24');
    expect(text).toContain('Source IP : 2001:db8:8000::/33');
    expect(text).toContain('Source MAC : 00:15:5d:00:00:01');
    expect(text).toContain('Flags : 1 terminating');
    expect(text).toContain('Flags : 2 stateful');
    expect(text).toContain('Flow TTL : 240');
    expect(text).toMatch(/Conditions:\n\s+<none>/);
    expect(text).toContain('Type : encap\n');
    expect(text).toContain('VNI : 4096');
    expect(text).toContain('Modify source IP : 10.99.0.2');
    expect(text).toContain('Type : mss-clamp\n');
    expect(text).toContain('MSS delta : 50');
    expect(text).toContain('Port : eth0');
    expect(text).toContain('<no layers>');
    expect(text.match(/Command list-rule succeeded!/g)).toHaveLength(2);
    expect(text).toMatchSnapshot();
  });

  it('JSON carries the same data', () => {
    const json = JSON.parse(layersToJson(ports)) as ReturnType<typeof layersToObject>;
    expect(json).toEqual(JSON.parse(JSON.stringify(layersToObject(ports))));
    const acl = json[0]!.layers[0]!;
    expect(acl.flags).toBe(1);
    expect(acl.flagNames).toEqual(['Default Allow']);
    const smtp = acl.groups[0]!.rules[0]!;
    expect(smtp).toMatchObject({ id: 'block-smtp', type: 'block', flags: 1, flagNames: ['terminating'], conditions: { protocols: ['6', '6', '17', '1'], destinationPorts: ['25', '20-24'] } });
    expect(acl.groups[1]).toMatchObject({ direction: 'IN', type: 'IPv6', conditions: {} });
    expect(json[0]!.layers[1]!.groups[0]!.rules[0]!.details).toMatchObject({ 'Encap type': 'VXLAN', VNI: '4096' });
  });
});
