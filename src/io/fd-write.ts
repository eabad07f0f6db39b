/**
 * Write a whole chunk to a file descriptor with synchronous writes, the way every sink here needs
 * it: partial writes are continued, EAGAIN (a non-blocking stdout set by a parent) waits a moment
 * and retries, and EPIPE (the reader of a pipe went away: `vfp ... | head`) is reported as
 * `false` rather than thrown, so that callers can stop quietly.
 */
import { createRequire } from 'node:module';

// fs through require: an ES import of node:fs builds its namespace, which loads the stream
// modules, a few milliseconds of start-up that `vfp --version` (cli/main.ts) need not pay.
const { writeSync } = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Returns false when the pipe is closed (EPIPE); throws any other error. */
export function writeAllSync(fd: number, chunk: Uint8Array): boolean {
  let off = 0;
  while (off < chunk.length) {
    try {
      off += writeSync(fd, chunk, off, chunk.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return false;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 2);
        continue;
      }
      throw e;
    }
  }
  return true;
}
