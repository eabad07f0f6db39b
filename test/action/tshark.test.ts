/**
 * tshark as the reference peer for the transpositions: rewritten frames (IPv4/IPv6 × TCP/UDP/ICMP
 * address, port, identifier, TTL rewrites), MSS-clamped SYNs, VLAN-pushed and -popped frames and
 * VXLAN-encapsulated frames (with and without an outer tag) are written to a pcap with
 * io/writer.ts and read back by tshark with checksum verification on. Every checksum tshark
 * verifies must be "Good" (outer and inner), and the VLAN id, VNI and MSS fields must be the
 * expected ones. Needs tshark: skips when it is not installed, fails under CI (test/peers.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { Prng } from '../../src/base/bytes.js';
import { mssClamp } from '../../src/action/mss.js';
import {
  rewriteDecrementHopLimit,
  rewriteDecrementTtl,
  rewriteDstMac,
  rewriteIcmpEchoId,
  rewriteIPv4Dst,
  rewriteIPv4Src,
  rewriteIPv6Dst,
  rewriteIPv6Src,
  rewriteL4DstPort,
  rewriteL4SrcPort,
  rewriteSrcMac,
} from '../../src/action/rewrite.js';
import { vlanPopCopy, vlanPushCopy } from '../../src/action/vlan.js';
import { vxlanEncapCopy, vxlanTemplate } from '../../src/action/vxlan.js';
import { PcapWriter } from '../../src/io/writer.js';
import { buildFrame, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, u16 } from './frames.js';
import type { FrameChoice } from './frames.js';
import { describeWith } from '../peers.js';

const run = promisify(execFile);

const FIELDS = [
  'frame.number',
  'ip.checksum.status',
  'tcp.checksum.status',
  'udp.checksum.status',
  'icmp.checksum.status',
  'icmpv6.checksum.status',
  'vlan.id',
  'vxlan.vni',
  'tcp.options.mss_val',
] as const;
type Field = (typeof FIELDS)[number];
/** Wireshark's checksum status values (epan/proto.h PROTO_CHECKSUM_E_*). */
const STATUS = ['Bad', 'Good', 'Unverified', 'Not present', 'Illegal'] as const;

interface Expected {
  what: string;
  /** Checksum fields that must be present and all "Good" (every occurrence, outer and inner). */
  good: Field[];
  vlan?: string;
  vni?: string;
  mss?: string;
  /** Fields that must be absent. */
  absent?: Field[];
  /** Checksum statuses that must be exactly these names (comma-joined, outer first). */
  exact?: Partial<Record<Field, string>>;
}

const dir = mkdtempSync(join(tmpdir(), 'vfp-action-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds the capture: each frame with what tshark must say about it. */
function buildCapture(file: string): Expected[] {
  const rng = new Prng(0x75a4c);
  const writer = PcapWriter.toFile(file);
  const expected: Expected[] = [];
  const scratch = new Uint8Array(4096);
  const out = new Uint8Array(4096);
  const sv = new DataView(scratch.buffer);
  const ov = new DataView(out.buffer);
  const emit = (d: Uint8Array, o: number, n: number, e: Expected): void => {
    writer.writeFrame(d, o, n, n, 1700000000 + expected.length, 0);
    expected.push(e);
  };
  const frame = (choice: FrameChoice) => {
    scratch.fill(0);
    return buildFrame(scratch, 0, rng, { fragment: 'none', ...choice });
  };
  const l4Good = (p: number): Field[] => (p === PROTO_TCP ? ['tcp.checksum.status'] : p === PROTO_UDP ? ['udp.checksum.status'] : p === PROTO_ICMP ? ['icmp.checksum.status'] : ['icmpv6.checksum.status']);

  // NAT-style rewrites, 25 frames per kind
  for (const protocol of [PROTO_TCP, PROTO_UDP, PROTO_ICMP]) {
    for (let k = 0; k < 25; k++) {
      const b = frame({ family: 4, protocol, udpZero: false });
      rewriteSrcMac(scratch, sv, b.l2, b.end, 0x0015, 0x5d000001);
      rewriteDstMac(scratch, sv, b.l2, b.end, 0x0200, rng.nextU32());
      expect(rewriteIPv4Src(scratch, sv, b.l3, b.l4, b.end, rng.nextU32())).toBe(true);
      expect(rewriteIPv4Dst(scratch, sv, b.l3, b.l4, b.end, rng.nextU32())).toBe(true);
      if (protocol === PROTO_ICMP) expect(rewriteIcmpEchoId(scratch, sv, b.l4, b.end, rng.below(65536))).toBe(true);
      else {
        expect(rewriteL4SrcPort(scratch, sv, b.l4, b.end, protocol, 49152 + rng.below(16384))).toBe(true);
        expect(rewriteL4DstPort(scratch, sv, b.l4, b.end, protocol, 1 + rng.below(65535))).toBe(true);
      }
      expect(rewriteDecrementTtl(scratch, sv, b.l3, b.end)).toBeGreaterThanOrEqual(-1);
      emit(scratch, 0, b.end, { what: `ipv4/${protocol} rewrite`, good: ['ip.checksum.status', ...l4Good(protocol)] });
    }
  }
  for (const protocol of [PROTO_TCP, PROTO_UDP, PROTO_ICMPV6]) {
    for (let k = 0; k < 25; k++) {
      const b = frame({ family: 6, protocol, udpZero: false });
      const w = () => rng.nextU32();
      expect(rewriteIPv6Src(scratch, sv, b.l3, b.l4, b.end, protocol, 0x20010db8, w(), w(), w())).toBe(true);
      expect(rewriteIPv6Dst(scratch, sv, b.l3, b.l4, b.end, protocol, 0x20010db8, w(), w(), w())).toBe(true);
      if (protocol === PROTO_ICMPV6) rewriteIcmpEchoId(scratch, sv, b.l4, b.end, rng.below(65536));
      else rewriteL4SrcPort(scratch, sv, b.l4, b.end, protocol, rng.below(65536));
      rewriteDecrementHopLimit(scratch, sv, b.l3, b.end);
      emit(scratch, 0, b.end, { what: `ipv6/${protocol} rewrite`, good: l4Good(protocol) });
    }
  }
  // UDP checksum 0 stays 0: tshark must not call it bad
  for (let k = 0; k < 5; k++) {
    const b = frame({ family: 4, protocol: PROTO_UDP, udpZero: true });
    rewriteIPv4Src(scratch, sv, b.l3, b.l4, b.end, rng.nextU32());
    rewriteL4DstPort(scratch, sv, b.l4, b.end, PROTO_UDP, 53);
    emit(scratch, 0, b.end, { what: 'udp zero checksum', good: ['ip.checksum.status'], exact: { 'udp.checksum.status': 'Not present' } });
  }
  // MSS clamp on SYNs (aligned and odd offsets), IPv4 and IPv6
  for (let k = 0; k < 20; k++) {
    const b = frame({ family: k % 2 ? 6 : 4, protocol: PROTO_TCP, syn: true, oddMss: k % 4 >= 2 });
    const before = u16(scratch, b.mssAt);
    const changed = mssClamp(scratch, sv, b.l4, b.end, 50, 1400);
    const after = u16(scratch, b.mssAt);
    expect(changed).toBe(after !== before);
    expect(after).toBe(Math.min(Math.max(before - 50, 88), 1400) < before ? Math.min(Math.max(before - 50, 88), 1400) : before);
    emit(scratch, 0, b.end, { what: `mss clamp ${before}->${after}`, good: [...(b.family === 4 ? (['ip.checksum.status'] as Field[]) : []), 'tcp.checksum.status'], mss: String(after) });
  }
  // VLAN push and pop
  for (let k = 0; k < 10; k++) {
    const b = frame({ family: k % 3 === 0 ? 6 : 4, protocol: PROTO_TCP, tagged: false });
    const vid = 1 + rng.below(4094);
    const n = vlanPushCopy(scratch, sv, 0, b.end, out, ov, 7, out.length, vid, rng.below(8));
    expect(n).toBe(b.end + 4);
    emit(out, 7, n, { what: 'vlan push', good: ['tcp.checksum.status'], vlan: String(vid) });
    const m = vlanPopCopy(out, ov, 7, 7 + n, scratch, sv, 100, scratch.length);
    expect(m).toBe(b.end);
    emit(scratch, 100, m, { what: 'vlan pop', good: ['tcp.checksum.status'], absent: ['vlan.id'] });
  }
  // VXLAN encap, untagged and tagged outer, inner IPv4 and IPv6
  for (let k = 0; k < 10; k++) {
    const vni = 4096 + rng.below(1000);
    const tagged = k % 2 === 1;
    const t = vxlanTemplate({
      srcMacHi: 0x0015,
      srcMacLo: 0x5d000001,
      dstMacHi: 0x0200,
      dstMacLo: 0x0a630001,
      srcIp: 0x0a630002,
      dstIp: 0x0a630000 + 3 + k,
      vni,
      ...(tagged ? { vlanId: 200 + k } : {}),
    });
    const b = frame({ family: k % 3 === 0 ? 6 : 4, protocol: k % 4 === 0 ? PROTO_UDP : PROTO_TCP, udpZero: false });
    const n = vxlanEncapCopy(t, scratch, sv, 0, b.end, out, ov, 3, out.length, rng.nextU32());
    expect(n).toBe(b.end + t.size);
    emit(out, 3, n, {
      what: `vxlan encap${tagged ? ' tagged' : ''}`,
      good: ['ip.checksum.status', ...(b.protocol === PROTO_TCP ? (['tcp.checksum.status'] as Field[]) : [])],
      // the outer UDP checksum is 0 ("Not present", allowed over IPv4); an inner UDP one is verified
      exact: { 'udp.checksum.status': b.protocol === PROTO_TCP ? 'Not present' : 'Not present,Good' },
      vni: String(vni),
      ...(tagged ? { vlan: String(200 + k) } : {}),
    });
  }
  writer.close();
  return expected;
}

describeWith('tshark', 'tshark agrees with the transpositions', () => {
  it('every verified checksum is Good; VLAN id, VNI and MSS as expected', async () => {
    const file = join(dir, 'actions.pcap');
    const expected = buildCapture(file);
    const args = ['-r', file, '-n', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
    for (const f of FIELDS) args.push('-e', f);
    const { stdout } = await run('tshark', args, { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
    const rows = stdout.split('\n').filter((l) => l !== '');
    expect(rows).toHaveLength(expected.length);
    const problems: string[] = [];
    let checksumsGood = 0;
    rows.forEach((line, i) => {
      const cols = line.split('\t');
      const get = (f: Field): string[] => {
        const s = cols[FIELDS.indexOf(f)] ?? '';
        return s === '' ? [] : s.split(',');
      };
      const e = expected[i]!;
      const where = `frame ${i + 1} (${e.what})`;
      for (const f of e.good) {
        const values = get(f).map((x) => STATUS[Number(x)] ?? x);
        if (values.length === 0 || values.some((x) => x !== 'Good')) problems.push(`${where}: ${f} = ${values.join(',') || 'absent'}`);
        else checksumsGood += values.length;
      }
      // no checksum anywhere may be Bad, even one not listed as required
      for (const f of ['ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status'] as const) {
        if (get(f).some((x) => x === '0' || x === '4')) problems.push(`${where}: ${f} = ${get(f).join(',')}`);
      }
      if (e.vlan !== undefined && get('vlan.id')[0] !== e.vlan) problems.push(`${where}: vlan.id ${get('vlan.id').join(',')} want ${e.vlan}`);
      if (e.vni !== undefined && get('vxlan.vni')[0] !== e.vni) problems.push(`${where}: vxlan.vni ${get('vxlan.vni').join(',')} want ${e.vni}`);
      if (e.mss !== undefined && get('tcp.options.mss_val')[0] !== e.mss) problems.push(`${where}: mss ${get('tcp.options.mss_val').join(',')} want ${e.mss}`);
      for (const [f, want] of Object.entries(e.exact ?? {}) as Array<[Field, string]>) {
        const got = get(f).map((x) => STATUS[Number(x)] ?? x).join(',');
        if (got !== want) problems.push(`${where}: ${f} = ${got} want ${want}`);
      }
      for (const f of e.absent ?? []) if (get(f).length > 0) problems.push(`${where}: ${f} present (${get(f).join(',')})`);
    });
    console.log(`tshark: ${rows.length} frames, ${checksumsGood} checksums Good, ${problems.length} problems`);
    expect(problems).toEqual([]);
  });
});
