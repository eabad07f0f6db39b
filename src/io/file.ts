/**
 * Whole-file reads for small inputs (topology files): the bytes of a path, or of standard input
 * for '-'. Only io/ and native/ may touch the file system (DESIGN.md), so config/ gets bytes from
 * here and stays pure. Captures do not come through here: they stream (reader.ts).
 *
 * Errors are Node's own (ENOENT, EACCES, EISDIR with `path` set), which cli/program.ts turns into
 * one line and exit code 2; for stdin the path is reported as '-'.
 */
import { readFileSync } from 'node:fs';

export function readFileBytes(path: string): Uint8Array {
  if (path !== '-') return readFileSync(path);
  try {
    return readFileSync(0);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // A terminal or closed stdin: name it the way the user did.
    if (typeof err.code === 'string') err.path = '-';
    throw err;
  }
}
