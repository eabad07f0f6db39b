// One measurement, in a fresh process (so no page of the memory was ever touched before):
//
//   node test/native/first-touch.mjs <shim.node | none> [MiB=256]
//
// makes a WebAssembly.Memory of MiB (as the flow table does), advises it with the addon's
// adviseHugePages unless `none`, writes one byte in every 4 KiB page (the first touch), and
// prints one JSON line: the bytes advised, the first-touch time in ms (wall; and the system CPU
// time and minor page faults it took, from getrusage), and from /proc/self/smaps
// the AnonHugePages (KiB) of the mappings flagged for huge pages (VmFlags `hg`, which the advice
// sets) and of all mappings. Used by test/native/shim.test.ts; run by hand to compare timings.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [addon = 'none', mib = '256'] = process.argv.slice(2);
const bytes = Number(mib) * 1024 * 1024;
const memory = new WebAssembly.Memory({ initial: bytes / 65536, maximum: bytes / 65536 });
const advised = addon === 'none' ? 0 : createRequire(import.meta.url)(resolve(addon)).adviseHugePages(memory.buffer, 0, bytes);

const u8 = new Uint8Array(memory.buffer);
const before = process.resourceUsage();
const t0 = process.hrtime.bigint();
for (let i = 0; i < bytes; i += 4096) u8[i] = 1;
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const after = process.resourceUsage();
const faults = after.minorPageFault - before.minorPageFault;
const sysMs = Math.round((after.systemCPUTime - before.systemCPUTime) / 100) / 10;

// smaps: a mapping's header line, then "Key: value" lines, VmFlags last.
let hugeKiB = 0;
let advisedHugeKiB = 0;
let anonHuge = 0;
for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
  const m = /^AnonHugePages:\s+(\d+) kB/.exec(line);
  if (m) anonHuge = Number(m[1]);
  else if (line.startsWith('VmFlags:')) {
    hugeKiB += anonHuge;
    if (line.split(/\s+/).includes('hg')) advisedHugeKiB += anonHuge;
    anonHuge = 0;
  }
}
console.log(JSON.stringify({ advised, ms: Math.round(ms * 10) / 10, sysMs, faults, advisedHugeKiB, hugeKiB }));
