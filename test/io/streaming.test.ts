/**
 * Bounded memory: a capture far larger than the read buffer streams in constant memory. A child
 * process (so that the test runner's own memory does not count) reads a ~300 MiB pcap written by
 * `vfp synth`, parses every frame, and reports its peak RSS; it must stay far below the file size.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('streaming', () => {
  it('a 300 MiB capture is read in constant memory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfp-big-'));
    const file = join(dir, 'big.pcap');
    try {
      const synth = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/vfp.cjs'), 'synth', 'mix64', '--out', file, '--packets', '4000000', '--flows', '4096'], { encoding: 'utf8' });
      expect(synth.status, synth.stderr).toBe(0);
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(300e6);
      const script = `
        import { CaptureReader } from ${JSON.stringify(join(ROOT, 'dist/src/io/reader.js'))};
        import { FrameBatch } from ${JSON.stringify(join(ROOT, 'dist/src/frame/batch.js'))};
        import { parseBatch } from ${JSON.stringify(join(ROOT, 'dist/src/parse/parse.js'))};
        const r = CaptureReader.openFile(${JSON.stringify(file)});
        const b = new FrameBatch();
        let n = 0, c;
        while ((c = r.read(b))) { parseBatch(b); n += c; }
        console.log(JSON.stringify({ frames: n, maxRssKiB: process.resourceUsage().maxRSS }));`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const { frames, maxRssKiB } = JSON.parse(run.stdout) as { frames: number; maxRssKiB: number };
      console.log(`streamed ${frames} frames (${(size / 2 ** 20).toFixed(0)} MiB) with a peak RSS of ${(maxRssKiB / 1024).toFixed(0)} MiB`);
      expect(frames).toBe(4_000_000);
      expect(maxRssKiB * 1024).toBeLessThan(128 * 2 ** 20); // Node itself is ~45 MiB; the file is 300+
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
