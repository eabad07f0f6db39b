/**
 * Standard input and output: a capture read from a pipe ('-') gives the same frames as the file,
 * and a writer on a pipe whose reader goes away (`| head -c 100`) stops quietly. These run the
 * compiled modules in a child process (`npm test` builds dist/ first, in pretest).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/io/writer.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DIST_READER = join(ROOT, 'dist/src/io/reader.js');
const DIST_WRITER = join(ROOT, 'dist/src/io/writer.js');
const DIST_BATCH = join(ROOT, 'dist/src/frame/batch.js');

describe('pipes', () => {
  beforeAll(() => {
    if (![DIST_READER, DIST_WRITER, DIST_BATCH].every((f) => existsSync(f))) throw new Error('dist/ is not built: run `npm run build` (npm test does it in pretest)');
  });

  it("reading '-' from a pipe gives the same frames as reading the file", () => {
    const w = PcapngWriter.toMemory();
    w.addInterface('a');
    const frame = new Uint8Array(1500).map((_, i) => i & 0xff);
    for (let i = 0; i < 3000; i++) w.writeFrame(0, frame, 0, 60 + (i % 1400), 1500, 1_700_000_000 + i, i * 1000);
    const dir = mkdtempSync(join(tmpdir(), 'vfp-pipe-'));
    const file = join(dir, 'in.pcapng');
    writeFileSync(file, w.toBytes());
    const script = `
      import { CaptureReader } from ${JSON.stringify(DIST_READER)};
      import { FrameBatch } from ${JSON.stringify(DIST_BATCH)};
      const r = CaptureReader.openFile(process.argv[1], { chunkSize: 4096 });
      const b = new FrameBatch(100);
      let n = 0, bytes = 0, ts = 0, c;
      while ((c = r.read(b))) for (let i = 0; i < c; i++) { n++; bytes += b.lengths[i]; ts += b.timestampSeconds[i] % 1000 + b.timestampNanos[i]; }
      console.log(JSON.stringify({ n, bytes, ts, truncated: r.stats.truncatedAtEnd }));`;
    const fromFile = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8' });
    const fromPipe = spawnSync('sh', ['-c', `cat "$1" | "$0" --input-type=module -e "$2" -`, process.execPath, file, script], { encoding: 'utf8' });
    expect(fromFile.status, fromFile.stderr).toBe(0);
    expect(fromPipe.status, fromPipe.stderr).toBe(0);
    expect(JSON.parse(fromPipe.stdout)).toEqual(JSON.parse(fromFile.stdout));
    expect(JSON.parse(fromFile.stdout).n).toBe(3000);
  });

  it("a writer on '-' whose reader goes away stops quietly (EPIPE)", () => {
    const script = `
      import { PcapngWriter } from ${JSON.stringify(DIST_WRITER)};
      const w = PcapngWriter.toFile('-');
      w.addInterface('a');
      const f = new Uint8Array(1000);
      let i = 0;
      for (; i < 20000 && !w.closed; i++) w.writeFrame(0, f, 0, 1000, 1000, i, 0, 'x');
      w.close();
      console.error('stopped after ' + i + ' closed=' + w.closed);`;
    const r = spawnSync('bash', ['-c', `set -o pipefail; "$0" --input-type=module -e "$1" | head -c 100 > /dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`, process.execPath, script], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/stopped after \d+ closed=true/);
    expect(r.stderr).toMatch(/exit=0/);
    expect(r.stderr).not.toMatch(/Error|EPIPE/);
  });
});
