/**
 * Capture files: the pcap/pcapng readers and writers.
 * Round trips at non-zero offsets and from Node's pool; both byte orders; several sections and
 * interfaces with different link types and timestamp resolutions; SPB, PB and skipped blocks;
 * records split at every chunk boundary; files cut at every byte of their last record; corrupt
 * block lengths; link-type conversion (SLL, SLL2, RAW, NULL); our output read back by tshark.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/base/errors.js';
import { FrameBatch } from '../../src/frame/batch.js';
import { CaptureReader } from '../../src/io/reader.js';
import { PcapngWriter, PcapWriter, EPB_INBOUND } from '../../src/io/writer.js';
import { synthesize } from '../../src/synth/scenarios.js';
import { describeWith } from '../peers.js';

interface Frame {
  bytes: number[];
  wire: number;
  sec: number;
  ns: number;
  source: number;
  number: number;
}

function readAll(reader: CaptureReader, capacity = 7): Frame[] {
  const batch = new FrameBatch(capacity);
  const out: Frame[] = [];
  for (;;) {
    const n = reader.read(batch);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const o = batch.offsets[i]!;
      out.push({
        bytes: Array.from(batch.data.subarray(o, o + batch.lengths[i]!)),
        wire: batch.wireLengths[i]!,
        sec: batch.timestampSeconds[i]!,
        ns: batch.timestampNanos[i]!,
        source: batch.sources[i]!,
        number: batch.numbers[i]!,
      });
    }
  }
  return out;
}

/** Sample frames of many sizes (17 from `synth sample` + 40 IMIX), with their timestamps. */
function sampleFrames(): Frame[] {
  const frames: Frame[] = [];
  const take = (b: Uint8Array, o: number, l: number, w: number, s: number, ns: number) =>
    frames.push({ bytes: Array.from(b.subarray(o, o + l)), wire: w, sec: s, ns, source: 0, number: frames.length + 1 });
  synthesize('sample', { packets: 17, flows: 1, seed: 1 }, take);
  synthesize('imix', { packets: 40, flows: 4, seed: 9 }, take);
  return frames;
}

describe('writers -> readers round trips', () => {
  const frames = sampleFrames();
  // Each frame written from inside a larger buffer at a non-zero offset, or from a pool Buffer.
  const writeAll = (write: (data: Uint8Array, offset: number, f: Frame) => void) => {
    frames.forEach((f, k) => {
      if (k % 2 === 0) {
        const big = new Uint8Array(f.bytes.length + 333).fill(0xee);
        big.set(f.bytes, 111);
        write(big, 111, f);
      } else {
        const pooled = Buffer.from(f.bytes); // small: allocated from Node's shared pool
        expect(pooled.length < 4096 ? pooled.byteOffset >= 0 : true).toBe(true);
        write(pooled, 0, f);
      }
    });
  };

  for (const nanosecond of [false, true]) {
    it(`pcap (${nanosecond ? 'ns' : 'µs'})`, () => {
      const w = PcapWriter.toMemory({ nanosecond });
      writeAll((d, o, f) => w.writeFrame(d, o, f.bytes.length, f.wire, f.sec, f.ns));
      const bytes = w.toBytes();
      const back = readAll(CaptureReader.fromBytes(bytes));
      expect(back.length).toBe(frames.length);
      back.forEach((b, k) => {
        expect(b.bytes).toEqual(frames[k]!.bytes);
        expect(b.wire).toBe(frames[k]!.wire);
        expect(b.sec).toBe(frames[k]!.sec);
        expect(b.ns).toBe(nanosecond ? frames[k]!.ns : Math.floor(frames[k]!.ns / 1000) * 1000);
        expect(b.number).toBe(k + 1);
      });
      // the same capture placed at an odd offset inside a larger buffer
      const host = new Uint8Array(bytes.length + 1001);
      host.set(bytes, 1001);
      expect(readAll(CaptureReader.fromBytes(host.subarray(1001)))).toEqual(back);
    });
  }

  it('pcapng with two named interfaces, comments and flags', () => {
    const w = PcapngWriter.toMemory();
    const a = w.addInterface('eth0');
    const b = w.addInterface('web', 1, 'container endpoint');
    writeAll((d, o, f) => w.writeFrame(f.bytes.length % 2 ? a : b, d, o, f.bytes.length, f.wire, f.sec, f.ns, `verdict=forward n=${f.number} ü`, EPB_INBOUND));
    const r = CaptureReader.fromBytes(w.toBytes());
    const back = readAll(r);
    expect(r.interfaces.map((i) => [i.name, i.linkType, i.tsResolution])).toEqual([
      ['eth0', 1, '1e-9'],
      ['web', 1, '1e-9'],
    ]);
    expect(r.interfaces[1]!.description).toBe('container endpoint');
    back.forEach((x, k) => {
      expect(x.bytes).toEqual(frames[k]!.bytes);
      expect([x.sec, x.ns]).toEqual([frames[k]!.sec, frames[k]!.ns]);
      expect(x.source).toBe(frames[k]!.bytes.length % 2 ? 0 : 1);
    });
  });

  it('a numbered comment (head, digits, tail) writes the same bytes as the whole string, at every digit count and frame length', () => {
    const enc = new TextEncoder();
    const shortHead = enc.encode('vfp: verdict=forward packet=');
    const longHead = enc.encode(`vfp: ${'h'.repeat(80)} packet=`);
    const numbers = [0, 7, 9, 10, 99, 100, 12345, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 5, 2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1];
    const tails = ['', ' in=eth0 flow=hit out=web', ' é', 'x'.repeat(70)].map((t) => enc.encode(t));
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    const a = PcapngWriter.toMemory();
    const b = PcapngWriter.toMemory();
    a.addInterface('x');
    b.addInterface('x');
    let k = 0;
    const expected: number[][] = [];
    for (const [hi, n] of numbers.entries()) {
      // a short head (copied word by word) and a long one (copied with set)
      const head = hi % 2 === 0 ? shortHead : longHead;
      for (const tail of tails) {
        // lengths 0..7 (every padding) and a few past the small-copy size, at odd offsets; seconds
        // repeat with other nanoseconds (the writer keeps the ticks of the last second)
        for (const len of [0, 1, 2, 3, 4, 5, 6, 7, 61, 255, 257]) {
          const off = k % 13;
          const s = 1_700_000_000 + (k >> 3);
          const ns = (k * 7_919_113) % 1_000_000_000;
          a.writeFrameNumbered(0, data, off, len, len + 4, s, ns, head, n, tail, EPB_INBOUND);
          b.writeFrame(0, data, off, len, len + 4, s, ns, new TextDecoder().decode(head) + String(n) + new TextDecoder().decode(tail), EPB_INBOUND);
          expected.push(Array.from(data.subarray(off, off + len)));
          k++;
        }
      }
    }
    expect(Buffer.from(a.toBytes()).equals(Buffer.from(b.toBytes()))).toBe(true);
    const back = readAll(CaptureReader.fromBytes(a.toBytes()));
    expect(back.map((f) => f.bytes)).toEqual(expected);
  });

  it('timestamps around 2038, 2106 and 2255 survive the 64-bit tick arithmetic exactly', () => {
    const times: Array<[number, number]> = [[0, 0], [2_147_483_647, 999_999_999], [4_294_967_295, 1], [4_294_967_296, 500], [9_000_000_000, 123_456_789], [18_446_744_073, 709_551_615]];
    const w = PcapngWriter.toMemory();
    w.addInterface('x');
    for (const [s, ns] of times) w.writeFrame(0, new Uint8Array(60), 0, 60, 60, s, ns);
    const got = readAll(CaptureReader.fromBytes(w.toBytes())).map((f) => [f.sec, f.ns]);
    expect(got).toEqual(times);
  });
});

// ---- hand-built files (big-endian, several sections, odd blocks) --------------------------

class Bytes {
  parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(v: number) {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    return this.le ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }
  u32(v: number) {
    return this.le ? this.u16(v & 0xffff).u16(v >>> 16) : this.u16(v >>> 16).u16(v & 0xffff);
  }
  raw(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]!);
    return this;
  }
}

function block(le: boolean, type: number, body: number[]): number[] {
  const padded = [...body];
  while (padded.length % 4) padded.push(0);
  const total = 12 + padded.length;
  return new Bytes(le).u32(type).u32(total).raw(padded).u32(total).parts;
}
function shb(le: boolean): number[] {
  return block(le, 0x0a0d0d0a, new Bytes(le).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff).parts);
}
function idb(le: boolean, linkType: number, name: string, tsresol?: number): number[] {
  const b = new Bytes(le).u16(linkType).u16(0).u32(0);
  const nm = Array.from(Buffer.from(name));
  b.u16(2).u16(nm.length).raw(nm);
  while (b.parts.length % 4) b.u8(0);
  if (tsresol !== undefined) b.u16(9).u16(1).u8(tsresol).u8(0).u8(0).u8(0);
  b.u16(0).u16(0);
  return block(le, 1, b.parts);
}
function epb(le: boolean, iface: number, ticksHi: number, ticksLo: number, data: number[]): number[] {
  const b = new Bytes(le).u32(iface).u32(ticksHi).u32(ticksLo).u32(data.length).u32(data.length).raw(data);
  return block(le, 6, b.parts);
}

const FRAME_A = Array.from({ length: 60 }, (_, i) => (i * 7) & 0xff);
const FRAME_B = Array.from({ length: 61 }, (_, i) => (i * 13) & 0xff);

describe('pcapng sections, byte orders and blocks', () => {
  it('two sections of different byte order, several interfaces, SPB, PB and skipped blocks', () => {
    const le = true;
    const be = false;
    const file = [
      ...shb(le),
      ...idb(le, 1, 'a', 9), // ns
      ...idb(le, 147, 'user0'), // unsupported link type
      ...block(le, 4, [1, 0, 4, 0, 10, 0, 0, 1, 0x61, 0, 0, 0, 0, 0, 0, 0]), // NRB (skipped)
      ...epb(le, 0, 0x00000017, 0x4876e800, FRAME_A), // 100e9 ns = 100 s
      ...epb(le, 1, 0, 5, FRAME_B), // unsupported interface: counted, skipped
      ...block(le, 0xbad, [1, 2, 3, 4]), // custom block
      ...block(le, 3, new Bytes(le).u32(FRAME_B.length).raw(FRAME_B).parts), // SPB on interface 0
      ...block(le, 5, new Bytes(le).u32(0).u32(0).u32(0).parts), // ISB
      ...shb(be),
      ...idb(be, 1, 'b', 0x80 | 20), // 2^-20 s
      ...block(be, 2, new Bytes(be).u16(0).u16(0).u32(0).u32(3 << 20).u32(FRAME_A.length).u32(FRAME_A.length).raw(FRAME_A).parts), // PB: 3 s
      ...epb(be, 0, 0, (7 << 20) + (1 << 19), FRAME_B), // 7.5 s
    ];
    const r = CaptureReader.fromBytes(Uint8Array.from(file));
    const got = readAll(r);
    expect(got.map((f) => [f.bytes.length, f.source, f.sec, f.ns, f.number])).toEqual([
      [60, 0, 100, 0, 1],
      [61, 0, 0, 0, 3],
      [60, 2, 3, 0, 4],
      [61, 2, 7, 500_000_000, 5],
    ]);
    expect(got[0]!.bytes).toEqual(FRAME_A);
    expect(r.interfaces.map((i) => [i.index, i.section, i.name, i.linkType, i.supported])).toEqual([
      [0, 0, 'a', 1, true],
      [1, 0, 'user0', 147, false],
      [2, 1, 'b', 1, true],
    ]);
    expect(r.stats.records).toBe(5);
    expect(r.stats.skippedByLinkType.get(147)).toBe(1);
    expect(r.stats.blocksSkipped).toBe(3);
    expect(r.warnings.join()).toMatch(/link type 147/);
  });

  it('big-endian classic pcap, µs and ns', () => {
    for (const ns of [false, true]) {
      const b = new Bytes(false).u32(ns ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
      b.u32(1_700_000_000).u32(ns ? 123_456_789 : 123_456).u32(60).u32(64).raw(FRAME_A);
      const [f] = readAll(CaptureReader.fromBytes(Uint8Array.from(b.parts)));
      expect([f!.sec, f!.ns, f!.wire]).toEqual([1_700_000_000, ns ? 123_456_789 : 123_456_000, 64]);
      expect(f!.bytes).toEqual(FRAME_A);
    }
  });

  it('records split at every chunk boundary read the same as one big chunk', () => {
    const w = PcapngWriter.toMemory();
    w.addInterface('x');
    sampleFrames().forEach((f) => w.writeFrame(0, Uint8Array.from(f.bytes), 0, f.bytes.length, f.wire, f.sec, f.ns, 'c'));
    const png = w.toBytes();
    const p = PcapWriter.toMemory();
    sampleFrames().forEach((f) => p.writeFrame(Uint8Array.from(f.bytes), 0, f.bytes.length, f.wire, f.sec, f.ns));
    const pcap = p.toBytes();
    const dir = mkdtempSync(join(tmpdir(), 'vfp-io-'));
    for (const [name, bytes] of [['x.pcapng', png], ['x.pcap', pcap]] as const) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const reference = readAll(CaptureReader.fromBytes(bytes), 256);
      for (const chunkSize of [64, 65, 71, 100, 128, 333, 1000, 1517, 4096]) {
        expect(readAll(CaptureReader.openFile(file, { chunkSize }), 5), `${name} chunk ${chunkSize}`).toEqual(reference);
      }
    }
  });

  it('a file cut at every byte of its last record: earlier frames delivered, a warning, no throw', () => {
    const p = PcapWriter.toMemory();
    for (const f of sampleFrames().slice(0, 5)) p.writeFrame(Uint8Array.from(f.bytes), 0, f.bytes.length, f.wire, f.sec, f.ns);
    const full = p.toBytes();
    const lastStart = full.length - (16 + sampleFrames()[4]!.bytes.length);
    for (let cut = lastStart + 1; cut < full.length; cut++) {
      const r = CaptureReader.fromBytes(full.slice(0, cut));
      expect(readAll(r).length).toBe(4);
      expect(r.stats.truncatedAtEnd).toBe(true);
      expect(r.warnings.join()).toMatch(new RegExp(`byte offset ${lastStart}`));
    }
  });

  it('a corrupt block length mid-file: the frames before it, then an error naming the offset', () => {
    const le = true;
    const good = [...shb(le), ...idb(le, 1, 'a'), ...epb(le, 0, 0, 1, FRAME_A), ...epb(le, 0, 0, 2, FRAME_A)];
    const bad = [...good, ...epb(le, 0, 0, 3, FRAME_A), ...epb(le, 0, 0, 4, FRAME_A)];
    const at = good.length + new Bytes(le).u32(0).parts.length; // the length field of the 3rd EPB
    bad[at] = 0x0d; // 13: not a multiple of 4
    const r = CaptureReader.fromBytes(Uint8Array.from(bad), 'bad.pcapng');
    const batch = new FrameBatch(256);
    expect(r.read(batch)).toBe(2);
    let err: unknown;
    try {
      r.read(batch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).offset).toBe(at);
    expect((err as Error).message).toMatch(/^bad\.pcapng: byte offset \d+: block type 0x6 has an invalid total length 13/);
  });

  it('bad magic, empty file and the modified-pcap format give clean errors', () => {
    const cases: Array<[number[], RegExp]> = [
      [[], /empty file/],
      [[1, 2, 3, 4, 5, 6, 7, 8], /not a pcap or pcapng file/],
      [new Bytes(true).u32(0xa1b2cd34).parts, /modified pcap/],
    ];
    for (const [bytes, re] of cases) {
      expect(() => CaptureReader.fromBytes(Uint8Array.from(bytes)).read(new FrameBatch(4))).toThrow(re);
    }
  });
});

describe('link types turned into Ethernet', () => {
  const ipPacket = [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2, 0, 8, 0, 0];
  const pcapWith = (linkType: number, record: number[]) =>
    Uint8Array.from(new Bytes(true).u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(linkType).u32(1).u32(0).u32(record.length).u32(record.length).raw(record).parts);
  const mac = [0x00, 0x15, 0x5d, 1, 2, 3];

  const cases: Array<[string, number, number[], number[]]> = [
    ['LINUX_SLL', 113, [0, 0, 0, 1, 0, 6, ...mac, 0, 0, 0x08, 0x00, ...ipPacket], [0, 0, 0, 0, 0, 0, ...mac, 0x08, 0x00, ...ipPacket]],
    ['LINUX_SLL2', 276, [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, ...mac, 0, 0, ...ipPacket], [0, 0, 0, 0, 0, 0, ...mac, 0x08, 0x00, ...ipPacket]],
    ['RAW', 101, ipPacket, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, ...ipPacket]],
    ['NULL (AF_INET, host order)', 0, [2, 0, 0, 0, ...ipPacket], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, ...ipPacket]],
    ['LOOP (AF_INET6 = 24, network order)', 108, [0, 0, 0, 24, 0x60, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd, 0x60, 0, 0, 0]],
  ];
  for (const [name, lt, record, expected] of cases) {
    it(name, () => {
      const r = CaptureReader.fromBytes(pcapWith(lt, record));
      const [f] = readAll(r);
      expect(f!.bytes).toEqual(expected);
      expect(f!.wire).toBe(expected.length);
    });
  }

  it('an unsupported link type is skipped, counted and named', () => {
    const r = CaptureReader.fromBytes(pcapWith(105, [1, 2, 3, 4]));
    expect(readAll(r)).toEqual([]);
    expect(r.stats.records).toBe(1);
    expect(r.stats.skippedByLinkType.get(105)).toBe(1);
    expect(r.warnings[0]).toMatch(/link type 105 \(IEEE802_11\) is not supported/);
  });
});

describeWith(['tshark', 'capinfos'], 'our output read by tshark and capinfos', () => {
  it('interface names, comments, flags and frames of a pcapng; a pcap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfp-io-'));
    const w = PcapngWriter.toFile(join(dir, 'out.pcapng'));
    const a = w.addInterface('eth0');
    const b = w.addInterface('web');
    const frames = sampleFrames();
    frames.forEach((f, k) => w.writeFrame(k % 2 ? b : a, Uint8Array.from(f.bytes), 0, f.bytes.length, f.wire, f.sec, f.ns, `verdict=drop reason=acl-block n=${k + 1}`, EPB_INBOUND));
    w.close();
    const t = spawnSync('tshark', ['-r', join(dir, 'out.pcapng'), '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.comment', '-e', 'frame.len', '-e', 'frame.time_epoch', '-Y', 'frame.comment contains "acl-block"'], { encoding: 'utf8' });
    expect(t.status).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines.length).toBe(frames.length);
    lines.forEach((line, k) => {
      const [iface, comment, len, epoch] = line.split('\t');
      expect(iface).toBe(k % 2 ? 'web' : 'eth0');
      expect(comment).toBe(`verdict=drop reason=acl-block n=${k + 1}`);
      expect(Number(len)).toBe(frames[k]!.wire);
      expect(epoch).toBe(`${frames[k]!.sec}.${String(frames[k]!.ns).padStart(9, '0')}`);
    });
    const p = PcapWriter.toFile(join(dir, 'out.pcap'));
    frames.forEach((f) => p.writeFrame(Uint8Array.from(f.bytes), 0, f.bytes.length, f.wire, f.sec, f.ns));
    p.close();
    const c = spawnSync('capinfos', ['-c', '-M', join(dir, 'out.pcap')], { encoding: 'utf8' });
    expect(c.stdout).toMatch(new RegExp(`Number of packets:\\s+${frames.length}`));
  });
});
