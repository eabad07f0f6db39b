/**
 * Micro benchmarks (tinybench 6): parse per header stack, Internet checksum, RFC 1624 incremental
 * update and the symmetric flow hash.
 *
 *   npm run bench:micro              # all
 *   npm run bench:micro -- 'parse'   # those whose name matches the regex
 *
 * Every iteration processes a whole batch of 1,024 frames, because tinybench's timer saturates
 * below ~100 ns: a per-frame iteration would measure the clock. Figures are
 * reported per frame (ns/frame = mean iteration time / 1,024) and as Mpps. Every result is
 * folded into a sink that is printed at the end, so the JIT cannot drop the work.
 *
 * Fixtures are built with synth/'s header writers from a seeded PRNG: same frames every run.
 */
import { microBench, runMicro } from './micro-report.js';
import { Prng } from '../src/base/bytes.js';
import { checksum, checksumUpdate32 } from '../src/base/checksum.js';
import { FLOW_KEY_WORDS, FrameBatch } from '../src/frame/batch.js';
import { flowHash, parseBatch } from '../src/parse/parse.js';
import {
  finishIPv4,
  finishL4v4,
  finishL4v6,
  ipv6,
  writeEth,
  writeIPv4,
  writeIPv6,
  writeTcp,
  writeUdp,
  writeVlanTag,
  writeVxlan,
} from '../src/synth/build.js';

const FRAMES = 1024;
const STRIDE = 1536; // slot per frame in the slab (room for a 1514-byte frame)

type Stack = 'eth/ipv4/udp' | 'eth/ipv4/tcp' | 'eth/vlan/ipv4/tcp' | 'eth/ipv6/tcp' | 'vxlan/eth/ipv4/tcp';

/** One frame of the given stack at `o`, with flow-dependent addresses and ports; returns its end. */
function buildFrame(d: Uint8Array, o: number, stack: Stack, rng: Prng): number {
  const src = (0xac100000 + rng.below(65536)) >>> 0; // 172.16/16
  const dst = (0xc6336400 + rng.below(256)) >>> 0; // 198.51.100/24
  const sport = 1024 + rng.below(64000);
  if (stack === 'eth/ipv6/tcp') {
    const l3 = writeEth(d, o, 0x0015, 0x5d001001, 0x0015, 0x5d100000 + rng.below(4096), 0x86dd);
    const s6 = ipv6('2001:db8:20::10');
    s6[15] = rng.below(256);
    const l4 = writeIPv6(d, l3, s6, ipv6('2001:db8:1::80'), 6, 20, 64, 0);
    const end = writeTcp(d, l4, sport, 443, rng.nextU32(), rng.nextU32(), 0x10, 512, null);
    finishL4v6(d, l3, l4, 20, 6, 16);
    return end;
  }
  let l2 = o;
  let innerBuilt = 0;
  if (stack === 'vxlan/eth/ipv4/tcp') {
    const outerL3 = writeEth(d, o, 0x0015, 0x5d000002, 0x0015, 0x5d000001, 0x0800);
    writeIPv4(d, outerL3, 0x0a630002, 0x0a630003, 17, 8 + 8 + 54, 64, 0, false);
    writeUdp(d, outerL3 + 20, 32768 + rng.below(28000), 4789, 8 + 54);
    finishIPv4(d, outerL3);
    writeVxlan(d, outerL3 + 28, 4096 + rng.below(8));
    l2 = outerL3 + 36;
    innerBuilt = 1;
  }
  let l3 = writeEth(d, l2, 0x0015, 0x5d001001, 0x0015, 0x5d100000 + rng.below(4096), 0x0800);
  if (stack === 'eth/vlan/ipv4/tcp') l3 = writeVlanTag(d, l3, 100 + rng.below(8), 0, 0x0800);
  const udp = stack === 'eth/ipv4/udp';
  const l4Size = udp ? 26 : 20;
  const l4 = writeIPv4(d, l3, src, dst, udp ? 17 : 6, l4Size, 64, 0, !udp);
  const end = udp ? writeUdp(d, l4, sport, 53, 18) + 18 : writeTcp(d, l4, sport, 443, rng.nextU32(), rng.nextU32(), 0x18, 512, null);
  finishIPv4(d, l3);
  finishL4v4(d, l3, l4, l4Size);
  return innerBuilt ? end : Math.max(end, o + 60);
}

function stackBatch(stack: Stack, seed: number): FrameBatch {
  const slab = new Uint8Array(FRAMES * STRIDE);
  const batch = new FrameBatch(FRAMES, slab);
  const rng = new Prng(seed);
  for (let i = 0; i < FRAMES; i++) {
    const o = i * STRIDE;
    const end = buildFrame(slab, o, stack, rng);
    batch.offsets[i] = o;
    batch.lengths[i] = end - o;
    batch.wireLengths[i] = end - o;
  }
  batch.count = FRAMES;
  return batch;
}

let sink = 0;

async function main(): Promise<void> {
  const { bench, filter, add } = microBench('vfp-engine micro', 500);

  const stacks: Stack[] = ['eth/ipv4/udp', 'eth/ipv4/tcp', 'eth/vlan/ipv4/tcp', 'eth/ipv6/tcp', 'vxlan/eth/ipv4/tcp'];
  for (const stack of stacks) {
    const batch = stackBatch(stack, 1);
    add(`parse ${stack}`, () => {
      parseBatch(batch);
      sink ^= batch.hashes[FRAMES - 1]!;
    });
  }

  // checksum of a 20-byte IPv4 header, and of a 1500-byte payload, per frame
  const headers = stackBatch('eth/ipv4/tcp', 2);
  add('checksum ipv4 header (20 B)', () => {
    const d = headers.data;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) x ^= checksum(d, headers.offsets[i]! + 14, 20);
    sink ^= x;
  });
  const payloads = new Uint8Array(FRAMES * 1500);
  const rng = new Prng(3);
  for (let i = 0; i < payloads.length; i++) payloads[i] = rng.nextU32() & 0xff;
  add('checksum payload (1500 B)', () => {
    let x = 0;
    for (let i = 0; i < FRAMES; i++) x ^= checksum(payloads, i * 1500, 1500);
    sink ^= x;
  });

  // RFC 1624 update of the IPv4 and TCP checksums for a source-address rewrite (a NAT's work)
  add('checksum incremental update (addr, ip+tcp)', () => {
    const d = headers.data;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) {
      const l3 = headers.offsets[i]! + 14;
      const old = ((d[l3 + 12]! << 24) | (d[l3 + 13]! << 16) | (d[l3 + 14]! << 8) | d[l3 + 15]!) >>> 0;
      const ipSum = (d[l3 + 10]! << 8) | d[l3 + 11]!;
      const tcpSum = (d[l3 + 36]! << 8) | d[l3 + 37]!;
      x ^= checksumUpdate32(ipSum, old, 0x0a630002) ^ checksumUpdate32(tcpSum, old, 0x0a630002);
    }
    sink ^= x;
  });

  // symmetric flow hash over already-parsed keys
  const hashed = stackBatch('eth/ipv4/tcp', 4);
  parseBatch(hashed);
  add('symmetric flow hash', () => {
    const keys = hashed.keys;
    let x = 0;
    for (let i = 0; i < FRAMES; i++) x ^= flowHash(keys, i * FLOW_KEY_WORDS);
    sink ^= x;
  });

  await runMicro(bench, { label: 'bench:micro', unit: 'frame', perIteration: FRAMES, sink: () => sink }, filter);
}

await main();
