/**
 * VXLAN encap/decap (src/action/vxlan.ts): templates, copy and in-place encap at the three
 * placements; parse/ decodes the result (outer headers, VNI, the inner frame exactly as it was);
 * the outer IPv4 checksum and lengths are right; decap returns exactly the original inner bytes.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { checksum } from '../../src/base/checksum.js';
import {
  VXLAN_ENCAP_SIZE,
  VXLAN_ENCAP_TAGGED_SIZE,
  vxlanDecapEnd,
  vxlanEncapCopy,
  vxlanEncapInPlace,
  vxlanSourcePort,
  vxlanTemplate,
  vxlanVni,
} from '../../src/action/vxlan.js';
import type { VxlanTemplate } from '../../src/action/vxlan.js';
import { FRAME_FLAG_VXLAN } from '../../src/frame/batch.js';
import { buildFrame, PROTO_TCP, u16, u32 } from './frames.js';
import { CANARY, changedOutside, parseOne, place, PLACEMENTS } from './place.js';

const TUNNEL = {
  srcMacHi: 0x0015,
  srcMacLo: 0x5d000001,
  dstMacHi: 0x0200,
  dstMacLo: 0x0a630001,
  srcIp: 0x0a630002, // 10.99.0.2
  dstIp: 0x0a630003, // 10.99.0.3
  vni: 4096,
};

function inner(seed: number): { scratch: Uint8Array; size: number } {
  const scratch = new Uint8Array(2048);
  const b = buildFrame(scratch, 0, new Prng(seed), { family: seed % 3 === 0 ? 6 : 4, protocol: PROTO_TCP, fragment: 'none' });
  return { scratch, size: b.end };
}

/** The checks every encapsulated frame must pass; returns the parsed batch. */
function checkEncapsulated(t: VxlanTemplate, d: Uint8Array, start: number, total: number, innerBytes: Uint8Array, entropy: number, vlan: number | null): void {
  const { desc, batch } = parseOne(d, start, total);
  expect(desc.error).toBeUndefined();
  expect(batch.flags[0]! & FRAME_FLAG_VXLAN).toBe(FRAME_FLAG_VXLAN);
  expect(desc.eth).toEqual({ src: '00:15:5d:00:00:01', dst: '02:00:0a:63:00:01', type: 0x0800 });
  if (vlan === null) expect(desc.vlan).toBeUndefined();
  else expect(desc.vlan).toEqual([vlan]);
  expect(desc.ip).toMatchObject({ v: 4, src: '10.99.0.2', dst: '10.99.0.3', proto: 17, ttl: 64, frag: false });
  expect(desc.l4).toEqual({ sport: vxlanSourcePort(entropy), dport: 4789 });
  expect(desc.vxlan).toEqual({ vni: t.vni });
  const l3 = batch.l3Offsets[0]!;
  const l4 = batch.l4Offsets[0]!;
  expect(l3).toBe(start + t.l3At);
  expect(checksum(d, l3, 20)).toBe(0); // header checksum verifies
  expect(u16(d, l3 + 2)).toBe(total - t.l3At); // IPv4 total length
  expect(u16(d, l3 + 6)).toBe(0x4000); // DF, offset 0
  expect(u16(d, l4 + 4)).toBe(total - t.l3At - 20); // UDP length
  expect(u16(d, l4 + 6)).toBe(0); // no UDP checksum (IPv4)
  expect(d[l4 + 8]).toBe(0x08);
  expect(vxlanVni(d, l4)).toBe(t.vni);
  // decap: exactly the inner frame, zero copy
  const innerL2 = batch.innerL2Offsets[0]!;
  const end = vxlanDecapEnd(d, batch.view, l4, innerL2, start + total);
  expect(innerL2).toBe(start + t.size);
  expect(end).toBe(start + total);
  expect(Uint8Array.from(d.subarray(innerL2, end))).toEqual(innerBytes);
  // the inner frame parses as it did before encapsulation
  expect(desc.inner).toEqual(stripFrame(parseOne(innerBytes, 0, innerBytes.length).desc));
}

function stripFrame(desc: ReturnType<typeof parseOne>['desc']): Record<string, unknown> {
  const { n: _n, caplen: _c, len: _l, error: _e, ...layers } = desc;
  return layers;
}

describe.each(PLACEMENTS)('VXLAN encap, inner frame %s', (where) => {
  for (const tagged of [false, true]) {
    it.each(PLACEMENTS)(`copy into a destination %s${tagged ? ', outer 802.1Q tag' : ''}`, (dstWhere) => {
      const t = vxlanTemplate(tagged ? { ...TUNNEL, vlanId: 300, vlanPcp: 3 } : TUNNEL);
      expect(t.size).toBe(tagged ? VXLAN_ENCAP_TAGGED_SIZE : VXLAN_ENCAP_SIZE);
      const { scratch, size } = inner(tagged ? 7 : 8);
      const src = place(scratch, size, where);
      const srcBefore = Uint8Array.from(src.d);
      const total = t.size + size;
      const dst = place(new Uint8Array(total), total, dstWhere);
      const entropy = 0xdeadbeef;
      expect(vxlanEncapCopy(t, src.d, src.v, src.o, src.o + size, dst.d, dst.v, dst.o, dst.o + total, entropy)).toBe(total);
      expect(Uint8Array.from(src.d)).toEqual(srcBefore);
      for (let i = 0; i < dst.d.length; i++) if (i < dst.o || i >= dst.o + total) expect(dst.d[i], `byte ${i}`).toBe(CANARY);
      checkEncapsulated(t, dst.d, dst.o, total, scratch.slice(0, size), entropy, tagged ? 300 : null);
      if (tagged) expect(dst.d[dst.o + 14]! >>> 5).toBe(3);
    });

    it(`in place with ${tagged ? 54 : 50} bytes of headroom`, () => {
      const t = vxlanTemplate(tagged ? { ...TUNNEL, vlanId: 300 } : TUNNEL);
      const { scratch, size } = inner(9);
      const p = place(scratch, size, where, t.size);
      const before = Uint8Array.from(p.d);
      const start = vxlanEncapInPlace(t, p.d, p.v, p.o, p.o + size, 12345);
      expect(start).toBe(p.o - t.size);
      expect(changedOutside(before, p.d, start, p.o)).toEqual([]); // only the headroom was written
      checkEncapsulated(t, p.d, start, t.size + size, scratch.slice(0, size), 12345, tagged ? 300 : null);
    });
  }
});

describe('VXLAN details', () => {
  it('template options: TTL, id, TOS, port, VNI; template validation', () => {
    const t = vxlanTemplate({ ...TUNNEL, vni: 0xabcdef, ttl: 9, ipId: 0x1234, tos: 0xb8, dstPort: 8472 });
    const { scratch, size } = inner(10);
    const out = new Uint8Array(2100);
    const n = vxlanEncapCopy(t, scratch, new DataView(scratch.buffer), 0, size, out, new DataView(out.buffer), 0, out.length, 1);
    expect(n).toBe(50 + size);
    expect(out[14 + 8]).toBe(9);
    expect(u16(out, 14 + 4)).toBe(0x1234);
    expect(out[14 + 1]).toBe(0xb8);
    expect(u16(out, 34 + 2)).toBe(8472);
    expect(vxlanVni(out, 34)).toBe(0xabcdef);
    expect(checksum(out, 14, 20)).toBe(0);
    expect(() => vxlanTemplate({ ...TUNNEL, vni: 1 << 24 })).toThrow(RangeError);
    expect(() => vxlanTemplate({ ...TUNNEL, vlanId: 4096 })).toThrow(RangeError);
    expect(() => vxlanTemplate({ ...TUNNEL, srcIp: -1 })).toThrow(RangeError);
  });

  it('source port: 49152 + entropy mod 16384 over the whole range', () => {
    expect(vxlanSourcePort(0)).toBe(49152);
    expect(vxlanSourcePort(16383)).toBe(65535);
    expect(vxlanSourcePort(16384)).toBe(49152);
    expect(vxlanSourcePort(0xffffffff)).toBe(65535);
  });

  it('the checksum stays right for every inner size 14..1500', () => {
    const t = vxlanTemplate(TUNNEL);
    const src = new Uint8Array(1600).fill(0x33);
    const out = new Uint8Array(1600);
    const sv = new DataView(src.buffer);
    const ov = new DataView(out.buffer);
    for (let size = 14; size <= 1500; size++) {
      expect(vxlanEncapCopy(t, src, sv, 0, size, out, ov, 0, out.length, size)).toBe(50 + size);
      if (checksum(out, 14, 20) !== 0) expect.fail(`bad outer checksum for inner size ${size}`);
      expect(u32(out, 14 + 12)).toBe(TUNNEL.srcIp);
    }
  });

  it('refusals write nothing', () => {
    const t = vxlanTemplate(TUNNEL);
    const { scratch, size } = inner(11);
    const sv = new DataView(scratch.buffer);
    const out = new Uint8Array(50 + size);
    const ov = new DataView(out.buffer);
    expect(vxlanEncapCopy(t, scratch, sv, 0, size, out, ov, 1, out.length, 0)).toBe(-1); // does not fit
    expect(vxlanEncapCopy(t, scratch, sv, 0, 13, out, ov, 0, out.length, 0)).toBe(-1); // inner too short
    const big = new Uint8Array(70000);
    expect(vxlanEncapCopy(t, big, new DataView(big.buffer), 0, 65500, big, new DataView(big.buffer), 0, big.length, 0)).toBe(-1);
    expect(out.every((x) => x === 0)).toBe(true);
    expect(vxlanEncapInPlace(t, scratch, sv, 49, 49 + size, 0)).toBe(-1); // no headroom
  });

  it('decap validation: I flag, offsets, UDP length, short inner frames, snapped frames', () => {
    const t = vxlanTemplate(TUNNEL);
    const { scratch, size } = inner(12);
    const out = new Uint8Array(50 + size + 6); // 6 bytes of trailer after the packet (not payload)
    const ov = new DataView(out.buffer);
    const total = vxlanEncapCopy(t, scratch, new DataView(scratch.buffer), 0, size, out, ov, 0, out.length, 0);
    const l4 = 34;
    const inner2 = 50;
    expect(vxlanDecapEnd(out, ov, l4, inner2, out.length)).toBe(total); // the UDP length bounds it, not the capture
    expect(vxlanDecapEnd(out, ov, l4, inner2 + 1, out.length)).toBe(-1);
    expect(vxlanDecapEnd(out, ov, -1, inner2, out.length)).toBe(-1);
    expect(vxlanDecapEnd(out, ov, l4, inner2, total - 10)).toBe(total - 10); // snapped: clamped to the capture
    expect(vxlanDecapEnd(out, ov, l4, inner2, inner2 + 13)).toBe(-1); // fewer than 14 inner bytes
    ov.setUint16(l4 + 4, 15);
    expect(vxlanDecapEnd(out, ov, l4, inner2, out.length)).toBe(-1);
    ov.setUint16(l4 + 4, total - 34);
    out[l4 + 8] = 0;
    expect(vxlanDecapEnd(out, ov, l4, inner2, out.length)).toBe(-1);
  });
});
