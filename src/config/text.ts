/**
 * From the bytes of a topology file to a JSON value, with errors a user can act on.
 *
 * Encodings: UTF-8 with or without a BOM; UTF-16LE and UTF-16BE with a BOM (Windows PowerShell
 * 5.1 writes UTF-16LE with a BOM for `>` and `Out-File`), and UTF-16 without a BOM when the first
 * character is ASCII (a zero byte in the first pair gives it away). Anything that is not valid
 * text in the detected encoding is refused with the byte offset of the first bad byte; we do not
 * guess at ANSI code pages (`Set-Content` in 5.1 writes the system's ANSI page: re-export with
 * `-Encoding utf8`).
 *
 * JSON syntax errors name the line and column (1-based; columns count UTF-16 code units, as
 * editors do for the BMP). V8's own message does not always carry a position (`Unexpected token
 * '}', "..." is not valid JSON`), so on failure a small scanner walks the text again to find the
 * first error and describe it the same way on every Node version. PowerShell 5.1 oddities are
 * valid JSON and need nothing special: `"\/Date(1700000000000)\/"` is the string
 * `/Date(1700000000000)/`, and `\u003c` is `<`.
 */
import { ConfigError } from '../base/errors.js';

export function decodeTopologyText(bytes: Uint8Array, file: string): unknown {
  const text = bytesToText(bytes, file);
  if (text.trim() === '') throw new ConfigError(file, 'line 1, column 1', 'the file is empty: expected a JSON topology object');
  try {
    return JSON.parse(text);
  } catch (e) {
    const found = findJsonError(text);
    const pos = found ? found.pos : 0;
    const message = found ? found.message : (e as Error).message;
    const { line, column } = lineColumn(text, pos);
    throw new ConfigError(file, `line ${line}, column ${column}`, `JSON syntax error: ${message}`);
  }
}

function bytesToText(b: Uint8Array, file: string): string {
  let enc: 'utf-8' | 'utf-16le' | 'utf-16be' = 'utf-8';
  let start = 0;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) start = 3;
  else if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) {
    enc = 'utf-16le';
    start = 2;
  } else if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
    enc = 'utf-16be';
    start = 2;
  } else if (b.length >= 2 && b[0] !== 0 && b[1] === 0) enc = 'utf-16le';
  else if (b.length >= 2 && b[0] === 0 && b[1] !== 0) enc = 'utf-16be';
  const body = b.subarray(start);
  if (enc === 'utf-8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      const at = start + firstBadUtf8(body);
      throw new ConfigError(file, `byte offset ${at}`, 'not UTF-8 or UTF-16 text (re-export with Out-File -Encoding utf8)');
    }
  }
  if (body.length % 2 !== 0) throw new ConfigError(file, `byte offset ${b.length - 1}`, `${enc.toUpperCase()} text with an odd number of bytes`);
  // Swap BE to LE ourselves: Node's TextDecoder knows utf-16be only with full ICU.
  let le = body;
  if (enc === 'utf-16be') {
    le = new Uint8Array(body.length);
    for (let i = 0; i < body.length; i += 2) {
      le[i] = body[i + 1]!;
      le[i + 1] = body[i]!;
    }
  }
  try {
    return new TextDecoder('utf-16le', { fatal: true }).decode(le);
  } catch {
    throw new ConfigError(file, `byte offset ${start}`, `not valid ${enc.toUpperCase()} text (unpaired surrogate)`);
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstBadUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    const n = x < 0x80 ? 0 : x >= 0xc2 && x <= 0xdf ? 1 : x >= 0xe0 && x <= 0xef ? 2 : x >= 0xf0 && x <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return i;
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

class JsonSyntax {
  constructor(
    readonly pos: number,
    readonly message: string,
  ) {}
}

/** The first syntax error of `text` (RFC 8259 grammar), or null when it is valid JSON. */
export function findJsonError(text: string): { pos: number; message: string } | null {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13 || ch === 0xfeff) i++;
      else break;
    }
  };
  const fail = (message: string): never => {
    throw new JsonSyntax(i, i >= n ? `unexpected end of file (${message})` : message);
  };
  const str = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= n) fail('unterminated string');
      const ch = text.charCodeAt(i);
      if (ch === 34) {
        i++;
        return;
      }
      if (ch < 0x20) fail('control character (a raw newline or tab?) inside a string');
      if (ch === 92) {
        const e = text[i + 1];
        if (e === undefined) {
          i++;
          fail('unterminated string');
        }
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape (four hex digits expected)');
          i += 6;
        } else if ('"\\/bfnrt'.includes(e!)) i += 2;
        else fail(`bad escape '\\${e}' in a string (a Windows path needs '\\\\')`);
        continue;
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    if (i >= n) fail('a value was expected');
    const ch = text[i]!;
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? "a property name was expected after ',' (trailing comma?)" : 'a double-quoted property name was expected');
        str();
        ws();
        if (text[i] !== ':') fail("':' was expected after the property name");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("',' or '}' was expected after a property value");
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']') fail("a value was expected after ',' (trailing comma?)");
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("',' or ']' was expected after a list element");
      }
    }
    if (ch === '"') return str();
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0] !== '' && m[0] !== '-') {
      i += m[0].length;
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    if (ch === "'") fail('strings need double quotes, not single quotes');
    fail(`unexpected character '${ch}' where a value was expected`);
  };
  try {
    value();
    ws();
    if (i < n) fail('unexpected text after the end of the JSON value');
    return null;
  } catch (e) {
    if (e instanceof JsonSyntax) return { pos: e.pos, message: e.message };
    throw e;
  }
}
