/**
 * `vfp parse IN [--json] [--summary] [--limit N] [--vxlan-port P]`
 *
 * Decodes every frame of a pcap/pcapng file with the engine's own one-pass extractor and prints
 * one line per frame: readable text, or with --json the JSON object of docs/capture-files.md (one
 * per line). --summary prints capinfos-like totals instead (per layer, per parse error, per
 * interface). Warnings (file cut short, skipped link types) go to stderr; a malformed file prints
 * the frames before the bad spot, then one error line naming the file and byte offset (exit 2).
 *
 * Its options and help text are in ../define/parse.ts; this module is imported when the command runs.
 */
import { FLOW_KEY_WORDS, FRAME_FLAG_VXLAN, FrameBatch, KEY_PROTO, L3_KIND_ARP, L3_KIND_IPV4, L3_KIND_IPV6, keyKind } from '../../frame/batch.js';
import { PARSE_ERRORS, PARSE_ERROR_COUNT } from '../../base/reasons.js';
import { VfpError, EXIT_USAGE } from '../../base/errors.js';
import { CaptureReader } from '../../io/reader.js';
import { TextOut } from '../../io/text-out.js';
import { parseBatch } from '../../parse/parse.js';
import { describeFrame, formatFrameText } from '../../parse/describe.js';

export interface ParseOptions {
  json?: boolean;
  summary?: boolean;
  limit?: number;
  vxlanPort: number;
}

interface Totals {
  frames: number;
  bytes: number;
  wireBytes: number;
  ipv4: number;
  ipv6: number;
  arp: number;
  other: number;
  vlanTagged: number;
  vxlan: number;
  errors: Float64Array;
  perSource: Map<number, number>;
  firstSeconds: number;
  firstNanos: number;
  lastSeconds: number;
  lastNanos: number;
}

export function runParse(input: string, opts: ParseOptions): void {
  const reader = CaptureReader.openFile(input);
  reader.checkHeader(); // not a capture: its error alone, before any summary
  const batch = new FrameBatch();
  const out = new TextOut();
  const limit = opts.limit ?? Infinity;
  const totals: Totals = {
    frames: 0,
    bytes: 0,
    wireBytes: 0,
    ipv4: 0,
    ipv6: 0,
    arp: 0,
    other: 0,
    vlanTagged: 0,
    vxlan: 0,
    errors: new Float64Array(PARSE_ERROR_COUNT),
    perSource: new Map(),
    firstSeconds: -1,
    firstNanos: 0,
    lastSeconds: 0,
    lastNanos: 0,
  };
  let failure: unknown = null;
  try {
    outer: for (;;) {
      const n = reader.read(batch);
      if (n === 0) break;
      parseBatch(batch, opts.vxlanPort);
      for (let i = 0; i < n; i++) {
        if (totals.frames >= limit || out.closed) break outer;
        count(totals, batch, i);
        if (!opts.summary) out.line(opts.json ? JSON.stringify(describeFrame(batch, i)) : formatFrameText(batch, i));
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    reader.close();
  }
  if (opts.summary) printSummary(out, input, reader, totals, opts.json === true);
  out.flush();
  for (const w of reader.warnings) process.stderr.write(`vfp: ${input}: warning: ${w}\n`);
  if (failure) throw failure;
  if (totals.frames === 0 && reader.stats.records > 0 && !out.closed) {
    throw new VfpError(`${input}: none of its ${reader.stats.records} frames has a supported link type`, EXIT_USAGE);
  }
}

function count(t: Totals, batch: FrameBatch, i: number): void {
  t.frames++;
  t.bytes += batch.lengths[i]!;
  t.wireBytes += batch.wireLengths[i]!;
  const kind = keyKind(batch.keys[i * FLOW_KEY_WORDS + KEY_PROTO]!);
  if (kind === L3_KIND_IPV4) t.ipv4++;
  else if (kind === L3_KIND_IPV6) t.ipv6++;
  else if (kind === L3_KIND_ARP) t.arp++;
  else t.other++;
  if (batch.vlanCounts[i]! > 0) t.vlanTagged++;
  if ((batch.flags[i]! & FRAME_FLAG_VXLAN) !== 0) t.vxlan++;
  t.errors[batch.errors[i]!]!++;
  const src = batch.sources[i]!;
  t.perSource.set(src, (t.perSource.get(src) ?? 0) + 1);
  const s = batch.timestampSeconds[i]!;
  const ns = batch.timestampNanos[i]!;
  if (t.firstSeconds < 0) {
    t.firstSeconds = s;
    t.firstNanos = ns;
  }
  t.lastSeconds = s;
  t.lastNanos = ns;
}

function printSummary(out: TextOut, input: string, reader: CaptureReader, t: Totals, json: boolean): void {
  const errors: Record<string, number> = {};
  for (let e = 1; e < PARSE_ERROR_COUNT; e++) if (t.errors[e]! > 0) errors[PARSE_ERRORS[e]!] = t.errors[e]!;
  const interfaces = reader.interfaces.map((itf) => ({
    index: itf.index,
    name: itf.name ?? null,
    linkType: itf.linkType,
    linkTypeName: itf.linkTypeName,
    frames: t.perSource.get(itf.index) ?? 0,
  }));
  const duration = t.firstSeconds < 0 ? 0 : t.lastSeconds - t.firstSeconds + (t.lastNanos - t.firstNanos) / 1e9;
  const skipped: Record<string, number> = {};
  for (const [lt, n] of reader.stats.skippedByLinkType) skipped[String(lt)] = n;
  const summary = {
    file: input,
    format: reader.format,
    records: reader.stats.records,
    frames: t.frames,
    bytes: t.bytes,
    wireBytes: t.wireBytes,
    layers: { ipv4: t.ipv4, ipv6: t.ipv6, arp: t.arp, other: t.other, vlanTagged: t.vlanTagged, vxlan: t.vxlan },
    errors,
    framesWithErrors: t.frames - t.errors[0]!,
    skippedByLinkType: skipped,
    interfaces,
    durationSeconds: Number(duration.toFixed(9)),
    truncatedAtEnd: reader.stats.truncatedAtEnd,
  };
  if (json) {
    out.line(JSON.stringify(summary));
    return;
  }
  const lines = [
    `File:              ${input} (${reader.format})`,
    `Records:           ${summary.records}`,
    `Frames decoded:    ${summary.frames} (${summary.bytes} bytes captured, ${summary.wireBytes} on the wire)`,
    `Layers:            IPv4 ${t.ipv4}, IPv6 ${t.ipv6}, ARP ${t.arp}, other ${t.other}; VLAN-tagged ${t.vlanTagged}; VXLAN ${t.vxlan}`,
    `Parse errors:      ${summary.framesWithErrors === 0 ? 'none' : Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `Duration:          ${summary.durationSeconds.toFixed(6)} s`,
    `Interfaces:`,
    ...interfaces.map((i) => `  ${i.index}: ${i.name ?? '(unnamed)'} link type ${i.linkType} (${i.linkTypeName}), ${plural(i.frames, 'frame')}`),
  ];
  if (Object.keys(skipped).length > 0) {
    lines.push(`Skipped:           ${Object.entries(skipped).map(([lt, n]) => `${plural(n, 'frame')} of link type ${lt}`).join(', ')}`);
  }
  if (summary.truncatedAtEnd) lines.push('Note:              the file ends in the middle of a record');
  for (const l of lines) out.line(l);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
