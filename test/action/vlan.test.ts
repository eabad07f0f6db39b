/**
 * VLAN push/pop (src/action/vlan.ts), copy and in-place forms, at the three placements for both
 * source and destination; push then pop restores the frame byte for byte; parse/ sees the tag.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { vlanPopCopy, vlanPopInPlace, vlanPushCopy, vlanPushInPlace } from '../../src/action/vlan.js';
import { buildFrame, checksumProblems, PROTO_TCP, PROTO_UDP } from './frames.js';
import { CANARY, changedOutside, parseOne, place, PLACEMENTS, shift } from './place.js';

function frame(seed: number, tagged: boolean): { scratch: Uint8Array; size: number } {
  const scratch = new Uint8Array(2048);
  const b = buildFrame(scratch, 0, new Prng(seed), { family: 4, protocol: seed % 2 ? PROTO_TCP : PROTO_UDP, tagged, fragment: 'none' });
  return { scratch, size: b.end };
}

describe.each(PLACEMENTS)('VLAN push/pop, source %s', (where) => {
  it.each(PLACEMENTS)('copy into a destination %s: parse sees the tag; pop restores the frame', (dstWhere) => {
    const { scratch, size } = frame(1, false);
    const src = place(scratch, size, where);
    const before = Uint8Array.from(src.d);
    const dst = place(new Uint8Array(size + 4), size + 4, dstWhere);
    const n = vlanPushCopy(src.d, src.v, src.o, src.o + size, dst.d, dst.v, dst.o, dst.o + size + 4, 100, 5);
    expect(n).toBe(size + 4);
    expect(Uint8Array.from(src.d)).toEqual(before); // source untouched
    const { desc, batch } = parseOne(dst.d, dst.o, n);
    expect(desc.vlan).toEqual([100]);
    expect(desc.error).toBeUndefined();
    expect(desc.eth).toEqual(parseOne(src.d, src.o, size).desc.eth);
    expect(dst.d[dst.o + 14]! >>> 5).toBe(5); // PCP
    expect(batch.keys[9]! & 0xfff).toBe(100);
    // the destination's canaries outside the frame stayed
    for (let i = 0; i < dst.d.length; i++) if (i < dst.o || i >= dst.o + n) expect(dst.d[i], `byte ${i}`).toBe(CANARY);
    // pop back into a third slab
    const back = place(new Uint8Array(size), size, where);
    expect(vlanPopCopy(dst.d, dst.v, dst.o, dst.o + n, back.d, back.v, back.o, back.o + size)).toBe(size);
    expect(Uint8Array.from(back.d.subarray(back.o, back.o + size))).toEqual(scratch.subarray(0, size));
  });

  it('in place with 4 bytes of headroom: new start, same end, round trip exact', () => {
    const { scratch, size } = frame(2, false);
    const p = place(scratch, size, where, 4);
    const before = Uint8Array.from(p.d);
    const start = vlanPushInPlace(p.d, p.v, p.o, p.o + size, 4094, 7);
    expect(start).toBe(p.o - 4);
    expect(changedOutside(before, p.d, start, p.o + size)).toEqual([]);
    expect(parseOne(p.d, start, size + 4).desc.vlan).toEqual([4094]);
    const popped = vlanPopInPlace(p.d, p.v, start, p.o + size);
    expect(popped).toBe(p.o);
    expect(Uint8Array.from(p.d.subarray(p.o, p.o + size))).toEqual(scratch.subarray(0, size));
  });

  it('push onto a tagged frame adds the outer tag; pop removes it again', () => {
    const { scratch, size } = frame(3, true);
    const p = place(scratch, size, where, 4);
    const inner = parseOne(p.d, p.o, size).desc.vlan!;
    expect(inner).toHaveLength(1);
    const start = vlanPushInPlace(p.d, p.v, p.o, p.o + size, 7, 0);
    expect(parseOne(p.d, start, size + 4).desc.vlan).toEqual([7, inner[0]]);
    expect(vlanPopInPlace(p.d, p.v, start, p.o + size)).toBe(p.o);
    expect(parseOne(p.d, p.o, size).desc.vlan).toEqual(inner);
    // pop of the original tag gives an untagged frame whose L3/L4 are intact
    const q = place(scratch, size, where);
    const s2 = vlanPopInPlace(q.d, q.v, q.o, q.o + size);
    const { desc, batch } = parseOne(q.d, s2, size - 4);
    expect(desc.vlan).toBeUndefined();
    expect(desc.ip?.v).toBe(4);
    const b = { l2: s2, l3: batch.l3Offsets[0]!, l4: batch.l4Offsets[0]!, end: q.o + size, family: 4 as const, protocol: desc.ip!.proto, fragment: 'none' as const, udpZero: false, syn: false, mssAt: -1 };
    if (b.protocol === PROTO_UDP && q.d[b.l4 + 6] === 0 && q.d[b.l4 + 7] === 0) b.udpZero = true;
    expect(checksumProblems(q.d, b)).toEqual([]);
  });

  it('refusals write nothing: untagged pop, no headroom, no room, short frames', () => {
    const { scratch, size } = frame(4, false);
    const p = place(scratch, size, where);
    const before = Uint8Array.from(p.d);
    expect(vlanPopInPlace(p.d, p.v, p.o, p.o + size)).toBe(-1); // untagged
    expect(vlanPopCopy(p.d, p.v, p.o, p.o + size, new Uint8Array(size), new DataView(new ArrayBuffer(size)), 0, size)).toBe(-1);
    if (p.o < 4) expect(vlanPushInPlace(p.d, p.v, p.o, p.o + size, 1, 0)).toBe(-1);
    expect(vlanPushInPlace(p.d, p.v, p.o + 4, p.o + 4 + 13, 1, 0)).toBe(-1); // shorter than an Ethernet header
    const small = new Uint8Array(size + 3);
    expect(vlanPushCopy(p.d, p.v, p.o, p.o + size, small, new DataView(small.buffer), 0, small.length, 1, 0)).toBe(-1);
    expect(small.every((x) => x === 0)).toBe(true);
    expect(Uint8Array.from(p.d)).toEqual(before);
  });
});

describe('VLAN copy forms within one slab (overlapping ranges)', () => {
  it.each([-40, -20, -6, -4, -2, 0, 2, 4, 6, 20, 40])('push then pop with the destination %i bytes from the source', (shiftBy) => {
    const { scratch, size } = frame(5, false);
    const slab = new Uint8Array(size + 200);
    const v = new DataView(slab.buffer);
    const at = 80;
    slab.set(scratch.subarray(0, size), at);
    const n = vlanPushCopy(slab, v, at, at + size, slab, v, at + shiftBy, slab.length, 42, 1);
    expect(n).toBe(size + 4);
    expect(parseOne(slab, at + shiftBy, n).desc.vlan).toEqual([42]);
    const m = vlanPopCopy(slab, v, at + shiftBy, at + shiftBy + n, slab, v, at - shiftBy, slab.length);
    expect(m).toBe(size);
    expect(slab.subarray(at - shiftBy, at - shiftBy + size)).toEqual(scratch.subarray(0, size));
  });
});
