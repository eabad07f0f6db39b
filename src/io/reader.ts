/**
 * CaptureReader: a streaming, zero-copy reader of classic pcap and pcapng files.
 *
 * Data layout. The reader owns one read buffer (default 4 MiB) and fills FrameBatch columns with
 * offsets into it: frames are never copied. A record that runs past the end of the buffer is
 * moved to the front (after HEADROOM bytes) with the bytes after it, and the rest is read in;
 * a record larger than the buffer grows it, up to a hard cap checked BEFORE allocating. Memory is
 * therefore bounded by the largest record, not by the file: a capture larger than memory streams
 * in constant space. `fromBytes` reads an in-memory capture the same way with the caller's bytes
 * as the buffer (no copy at all).
 *
 * Lifetime. Frames handed out by `read(batch)` stay valid until the next `read` call.
 *
 * Link types. Ethernet (1) is native. Linux cooked captures (SLL 113, SLL2 276), raw IP (101, and
 * 12/14 as some BSDs number it; 228 IPv4; 229 IPv6) and BSD loopback (NULL 0, LOOP 108) are turned
 * into Ethernet frames IN PLACE: the 14-byte Ethernet header is written over the bytes of the
 * cooked header or of the record header just before the frame (always at least 16 bytes there;
 * HEADROOM keeps that true at the buffer's start). Synthesised headers have a zero destination
 * MAC and, for SLL/SLL2, the captured link-layer address as source (zero for raw IP). An SLL
 * protocol below 0x0600 (802.2 LLC, Novell 802.3) becomes an 802.3 length field. Frames of other
 * link types are skipped and counted per link type (stats.skippedByLinkType), with one warning.
 * `fromBytes` with such link types therefore rewrites the caller's bytes.
 *
 * Rules for odd files (the corpus has all of these):
 * - pcap link-type word: the low 16 bits are the link type; bits 28-31/26 carry FCS information and
 *   are ignored; bits 16-25 are reserved and, as in libpcap and tshark, make the file invalid.
 * - pcap version: major 2 required; a minor other than 4 is read as 2.4 with a warning (tshark
 *   reads 2.5; libpcap refuses it). pcapng: section version 1.0 or 1.2, otherwise invalid.
 * - The header snaplen is never used to size anything (some files claim 2 GB).
 * - caplen > snaplen (header or IDB): the whole record is kept, as tshark does (libpcap would cut
 *   it to the snaplen); counted in stats.caplenOverSnaplen. caplen > original length: kept,
 *   counted in stats.caplenOverWireLength; the original length reported is the file's.
 * - A pcap record longer than 262,144 bytes (libpcap's and tshark's maximum) is an error; a pcapng
 *   block longer than 16 MiB too.
 * - A timestamp fraction out of range (>= 10^6 µs or 10^9 ns) is carried into the seconds and
 *   counted in stats.badTimestampFraction.
 * - pcapng block lengths must be >= 12, a multiple of 4, and equal in header and trailer; option
 *   lists must fit their block. Otherwise the file is invalid from that block on.
 * - A file that ends in the middle of a record is not an error: the frames before it are read,
 *   stats.truncatedAtEnd is set and a warning names the offset (tshark does the same).
 * - An invalid container raises CaptureFormatError(file, byte offset, detail) from the `read`
 *   call after the one that returned the last good frame, so nothing before it is lost.
 *
 * Timestamps are (seconds, nanoseconds) integers. pcapng ticks (64 bits) are divided by the
 * interface's decimal resolution with 16-bit long division, exact without BigInt; binary (2^-n)
 * and finer-than-nanosecond resolutions are rare and go through BigInt.
 *
 * Not handled: the "modified pcap" format (magic a1b2cd34; refused with a message), pcapng
 * Decryption Secrets and other non-packet blocks (skipped), compressed files.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { CaptureFormatError } from '../base/errors.js';
import type { FrameBatch } from '../frame/batch.js';

/** Bytes kept free before the first record after a compaction (room for a synthesised header). */
const HEADROOM = 64;
const DEFAULT_CHUNK_SIZE = 4 << 20;
const MIN_CHUNK_SIZE = 64;
/** libpcap's MAXIMUM_SNAPLEN: the largest pcap record either reference tool accepts. */
export const MAX_PCAP_RECORD = 262144;
/** Largest pcapng block we accept (a record of 256 KiB plus generous options). */
export const MAX_PCAPNG_BLOCK = 16 << 20;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 1;
const PCAPNG_PB = 2; // obsolete Packet Block
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL',
  1: 'ETHERNET',
  6: 'IEEE802_5',
  8: 'SLIP',
  9: 'PPP',
  10: 'FDDI',
  12: 'RAW (BSD)',
  14: 'RAW (BSD)',
  50: 'PPP_HDLC',
  101: 'RAW',
  104: 'C_HDLC',
  105: 'IEEE802_11',
  108: 'LOOP',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIOTAP',
  138: 'APPLE_IP_OVER_IEEE1394',
  143: 'DOCSIS',
  147: 'USER0',
  195: 'IEEE802_15_4_WITHFCS',
  220: 'USB_LINUX_MMAPPED',
  228: 'IPV4',
  229: 'IPV6',
  239: 'NFLOG',
  242: 'NETANALYZER',
  258: 'PKTAP',
  271: 'VSOCK',
  276: 'LINUX_SLL2',
};

/** A name for a link type number, e.g. 113 -> "LINUX_SLL". */
export function linkTypeName(linkType: number): string {
  return LINKTYPE_NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

/** Whether frames of this link type are delivered (as Ethernet). */
export function linkTypeSupported(linkType: number): boolean {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_LINUX_SLL2:
    case LINKTYPE_RAW:
    case 12:
    case 14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      return true;
    default:
      return false;
  }
}

export interface CaptureInterfaceInfo {
  /** Index across the whole file (sections numbered on): the value of batch.sources. */
  index: number;
  /** pcapng section (0 for pcap and the first section). */
  section: number;
  /** Link type (the low 16 bits of the field). */
  linkType: number;
  linkTypeName: string;
  /** Whether its frames are delivered (natively or converted to Ethernet). */
  supported: boolean;
  /** pcapng `if_name`, when present. */
  name?: string;
  /** pcapng `if_description`, when present. */
  description?: string;
  /** Snapshot length from the header/IDB (0 = none). Informational only. */
  snaplen: number;
  /** Timestamp resolution, e.g. "1e-6", "1e-9", "2^-20". */
  tsResolution: string;
}

export interface CaptureReaderStats {
  /** Packet records seen (pcap records; pcapng EPB, SPB and PB), delivered or not. */
  records: number;
  /** Frames delivered to batches. */
  frames: number;
  /** Captured bytes delivered. */
  bytes: number;
  /** Records skipped because of their link type, per link type. */
  skippedByLinkType: Map<number, number>;
  /** Records too short for their link-layer header (SLL/SLL2/NULL) and skipped. */
  skippedShortLinkHeader: number;
  caplenOverSnaplen: number;
  caplenOverWireLength: number;
  badTimestampFraction: number;
  /** pcapng blocks other than SHB/IDB/EPB/SPB/PB, skipped. */
  blocksSkipped: number;
  /** The file ended in the middle of a record. */
  truncatedAtEnd: boolean;
}

export interface CaptureReaderOptions {
  /** Read-buffer size in bytes (default 4 MiB; minimum 64 — tiny sizes exist for tests). */
  chunkSize?: number;
}

type Format = 'pcap' | 'pcapng';

// Per-interface timestamp conversion kinds.
const TS_DECIMAL = 0; // 10^-exp, exp <= 9: exact long division
const TS_OTHER = 1; // binary or finer than ns: BigInt (rare)

export class CaptureReader {
  readonly file: string;
  format: Format = 'pcap';
  /** Classic pcap with nanosecond timestamps (magic a1b23c4d). */
  nanosecond = false;
  readonly interfaces: CaptureInterfaceInfo[] = [];
  readonly warnings: string[] = [];
  readonly stats: CaptureReaderStats = {
    records: 0,
    frames: 0,
    bytes: 0,
    skippedByLinkType: new Map(),
    skippedShortLinkHeader: 0,
    caplenOverSnaplen: 0,
    caplenOverWireLength: 0,
    badTimestampFraction: 0,
    blocksSkipped: 0,
    truncatedAtEnd: false,
  };

  private fd: number;
  private readonly ownsFd: boolean;
  private buf: Uint8Array;
  private view: DataView;
  /** Read cursor and end of valid data in `buf`. */
  private pos = 0;
  private fill = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;
  private done = false;
  private started = false;
  private pending: CaptureFormatError | null = null;
  private le = true;

  // pcap state
  private pcapLinkType = LINKTYPE_ETHERNET;
  private pcapSnaplen = 0;
  // pcapng state: interface i of the current section is global index sectionBase + i
  private section = -1;
  private sectionBase = 0;
  private readonly ifLinkTypes: number[] = [];
  private readonly ifSnaplens: number[] = [];
  private readonly ifTsKinds: number[] = [];
  private readonly ifTsDivisors: number[] = []; // decimal: 10^exp
  private readonly ifTsScales: number[] = []; // decimal: ns per tick unit remainder (10^(9-exp))
  private readonly ifTsBig: bigint[] = []; // other: ticks per second
  private readonly ifTsOffsets: number[] = []; // seconds
  private readonly warnedLinkTypes = new Set<number>();

  // timestamp scratch (avoids returning objects per frame)
  private tsSec = 0;
  private tsNsec = 0;

  private constructor(file: string, fd: number, ownsFd: boolean, buf: Uint8Array, fill: number, eof: boolean) {
    this.file = file;
    this.fd = fd;
    this.ownsFd = ownsFd;
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.fill = fill;
    this.eof = eof;
  }

  /** Open a capture file ('-' = standard input). Throws for a missing file (ENOENT etc.). */
  static openFile(path: string, options: CaptureReaderOptions = {}): CaptureReader {
    const size = Math.max(MIN_CHUNK_SIZE + HEADROOM, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const isStdin = path === '-';
    const fd = isStdin ? 0 : openSync(path, 'r');
    const r = new CaptureReader(isStdin ? '(stdin)' : path, fd, !isStdin, new Uint8Array(size), 0, false);
    r.pos = HEADROOM;
    r.fill = HEADROOM;
    r.base = -HEADROOM;
    return r;
  }

  /** Read an in-memory capture, with no copy (see the note on link-type conversion above). */
  static fromBytes(bytes: Uint8Array, name: string = '(memory)'): CaptureReader {
    return new CaptureReader(name, -1, false, bytes, bytes.length, true);
  }

  /** Close the file (not standard input). Safe to call twice. */
  close(): void {
    if (this.ownsFd && this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.done = true;
  }

  /**
   * Fill `batch` with the next frames; returns how many (0 = end of input). Throws
   * CaptureFormatError for an invalid container, after every frame before it was returned.
   */
  read(batch: FrameBatch): number {
    batch.count = 0;
    if (this.pending) throw this.pending;
    if (this.done) return 0;
    try {
      if (!this.started) this.start();
      if (this.done) return 0;
      const n = this.format === 'pcap' ? this.readPcap(batch) : this.readPcapng(batch);
      batch.setData(this.buf, this.view);
      return n;
    } catch (e) {
      if (e instanceof CaptureFormatError) {
        this.done = true;
        if (batch.count > 0) {
          this.pending = e;
          batch.setData(this.buf, this.view);
          return batch.count;
        }
      }
      throw e;
    }
  }

  // ---- buffer management ---------------------------------------------------------------------

  private fail(offsetInBuf: number, detail: string): never {
    throw new CaptureFormatError(this.file, this.base + offsetInBuf, detail);
  }

  /**
   * Make at least `need` bytes available from `pos`, compacting and reading more (or growing the
   * buffer, up to `cap`). Returns false at end of input with fewer bytes available. Only called
   * when the current batch is empty, or before any frame was taken from the buffer.
   */
  private ensure(need: number, cap: number): boolean {
    if (this.fill - this.pos >= need) return true;
    if (this.eof) return false;
    if (need > cap) this.fail(this.pos, `record of ${need} bytes exceeds the ${cap}-byte limit`);
    const rest = this.fill - this.pos;
    if (HEADROOM + need > this.buf.length) {
      const grown = new Uint8Array(Math.max(HEADROOM + need, Math.min(this.buf.length * 2, cap + HEADROOM)));
      grown.set(this.buf.subarray(this.pos, this.fill), HEADROOM);
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    } else if (this.pos !== HEADROOM) {
      this.buf.copyWithin(HEADROOM, this.pos, this.fill);
    }
    this.base += this.pos - HEADROOM;
    this.pos = HEADROOM;
    this.fill = HEADROOM + rest;
    while (this.fill - this.pos < need && !this.eof) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, this.fill, this.buf.length - this.fill, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if (code === 'EOF') n = 0;
        else throw e;
      }
      if (n === 0) this.eof = true;
      this.fill += n;
    }
    return this.fill - this.pos >= need;
  }

  private u16(o: number): number {
    return this.view.getUint16(o, this.le);
  }
  private u32(o: number): number {
    return this.view.getUint32(o, this.le);
  }

  // ---- file header -----------------------------------------------------------------------------

  private start(): void {
    this.started = true;
    if (!this.ensure(4, MAX_PCAPNG_BLOCK)) {
      if (this.fill - this.pos === 0) this.fail(this.pos, 'empty file: not a pcap or pcapng capture');
      this.fail(this.pos, 'file too short to be a capture');
    }
    const d = this.buf;
    const p = this.pos;
    const magicBE = ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
    if (magicBE === PCAPNG_SHB) {
      this.format = 'pcapng';
      return; // the SHB is read as the first block
    }
    const magicLE = ((d[p + 3]! << 24) | (d[p + 2]! << 16) | (d[p + 1]! << 8) | d[p]!) >>> 0;
    let le: boolean;
    let ns: boolean;
    if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
      le = true;
      ns = magicLE === 0xa1b23c4d;
    } else if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) {
      le = false;
      ns = magicBE === 0xa1b23c4d;
    } else if (magicLE === 0xa1b2cd34 || magicBE === 0xa1b2cd34) {
      this.fail(p, 'the "modified pcap" format (magic a1b2cd34) is not supported: convert it with `editcap -F pcap IN OUT`');
    } else {
      this.fail(p, `not a pcap or pcapng file (magic 0x${magicBE.toString(16).padStart(8, '0')})`);
    }
    this.format = 'pcap';
    this.le = le;
    this.nanosecond = ns;
    if (!this.ensure(24, 24)) this.fail(this.pos, 'file ends inside the 24-byte pcap header');
    const q = this.pos;
    const major = this.u16(q + 4);
    const minor = this.u16(q + 6);
    if (major !== 2) this.fail(q + 4, `unsupported pcap version ${major}.${minor}`);
    if (minor !== 4) this.warnings.push(`pcap version 2.${minor} read as 2.4`);
    this.pcapSnaplen = this.u32(q + 16);
    const word = this.u32(q + 20);
    if ((word & 0x03ff0000) !== 0) {
      this.fail(q + 20, `link-type field 0x${word.toString(16).padStart(8, '0')} has reserved bits set`);
    }
    this.pcapLinkType = word & 0xffff;
    this.pos = q + 24;
    this.addInterface(0, this.pcapLinkType, this.pcapSnaplen, ns ? '1e-9' : '1e-6', undefined, undefined);
  }

  private addInterface(section: number, linkType: number, snaplen: number, tsResolution: string, name: string | undefined, description: string | undefined): number {
    const index = this.interfaces.length;
    if (index > 0xffff) this.fail(this.pos, 'more than 65536 interfaces');
    const info: CaptureInterfaceInfo = {
      index,
      section,
      linkType,
      linkTypeName: linkTypeName(linkType),
      supported: linkTypeSupported(linkType),
      snaplen,
      tsResolution,
    };
    if (name !== undefined) info.name = name;
    if (description !== undefined) info.description = description;
    this.interfaces.push(info);
    if (!info.supported && !this.warnedLinkTypes.has(linkType)) {
      this.warnedLinkTypes.add(linkType);
      this.warnings.push(`link type ${linkType} (${info.linkTypeName}) is not supported: its frames are skipped and counted`);
    }
    return index;
  }

  // ---- classic pcap ----------------------------------------------------------------------------

  private readPcap(batch: FrameBatch): number {
    const cap = batch.capacity;
    const linkType = this.pcapLinkType;
    const snaplen = this.pcapSnaplen;
    const le = this.le;
    const fracLimit = this.nanosecond ? 1e9 : 1e6;
    const fracScale = this.nanosecond ? 1 : 1000;
    let count = 0;
    while (count < cap) {
      if (linkType === LINKTYPE_ETHERNET) count = this.pcapEthernetRun(batch, count, le, snaplen, fracLimit, fracScale);
      if (count >= cap) break;
      if (this.fill - this.pos < 16) {
        if (count > 0 && !this.eof) break;
        if (!this.ensure(16, 16)) {
          this.endOfInput();
          break;
        }
      }
      let view = this.view;
      const p = this.pos;
      const caplen = view.getUint32(p + 8, le);
      if (caplen > MAX_PCAP_RECORD) {
        this.fail(p, `record length ${caplen} exceeds the maximum of ${MAX_PCAP_RECORD} bytes`);
      }
      if (this.fill - p < 16 + caplen) {
        if (count > 0 && !this.eof) break;
        if (!this.ensure(16 + caplen, MAX_PCAP_RECORD + 16)) {
          this.endOfInput();
          break;
        }
        view = this.view;
      }
      const q = this.pos;
      const sec = view.getUint32(q, le);
      let frac = view.getUint32(q + 4, le);
      const wire = view.getUint32(q + 12, le);
      this.stats.records++;
      this.pos = q + 16 + caplen;
      let s = sec;
      if (frac >= fracLimit) {
        s += Math.floor(frac / fracLimit);
        frac %= fracLimit;
        this.stats.badTimestampFraction++;
      }
      if (snaplen !== 0 && caplen > snaplen) this.stats.caplenOverSnaplen++;
      if (caplen > wire) this.stats.caplenOverWireLength++;
      if (this.deliver(batch, count, linkType, q + 16, caplen, wire, 0, s, frac * fracScale)) count++;
    }
    return count;
  }

  /**
   * The common case, inline: Ethernet records lying wholly in the buffer, with well-formed
   * headers. Cursor and counters live in locals and are written back once. Stops at the first
   * record that needs the general path (incomplete, oversized, odd timestamp), which then
   * handles it. Returns the new frame count of the batch.
   */
  private pcapEthernetRun(batch: FrameBatch, count: number, le: boolean, snaplen: number, fracLimit: number, fracScale: number): number {
    const v = this.view;
    const fill = this.fill;
    const cap = batch.capacity;
    const offsets = batch.offsets;
    const lengths = batch.lengths;
    const wireLengths = batch.wireLengths;
    const seconds = batch.timestampSeconds;
    const nanos = batch.timestampNanos;
    const sources = batch.sources;
    const ports = batch.ports;
    const numbers = batch.numbers;
    let p = this.pos;
    let records = this.stats.records;
    let bytes = 0;
    let overSnap = 0;
    let overWire = 0;
    const start = count;
    // Two copies of the loop so that the byte order is a constant the JIT can fold.
    if (le) {
      while (count < cap && fill - p >= 16) {
        const caplen = v.getUint32(p + 8, true);
        const frac = v.getUint32(p + 4, true);
        if (caplen > MAX_PCAP_RECORD || fill - p - 16 < caplen || frac >= fracLimit) break;
        const wire = v.getUint32(p + 12, true);
        if (caplen > snaplen && snaplen !== 0) overSnap++;
        if (caplen > wire) overWire++;
        offsets[count] = p + 16;
        lengths[count] = caplen;
        wireLengths[count] = wire;
        seconds[count] = v.getUint32(p, true);
        nanos[count] = frac * fracScale;
        numbers[count] = ++records;
        bytes += caplen;
        count++;
        p += 16 + caplen;
      }
    } else {
      while (count < cap && fill - p >= 16) {
        const caplen = v.getUint32(p + 8, false);
        const frac = v.getUint32(p + 4, false);
        if (caplen > MAX_PCAP_RECORD || fill - p - 16 < caplen || frac >= fracLimit) break;
        const wire = v.getUint32(p + 12, false);
        if (caplen > snaplen && snaplen !== 0) overSnap++;
        if (caplen > wire) overWire++;
        offsets[count] = p + 16;
        lengths[count] = caplen;
        wireLengths[count] = wire;
        seconds[count] = v.getUint32(p, false);
        nanos[count] = frac * fracScale;
        numbers[count] = ++records;
        bytes += caplen;
        count++;
        p += 16 + caplen;
      }
    }
    sources.fill(0, start, count); // classic pcap: one interface
    ports.fill(0, start, count);
    this.pos = p;
    const st = this.stats;
    st.records = records;
    st.frames += count - start;
    st.bytes += bytes;
    st.caplenOverSnaplen += overSnap;
    st.caplenOverWireLength += overWire;
    batch.count = count;
    return count;
  }

  /** End of input: note a partial record, if any. */
  private endOfInput(): void {
    const left = this.fill - this.pos;
    if (left > 0) {
      this.stats.truncatedAtEnd = true;
      this.warnings.push(`the file is cut short in the middle of a record at byte offset ${this.base + this.pos} (${left} bytes left over)`);
    }
    this.done = true;
  }

  /**
   * Put one record into the batch at slot `slot`, converting its link layer to Ethernet in place.
   * Returns false when the record is skipped (unsupported link type, header too short).
   */
  private deliver(batch: FrameBatch, slot: number, linkType: number, off: number, caplen: number, wire: number, source: number, sec: number, nsec: number): boolean {
    let o = off;
    let len = caplen;
    let wlen = wire;
    if (linkType !== LINKTYPE_ETHERNET) {
      const d = this.buf;
      switch (linkType) {
        case LINKTYPE_LINUX_SLL: {
          if (len < 16) return this.skipShort();
          const proto = (d[o + 14]! << 8) | d[o + 15]!;
          const halen = (d[o + 4]! << 8) | d[o + 5]!;
          // Source MAC = the captured link-layer address (its first 6 bytes); read before writing.
          const a0 = halen >= 6 ? d[o + 6]! : 0, a1 = halen >= 6 ? d[o + 7]! : 0, a2 = halen >= 6 ? d[o + 8]! : 0;
          const a3 = halen >= 6 ? d[o + 9]! : 0, a4 = halen >= 6 ? d[o + 10]! : 0, a5 = halen >= 6 ? d[o + 11]! : 0;
          o += 2;
          d.fill(0, o, o + 6);
          d[o + 6] = a0; d[o + 7] = a1; d[o + 8] = a2; d[o + 9] = a3; d[o + 10] = a4; d[o + 11] = a5;
          writeType(d, o + 12, proto, len - 16);
          len -= 2;
          wlen -= 2;
          break;
        }
        case LINKTYPE_LINUX_SLL2: {
          if (len < 20) return this.skipShort();
          const proto = (d[o]! << 8) | d[o + 1]!;
          const halen = d[o + 11]!;
          o += 6;
          d.fill(0, o, o + 6); // destination
          if (halen < 6) d.fill(0, o + 6, o + 12); // the address (already in place at o+6) is too short
          writeType(d, o + 12, proto, len - 20);
          len -= 6;
          wlen -= 6;
          break;
        }
        case LINKTYPE_RAW:
        case 12:
        case 14:
        case LINKTYPE_IPV4:
        case LINKTYPE_IPV6: {
          const version = len > 0 ? d[o]! >>> 4 : 0;
          const type = linkType === LINKTYPE_IPV4 ? 0x0800 : linkType === LINKTYPE_IPV6 ? 0x86dd : version === 6 ? 0x86dd : 0x0800;
          o -= 14;
          d.fill(0, o, o + 12);
          d[o + 12] = type >>> 8;
          d[o + 13] = type & 0xff;
          len += 14;
          wlen += 14;
          break;
        }
        case LINKTYPE_NULL:
        case LINKTYPE_LOOP: {
          if (len < 4) return this.skipShort();
          const be = ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
          const le = ((d[o + 3]! << 24) | (d[o + 2]! << 16) | (d[o + 1]! << 8) | d[o]!) >>> 0;
          // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs, macOS).
          const family = be <= 0xff ? be : le;
          const type = family === 2 ? 0x0800 : 0x86dd;
          o -= 10;
          d.fill(0, o, o + 12);
          d[o + 12] = type >>> 8;
          d[o + 13] = type & 0xff;
          len += 10;
          wlen += 10;
          break;
        }
        default: {
          const m = this.stats.skippedByLinkType;
          m.set(linkType, (m.get(linkType) ?? 0) + 1);
          return false;
        }
      }
    }
    batch.offsets[slot] = o;
    batch.lengths[slot] = len;
    batch.wireLengths[slot] = wlen < 0 ? 0 : wlen;
    batch.timestampSeconds[slot] = sec;
    batch.timestampNanos[slot] = nsec;
    batch.sources[slot] = source;
    batch.ports[slot] = 0;
    batch.numbers[slot] = this.stats.records;
    batch.count = slot + 1;
    this.stats.frames++;
    this.stats.bytes += len;
    return true;
  }

  private skipShort(): false {
    this.stats.skippedShortLinkHeader++;
    return false;
  }

  // ---- pcapng ------------------------------------------------------------------------------------

  private readPcapng(batch: FrameBatch): number {
    const cap = batch.capacity;
    let count = 0;
    while (count < cap) {
      if (this.fill - this.pos < 12) {
        if (count > 0 && !this.eof) break;
        if (!this.ensure(12, 12)) {
          this.endOfInput();
          break;
        }
      }
      const p = this.pos;
      const d = this.buf;
      const typeBE = ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
      if (typeBE === PCAPNG_SHB) {
        // The byte-order magic decides the endianness of this section, including this block.
        const bom = ((d[p + 8]! << 24) | (d[p + 9]! << 16) | (d[p + 10]! << 8) | d[p + 11]!) >>> 0;
        if (bom === BYTE_ORDER_MAGIC) this.le = false;
        else if (bom === 0x4d3c2b1a) this.le = true;
        else this.fail(p + 8, `bad byte-order magic 0x${bom.toString(16).padStart(8, '0')} in section header block`);
      } else if (this.section < 0) {
        this.fail(p, 'pcapng file does not start with a section header block');
      }
      const type = typeBE === PCAPNG_SHB ? PCAPNG_SHB : this.u32(p);
      const total = this.u32(p + 4);
      if (total < 12 || total % 4 !== 0) this.fail(p + 4, `block type 0x${type.toString(16)} has an invalid total length ${total}`);
      if (total > MAX_PCAPNG_BLOCK) this.fail(p + 4, `block length ${total} exceeds the ${MAX_PCAPNG_BLOCK}-byte limit`);
      if (this.fill - p < total) {
        if (count > 0 && !this.eof) break;
        if (!this.ensure(total, MAX_PCAPNG_BLOCK)) {
          this.endOfInput();
          break;
        }
      }
      const q = this.pos;
      const trailer = this.u32(q + total - 4);
      if (trailer !== total) this.fail(q + total - 4, `block length ${total} does not match its trailer ${trailer}`);
      this.pos = q + total;
      switch (type) {
        case PCAPNG_SHB:
          this.readSectionHeader(q, total);
          break;
        case PCAPNG_IDB:
          this.readInterface(q, total);
          break;
        case PCAPNG_EPB:
        case PCAPNG_PB: {
          if (total < 32) this.fail(q, `packet block too short (${total} bytes)`);
          const iface = type === PCAPNG_EPB ? this.u32(q + 8) : this.u16(q + 8);
          const caplen = this.u32(q + 20);
          const wire = this.u32(q + 24);
          if (caplen > total - 32) this.fail(q + 20, `captured length ${caplen} overflows its ${total}-byte block`);
          if (iface >= this.interfaces.length - this.sectionBase) this.fail(q + 8, `packet refers to interface ${iface}, which is not defined`);
          const global = this.sectionBase + iface;
          this.stats.records++;
          const snap = this.ifSnaplens[global]!;
          if (snap !== 0 && caplen > snap) this.stats.caplenOverSnaplen++;
          if (caplen > wire) this.stats.caplenOverWireLength++;
          this.convertTicks(global, this.u32(q + 12), this.u32(q + 16));
          if (this.deliver(batch, count, this.ifLinkTypes[global]!, q + 28, caplen, wire, global, this.tsSec, this.tsNsec)) count++;
          break;
        }
        case PCAPNG_SPB: {
          if (total < 16) this.fail(q, `simple packet block too short (${total} bytes)`);
          if (this.interfaces.length - this.sectionBase < 1) this.fail(q, 'simple packet block before any interface description');
          const global = this.sectionBase;
          const wire = this.u32(q + 8);
          const snap = this.ifSnaplens[global]!;
          let caplen = total - 16;
          if (wire < caplen) caplen = wire;
          if (snap !== 0 && snap < caplen) caplen = snap;
          this.stats.records++;
          if (this.deliver(batch, count, this.ifLinkTypes[global]!, q + 12, caplen, wire, global, 0, 0)) count++;
          break;
        }
        default:
          this.stats.blocksSkipped++;
      }
    }
    return count;
  }

  private readSectionHeader(q: number, total: number): void {
    if (total < 28) this.fail(q, `section header block too short (${total} bytes)`);
    const major = this.u16(q + 12);
    const minor = this.u16(q + 14);
    if (major !== 1 || (minor !== 0 && minor !== 2)) this.fail(q + 12, `unsupported pcapng version ${major}.${minor}`);
    this.walkOptions(q, 24, total, null);
    this.section++;
    this.sectionBase = this.interfaces.length;
  }

  private readInterface(q: number, total: number): void {
    if (total < 20) this.fail(q, `interface description block too short (${total} bytes)`);
    const linkType = this.u16(q + 8);
    const snaplen = this.u32(q + 12);
    const opts: IdbOptions = { tsresol: 6, tsoffset: 0 };
    this.walkOptions(q, 16, total, opts);
    let resolution: string;
    let kind: number;
    let bigTicks = 0n;
    let divisor = 1;
    let scale = 1;
    const r = opts.tsresol;
    if ((r & 0x80) === 0 && r <= 9) {
      kind = TS_DECIMAL;
      divisor = 10 ** r;
      scale = 10 ** (9 - r);
      resolution = `1e-${r}`;
    } else {
      kind = TS_OTHER;
      bigTicks = (r & 0x80) !== 0 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
      resolution = (r & 0x80) !== 0 ? `2^-${r & 0x7f}` : `1e-${r}`;
    }
    const index = this.addInterface(this.section, linkType, snaplen, resolution, opts.name, opts.description);
    this.ifLinkTypes[index] = linkType;
    this.ifSnaplens[index] = snaplen;
    this.ifTsKinds[index] = kind;
    this.ifTsDivisors[index] = divisor;
    this.ifTsScales[index] = scale;
    this.ifTsBig[index] = bigTicks;
    this.ifTsOffsets[index] = opts.tsoffset;
  }

  /** Walk the options of a block from `start` (relative to the block) to its trailer. */
  private walkOptions(q: number, start: number, total: number, idb: IdbOptions | null): void {
    let o = q + start;
    const end = q + total - 4;
    while (end - o >= 4) {
      const code = this.u16(o);
      const len = this.u16(o + 2);
      if (code === 0) return; // opt_endofopt
      const padded = (len + 3) & ~3;
      if (o + 4 + padded > end) this.fail(o, `option ${code} of length ${len} overruns its block`);
      if (idb) {
        if (code === 2) idb.name = utf8(this.buf, o + 4, len);
        else if (code === 3) idb.description = utf8(this.buf, o + 4, len);
        else if (code === 9 && len >= 1) idb.tsresol = this.buf[o + 4]!;
        else if (code === 14 && len === 8) {
          const lo = this.u32(o + 4 + (this.le ? 0 : 4));
          const hi = this.view.getInt32(o + 4 + (this.le ? 4 : 0), this.le);
          idb.tsoffset = hi * 4294967296 + lo;
        }
      }
      o += 4 + padded;
    }
  }

  /** Convert a pcapng 64-bit tick count into tsSec/tsNsec for interface `index`. */
  private convertTicks(index: number, hi: number, lo: number): void {
    if (this.ifTsKinds[index] === TS_DECIMAL) {
      const div = this.ifTsDivisors[index]!;
      // Long division of the 64-bit value by div, 16 bits at a time: r < div <= 10^9, so every
      // intermediate r * 65536 + digit stays below 2^46.
      let r = 0;
      let q = 0;
      let cur = r * 65536 + (hi >>> 16);
      let qd = Math.floor(cur / div);
      r = cur - qd * div;
      q = qd;
      cur = r * 65536 + (hi & 0xffff);
      qd = Math.floor(cur / div);
      r = cur - qd * div;
      q = q * 65536 + qd;
      cur = r * 65536 + (lo >>> 16);
      qd = Math.floor(cur / div);
      r = cur - qd * div;
      q = q * 65536 + qd;
      cur = r * 65536 + (lo & 0xffff);
      qd = Math.floor(cur / div);
      r = cur - qd * div;
      q = q * 65536 + qd;
      this.tsSec = q + this.ifTsOffsets[index]!;
      this.tsNsec = r * this.ifTsScales[index]!;
      return;
    }
    const ticks = (BigInt(hi) << 32n) | BigInt(lo);
    const per = this.ifTsBig[index]!;
    const sec = ticks / per;
    this.tsSec = Number(sec) + this.ifTsOffsets[index]!;
    this.tsNsec = Number(((ticks - sec * per) * 1_000_000_000n) / per);
  }
}

interface IdbOptions {
  name?: string;
  description?: string;
  tsresol: number;
  tsoffset: number;
}

const decoder = new TextDecoder('utf-8');
function utf8(d: Uint8Array, o: number, len: number): string {
  let n = len;
  while (n > 0 && d[o + n - 1] === 0) n--; // some writers NUL-terminate
  return decoder.decode(d.subarray(o, o + n));
}

/** Write an EtherType, or for SLL protocols below 0x0600 an 802.3 length (capped at 1500). */
function writeType(d: Uint8Array, o: number, proto: number, payloadLength: number): void {
  const v = proto >= 0x0600 ? proto : Math.min(Math.max(payloadLength, 0), 1500);
  d[o] = v >>> 8;
  d[o + 1] = v & 0xff;
}
