/**
 * Micro benchmarks (tinybench 6) for src/action/: the transpositions a flow-cache hit applies,
 * and the byte-copy choices behind the length-changing ones.
 *
 *   node dist/bench/micro-action.js              # all (after `npx tsc -p .`)
 *   node dist/bench/micro-action.js 'vxlan|vlan' # those whose name matches the regex
 *
 * House pattern (bench/micro.ts): every iteration processes a batch of 1,024 frames, because
 * tinybench's timer saturates below ~100 ns; figures are per frame (mean iteration / 1,024).
 * Results are folded into a printed sink so the JIT cannot drop the work. Fixtures come from
 * synth/'s writers with a seeded PRNG and are parsed once by parse/, so each case reads its
 * offsets from the batch columns exactly as the pipeline will.
 *
 * Cases: IPv4 source rewrite with IPv4 + TCP checksum fix (a SNAT hit), IPv6 source rewrite,
 * ports, TTL, MSS clamp; VLAN push as a copy into an output slab; VXLAN encap of a 64-byte frame
 * as a copy; and the copy primitives (copyBytes across slabs vs copyWithin in one slab vs the
 * allocating set(subarray) it replaces) at 64 and 1514 bytes.
 */
import { microBench, runMicro } from './micro-report.js';
import { Prng } from '../src/base/bytes.js';
import { copyBytes } from '../src/action/copy.js';
import { mssClamp } from '../src/action/mss.js';
import { rewriteDecrementTtl, rewriteIPv4Src, rewriteIPv6Src, rewriteL4SrcPort } from '../src/action/rewrite.js';
import { vlanPushCopy } from '../src/action/vlan.js';
import { vxlanEncapCopy, vxlanTemplate } from '../src/action/vxlan.js';
import { FrameBatch } from '../src/frame/batch.js';
import { parseBatch } from '../src/parse/parse.js';
import { finishIPv4, finishL4v4, finishL4v6, ipv6, writeEth, writeIPv4, writeIPv6, writeTcp } from '../src/synth/build.js';

const FRAMES = 1024;
const STRIDE = 2048; // slot per frame (room for 64 bytes of headroom, 1514 bytes and encap)
const OUT_OFFSET = 64; // output frames start this far into their slot

type Kind = 'ipv4/tcp 64' | 'ipv4/tcp syn' | 'ipv6/tcp' | 'ipv4/tcp 1514';

/** One frame at `o`; returns its end. 64-byte frames: 14 + 20 + 20 + 10 bytes of payload. */
function buildFrame(d: Uint8Array, o: number, kind: Kind, rng: Prng): number {
  const sport = 1024 + rng.below(64000);
  if (kind === 'ipv6/tcp') {
    const l3 = writeEth(d, o, 0x0015, 0x5d001001, 0x0015, 0x5d100000 + rng.below(4096), 0x86dd);
    const s6 = ipv6('2001:db8:20::10');
    s6[15] = rng.below(256);
    const l4 = writeIPv6(d, l3, s6, ipv6('2001:db8:1::80'), 6, 20, 64, 0);
    const end = writeTcp(d, l4, sport, 443, rng.nextU32(), rng.nextU32(), 0x10, 512, null);
    finishL4v6(d, l3, l4, 20, 6, 16);
    return end;
  }
  const payload = kind === 'ipv4/tcp 1514' ? 1460 : 10;
  const options = kind === 'ipv4/tcp syn' ? Uint8Array.from([2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1]) : null;
  const tcpSize = 20 + (options === null ? 0 : options.length);
  const l3 = writeEth(d, o, 0x0015, 0x5d001001, 0x0015, 0x5d100000 + rng.below(4096), 0x0800);
  const l4 = writeIPv4(d, l3, (0xac100000 + rng.below(65536)) >>> 0, (0xc6336400 + rng.below(256)) >>> 0, 6, tcpSize + payload, 64, 0, true);
  const end = writeTcp(d, l4, sport, 443, rng.nextU32(), rng.nextU32(), options === null ? 0x18 : 0x02, 512, options) + payload;
  for (let i = end - payload; i < end; i++) d[i] = rng.below(256);
  finishIPv4(d, l3);
  finishL4v4(d, l3, l4, tcpSize + payload);
  return end;
}

function kindBatch(kind: Kind, seed: number): FrameBatch {
  const slab = new Uint8Array(FRAMES * STRIDE);
  const batch = new FrameBatch(FRAMES, slab);
  const rng = new Prng(seed);
  for (let i = 0; i < FRAMES; i++) {
    const o = i * STRIDE + OUT_OFFSET; // headroom before each frame
    const end = buildFrame(slab, o, kind, rng);
    batch.offsets[i] = o;
    batch.lengths[i] = end - o;
    batch.wireLengths[i] = end - o;
  }
  batch.count = FRAMES;
  parseBatch(batch);
  return batch;
}

let sink = 0;

async function main(): Promise<void> {
  const { bench, filter, add } = microBench('vfp-engine micro: action', 500);

  const small = kindBatch('ipv4/tcp 64', 1);
  const out = new Uint8Array(FRAMES * STRIDE);
  const outView = new DataView(out.buffer);
  let flip = 0;

  add('ipv4 src rewrite + ip/tcp checksum fix', () => {
    const d = small.data;
    const v = small.view;
    const addr = (flip ^= 1) ? 0x0a630002 : 0x0a630003; // alternate, so every run changes bytes
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const end = small.offsets[i]! + small.lengths[i]!;
      if (rewriteIPv4Src(d, v, small.l3Offsets[i]!, small.l4Offsets[i]!, end, addr)) x++;
    }
    sink ^= x;
  });

  add('ipv4 src + src port rewrite (SNAT hit)', () => {
    const d = small.data;
    const v = small.view;
    const addr = (flip ^= 1) ? 0x0a630002 : 0x0a630003;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const end = small.offsets[i]! + small.lengths[i]!;
      const l4 = small.l4Offsets[i]!;
      if (rewriteIPv4Src(d, v, small.l3Offsets[i]!, l4, end, addr) && rewriteL4SrcPort(d, v, l4, end, 6, 49152 + (i & 1023))) x++;
    }
    sink ^= x;
  });

  const six = kindBatch('ipv6/tcp', 2);
  add('ipv6 src rewrite + tcp checksum fix', () => {
    const d = six.data;
    const v = six.view;
    const last = (flip ^= 1) ? 2 : 3;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const end = six.offsets[i]! + six.lengths[i]!;
      if (rewriteIPv6Src(d, v, six.l3Offsets[i]!, six.l4Offsets[i]!, end, 6, 0x20010db8, 0x00990000, 0, last)) x++;
    }
    sink ^= x;
  });

  add('ttl decrement + ip checksum fix', () => {
    const d = small.data;
    const v = small.view;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const l3 = small.l3Offsets[i]!;
      x += rewriteDecrementTtl(d, v, l3, small.offsets[i]! + small.lengths[i]!);
      d[l3 + 8] = 64; // restore (the checksum drifts, which the bench does not care about)
    }
    sink ^= x;
  });

  const syns = kindBatch('ipv4/tcp syn', 3);
  add('mss clamp (SYN, option walk + checksum fix)', () => {
    const d = syns.data;
    const v = syns.view;
    // alternate maxima so that every run changes the option
    const maximum = (flip ^= 1) ? 1400 : 1300;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const l4 = syns.l4Offsets[i]!;
      v.setUint16(l4 + 22, 1460); // reset the MSS (checksum drift is irrelevant here)
      if (mssClamp(d, v, l4, syns.offsets[i]! + syns.lengths[i]!, 0, maximum)) x++;
    }
    sink ^= x;
  });

  add('vlan push copy (64 B frame -> output slab)', () => {
    const d = small.data;
    const v = small.view;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const o = small.offsets[i]!;
      const at = i * STRIDE + OUT_OFFSET;
      x += vlanPushCopy(d, v, o, o + small.lengths[i]!, out, outView, at, at + STRIDE - OUT_OFFSET, 100, 0);
    }
    sink ^= x;
  });

  const tunnel = vxlanTemplate({ srcMacHi: 0x0015, srcMacLo: 0x5d000001, dstMacHi: 0x0200, dstMacLo: 0x0a630001, srcIp: 0x0a630002, dstIp: 0x0a630003, vni: 4096 });
  add('vxlan encap copy (64 B inner frame -> output slab)', () => {
    const d = small.data;
    const v = small.view;
    const hashes = small.hashes;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const o = small.offsets[i]!;
      const at = i * STRIDE + OUT_OFFSET;
      x += vxlanEncapCopy(tunnel, d, v, o, o + small.lengths[i]!, out, outView, at, at + STRIDE - OUT_OFFSET, hashes[i]!);
    }
    sink ^= x;
  });

  // ---- copy primitives: the measurements behind src/action/copy.ts ----------------------------
  const big = kindBatch('ipv4/tcp 1514', 4);
  for (const size of [64, 1514]) {
    const from = size === 64 ? small : big;
    add(`copy ${size} B across slabs (copyBytes: DataView words)`, () => {
      const d = from.data;
      const v = from.view;
      for (let i = 0; i < FRAMES; i++) copyBytes(d, v, from.offsets[i]!, out, outView, i * STRIDE, size);
      sink ^= out[FRAMES * STRIDE - STRIDE + 20]!;
    });
    add(`copy ${size} B within one slab (copyBytes: copyWithin)`, () => {
      const d = from.data;
      const v = from.view;
      // move each frame 16 bytes towards the start of its slot and back: stays in place overall
      for (let i = 0; i < FRAMES; i++) {
        const o = from.offsets[i]!;
        copyBytes(d, v, o, d, v, o - 16, size);
      }
      for (let i = 0; i < FRAMES; i++) {
        const o = from.offsets[i]!;
        copyBytes(d, v, o - 16, d, v, o, size);
      }
      sink ^= d[20]!;
    });
    add(`copy ${size} B across slabs (set(subarray), allocates; reference)`, () => {
      const d = from.data;
      for (let i = 0; i < FRAMES; i++) {
        const o = from.offsets[i]!;
        out.set(d.subarray(o, o + size), i * STRIDE);
      }
      sink ^= out[20]!;
    });
  }

  await runMicro(bench, { label: 'bench:micro-action', unit: 'frame', perIteration: FRAMES, sink: () => sink, opsPer: (name) => (name.includes('within one slab') ? 2 : 1) }, filter);
}

await main();
