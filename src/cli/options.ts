/**
 * Option parsers shared by the `vfp` commands. They turn bad values into commander's
 * InvalidArgumentError, which main.ts reports in one line with exit code 2.
 */
import { InvalidArgumentError } from 'commander';

export function intOption(name: string, min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function regexOption(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch {
    throw new InvalidArgumentError(`not a valid regular expression: '${value}'`);
  }
}
