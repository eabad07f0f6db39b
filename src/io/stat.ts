/**
 * File sizes for progress display (`vfp replay` on a terminal). 0 when unknown: standard input, a
 * pipe, or a path that cannot be stat'ed (the reader reports the real error).
 */
import { statSync } from 'node:fs';

export function statSizeOrZero(path: string): number {
  if (path === '-') return 0;
  try {
    const s = statSync(path);
    return s.isFile() ? s.size : 0;
  } catch {
    return 0;
  }
}
