/**
 * Differential decoding against tshark: every Ethernet capture of test/corpus/ and every
 * sample under pcaps/ is decoded by tshark (reassembly off, so each frame is judged on its own
 * bytes, as the engine sees it) and by `vfp parse`'s describer, and compared field by field:
 * MACs, VLAN ids, IPv4/IPv6 addresses and protocol, TCP/UDP ports, ICMP/ICMPv6 type and code,
 * VXLAN VNI, outer and inner.
 *
 * Multi-valued fields list every occurrence, outer first. Our headers are compared in order with
 * tshark's first occurrences; tshark's further occurrences (headers quoted inside ICMP errors,
 * tunnels we do not decode such as GRE, Geneve or IP-in-IP) are not ours to match.
 *
 * Disagreements are classified (test/diff/DISAGREEMENTS.md explains each class). The test fails
 * on any disagreement outside the known classes in a file the corpus marks well-formed, and
 * prints the agreement table. Needs tshark: skips when it is not installed, fails under CI
 * (test/peers.ts).
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { FRAME_FLAG_IPV6_EXTENSIONS, FrameBatch } from '../../src/frame/batch.js';
import { CaptureReader } from '../../src/io/reader.js';
import { parseBatch } from '../../src/parse/parse.js';
import { describeFrame } from '../../src/parse/describe.js';
import type { LayerDescription } from '../../src/parse/describe.js';
import { corpusManifest } from '../corpus.js';
import { describeWith } from '../peers.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const FIELDS = [
  'frame.number',
  'eth.src',
  'eth.dst',
  'vlan.id',
  'ieee8021ad.id',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ipv6.src',
  'ipv6.dst',
  'ipv6.nxt',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'icmp.type',
  'icmp.code',
  'icmpv6.type',
  'icmpv6.code',
  'vxlan.vni',
] as const;
type Field = (typeof FIELDS)[number];

/** Compared quantities (one row of the agreement table each). */
const COMPARED = ['eth', 'vlan', 'ipv4', 'ipv6', 'ip.proto', 'tcp ports', 'udp ports', 'icmp', 'icmpv6', 'vxlan vni'] as const;
type Compared = (typeof COMPARED)[number];

interface Totals {
  comparable: number;
  agree: number;
}

interface Disagreement {
  file: string;
  frame: number;
  what: Compared;
  ours: string;
  tshark: string;
  klass: string;
}

async function tsharkFields(file: string): Promise<Map<number, Record<Field, string[]>>> {
  const args = ['-r', file, '-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of FIELDS) args.push('-e', f);
  let stdout = '';
  try {
    ({ stdout } = await run('tshark', args, { maxBuffer: 256 << 20, env: { ...process.env, LC_ALL: 'C' } }));
  } catch (e) {
    // tshark exits non-zero on a file cut short but still prints what it read
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  const out = new Map<number, Record<Field, string[]>>();
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const cols = line.split('\t');
    const rec = {} as Record<Field, string[]>;
    FIELDS.forEach((f, i) => {
      const v = cols[i] ?? '';
      rec[f] = v === '' ? [] : v.split(',');
    });
    out.set(Number(rec['frame.number'][0]), rec);
  }
  return out;
}

interface Ours {
  number: number;
  d: ReturnType<typeof describeFrame>;
  v6ext: boolean;
}

function ourFrames(file: string): { frames: Ours[]; records: number } {
  const reader = CaptureReader.openFile(file);
  const batch = new FrameBatch(256);
  const frames: Ours[] = [];
  try {
    for (;;) {
      const n = reader.read(batch);
      if (n === 0) break;
      parseBatch(batch);
      for (let i = 0; i < n; i++) {
        frames.push({ number: batch.numbers[i]!, d: describeFrame(batch, i), v6ext: (batch.flags[i]! & FRAME_FLAG_IPV6_EXTENSIONS) !== 0 });
      }
    }
  } catch {
    // an invalid container: compare what was read before it
  } finally {
    reader.close();
  }
  return { frames, records: reader.stats.records };
}

function layers(d: LayerDescription): LayerDescription[] {
  return d.inner ? [d, d.inner] : [d];
}

/** Compare our values (in order) with tshark's first occurrences. */
function compareList(ours: string[], theirs: string[]): boolean {
  for (let i = 0; i < ours.length; i++) if (theirs[i] !== ours[i]) return false;
  return true;
}

/** Why tshark and we may legitimately differ; null = unexplained. */
function classify(what: Compared, o: Ours, t: Record<Field, string[]>, malformed: boolean): string {
  const d = o.d;
  if (d.caplen > 65535) return 'BIG TCP super-frame: IP/UDP length 0, we read the captured bytes';
  if (what === 'eth' && d.eth?.dst === '01:00:0c:00:00:00') return 'Cisco ISL: tshark reports the encapsulated frame\'s MACs';
  if (d.error) return `our parse error ${d.error} (tshark dissects further or differently)`;
  if (what === 'vxlan vni' || (d.l4 && (d.l4.sport === 4789 || d.l4.dport === 4789) && t['vxlan.vni'].length > 0 && !d.vxlan)) {
    return 'VXLAN by destination port (ours) vs either port (tshark)';
  }
  if (t['vxlan.vni'].length > 0 && !d.vxlan) return 'VXLAN by destination port (ours) vs either port (tshark)';
  if (d.vxlan && t['vxlan.vni'].length === 0) return 'VXLAN decoded by us, not by tshark';
  if (what === 'ip.proto' && o.v6ext) return 'IPv6 upper-layer protocol (ours) vs first next header (tshark)';
  if (malformed) return 'file marked malformed';
  return '';
}

describeWith('tshark', 'decoding agrees with tshark', () => {
  it('every Ethernet capture of the corpus and every sample, field by field', { timeout: 900_000 }, async () => {
    const files: Array<{ path: string; name: string; malformed: boolean }> = corpusManifest()
      .filter((c) => c.linkType === '1 EN10MB')
      .map((c) => ({ path: c.path, name: c.file, malformed: c.malformed }));
    for (const f of readdirSync(join(ROOT, 'pcaps')).filter((n) => /\.pcapn?g?$/.test(n))) {
      files.push({ path: join(ROOT, 'pcaps', f), name: `pcaps/${f}`, malformed: false });
    }

    const totals = new Map<Compared, Totals>(COMPARED.map((c) => [c, { comparable: 0, agree: 0 }]));
    const disagreements: Disagreement[] = [];
    const skippedFiles: string[] = [];
    let framesCompared = 0;

    const check = (file: { name: string; malformed: boolean }, what: Compared, o: Ours, t: Record<Field, string[]>, ours: string[], theirs: string[]) => {
      if (ours.length === 0 && theirs.length === 0) return;
      const tt = totals.get(what)!;
      tt.comparable++;
      if (ours.length > 0 ? compareList(ours, theirs) : theirs.length === 0) {
        tt.agree++;
        return;
      }
      // tshark decodes things we deliberately do not (quoted headers, other tunnels): when we
      // have nothing for a field, tshark's values are not a disagreement unless we should have.
      if (ours.length === 0 && !o.d.error && what !== 'eth') {
        tt.comparable--;
        return;
      }
      disagreements.push({ file: file.name, frame: o.number, what, ours: ours.join(','), tshark: theirs.join(','), klass: classify(what, o, t, file.malformed) });
    };

    const queue = [...files];
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const [theirs, ours] = await Promise.all([tsharkFields(file.path), Promise.resolve(ourFrames(file.path))]);
        if (ours.frames.length === 0) continue;
        if (theirs.size !== ours.records && theirs.size > 0) {
          // tshark numbers pcapng custom blocks as frames: numbering differs, compare nothing
          skippedFiles.push(`${file.name} (tshark ${theirs.size} frames, ${ours.records} records)`);
          continue;
        }
        for (const o of ours.frames) {
          const t = theirs.get(o.number);
          if (!t) continue;
          framesCompared++;
          const ls = layers(o.d);
          check(file, 'eth', o, t, ls.filter((l) => l.eth).map((l) => l.eth!.src + '>' + l.eth!.dst), t['eth.src'].map((s, i) => s + '>' + (t['eth.dst'][i] ?? '')));
          const ourVlans = ls.flatMap((l) => l.vlan ?? []).map(String).sort();
          const theirVlans = [...t['ieee8021ad.id'], ...t['vlan.id']].sort();
          check(file, 'vlan', o, t, ourVlans, ourVlans.length === 0 ? theirVlans : theirVlans);
          const v4 = ls.filter((l) => l.ip?.v === 4);
          const v6 = ls.filter((l) => l.ip?.v === 6);
          check(file, 'ipv4', o, t, v4.map((l) => `${l.ip!.src}>${l.ip!.dst}`), t['ip.src'].map((s, i) => `${s}>${t['ip.dst'][i] ?? ''}`));
          check(file, 'ipv6', o, t, v6.map((l) => `${l.ip!.src}>${l.ip!.dst}`), t['ipv6.src'].map((s, i) => `${s}>${t['ipv6.dst'][i] ?? ''}`));
          check(file, 'ip.proto', o, t, [...v4.map((l) => String(l.ip!.proto))], t['ip.proto']);
          if (!o.v6ext) check(file, 'ip.proto', o, t, v6.map((l) => String(l.ip!.proto)), t['ipv6.nxt']);
          const tcp = ls.filter((l) => l.l4 && l.ip?.proto === 6).map((l) => `${l.l4!.sport}>${l.l4!.dport}`);
          const udp = ls.filter((l) => l.l4 && l.ip?.proto === 17).map((l) => `${l.l4!.sport}>${l.l4!.dport}`);
          check(file, 'tcp ports', o, t, tcp, t['tcp.srcport'].map((s, i) => `${s}>${t['tcp.dstport'][i] ?? ''}`));
          check(file, 'udp ports', o, t, udp, t['udp.srcport'].map((s, i) => `${s}>${t['udp.dstport'][i] ?? ''}`));
          check(file, 'icmp', o, t, ls.filter((l) => l.icmp && l.ip?.v === 4).map((l) => `${l.icmp!.type}/${l.icmp!.code}`), t['icmp.type'].map((s, i) => `${s}/${t['icmp.code'][i] ?? ''}`));
          check(file, 'icmpv6', o, t, ls.filter((l) => l.icmp && l.ip?.v === 6).map((l) => `${l.icmp!.type}/${l.icmp!.code}`), t['icmpv6.type'].map((s, i) => `${s}/${t['icmpv6.code'][i] ?? ''}`));
          check(file, 'vxlan vni', o, t, o.d.vxlan ? [String(o.d.vxlan.vni)] : [], t['vxlan.vni']);
        }
      }
    };
    await Promise.all([worker(), worker()]);

    const table = COMPARED.map((c) => {
      const t = totals.get(c)!;
      return `${c.padEnd(10)} ${String(t.agree).padStart(6)} / ${String(t.comparable).padEnd(6)} ${t.comparable ? ((100 * t.agree) / t.comparable).toFixed(2) : '-'}%`;
    });
    const byClass = new Map<string, Disagreement[]>();
    for (const d of disagreements) byClass.set(d.klass || 'UNEXPLAINED', [...(byClass.get(d.klass || 'UNEXPLAINED') ?? []), d]);
    const lines = [
      `tshark differential: ${files.length} files, ${framesCompared} frames compared (${skippedFiles.length} files skipped: numbering differs)`,
      ...table,
      'disagreements by class:',
      ...[...byClass].map(([k, v]) => `  ${k}: ${v.length} (e.g. ${v.slice(0, 2).map((d) => `${d.file}#${d.frame} ${d.what}: ours ${d.ours} tshark ${d.tshark}`).join('; ')})`),
    ];
    console.log(lines.join('\n'));
    const unexplained = disagreements.filter((d) => !d.klass);
    if (unexplained.length > 0) console.log(unexplained.map((d) => `UNEXPLAINED ${d.file}#${d.frame} ${d.what}: ours ${d.ours} tshark ${d.tshark}`).join("\n"));
    expect(unexplained.slice(0, 20)).toEqual([]);
    expect(framesCompared).toBeGreaterThan(5000);
  });
});
