/**
 * synth/: same seed -> same bytes; the frame sizes each scenario promises (60-byte "64-byte"
 * frames, IMIX 7:4:1 of 60/590/1514); every checksum valid (checked with base/checksum.ts, by a
 * walker written here, independent of parse/); flow counts (distinct 5-tuples == flows, both
 * directions present); TCP conversations with consistent sequence numbers; new-flows all distinct;
 * the README sample's layers, checked through parse/.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checksum, pseudoHeaderSum4, pseudoHeaderSum6 } from '../../src/base/checksum.js';
import { ParseErrorId } from '../../src/base/reasons.js';
import { FLOW_KEY_WORDS, FRAME_FLAG_SNAPPED, FRAME_FLAG_VXLAN, FrameBatch, L3_KIND_ARP, L3_KIND_IPV6 } from '../../src/frame/batch.js';
import { parseBatch } from '../../src/parse/parse.js';
import { IMIX_FRAME_SIZES, isSynthScenario, SYNTH_SCENARIOS, synthesize, synthSources } from '../../src/synth/scenarios.js';
import type { SynthOptions, SynthScenario } from '../../src/synth/scenarios.js';

interface Frame {
  bytes: Uint8Array;
  wireLength: number;
  seconds: number;
  nanos: number;
  source: string;
}

function collect(scenario: SynthScenario, options: SynthOptions): Frame[] {
  const out: Frame[] = [];
  synthesize(scenario, options, (b, o, l, wl, s, ns, source) => {
    out.push({ bytes: b.slice(o, o + l), wireLength: wl, seconds: s, nanos: ns, source });
  });
  return out;
}

function digest(frames: Frame[]): string {
  const h = createHash('sha256');
  for (const f of frames) {
    h.update(f.bytes);
    h.update(`${f.wireLength}/${f.seconds}/${f.nanos}/${f.source};`);
  }
  return h.digest('hex');
}

const u16 = (d: Uint8Array, o: number) => (d[o]! << 8) | d[o + 1]!;
const u32 = (d: Uint8Array, o: number) => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;

/** Every checksum in the frame at d[o, end): returns a list of problems (empty = all good). */
function checksumProblems(d: Uint8Array, o: number, end: number, where = ''): string[] {
  const problems: string[] = [];
  let p = o + 12;
  let type = u16(d, p);
  while (type === 0x8100) {
    p += 4;
    type = u16(d, p);
  }
  p += 2;
  if (type === 0x0800) {
    const ihl = (d[p]! & 15) * 4;
    if (p + ihl > end) return problems; // snapped inside the header (the sample's frame 12)
    if (checksum(d, p, ihl) !== 0) problems.push(`${where}ipv4 header`);
    const total = u16(d, p + 2);
    const proto = d[p + 9]!;
    const l4 = p + ihl;
    const size = total - ihl;
    if (p + total > end) return problems; // snapped: nothing more to check
    const pseudo = pseudoHeaderSum4(u32(d, p + 12), u32(d, p + 16), proto, size);
    if (proto === 6 && checksum(d, l4, size, pseudo) !== 0) problems.push(`${where}tcp`);
    if (proto === 1 && checksum(d, l4, size) !== 0) problems.push(`${where}icmp`);
    if (proto === 17) {
      const vxlan = u16(d, l4 + 2) === 4789;
      if (u16(d, l4 + 6) === 0) {
        if (!vxlan) problems.push(`${where}udp checksum absent`);
      } else if (checksum(d, l4, size, pseudo) !== 0) {
        problems.push(`${where}udp`);
      }
      if (vxlan) problems.push(...checksumProblems(d, l4 + 16, l4 + size, 'inner '));
    }
  } else if (type === 0x86dd) {
    const plen = u16(d, p + 4);
    const nh = d[p + 6]!;
    if (checksum(d, p + 40, plen, pseudoHeaderSum6(d, p + 8, p + 24, nh, plen)) !== 0) problems.push(`${where}ipv6 l4`);
  }
  return problems;
}

/**
 * The IPv4 5-tuple of the frame (the inner one for VXLAN):
 * [directional key, canonical key, proto, l4 offset, reverse directional key].
 */
function tuple(d: Uint8Array): [string, string, number, number, string] {
  let p = 14;
  if (d[23] === 17 && u16(d, 36) === 4789) p = 14 + 20 + 8 + 8 + 14;
  const proto = d[p + 9]!;
  const a = `${u32(d, p + 12)}:${u16(d, p + 20)}`;
  const b = `${u32(d, p + 16)}:${u16(d, p + 22)}`;
  return [`${proto} ${a} > ${b}`, `${proto} ${a < b ? a : b} ${a < b ? b : a}`, proto, p + 20, `${proto} ${b} > ${a}`];
}

function toBatch(frames: Frame[]): FrameBatch {
  const total = frames.reduce((n, f) => n + f.bytes.length, 0);
  const data = new Uint8Array(total);
  const batch = new FrameBatch(frames.length, data);
  let o = 0;
  frames.forEach((f, i) => {
    data.set(f.bytes, o);
    batch.offsets[i] = o;
    batch.lengths[i] = f.bytes.length;
    batch.wireLengths[i] = f.wireLength;
    o += f.bytes.length;
  });
  batch.count = frames.length;
  return batch;
}

const SMALL: Record<SynthScenario, SynthOptions> = {
  mix64: { packets: 1000, flows: 100, seed: 7 },
  imix: { packets: 1200, flows: 50, seed: 7 },
  vxlan: { packets: 400, flows: 40, seed: 7 },
  'new-flows': { packets: 1000, flows: 1, seed: 7 },
  sample: { packets: 0, flows: 1, seed: 7 },
  transparent: { packets: 0, flows: 1, seed: 7 },
  'nat-host': { packets: 0, flows: 1, seed: 7 },
  'transparent-flows': { packets: 1000, flows: 100, seed: 7 },
  'transparent-syns': { packets: 1000, flows: 1, seed: 7 },
};
/** Fixed scripts: the seed does not change them. */
const SCRIPTED = new Set<SynthScenario>(['sample', 'transparent', 'nat-host']);
const NAMES = Object.keys(SYNTH_SCENARIOS) as SynthScenario[];

describe('synth', () => {
  it('lists the required scenarios, each with a one-line description', () => {
    for (const name of ['mix64', 'imix', 'vxlan', 'new-flows', 'sample']) {
      expect(isSynthScenario(name)).toBe(true);
      expect(SYNTH_SCENARIOS[name as SynthScenario]).not.toMatch(/\n/);
    }
    expect(isSynthScenario('toString')).toBe(false);
  });

  it.each(NAMES)('%s: the same seed gives byte-identical output, another seed different output', (name) => {
    const a = digest(collect(name, SMALL[name]));
    expect(digest(collect(name, SMALL[name]))).toBe(a);
    if (!SCRIPTED.has(name)) expect(digest(collect(name, { ...SMALL[name], seed: 8 }))).not.toBe(a);
  });

  it.each(NAMES)('%s: every IPv4, TCP, UDP and ICMP checksum is valid (outer VXLAN UDP: 0 = none)', (name) => {
    const frames = collect(name, SMALL[name]);
    const bad = frames.flatMap((f, i) => checksumProblems(f.bytes, 0, f.bytes.length).map((p) => `frame ${i + 1}: ${p}`));
    expect(bad).toEqual([]);
  });

  it.each(NAMES)('%s: timestamps advance monotonically from 1,700,000,000 s', (name) => {
    const frames = collect(name, SMALL[name]);
    expect(frames[0]!.seconds).toBe(1_700_000_000);
    for (let i = 1; i < frames.length; i++) {
      const prev = frames[i - 1]!.seconds * 1e9 + frames[i - 1]!.nanos;
      expect(frames[i]!.seconds * 1e9 + frames[i]!.nanos).toBeGreaterThan(prev);
    }
    expect(collect(name, { ...SMALL[name], startSeconds: 5 })[0]!.seconds).toBe(5);
  });

  it('mix64: 60-byte frames (64 on the wire), 1 µs apart, one source', () => {
    const frames = collect('mix64', SMALL.mix64);
    expect(frames).toHaveLength(1000);
    expect(new Set(frames.map((f) => f.bytes.length))).toEqual(new Set([60]));
    expect(frames[1]!.nanos - frames[0]!.nanos).toBe(1000);
    expect(new Set(frames.map((f) => f.source))).toEqual(new Set(synthSources('mix64')));
  });

  it('imix: exactly 7:4:1 of 60/590/1514 per 12 frames', () => {
    const frames = collect('imix', SMALL.imix);
    const counts = new Map<number, number>();
    for (const f of frames) counts.set(f.bytes.length, (counts.get(f.bytes.length) ?? 0) + 1);
    expect(IMIX_FRAME_SIZES).toEqual([60, 590, 1514]);
    expect(Object.fromEntries(counts)).toEqual({ 60: 700, 590: 400, 1514: 100 });
  });

  it.each(['mix64', 'imix', 'vxlan', 'transparent-flows'] as const)('%s: distinct 5-tuples == flows, each seen in both directions', (name) => {
    for (const [packets, flows] of [
      [1000, 100],
      [600, 300],
      [257, 128],
    ] as const) {
      const frames = collect(name, { packets, flows, seed: 3 });
      const canonical = new Set(frames.map((f) => tuple(f.bytes)[1]));
      const directional = new Set(frames.map((f) => tuple(f.bytes)[0]));
      expect(canonical.size, `${packets}/${flows}`).toBe(flows);
      expect(directional.size, `${packets}/${flows}`).toBe(2 * flows);
    }
  });

  it.each(['mix64', 'vxlan'] as const)('%s: TCP flows are conversations: handshake, data, FIN; seq/ack consistent', (name) => {
    const frames = collect(name, { packets: 1000, flows: 100, seed: 11 }); // 10 frames per flow
    const flows = new Map<string, string[]>();
    const next = new Map<string, number>(); // directional key -> next expected seq
    const sent = new Map<string, number>(); // directional key -> next seq the other side should ack
    for (const f of frames) {
      const [dir, key, proto, l4, reverse] = tuple(f.bytes);
      if (proto !== 6) continue;
      const d = f.bytes;
      const flags = d[l4 + 13]!;
      const seq = u32(d, l4 + 4);
      const ack = u32(d, l4 + 8);
      const ipStart = l4 - 20;
      const payload = u16(d, ipStart + 2) - 20 - (d[l4 + 12]! >>> 4) * 4;
      const names = (flags & 2 ? 'S' : '') + (flags & 1 ? 'F' : '') + (flags & 8 ? 'P' : '') + (flags & 16 ? 'A' : '');
      flows.set(key, [...(flows.get(key) ?? []), names]);
      if (next.has(dir)) expect(seq).toBe(next.get(dir));
      if (flags & 16) expect(ack).toBe(sent.get(reverse) ?? ack);
      const end = (seq + payload + (flags & 3 ? 1 : 0)) >>> 0;
      next.set(dir, end);
      sent.set(dir, end);
    }
    expect(flows.size).toBeGreaterThan(0);
    for (const seqs of flows.values()) expect(seqs.join(' ')).toBe('S SA A PA PA PA PA FA FA A');
  });

  it('vxlan: VNIs from 4096, outer source port equal in both directions and in the Linux range', () => {
    const frames = collect('vxlan', { packets: 400, flows: 40, seed: 5 });
    const ports = new Map<string, Set<number>>();
    const vnis = new Set<number>();
    for (const f of frames) {
      const d = f.bytes;
      expect(u16(d, 36)).toBe(4789);
      expect(d[42]).toBe(0x08);
      vnis.add((d[46]! << 16) | (d[47]! << 8) | d[48]!);
      const sport = u16(d, 34);
      expect(sport).toBeGreaterThanOrEqual(32768);
      expect(sport).toBeLessThan(61000);
      const key = tuple(d)[1];
      ports.set(key, (ports.get(key) ?? new Set()).add(sport));
      expect(d.length).toBeLessThanOrEqual(1514);
    }
    for (const v of vnis) expect(v).toBeGreaterThanOrEqual(4096);
    expect(vnis.size).toBeGreaterThan(1);
    for (const s of ports.values()) expect(s.size).toBe(1);
  });

  it('new-flows: every frame a 60-byte SYN with a distinct (source address, port)', () => {
    const frames = collect('new-flows', { packets: 70000, flows: 1, seed: 2 });
    const seen = new Set<number>();
    for (const f of frames) {
      const d = f.bytes;
      expect(d.length).toBe(60);
      expect(d[14 + 20 + 13]).toBe(0x02);
      seen.add(u32(d, 26) * 65536 + u16(d, 34));
    }
    expect(seen.size).toBe(70000);
  });

  it('transparent-flows: 60-byte PSH|ACK segments with 6 bytes of data, to and from web:80, seq/ack following each side', () => {
    const frames = collect('transparent-flows', { packets: 1200, flows: 300, seed: 4 });
    const next = new Map<string, number>();
    for (const f of frames) {
      const d = f.bytes;
      expect(d.length).toBe(60);
      expect(d[47]).toBe(0x18);
      const [dir, , proto, l4] = tuple(d);
      expect(proto).toBe(6);
      const toWeb = u32(d, 30) === 0x0a0a000a;
      expect(toWeb ? u16(d, l4 + 2) : u16(d, l4)).toBe(80);
      expect(f.source).toBe(toWeb ? 'eth0' : 'web');
      // from web: source MAC web's, else the router's (the frame enters on eth0 by source MAC too)
      expect([...d.subarray(toWeb ? 0 : 6, toWeb ? 6 : 12)]).toEqual([0x00, 0x15, 0x5d, 0x0a, 0x00, 0x0a]);
      const seq = u32(d, l4 + 4);
      if (next.has(dir)) expect(seq).toBe(next.get(dir));
      next.set(dir, (seq + 6) >>> 0);
    }
    expect(synthSources('transparent-flows')).toEqual(['eth0', 'web']);
    expect(() => synthesize('transparent-flows', { packets: 1, flows: 8_192_001, seed: 1 }, () => {})).toThrow(RangeError);
  });

  it('transparent-syns: every frame a 60-byte SYN to web:80 from a distinct remote (address, port)', () => {
    const frames = collect('transparent-syns', { packets: 70000, flows: 1, seed: 2 });
    const seen = new Set<number>();
    for (const f of frames) {
      const d = f.bytes;
      expect(d.length).toBe(60);
      expect(d[14 + 20 + 13]).toBe(0x02);
      expect(u32(d, 30)).toBe(0x0a0a000a);
      expect(u16(d, 36)).toBe(80);
      seen.add(u32(d, 26) * 65536 + u16(d, 34));
    }
    expect(seen.size).toBe(70000);
    expect(() => synthesize('transparent-syns', { packets: 8_192_001, flows: 1, seed: 1 }, () => {})).toThrow(RangeError);
  });

  it('rejects bad options', () => {
    expect(() => synthesize('mix64', { packets: -1, flows: 1, seed: 1 }, () => {})).toThrow(RangeError);
    expect(() => synthesize('mix64', { packets: 1, flows: 0, seed: 1 }, () => {})).toThrow(RangeError);
    expect(() => synthesize('nope' as SynthScenario, { packets: 1, flows: 1, seed: 1 }, () => {})).toThrow(RangeError);
    expect(collect('mix64', { packets: 0, flows: 5, seed: 1 })).toEqual([]);
  });

  it('sample: ARP, ICMP, DNS, TCP, IPv6, VLAN, VXLAN and one truncated frame, on eth0 and web', () => {
    const frames = collect('sample', SMALL.sample);
    expect(frames).toHaveLength(17);
    expect(synthSources('sample')).toEqual(['eth0', 'web']);
    expect(new Set(frames.map((f) => f.source))).toEqual(new Set(['eth0', 'web']));
    const batch = toBatch(frames);
    parseBatch(batch);
    const kind = (i: number) => batch.keys[i * FLOW_KEY_WORDS + 9]! >>> 24;
    const proto = (i: number) => (batch.keys[i * FLOW_KEY_WORDS + 9]! >>> 16) & 0xff;
    const errors = [...batch.errors.subarray(0, 17)].map((e, i) => [i + 1, e]).filter(([, e]) => e !== 0);
    expect(errors).toEqual([[12, ParseErrorId['truncated-ipv4']]]);
    expect(batch.flags[11]! & FRAME_FLAG_SNAPPED).toBeTruthy();
    expect(kind(0)).toBe(L3_KIND_ARP);
    expect(proto(1)).toBe(1); // ICMP
    expect(proto(3)).toBe(17); // DNS
    expect(proto(5)).toBe(6);
    expect(kind(8)).toBe(L3_KIND_IPV6);
    expect(batch.vlanCounts[9]).toBe(1);
    expect(batch.keys[9 * FLOW_KEY_WORDS + 9]! & 0xfff).toBe(100);
    expect(batch.flags[10]! & FRAME_FLAG_VXLAN).toBeTruthy();
    expect(batch.keys[10 * FLOW_KEY_WORDS + 10]! & 0xffffff).toBe(4096);
    // Hyper-V MACs for the container and the host.
    expect([...frames[1]!.bytes.subarray(6, 9)]).toEqual([0x00, 0x15, 0x5d]);
  });
});
