/**
 * The committed captures under pcaps/ are exactly what synth makes: regenerating each one (in
 * memory, as bench/make-samples.ts and `vfp synth` write them) reproduces its bytes. A change
 * to synth/ or to the writers that alters a sample fails here until the samples are regenerated on
 * purpose (`npm run build && node dist/bench/make-samples.js`, see pcaps/README.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderSample, SAMPLES, sampleCommand } from '../../bench/make-samples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VFP = join(ROOT, 'dist/src/cli/vfp.cjs');

describe('pcaps/ samples', () => {
  it.each(SAMPLES.map((s) => [s.file, s] as const))('%s regenerates byte for byte', (_file, s) => {
    const committed = readFileSync(join(ROOT, 'pcaps', s.file));
    const fresh = renderSample(s);
    expect(fresh.length).toBe(committed.length);
    expect(Buffer.from(fresh).equals(committed)).toBe(true);
  });

  it('pcaps/README.md gives the exact command of every sample', () => {
    const readme = readFileSync(join(ROOT, 'pcaps/README.md'), 'utf8');
    for (const s of SAMPLES) expect(readme).toContain(sampleCommand(s));
  });

  it('`vfp synth` (built dist/) writes the same bytes as the committed samples', () => {
    if (!existsSync(VFP)) throw new Error('dist/ is not built: run `npm run build` (npm test does it in pretest)');
    const dir = mkdtempSync(join(tmpdir(), 'vfp-samples-'));
    for (const s of SAMPLES) {
      const out = join(dir, s.file);
      const args = sampleCommand(s).split(' ').slice(1).map((a) => (a === `pcaps/${s.file}` ? out : a));
      const r = spawnSync(process.execPath, [VFP, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(out).equals(readFileSync(join(ROOT, 'pcaps', s.file))), s.file).toBe(true);
    }
  });
});
