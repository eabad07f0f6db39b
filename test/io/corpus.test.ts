/**
 * Robustness on the capture corpus in test/corpus/ (587 files from the tcpdump and libpcap test
 * suites and pcapng-test-generator, many malformed on purpose): every file is read to its end and
 * every frame parsed and described, with no exception other than a clean CaptureFormatError, in
 * bounded time. Record counts must equal the corpus manifest for every file read to the end.
 */
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/base/errors.js';
import { FrameBatch } from '../../src/frame/batch.js';
import { CaptureReader } from '../../src/io/reader.js';
import { parseBatch } from '../../src/parse/parse.js';
import { describeFrame, formatFrameText } from '../../src/parse/describe.js';
import { corpusManifest } from '../corpus.js';

const PER_FILE_MS = 5000;

/** Files that libpcap and tshark refuse too: invalid containers. */
const INVALID = new Set([
  'libpcap/linktype-reserved-field-not-zero.pcap',
  'libpcap/pcap-invalid-version-1.pcap',
  'libpcap/pcapng-invalid-vers-1.pcapng',
  'libpcap/pcapng-invalid-vers-2.pcapng',
  'libpcap/shb-option-too-long.pcapng',
]);

describe('the capture corpus', () => {
  it('every file is read without a crash or a hang; record counts match the manifest', () => {
    const rows = corpusManifest();
    expect(rows.length).toBeGreaterThan(500);
    const batch = new FrameBatch(256);
    let full = 0;
    let frames = 0;
    let skippedLinkType = 0;
    let truncated = 0;
    let overSnap = 0;
    let badFraction = 0;
    const failed: string[] = [];
    const errors: string[] = [];
    const slow: string[] = [];
    for (const { file, path, packets } of rows) {
      const t0 = performance.now();
      const reader = CaptureReader.openFile(path);
      try {
        for (;;) {
          const n = reader.read(batch);
          if (n === 0) break;
          parseBatch(batch);
          for (let i = 0; i < n; i++) {
            describeFrame(batch, i);
            formatFrameText(batch, i);
          }
          frames += n;
          if (performance.now() - t0 > PER_FILE_MS) throw new Error('time limit');
        }
        full++;
        if (reader.stats.records !== packets) failed.push(`${file}: ${reader.stats.records} records, manifest says ${packets}`);
        if (reader.stats.skippedByLinkType.size > 0) skippedLinkType++;
        if (reader.stats.truncatedAtEnd) truncated++;
        if (reader.stats.caplenOverSnaplen > 0) overSnap++;
        if (reader.stats.badTimestampFraction > 0) badFraction++;
        if (INVALID.has(file)) failed.push(`${file}: expected to be refused as invalid`);
      } catch (e) {
        if (e instanceof CaptureFormatError) {
          errors.push(file);
          expect(e.message).toMatch(/byte offset \d+: /);
          if (!INVALID.has(file)) failed.push(`${file}: ${e.message}`);
        } else {
          failed.push(`${file}: ${(e as Error).stack}`);
        }
      } finally {
        reader.close();
      }
      const dt = performance.now() - t0;
      if (dt > 1000) slow.push(`${file} ${dt.toFixed(0)} ms`);
    }
    const table: Array<[string, number]> = [
      ['read to the end', full],
      ['ended with CaptureFormatError', errors.length],
      ['with frames of skipped link types', skippedLinkType],
      ['cut short in the middle of a record', truncated],
      ['with caplen > snaplen', overSnap],
      ['with timestamp fractions out of range', badFraction],
      ['slower than 1 s', slow.length],
    ];
    console.log([`corpus: ${rows.length} files, ${frames} frames delivered`, ...table.map(([k, v]) => `  ${k.padEnd(40)}${v}`)].join('\n'));
    expect(failed).toEqual([]);
    expect(errors.sort()).toEqual([...INVALID].sort());
  });
});
