/**
 * Whole-file reads for small inputs (topology files): the bytes of a path, or of standard input
 * for '-'. Only io/ and native/ may touch the file system (docs/architecture.md; checked by
 * test/unit/layers.test.ts), so config/ gets bytes from here and stays pure. Captures do not come
 * through here: they stream (reader.ts).
 *
 * Errors are Node's own (ENOENT, EACCES with `path` set), which cli/program.ts turns into one
 * line and exit code 2; for stdin the path is reported as '-'. A directory is a VfpError (exit 2)
 * naming the path (Node's EISDIR comes from the read and names none).
 */
import { readFileSync } from 'node:fs';
import { EXIT_USAGE, VfpError } from '../base/errors.js';

/** `what` names the file the caller expected, for the message when `path` is a directory. */
export function readFileBytes(path: string, what: string = 'topology file'): Uint8Array {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EISDIR') throw new VfpError(`${path}: is a directory, not a ${what}`, EXIT_USAGE);
    // A terminal or closed stdin: name it the way the user did.
    if (path === '-' && typeof err.code === 'string') err.path = '-';
    throw err;
  }
}
