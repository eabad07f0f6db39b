/**
 * Errors that reach the user. Each carries the exit code the CLI contract assigns to it
 * (docs/cli.md: 1 runtime failure, 2 bad usage, bad config or bad input file) and formats as one
 * line: no stack trace is ever printed for these.
 */

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export class VfpError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_RUNTIME) {
    super(message);
    this.name = 'VfpError';
    this.exitCode = exitCode;
  }
}

/** Bad command line. */
export class UsageError extends VfpError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/**
 * A capture file that cannot be read further: names the file and the byte offset where the
 * problem starts. Frames before that offset have already been delivered.
 */
export class CaptureFormatError extends VfpError {
  readonly file: string;
  readonly offset: number;
  readonly detail: string;
  constructor(file: string, offset: number, detail: string) {
    super(`${file}: byte offset ${offset}: ${detail}`, EXIT_USAGE);
    this.name = 'CaptureFormatError';
    this.file = file;
    this.offset = offset;
    this.detail = detail;
  }
}

/** A configuration problem, with the JSON path it is at (used by config/). */
export class ConfigError extends VfpError {
  readonly file: string;
  readonly path: string;
  constructor(file: string, path: string, detail: string) {
    super(`${file}: ${path}: ${detail}`, EXIT_USAGE);
    this.name = 'ConfigError';
    this.file = file;
    this.path = path;
  }
}
