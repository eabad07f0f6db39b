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
 * MAC and, for SLL/SLL2, the captured link-layer address as source (zero when the address is
 * shorter than 6 bytes, and for raw IP). An SLL protocol below 0x0600 (0x0004 802.2 LLC, 0x0001
 * Novell 802.3, ...) is not an EtherType: it becomes an 802.3 length field (the payload length,
 * at most 1500), which is what such a frame looked like on an Ethernet. NULL/LOOP address
 * families: 2 is IPv4; 24, 28, 30 (BSDs, macOS) and 10 (Linux) are IPv6; any other family is not
 * IP and the record is skipped (stats.skippedUnknownProtocol). Records too short for their
 * link-layer header are skipped (stats.skippedShortLinkHeader). Frames of other link types are
 * skipped and counted per link type (stats.skippedByLinkType), with one warning naming it.
 * `fromBytes` with a converted link type therefore REWRITES THE CALLER'S BYTES (cooked headers
 * and the record header before a raw-IP frame): reading the same bytes a second time needs a
 * fresh copy. Ethernet captures are never written to.
 *
 * Rules for odd files (the corpus has all of these):
 * - pcap link-type word: the low 16 bits are the link type; bits 28-31/26 carry FCS information and
 *   are ignored; bits 16-25 are reserved and, as in libpcap and tshark, make the file invalid.
 * - pcap version: major 2 required (1.x is refused by both references; libpcap refuses > 2 too).
 *   2.0-2.2 store origlen before caplen and 2.3 sometimes did: as libpcap and Wireshark, 2.0-2.2
 *   records have the two swapped and 2.3 records are swapped when "caplen" > "origlen". A minor
 *   above 4 is read as 2.4 with a warning (tshark reads 2.5; libpcap refuses it). pcapng: section
 *   version 1.0 or 1.2 (1.1 and others are refused by both references).
 * - The header snaplen is never used to size anything (some files claim 2 GB).
 * - caplen > snaplen (header or IDB): the whole record is kept, as tshark does (libpcap would cut
 *   it to the snaplen); counted in stats.caplenOverSnaplen. caplen > original length: kept,
 *   counted in stats.caplenOverWireLength; the original length reported is the file's.
 * - A pcap record longer than 262,144 bytes (libpcap's and tshark's maximum) is an error; a pcapng
 *   block longer than 16 MiB too.
 * - A timestamp fraction out of range (>= 10^6 µs or 10^9 ns) is carried into the seconds and
 *   counted in stats.badTimestampFraction.
 * - pcapng block lengths must be >= 12, a multiple of 4, and equal in header and trailer; option
 *   lists must fit their block. Otherwise the file is invalid from that block on. (libpcap refuses
 *   a length that is not a multiple of 4; tshark 4.0 rounds it up and then finds the trailer
 *   mismatch, so it stops there too.)
 * - A file that ends in the middle of a record is not an error: the frames before it are read,
 *   stats.truncatedAtEnd is set and a warning names the offset (tshark does the same).
 * - An invalid container raises CaptureFormatError(file, byte offset, detail) from the `read`
 *   call after the one that returned the last good frame, so nothing before it is lost.
 *
 * Timestamps are (seconds, nanoseconds) integers, exact and without BigInt. pcapng 64-bit ticks
 * in a decimal resolution 10^-k (k <= 9) are divided by 10^k with a three-digit long division
 * (digits of 32, 22 and 10 bits: every partial dividend stays below 2^52, where a float division
 * floors exactly); k > 9 first divides down to nanoseconds 10^9 at a time (floor(floor(t/a)/b) =
 * floor(t/ab)). Binary resolutions 2^-k shift for the seconds and take the fraction's nanoseconds
 * from a 16-bit-limb product. if_tsoffset seconds are added. Seconds above 2^53 (only absurd
 * resolutions reach them) lose precision in the double.
 *
 * Speed. Two inline loops take the common cases (classic pcap Ethernet records; pcapng EPBs on
 * Ethernet interfaces of decimal resolution), writing columns directly with the cursor and
 * counters in locals (the pcap loop is written out once per byte order); anything else falls to
 * the general path, which is the reference (the tests compare the two).
 *
 * Not handled: the "modified pcap" format (magic a1b2cd34; refused with a message), pcapng
 * Decryption Secrets and other non-packet blocks (skipped), compressed files, pcap records above
 * 256 KiB even for the link types libpcap allows larger (D-Bus, USBPcap), pcap version 543.0.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CaptureFormatError, EXIT_USAGE, VfpError } from '../base/errors.js';
import type { FrameBatch } from '../frame/batch.js';

/** Bytes kept free before the first record after a compaction (room for a synthesised header). */
const HEADROOM = 64;
const DEFAULT_CHUNK_SIZE = 1 << 20;
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
  /** NULL/LOOP records whose address family is not IPv4 or IPv6, skipped. */
  skippedUnknownProtocol: number;
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
const TS_DECIMAL = 0; // 10^-exp, exp <= 9: one exact long division by 10^exp
const TS_DECIMAL_FINE = 1; // 10^-exp, exp > 9: divide down to nanoseconds first, then by 10^9
const TS_BINARY = 2; // 2^-exp: shifts, and a 16-bit-limb product for the fraction

// Record length order of old pcap versions (as libpcap and Wireshark handle them).
const LENGTHS_IN_ORDER = 0;
const LENGTHS_SWAPPED = 1; // 2.0-2.2: the record header holds origlen, then caplen
const LENGTHS_MAYBE_SWAPPED = 2; // 2.3: swapped when "caplen" > "origlen"

/** Sleep target for EAGAIN retries on a non-blocking standard input. */
const pause = new Int32Array(new SharedArrayBuffer(4));

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
    skippedUnknownProtocol: 0,
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
  private headerOk = false;
  private pending: CaptureFormatError | null = null;
  private le = true;

  // pcap state
  private pcapLinkType = LINKTYPE_ETHERNET;
  private pcapSnaplen = 0;
  /** pcap 2.0-2.2 wrote caplen and origlen the other way round; 2.3 did so in some versions. */
  private lengthsSwapped = LENGTHS_IN_ORDER;
  // pcapng state: interface i of the current section is global index sectionBase + i
  private section = -1;
  private sectionBase = 0;
  private readonly ifLinkTypes: number[] = [];
  private readonly ifSnaplens: number[] = [];
  private readonly ifTsKinds: number[] = [];
  private readonly ifTsDivisors: number[] = []; // TS_DECIMAL: 10^exp
  private readonly ifTsScales: number[] = []; // TS_DECIMAL: ns per tick (10^(9-exp))
  private readonly ifTsExps: number[] = []; // TS_DECIMAL_FINE, TS_BINARY: exp
  private readonly ifTsOffsets: number[] = []; // seconds
  private readonly warnedLinkTypes = new Set<number>();

  // timestamp scratch (avoids returning objects per frame)
  private tsSec = 0;
  private tsNsec = 0;
  // 64-bit division scratch: quotient words and remainder of div64()
  private qHi = 0;
  private qLo = 0;
  private qRem = 0;
  /** 16-bit limbs of a product (binary resolutions finer than 2^-32). */
  private readonly limbs = new Float64Array(8);

  private constructor(file: string, fd: number, ownsFd: boolean, buf: Uint8Array, fill: number, eof: boolean) {
    this.file = file;
    this.fd = fd;
    this.ownsFd = ownsFd;
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.fill = fill;
    this.eof = eof;
  }

  /**
   * Open a capture file ('-' = standard input). Throws for a missing file (ENOENT etc.), and a
   * VfpError (exit 2) for a directory. The file header is read by the first read(), or at once by
   * checkHeader().
   */
  static openFile(path: string, options: CaptureReaderOptions = {}): CaptureReader {
    const size = Math.max(MIN_CHUNK_SIZE + HEADROOM, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const isStdin = path === '-';
    const fd = isStdin ? 0 : openSync(path, 'r');
    if (!isStdin && fstatSync(fd).isDirectory()) {
      // Linux opens a directory for reading; the first read would fail with EISDIR and no path.
      closeSync(fd);
      throw new VfpError(`${path}: is a directory, not a capture file`, EXIT_USAGE);
    }
    const r = new CaptureReader(isStdin ? '(stdin)' : path, fd, !isStdin, new Uint8Array(size), 0, false);
    r.pos = HEADROOM;
    r.fill = HEADROOM;
    r.base = -HEADROOM;
    r.ownsBuffer = true;
    return r;
  }

  /** The chunk buffer is the reader's own (openFile): the batches it fills may be transposed in place. */
  private ownsBuffer = false;

  /** Read an in-memory capture, with no copy (see the note on link-type conversion above). */
  static fromBytes(bytes: Uint8Array, name: string = '(memory)'): CaptureReader {
    return new CaptureReader(name, -1, false, bytes, bytes.length, true);
  }

  /**
   * Read and check the file header now rather than in the first read(): a file that is not a
   * capture (wrong magic, empty, a pcap header it cannot take) throws its CaptureFormatError
   * (offset 0 or inside the header) before the caller has done anything else, e.g. printed a
   * summary of no frames. For pcapng this checks the magic; the section header block is read
   * with the first block, by read(). Closes the file when it throws (read() then throws the same).
   */
  checkHeader(): void {
    if (this.started || this.done) return;
    try {
      this.start();
    } catch (e) {
      if (e instanceof CaptureFormatError) this.pending = e; // read() throws it again
      this.close();
      throw e;
    }
  }

  /**
   * True once the file header was read and accepted (for pcapng, its magic). A read that failed
   * with this still false failed on a file that is not a capture, before any frame.
   */
  get headerRead(): boolean {
    return this.headerOk;
  }

  /** Bytes of the input consumed so far (for progress display). */
  get position(): number {
    return Math.max(0, this.base + this.pos);
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
      batch.writable = this.ownsBuffer;
      return n;
    } catch (e) {
      if (e instanceof CaptureFormatError) {
        this.done = true;
        if (batch.count > 0) {
          this.pending = e;
          batch.setData(this.buf, this.view);
          batch.writable = this.ownsBuffer;
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
          Atomics.wait(pause, 0, 0, 5);
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
      this.headerOk = true;
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
    if (minor < 3) this.lengthsSwapped = LENGTHS_SWAPPED;
    else if (minor === 3) this.lengthsSwapped = LENGTHS_MAYBE_SWAPPED;
    else if (minor > 4) this.warnings.push(`pcap version 2.${minor} read as 2.4`);
    this.pcapSnaplen = this.u32(q + 16);
    const word = this.u32(q + 20);
    if ((word & 0x03ff0000) !== 0) {
      this.fail(q + 20, `link-type field 0x${word.toString(16).padStart(8, '0')} has reserved bits set`);
    }
    this.pcapLinkType = word & 0xffff;
    this.pos = q + 24;
    this.addInterface(0, this.pcapLinkType, this.pcapSnaplen, ns ? '1e-9' : '1e-6', undefined, undefined);
    this.headerOk = true;
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
      if (linkType === LINKTYPE_ETHERNET && this.lengthsSwapped === LENGTHS_IN_ORDER) count = this.pcapEthernetRun(batch, count, le, snaplen, fracLimit, fracScale);
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
      let caplen = view.getUint32(p + 8, le);
      let wire = view.getUint32(p + 12, le);
      if (this.lengthsSwapped !== LENGTHS_IN_ORDER && (this.lengthsSwapped === LENGTHS_SWAPPED || caplen > wire)) {
        const t = caplen;
        caplen = wire;
        wire = t;
      }
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
          // NULL holds the writer's host-order AF value, LOOP network order: a value that fits
          // one byte tells which. AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD),
          // 28 (FreeBSD), 30 (macOS) or 10 (Linux). Other families (ISO, IPX, AppleTalk...) are
          // not IP: skipped and counted.
          const family = be <= 0xff ? be : le;
          let type: number;
          if (family === 2) type = 0x0800;
          else if (family === 24 || family === 28 || family === 30 || family === 10) type = 0x86dd;
          else {
            this.stats.skippedUnknownProtocol++;
            return false;
          }
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
      if (this.section >= 0) {
        count = this.le ? this.pcapngEthernetRun(batch, count, true) : this.pcapngEthernetRun(batch, count, false);
        if (count >= cap) break;
      }
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

  /**
   * The common pcapng case, inline: EPBs lying wholly in the buffer, on Ethernet interfaces with
   * a decimal resolution of at most nanoseconds, with consistent lengths. Stops at the first
   * block that needs the general path (any other block, incomplete, odd), which then handles it,
   * errors included. The 64-bit tick division is div64() written out; the interface's constants
   * are cached across consecutive blocks of the same interface.
   */
  private pcapngEthernetRun(batch: FrameBatch, count: number, le: boolean): number {
    const v = this.view;
    const fill = this.fill;
    const cap = batch.capacity;
    const base = this.sectionBase;
    const ifCount = this.interfaces.length - base;
    let p = this.pos;
    let records = this.stats.records;
    let bytes = 0;
    let overSnap = 0;
    let overWire = 0;
    const start = count;
    let cached = -1;
    let div = 1;
    let scale = 1;
    let tsOffset = 0;
    let snap = 0;
    while (count < cap && fill - p >= 32) {
      const total = v.getUint32(p + 4, le);
      if (v.getUint32(p, le) !== PCAPNG_EPB || total < 32 || (total & 3) !== 0 || fill - p < total || total > MAX_PCAPNG_BLOCK) break;
      if (v.getUint32(p + total - 4, le) !== total) break;
      const iface = v.getUint32(p + 8, le);
      const caplen = v.getUint32(p + 20, le);
      if (iface >= ifCount || caplen > total - 32) break;
      const global = base + iface;
      if (global !== cached) {
        if (this.ifLinkTypes[global] !== LINKTYPE_ETHERNET || this.ifTsKinds[global] !== TS_DECIMAL) break;
        cached = global;
        div = this.ifTsDivisors[global]!;
        scale = this.ifTsScales[global]!;
        tsOffset = this.ifTsOffsets[global]!;
        snap = this.ifSnaplens[global]!;
      }
      const wire = v.getUint32(p + 24, le);
      if (snap !== 0 && caplen > snap) overSnap++;
      if (caplen > wire) overWire++;
      const hi = v.getUint32(p + 12, le);
      const lo = v.getUint32(p + 16, le);
      const q1 = Math.floor(hi / div);
      let r = hi - q1 * div;
      let cur = r * 4194304 + (lo >>> 10);
      const q2 = Math.floor(cur / div);
      r = cur - q2 * div;
      cur = r * 1024 + (lo & 1023);
      const q3 = Math.floor(cur / div);
      batch.offsets[count] = p + 28;
      batch.lengths[count] = caplen;
      batch.wireLengths[count] = wire;
      batch.timestampSeconds[count] = q1 * 4294967296 + q2 * 1024 + q3 + tsOffset;
      batch.timestampNanos[count] = (cur - q3 * div) * scale;
      batch.sources[count] = global;
      batch.ports[count] = 0;
      batch.numbers[count] = ++records;
      bytes += caplen;
      count++;
      p += total;
    }
    if (count === start) return count;
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
    let divisor = 1;
    let scale = 1;
    const r = opts.tsresol;
    const exp = r & 0x7f;
    if ((r & 0x80) !== 0) {
      kind = TS_BINARY;
      resolution = `2^-${exp}`;
    } else if (r <= 9) {
      kind = TS_DECIMAL;
      divisor = 10 ** r;
      scale = 10 ** (9 - r);
      resolution = `1e-${r}`;
    } else {
      kind = TS_DECIMAL_FINE;
      resolution = `1e-${r}`;
    }
    const index = this.addInterface(this.section, linkType, snaplen, resolution, opts.name, opts.description);
    this.ifLinkTypes[index] = linkType;
    this.ifSnaplens[index] = snaplen;
    this.ifTsKinds[index] = kind;
    this.ifTsDivisors[index] = divisor;
    this.ifTsScales[index] = scale;
    this.ifTsExps[index] = exp;
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

  /**
   * Convert a pcapng 64-bit tick count (hi, lo words) into tsSec/tsNsec for interface `index`,
   * exactly and without BigInt: every intermediate value is an integer below 2^53.
   */
  private convertTicks(index: number, hi: number, lo: number): void {
    const kind = this.ifTsKinds[index];
    if (kind === TS_DECIMAL) {
      this.div64(hi, lo, this.ifTsDivisors[index]!);
      this.tsSec = this.qHi * 4294967296 + this.qLo + this.ifTsOffsets[index]!;
      this.tsNsec = this.qRem * this.ifTsScales[index]!;
      return;
    }
    if (kind === TS_DECIMAL_FINE) {
      // floor(floor(t / a) / b) = floor(t / ab): divide down to nanoseconds, 10^9 at a time
      // (at most 14 steps: exp <= 127), then split seconds and nanoseconds.
      let h = hi;
      let l = lo;
      for (let e = this.ifTsExps[index]! - 9; e > 0; e -= 9) {
        this.div64(h, l, 10 ** (e < 9 ? e : 9));
        h = this.qHi;
        l = this.qLo;
      }
      this.div64(h, l, 1e9);
      this.tsSec = this.qHi * 4294967296 + this.qLo + this.ifTsOffsets[index]!;
      this.tsNsec = this.qRem;
      return;
    }
    // Binary: seconds = t >> k; nanoseconds = floor((t mod 2^k) * 10^9 / 2^k).
    const k = this.ifTsExps[index]!;
    let sec: number;
    let nsec: number;
    if (k < 32) {
      sec = hi * 2 ** (32 - k) + Math.floor(lo / 2 ** k);
      const rem = lo - Math.floor(lo / 2 ** k) * 2 ** k; // < 2^k <= 2^31
      // 10^9 = 2^9 * 1953125: rem * 1953125 < 2^52 stays exact.
      nsec = k < 9 ? Math.floor((rem * 1e9) / 2 ** k) : Math.floor((rem * 1953125) / 2 ** (k - 9));
    } else {
      const hiDiv = k < 64 ? 2 ** (k - 32) : 4294967296;
      sec = k < 64 ? Math.floor(hi / hiDiv) : 0;
      const remHi = k < 64 ? hi - sec * hiDiv : hi;
      // (remHi:lo) * 10^9 in 16-bit limbs (each partial product < 2^47), then >> k.
      const m = this.limbs;
      let c = (lo & 0xffff) * 1e9;
      m[0] = c % 65536;
      c = (lo >>> 16) * 1e9 + Math.floor(c / 65536);
      m[1] = c % 65536;
      c = (remHi & 0xffff) * 1e9 + Math.floor(c / 65536);
      m[2] = c % 65536;
      c = (remHi >>> 16) * 1e9 + Math.floor(c / 65536);
      m[3] = c % 65536;
      c = Math.floor(c / 65536);
      m[4] = c % 65536;
      m[5] = Math.floor(c / 65536);
      m[6] = 0;
      m[7] = 0;
      const j = k >>> 4;
      const s = k & 15;
      nsec = Math.floor(m[j]! / 2 ** s);
      for (let i = j + 1; i < 8; i++) nsec += m[i]! * 2 ** (16 * (i - j) - s);
    }
    this.tsSec = sec + this.ifTsOffsets[index]!;
    this.tsNsec = nsec;
  }

  /**
   * Divide the 64-bit value (hi, lo) by d (1 <= d <= 10^9 < 2^30) into qHi, qLo (quotient words)
   * and qRem. Long division with digits of 32, 22 and 10 bits: each partial dividend is below
   * d * 2^22 < 2^52, so the float division rounds to within 1/(2d) of the exact quotient and
   * Math.floor gives the exact digit.
   */
  private div64(hi: number, lo: number, d: number): void {
    const q1 = Math.floor(hi / d);
    let r = hi - q1 * d;
    let cur = r * 4194304 + (lo >>> 10);
    const q2 = Math.floor(cur / d);
    r = cur - q2 * d;
    cur = r * 1024 + (lo & 1023);
    const q3 = Math.floor(cur / d);
    this.qHi = q1;
    this.qLo = q2 * 1024 + q3;
    this.qRem = cur - q3 * d;
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
