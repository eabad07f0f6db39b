/**
 * Buffered text output to a file descriptor (stdout by default), for per-frame listings such as
 * `vfp parse`. Lines are gathered into ~256 KiB strings and written with one synchronous
 * `fs.writeSync` each, so a listing of millions of frames costs few system calls.
 *
 * A closed pipe (`vfp parse big.pcap | head`) is not an error: the first EPIPE sets `closed`
 * and every later write is dropped, so callers can stop early by checking `closed`.
 */
import { writeAllSync } from './fd-write.js';

const FLUSH_AT = 256 * 1024;

export class TextOut {
  private parts: string[] = [];
  private size = 0;
  /** True once the reader of the pipe has gone away. */
  closed = false;

  constructor(private readonly fd: number = 1) {}

  /** Append one line (a newline is added). */
  line(text: string): void {
    if (this.closed) return;
    this.parts.push(text);
    this.size += text.length + 1;
    if (this.size >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.closed || this.parts.length === 0) return;
    const chunk = this.parts.join('\n') + '\n';
    this.parts = [];
    this.size = 0;
    if (!writeAllSync(this.fd, Buffer.from(chunk, 'utf8'))) this.closed = true;
  }
}
