/** The package version, read once from package.json at start-up (not on any packet path). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
function findVersion(): string {
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'vfp-engine' && pkg.version) return pkg.version;
    } catch {
      // try the next location (src/ under vitest, dist/src/ when built)
    }
  }
  return '0.0.0';
}
export const VERSION = findVersion();
