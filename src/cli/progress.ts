/**
 * A one-line progress display on standard error for long replays: shown only on a terminal (the
 * caller checks isTTY and --json), redrawn at most 4 times a second, erased at the end. Figures:
 * frames so far, share of the file read (when its size is known), and the rate.
 */
export class Progress {
  private last = 0;
  private readonly start = Date.now();
  private shown = false;

  constructor(
    private readonly name: string,
    private readonly size: number,
  ) {}

  update(position: number, frames: number): void {
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    if (secs < 0.5) return;
    const pct = this.size > 0 ? ` ${Math.min(100, (100 * position) / this.size).toFixed(0)}%` : '';
    const rate = secs > 0 ? ` ${(frames / secs / 1e6).toFixed(2)} Mpps` : '';
    process.stderr.write(`\rvfp: ${this.name}:${pct} ${frames.toLocaleString('en-US')} frames${rate}   `);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}
