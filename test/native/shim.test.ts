/**
 * native-shim/ (the Node-API addon `npm ci` builds) through its façade, src/native/shim.ts.
 *
 * The addon is optional for the engine but not for coverage: as with the peers of test/peers.ts,
 * the tests that need it skip outside CI, with the build's reason in their names and one warning
 * line, and fail under CI, where `npm ci` must have built it. The façade's behaviour without the
 * addon is tested everywhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HUGE_PAGE_BYTES, loadNativeShim, nativeShimPath, transparentHugePages } from '../../src/native/shim.js';
import type { NativeShim } from '../../src/native/shim.js';
import { UNDER_CI } from '../peers.js';

const MiB = 1024 * 1024;
const EINVAL = 22;
const FIRST_TOUCH = join(dirname(fileURLToPath(import.meta.url)), 'first-touch.mjs');

const status = loadNativeShim();
const shim = status.shim;

/** Tests that need the addon: run, skip with the reason (outside CI) or fail (under CI). */
function describeWithShim(name: string, body: (shim: NativeShim) => void): void {
  if (shim !== null) {
    describe(name, () => body(shim));
  } else if (UNDER_CI) {
    describe(name, () => {
      it('needs the native shim', () => {
        throw new Error(`the native shim is required under CI (npm ci builds it with node-gyp: needs python3, make, cc): ${status.reason}`);
      });
    });
  } else {
    const reason = `skipped: no native shim: ${status.reason}`;
    console.warn(`${reason}: "${name}"`);
    describe.skip(`${name} (${reason})`, () => body(null as unknown as NativeShim));
  }
}

/** The part of the WebAssembly API used here (the project's `lib` has no WebAssembly types, as in src/flow/table.ts). */
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer } } })
  .WebAssembly.Memory;

/** A fresh WebAssembly.Memory of `bytes` (a multiple of 64 KiB), as the flow table makes one. */
function wasmMemory(bytes: number): { readonly buffer: ArrayBuffer } {
  return new WasmMemory({ initial: bytes / 65536, maximum: bytes / 65536 });
}

interface FirstTouch {
  readonly advised: number;
  readonly ms: number;
  /** AnonHugePages (KiB) of the mappings flagged for huge pages (VmFlags `hg`). */
  readonly advisedHugeKiB: number;
  readonly hugeKiB: number;
}

/** First touch of a fresh `mib` MiB WebAssembly.Memory in a child process, advised with `addon` or not ('none'). */
function firstTouch(addon: string, mib: number): FirstTouch {
  const r = spawnSync(process.execPath, [FIRST_TOUCH, addon, String(mib)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`first-touch.mjs ${addon} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as FirstTouch;
}

describeWithShim('native shim (the addon)', (addon) => {
  it('is built by npm ci and loads', () => {
    expect(status.reason).toBeNull();
    expect(typeof addon.adviseHugePages).toBe('function');
  });

  it('advises the whole 2 MiB pages of a 64 MiB WebAssembly.Memory', () => {
    const memory = wasmMemory(64 * MiB);
    const advised = addon.adviseHugePages(memory.buffer, 0, memory.buffer.byteLength);
    expect(advised).toBeGreaterThan(0);
    expect(advised % HUGE_PAGE_BYTES).toBe(0);
    // Rounded inward: at most the part before the first and after the last 2 MiB boundary is lost.
    expect(advised).toBeGreaterThanOrEqual(64 * MiB - 2 * HUGE_PAGE_BYTES);
    expect(advised).toBeLessThanOrEqual(64 * MiB);
    // A sub-range: still whole huge pages only.
    const part = addon.adviseHugePages(memory.buffer, 3 * MiB, 10 * MiB);
    expect(part % HUGE_PAGE_BYTES).toBe(0);
    expect(part).toBeGreaterThanOrEqual(8 * MiB - HUGE_PAGE_BYTES);
    expect(part).toBeLessThanOrEqual(10 * MiB - HUGE_PAGE_BYTES);
  });

  it("advises a plain ArrayBuffer too (the flow table's fallback, records at byte 48)", () => {
    const buffer = new ArrayBuffer(64 * MiB + 48);
    const advised = addon.adviseHugePages(buffer, 48, 64 * MiB);
    expect(advised).toBeGreaterThanOrEqual(64 * MiB - 2 * HUGE_PAGE_BYTES);
    expect(advised % HUGE_PAGE_BYTES).toBe(0);
  });

  it('advises nothing when the range holds no whole 2 MiB page', () => {
    expect(addon.adviseHugePages(new ArrayBuffer(MiB), 0, MiB)).toBe(0);
    const memory = wasmMemory(8 * MiB);
    expect(addon.adviseHugePages(memory.buffer, 0, 0)).toBe(0);
    expect(addon.adviseHugePages(memory.buffer, 4096, HUGE_PAGE_BYTES - 1)).toBe(0);
  });

  it('answers -EINVAL for a range outside the buffer, and a TypeError for a non-ArrayBuffer', () => {
    const buffer = new ArrayBuffer(4 * MiB);
    expect(addon.adviseHugePages(buffer, 0, 4 * MiB + 1)).toBe(-EINVAL);
    expect(addon.adviseHugePages(buffer, 4 * MiB, 1)).toBe(-EINVAL);
    expect(addon.adviseHugePages(buffer, -1, 10)).toBe(-EINVAL);
    expect(addon.adviseHugePages(buffer, 0.5, 10)).toBe(-EINVAL);
    expect(addon.adviseHugePages(buffer, Number.NaN, 10)).toBe(-EINVAL);
    expect(addon.adviseHugePages(buffer, 0, Number.POSITIVE_INFINITY)).toBe(-EINVAL);
    expect(() => addon.adviseHugePages(new Uint8Array(8) as unknown as ArrayBuffer, 0, 8)).toThrow(TypeError);
    expect(() => addon.adviseHugePages(new SharedArrayBuffer(8) as unknown as ArrayBuffer, 0, 8)).toThrow(TypeError);
  });

  it('loads in a worker thread too (context-aware)', async () => {
    const { Worker } = await import('node:worker_threads');
    const source = `
      const { parentPort } = require('node:worker_threads');
      const shim = require(${JSON.stringify(status.path)});
      const m = new WebAssembly.Memory({ initial: 256, maximum: 256 });
      parentPort.postMessage(shim.adviseHugePages(m.buffer, 0, m.buffer.byteLength));`;
    const answer = await new Promise<unknown>((resolve, reject) => {
      const w = new Worker(source, { eval: true });
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(answer).toBeGreaterThan(0);
  });

  // The behaviour the addon is for, checked from the kernel's side rather than by timing: after the
  // advice, the first touch faults the memory in as transparent huge pages. Both first-touch times
  // are printed for the record, not asserted (a loaded machine makes any ratio flaky).
  const thp = transparentHugePages();
  const smapsName = 'huge pages back the advised memory after its first touch (/proc/self/smaps)';
  if (thp === null || thp === 'never') {
    const reason = `skipped: transparent huge pages are ${thp === null ? 'not in this kernel' : 'off (never)'}`;
    console.warn(`${reason}: "${smapsName}"`);
    it.skip(`${smapsName} (${reason})`, () => {});
  } else {
    it(smapsName, () => {
      const advised = firstTouch(status.path, 256);
      const plain = firstTouch('none', 256);
      console.log(
        `first touch of a 256 MiB WebAssembly.Memory (THP ${thp}): advised ${advised.ms} ms ` +
          `(${advised.advised / MiB} MiB advised, ${advised.advisedHugeKiB / 1024} MiB in huge pages), ` +
          `not advised ${plain.ms} ms (${plain.hugeKiB / 1024} MiB in huge pages)`,
      );
      expect(advised.advised).toBeGreaterThan(0);
      expect(advised.advisedHugeKiB).toBeGreaterThan(0);
      expect(plain.advisedHugeKiB).toBe(0);
    });
  }
});

describe('native shim façade (src/native/shim.ts), with or without the addon', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('looks for the addon where node-gyp leaves it', () => {
    expect(nativeShimPath()).toMatch(/native-shim\/build\/Release\/shim\.node$/);
  });

  it('gives null and a reason, never an exception, when the addon is missing or broken', () => {
    const missing = loadNativeShim('/nonexistent/native-shim/build/Release/shim.node');
    expect(missing.shim).toBeNull();
    expect(missing.reason).toMatch(/is missing: it was never built/);

    const dir = mkdtempSync(join(tmpdir(), 'vfp-shim-'));
    try {
      const broken = join(dir, 'shim.node');
      writeFileSync(broken, 'not an ELF file');
      const r = loadNativeShim(broken);
      expect(r.shim).toBeNull();
      expect(r.reason).toMatch(/does not load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('VFP_NATIVE_SHIM=off turns the addon off: adviseHugePages then answers 0', async () => {
    vi.stubEnv('VFP_NATIVE_SHIM', 'off');
    vi.resetModules();
    const fresh = await import('../../src/native/shim.js');
    expect(fresh.nativeShim()).toBeNull();
    expect(fresh.nativeShimStatus().reason).toBe('VFP_NATIVE_SHIM=off');
    const memory = wasmMemory(8 * MiB);
    expect(fresh.adviseHugePages(memory.buffer, 0, memory.buffer.byteLength)).toBe(0);
  });

  it('reads the kernel transparent-huge-page mode', () => {
    const mode = transparentHugePages();
    if (mode !== null) expect(['always', 'madvise', 'never']).toContain(mode);
  });
});
