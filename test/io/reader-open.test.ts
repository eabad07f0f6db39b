/**
 * Opening a capture: a directory is refused at open with a VfpError naming it (exit 2), and
 * checkHeader() reads the file header at once, so that a file that is not a capture fails before
 * a caller prints anything; reading after it gives exactly the frames a plain read gives;
 * headerRead tells, after a failed read, whether the file was a capture at all.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError, EXIT_USAGE, VfpError } from '../../src/base/errors.js';
import { FrameBatch } from '../../src/frame/batch.js';
import { CaptureReader } from '../../src/io/reader.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function frames(reader: CaptureReader): string[] {
  const batch = new FrameBatch(16);
  const out: string[] = [];
  for (;;) {
    const n = reader.read(batch);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const o = batch.offsets[i]!;
      out.push(`${batch.numbers[i]} ${batch.sources[i]} ${batch.timestampSeconds[i]}.${batch.timestampNanos[i]} ${Buffer.from(batch.data.subarray(o, o + batch.lengths[i]!)).toString('hex')}`);
    }
  }
  reader.close();
  return out;
}

describe('CaptureReader.openFile and checkHeader', () => {
  it('a directory is a VfpError naming it, exit code 2', () => {
    const d = mkdtempSync(join(tmpdir(), 'vfp-reader-open-'));
    let err: unknown;
    try {
      CaptureReader.openFile(d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VfpError);
    expect((err as VfpError).message).toBe(`${d}: is a directory, not a capture file`);
    expect((err as VfpError).exitCode).toBe(EXIT_USAGE);
  });

  it('garbage at byte 0: checkHeader throws the offset-0 error, and read() throws the same', () => {
    const r = CaptureReader.fromBytes(Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]), 'junk');
    let err: unknown;
    try {
      r.checkHeader();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).offset).toBe(0);
    expect((err as CaptureFormatError).message).toBe('junk: byte offset 0: not a pcap or pcapng file (magic 0xdeadbeef)');
    expect(() => r.read(new FrameBatch(4))).toThrow(err as Error);
    expect(r.headerRead).toBe(false);
  });

  it('headerRead: false until the header is accepted, also when read() finds it bad', () => {
    const bad = CaptureReader.fromBytes(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 'junk');
    expect(() => bad.read(new FrameBatch(4))).toThrow(CaptureFormatError);
    expect(bad.headerRead).toBe(false);
    for (const f of ['pcaps/mix64-1k.pcap', 'pcaps/sample-mix.pcapng']) {
      const r = CaptureReader.openFile(join(ROOT, f));
      expect(r.headerRead, f).toBe(false);
      r.checkHeader();
      expect(r.headerRead, f).toBe(true);
      r.close();
    }
  });

  it('an empty capture: checkHeader throws', () => {
    expect(() => CaptureReader.fromBytes(new Uint8Array(0), 'nothing').checkHeader()).toThrow('nothing: byte offset 0: empty file: not a pcap or pcapng capture');
  });

  it('a valid pcap and pcapng read the same frames with and without checkHeader (called twice)', () => {
    for (const f of ['pcaps/mix64-1k.pcap', 'pcaps/sample-mix.pcapng', 'pcaps/transparent.pcapng']) {
      const file = join(ROOT, f);
      const plain = frames(CaptureReader.openFile(file, { chunkSize: 4096 }));
      const r = CaptureReader.openFile(file, { chunkSize: 4096 });
      r.checkHeader();
      r.checkHeader();
      expect(frames(r), f).toEqual(plain);
      expect(plain.length, f).toBeGreaterThan(10);
    }
  });
});
