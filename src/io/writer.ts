/**
 * Capture writers: classic pcap (µs or ns magic, chosen explicitly) and pcapng (one interface
 * description block per port with its `if_name`, nanosecond timestamps, enhanced packet blocks
 * with an optional comment and direction flags).
 *
 * Output goes through ByteSink: a 1 MiB buffer flushed with fs.writeSync to a file, to standard
 * output ('-'), or kept in memory (`toBytes()`, for tests and benches). A closed pipe (EPIPE) sets
 * `closed` and later writes are dropped, so `vfp ... --out - | head -c 100` ends quietly.
 *
 * Frames are given as (bytes, offset, length): any Uint8Array, including a Buffer from Node's
 * shared pool with a non-zero byteOffset; nothing assumes offset 0. Little-endian output.
 * The 64-bit nanosecond tick count of an EPB is computed without BigInt, exactly, by splitting the
 * seconds into 16-bit halves (every partial product stays below 2^53) for every time that 64-bit
 * nanosecond ticks can hold (until the year 2554).
 */
import { closeSync, openSync } from 'node:fs';
import { writeAllSync } from './fd-write.js';
import type { FrameBatch } from '../frame/batch.js';
import { MAX_PCAP_RECORD } from './reader.js';

const SINK_SIZE = 1 << 20;
/** Frames up to this size are copied into the sink byte by byte (measured: faster than subarray + set below ~256 bytes). */
const SMALL_COPY = 256;

/** copySmall's roles: the frames, the comment heads, the comment tails. */
const COPY_FRAME = 0;
const COPY_HEAD = 1;
const COPY_TAIL = 2;
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
/** Comment parts longer than this are copied with set() (one call) rather than word by word. */
const LONG_PART = 64;

class ByteSink {
  private readonly buf = new Uint8Array(SINK_SIZE);
  readonly view = new DataView(this.buf.buffer);
  private used = 0;
  private readonly memory: Uint8Array[] | null;
  private fd: number;
  private readonly ownsFd: boolean;
  closed = false;
  written = 0;

  constructor(path: string | null) {
    if (path === null) {
      this.memory = [];
      this.fd = -1;
      this.ownsFd = false;
    } else {
      this.memory = null;
      this.ownsFd = path !== '-';
      this.fd = path === '-' ? 1 : openSync(path, 'w');
    }
  }

  /** Reserve `size` contiguous bytes (size <= SINK_SIZE) and return their offset in `bytes`. */
  reserve(size: number): number {
    if (this.used + size > SINK_SIZE) this.flush();
    const at = this.used;
    this.used += size;
    this.written += size;
    return at;
  }

  get bytes(): Uint8Array {
    return this.buf;
  }

  /** Append bytes of any size. */
  append(src: Uint8Array, offset: number, length: number): void {
    if (length <= SINK_SIZE - this.used) {
      if (length <= SMALL_COPY) this.copySmall(src, offset, length, this.used, COPY_FRAME);
      else this.buf.set(src.subarray(offset, offset + length), this.used);
      this.used += length;
    } else {
      this.flush();
      this.emit(src.subarray(offset, offset + length));
    }
    this.written += length;
  }

  /**
   * Copy `length` bytes (a small frame, a comment part) from src[offset] to bytes[to] (reserved),
   * four at a time through DataViews, then the last up to three one by one. `role` names the
   * caller's stream of sources (COPY_FRAME, COPY_HEAD, COPY_TAIL): each keeps the DataView of its
   * last source, made when that source changes (once per input slab, once per comment part), so
   * no object is made per call. (subarray + set costs a view object and a runtime call per frame;
   * a byte loop, four times the iterations.)
   */
  copySmall(src: Uint8Array, offset: number, length: number, to: number, role: number): void {
    let sv = this.srcViews[role]!;
    if (src !== this.srcBytes[role]) {
      sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      this.srcBytes[role] = src;
      this.srcViews[role] = sv;
    }
    const dv = this.view;
    const end = offset + length;
    const end4 = end - 3;
    let i = offset;
    for (; i < end4; i += 4, to += 4) dv.setUint32(to, sv.getUint32(i));
    const buf = this.buf;
    for (; i < end; i++) buf[to++] = src[i]!;
  }

  /** Zero `n` (a few: padding) bytes at `to`. */
  zero(to: number, n: number): void {
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[to + i] = 0;
  }

  /** Per copySmall role: its last source and that source's DataView. */
  private readonly srcBytes: (Uint8Array | null)[] = [null, null, null];
  private readonly srcViews: DataView[] = [EMPTY_VIEW, EMPTY_VIEW, EMPTY_VIEW];

  flush(): void {
    if (this.used === 0) return;
    this.emit(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private emit(chunk: Uint8Array): void {
    if (this.memory) {
      this.memory.push(chunk.slice());
      return;
    }
    if (this.closed) return;
    if (!writeAllSync(this.fd, chunk)) this.closed = true;
  }

  close(): void {
    this.flush();
    if (this.ownsFd && this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  toBytes(): Uint8Array {
    this.flush();
    if (!this.memory) throw new Error('toBytes() is only for in-memory writers');
    const total = this.memory.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of this.memory) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Link type (default 1, Ethernet). */
  linkType?: number;
  /** Header snaplen (default 262144). */
  snaplen?: number;
}

/** Classic pcap writer. */
export class PcapWriter {
  private readonly sink: ByteSink;
  private readonly nanosecond: boolean;
  frames = 0;

  private constructor(sink: ByteSink, options: PcapWriterOptions) {
    this.sink = sink;
    this.nanosecond = options.nanosecond === true;
    const at = sink.reserve(24);
    const v = sink.view;
    v.setUint32(at, this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, true);
    v.setUint16(at + 4, 2, true);
    v.setUint16(at + 6, 4, true);
    v.setUint32(at + 8, 0, true); // thiszone
    v.setUint32(at + 12, 0, true); // sigfigs
    v.setUint32(at + 16, options.snaplen ?? MAX_PCAP_RECORD, true);
    v.setUint32(at + 20, options.linkType ?? 1, true);
  }

  /** Write to a file path, or to standard output with '-'. */
  static toFile(path: string, options: PcapWriterOptions = {}): PcapWriter {
    return new PcapWriter(new ByteSink(path), options);
  }

  /** Collect the file in memory; read it with `toBytes()`. */
  static toMemory(options: PcapWriterOptions = {}): PcapWriter {
    return new PcapWriter(new ByteSink(null), options);
  }

  get closed(): boolean {
    return this.sink.closed;
  }

  writeFrame(data: Uint8Array, offset: number, length: number, wireLength: number, seconds: number, nanos: number): void {
    const sink = this.sink;
    const small = length <= SMALL_COPY;
    // a small frame: one reservation for the record header and the bytes
    const at = sink.reserve(small ? 16 + length : 16);
    const v = sink.view;
    v.setUint32(at, seconds >>> 0, true);
    v.setUint32(at + 4, this.nanosecond ? nanos : Math.floor(nanos / 1000), true);
    v.setUint32(at + 8, length, true);
    v.setUint32(at + 12, wireLength, true);
    if (small) sink.copySmall(data, offset, length, at + 16, COPY_FRAME);
    else sink.append(data, offset, length);
    this.frames++;
  }

  /** Write every frame of a batch (its data, lengths and timestamps). */
  writeBatch(batch: FrameBatch): void {
    for (let i = 0; i < batch.count; i++) {
      this.writeFrame(batch.data, batch.offsets[i]!, batch.lengths[i]!, batch.wireLengths[i]!, batch.timestampSeconds[i]!, batch.timestampNanos[i]!);
    }
  }

  close(): void {
    this.sink.close();
  }

  toBytes(): Uint8Array {
    return this.sink.toBytes();
  }
}

/** epb_flags direction values (pcapng §4.3.1): bits 0-1. */
export const EPB_INBOUND = 1;
export const EPB_OUTBOUND = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Largest opt_comment value: the option length field has 16 bits, and the block stays 4-aligned. */
const MAX_COMMENT = 65532;

/** pcapng writer: one section, little-endian, interfaces added on demand. */
export class PcapngWriter {
  private readonly sink: ByteSink;
  private interfaceCount = 0;
  frames = 0;

  private constructor(sink: ByteSink, application: string) {
    this.sink = sink;
    const app = encoder.encode(application);
    const optSize = 4 + pad4(app.length) + 4;
    const total = 28 + optSize;
    const at = sink.reserve(total);
    const v = sink.view;
    v.setUint32(at, 0x0a0d0d0a, true);
    v.setUint32(at + 4, total, true);
    v.setUint32(at + 8, 0x1a2b3c4d, true);
    v.setUint16(at + 12, 1, true);
    v.setUint16(at + 14, 0, true);
    v.setInt32(at + 16, -1, true); // section length unknown
    v.setInt32(at + 20, -1, true);
    let o = at + 24;
    o = writeOption(sink, o, 4, app); // shb_userappl
    v.setUint32(o, 0, true); // opt_endofopt
    v.setUint32(at + total - 4, total, true);
  }

  static toFile(path: string, application: string = 'vfp-engine'): PcapngWriter {
    return new PcapngWriter(new ByteSink(path), application);
  }

  static toMemory(application: string = 'vfp-engine'): PcapngWriter {
    return new PcapngWriter(new ByteSink(null), application);
  }

  get closed(): boolean {
    return this.sink.closed;
  }

  /** Add an interface (a port); returns its id for writeFrame. Timestamps are nanoseconds. */
  addInterface(name: string, linkType: number = 1, description?: string): number {
    const nameBytes = encoder.encode(name);
    const descBytes = description === undefined ? null : encoder.encode(description);
    const optSize = 4 + pad4(nameBytes.length) + (descBytes ? 4 + pad4(descBytes.length) : 0) + 8 + 4;
    const total = 20 + optSize;
    const at = this.sink.reserve(total);
    const v = this.sink.view;
    v.setUint32(at, 1, true);
    v.setUint32(at + 4, total, true);
    v.setUint16(at + 8, linkType, true);
    v.setUint16(at + 10, 0, true);
    v.setUint32(at + 12, 0, true); // snaplen: no limit
    let o = at + 16;
    o = writeOption(this.sink, o, 2, nameBytes); // if_name
    if (descBytes) o = writeOption(this.sink, o, 3, descBytes); // if_description
    v.setUint16(o, 9, true); // if_tsresol
    v.setUint16(o + 2, 1, true);
    v.setUint32(o + 4, 9, true); // 10^-9, padded
    o += 8;
    v.setUint32(o, 0, true); // opt_endofopt
    v.setUint32(at + total - 4, total, true);
    return this.interfaceCount++;
  }

  /**
   * Write one enhanced packet block. `comment` becomes opt_comment (Wireshark: frame.comment);
   * `flags` becomes epb_flags (EPB_INBOUND / EPB_OUTBOUND in bits 0-1).
   */
  writeFrame(
    interfaceId: number,
    data: Uint8Array,
    offset: number,
    length: number,
    wireLength: number,
    seconds: number,
    nanos: number,
    comment?: string,
    flags?: number,
  ): void {
    // An option's length field has 16 bits: a longer comment is cut (on a UTF-8 boundary).
    let commentBytes = comment === undefined ? null : encoder.encode(comment);
    if (commentBytes && commentBytes.length > MAX_COMMENT) {
      let cut = MAX_COMMENT;
      while (cut > 0 && (commentBytes[cut]! & 0xc0) === 0x80) cut--;
      commentBytes = commentBytes.subarray(0, cut);
    }
    const at = this.block(interfaceId, data, offset, length, wireLength, seconds, nanos, commentBytes ? commentBytes.length : -1, flags);
    if (commentBytes) this.sink.bytes.set(commentBytes, at);
  }

  /**
   * writeFrame with the comment given as `head`, the decimal digits of `number`, then `tail`
   * (UTF-8 bytes made once and reused: no string is built per frame). A comment that would pass
   * the option's 65,532-byte limit is cut as writeFrame cuts it.
   */
  writeFrameNumbered(
    interfaceId: number,
    data: Uint8Array,
    offset: number,
    length: number,
    wireLength: number,
    seconds: number,
    nanos: number,
    head: Uint8Array,
    number: number,
    tail: Uint8Array,
    flags?: number,
  ): void {
    let digits = 1;
    // (integer division while the number fits 31 bits; float only past that)
    if (number >= 0 && number <= 0x7fffffff) for (let x = number | 0; x >= 10; x = (x / 10) | 0) digits++;
    else for (let x = number; x >= 10; x = Math.floor(x / 10)) digits++;
    const size = head.length + digits + tail.length;
    if (size > MAX_COMMENT || !(number >= 0) || !Number.isSafeInteger(number)) {
      this.writeFrame(interfaceId, data, offset, length, wireLength, seconds, nanos, decoder.decode(head) + String(number) + decoder.decode(tail), flags);
      return;
    }
    const sink = this.sink;
    const b = sink.bytes;
    let at: number;
    const padded = pad4(length);
    const total = 32 + padded + 4 + pad4(size) + (flags !== undefined ? 8 : 0) + 4;
    if (length <= SMALL_COPY && total <= SINK_SIZE && interfaceId < this.interfaceCount) {
      // The common case, in one piece: one reservation for the whole block, no call per part
      // but the copies (the same bytes as block() + the comment).
      const v = sink.view;
      const start = sink.reserve(total);
      this.epbHeader(start, total, interfaceId, seconds, nanos, length, wireLength);
      sink.copySmall(data, offset, length, start + 28, COPY_FRAME);
      let o = start + 28 + padded;
      sink.zero(start + 28 + length, padded - length);
      v.setUint16(o, 1, true);
      v.setUint16(o + 2, size, true);
      at = o + 4;
      sink.zero(at + size, pad4(size) - size);
      o = at + pad4(size);
      if (flags !== undefined) {
        v.setUint16(o, 2, true);
        v.setUint16(o + 2, 4, true);
        v.setUint32(o + 4, flags >>> 0, true);
        o += 8;
      }
      v.setUint32(o, 0, true); // opt_endofopt
      v.setUint32(o + 4, total, true);
      this.frames++;
    } else {
      at = this.block(interfaceId, data, offset, length, wireLength, seconds, nanos, size, flags);
    }
    // (a long part, such as a full comment's layer trail, in one memmove: set() of a whole array
    // makes no view object; a short one is cheaper word by word than the call)
    if (head.length > LONG_PART) b.set(head, at);
    else sink.copySmall(head, 0, head.length, at, COPY_HEAD);
    const first = at + head.length;
    if (number <= 0x7fffffff) {
      let x = number | 0;
      for (let p = first + digits - 1; p >= first; p--) {
        const q = (x / 10) | 0;
        b[p] = 0x30 + x - q * 10;
        x = q;
      }
    } else {
      let x = number;
      for (let p = first + digits - 1; p >= first; p--) {
        b[p] = 0x30 + (x % 10);
        x = Math.floor(x / 10);
      }
    }
    if (tail.length > LONG_PART) b.set(tail, at + head.length + digits);
    else sink.copySmall(tail, 0, tail.length, at + head.length + digits, COPY_TAIL);
  }

  /** The first 28 bytes of an enhanced packet block of `total` bytes at `at` (reserved). */
  private epbHeader(at: number, total: number, interfaceId: number, seconds: number, nanos: number, length: number, wireLength: number): void {
    // Ticks = seconds * 10^9 + nanos, as two u32 words without BigInt (see the essay); the ticks
    // of a whole second are kept for the next frame, most often of the same second.
    if (seconds !== this.tickSeconds) this.secondTicks(seconds);
    let hi = this.tickHi;
    let lo = this.tickLo + nanos;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi += 1;
    }
    const v = this.sink.view;
    v.setUint32(at, 6, true);
    v.setUint32(at + 4, total, true);
    v.setUint32(at + 8, interfaceId, true);
    v.setUint32(at + 12, hi >>> 0, true);
    v.setUint32(at + 16, lo >>> 0, true);
    v.setUint32(at + 20, length, true);
    v.setUint32(at + 24, wireLength, true);
  }

  /** The ticks of `seconds` whole seconds (seconds * 10^9), as two u32 words, for block(). */
  private secondTicks(seconds: number): void {
    const sHigh = Math.floor(seconds / 65536);
    const x = sHigh * 1e9; // exact: below 2^53 for any representable tick count
    const y = (seconds - sHigh * 65536) * 1e9; // below 2^47
    let hi = Math.floor(x / 65536) + Math.floor(y / 4294967296);
    let lo = (x % 65536) * 65536 + (y % 4294967296);
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi += 1;
    }
    this.tickSeconds = seconds;
    this.tickHi = hi;
    this.tickLo = lo;
  }

  private tickSeconds = NaN;
  private tickHi = 0;
  private tickLo = 0;

  /**
   * One enhanced packet block with everything but the comment's value written; returns where the
   * comment's `commentSize` bytes go in the sink's buffer (commentSize -1: no comment option).
   */
  private block(interfaceId: number, data: Uint8Array, offset: number, length: number, wireLength: number, seconds: number, nanos: number, commentSize: number, flags: number | undefined): number {
    if (interfaceId >= this.interfaceCount) throw new RangeError(`pcapng interface ${interfaceId} was not added`);
    const optSize = (commentSize >= 0 ? 4 + pad4(commentSize) : 0) + (flags !== undefined ? 8 : 0);
    const total = 32 + pad4(length) + (optSize > 0 ? optSize + 4 : 0);
    const v = this.sink.view;
    let at = this.sink.reserve(28);
    this.epbHeader(at, total, interfaceId, seconds, nanos, length, wireLength);
    this.sink.append(data, offset, length);
    const padding = pad4(length) - length;
    const tailSize = padding + (optSize > 0 ? optSize + 4 : 0) + 4;
    at = this.sink.reserve(tailSize);
    const sink = this.sink;
    sink.zero(at, padding);
    let o = at + padding;
    let commentAt = -1;
    if (commentSize >= 0) {
      v.setUint16(o, 1, true);
      v.setUint16(o + 2, commentSize, true);
      commentAt = o + 4;
      sink.zero(o + 4 + commentSize, pad4(commentSize) - commentSize);
      o += 4 + pad4(commentSize);
    }
    if (flags !== undefined) {
      v.setUint16(o, 2, true);
      v.setUint16(o + 2, 4, true);
      v.setUint32(o + 4, flags >>> 0, true);
      o += 8;
    }
    if (optSize > 0) {
      v.setUint32(o, 0, true);
      o += 4;
    }
    v.setUint32(o, total, true);
    this.frames++;
    return commentAt;
  }

  /** Write every frame of a batch on interface `interfaceId`. */
  writeBatch(batch: FrameBatch, interfaceId: number): void {
    for (let i = 0; i < batch.count; i++) {
      this.writeFrame(interfaceId, batch.data, batch.offsets[i]!, batch.lengths[i]!, batch.wireLengths[i]!, batch.timestampSeconds[i]!, batch.timestampNanos[i]!);
    }
  }

  close(): void {
    this.sink.close();
  }

  toBytes(): Uint8Array {
    return this.sink.toBytes();
  }
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Write option (code, value) at `o` in the sink's buffer (already reserved); returns the next offset. */
function writeOption(sink: ByteSink, o: number, code: number, value: Uint8Array): number {
  const v = sink.view;
  v.setUint16(o, code, true);
  v.setUint16(o + 2, value.length, true);
  const b = sink.bytes;
  b.set(value, o + 4);
  b.fill(0, o + 4 + value.length, o + 4 + pad4(value.length));
  return o + 4 + pad4(value.length);
}
