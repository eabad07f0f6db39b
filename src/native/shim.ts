/**
 * The typed façade over native-shim/ (a Node-API addon in plain C, built by `npm ci`; see
 * native-shim/README.md). Today it offers one call, `adviseHugePages`: the flow table's memory is
 * one large buffer whose pages the kernel maps 4 KiB at a time on first touch (~10 µs each on the
 * project's machines), and on kernels whose transparent huge pages are in `madvise` mode only
 * madvise(MADV_HUGEPAGE), which Node cannot call, lets that memory fault in 2 MiB at a time.
 *
 * The addon is optional: when it was not built (no compiler, no headers, `VFP_NATIVE_SHIM=off`)
 * or does not load, every function here still works and does nothing (`adviseHugePages` returns
 * 0); nothing here throws for a missing addon. The addon is loaded once per thread (it is
 * context-aware, so worker threads may load it too) and the result is cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's exports (native-shim/src/shim.c). */
export interface NativeShim {
  /**
   * madvise(MADV_HUGEPAGE) over the whole 2 MiB pages inside `[byteOffset, byteOffset +
   * byteLength)` of the buffer's memory. Returns the bytes advised (0 when the range holds no
   * whole 2 MiB page), -errno when madvise fails, -EINVAL (-22) when the range is not inside the
   * buffer; throws a TypeError when `buffer` is not an ArrayBuffer (a SharedArrayBuffer is not).
   */
  adviseHugePages(buffer: ArrayBuffer, byteOffset: number, byteLength: number): number;
}

/** What loading the addon gave: the addon, or null and why not. */
export interface NativeShimStatus {
  readonly shim: NativeShim | null;
  /** The file loaded or looked for. */
  readonly path: string;
  /** Why there is no addon (null when it loaded): one line, for messages such as `vfp bench`'s. */
  readonly reason: string | null;
}

/** The size of a transparent huge page on x86-64 and arm64 (4 KiB base pages): what the shim rounds to. */
export const HUGE_PAGE_BYTES = 2 * 1024 * 1024;

/** Where node-gyp leaves the addon, relative to the repository (or installed package) root. */
const ADDON = join('native-shim', 'build', 'Release', 'shim.node');

/**
 * The addon's path: under the nearest folder above this file that holds native-shim/, because
 * this module runs from src/native/ (tests) and from dist/src/native/ (the built CLI).
 */
export function nativeShimPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = dirname(here), i = 0; i < 4; dir = dirname(dir), i++) {
    if (existsSync(join(dir, 'native-shim'))) return join(dir, ADDON);
  }
  return join(dirname(dirname(here)), ADDON);
}

/**
 * Loads the addon from `file` (default: `nativeShimPath()`), uncached; never throws. Honours
 * `VFP_NATIVE_SHIM=off` (no addon, as if it had not been built: for A/B runs and for testing the
 * fallback).
 */
export function loadNativeShim(file: string = nativeShimPath()): NativeShimStatus {
  if (process.env['VFP_NATIVE_SHIM'] === 'off') return { shim: null, path: file, reason: 'VFP_NATIVE_SHIM=off' };
  if (!existsSync(file)) return { shim: null, path: file, reason: `${file} is missing: ${buildOutcome(file)}` };
  try {
    const mod = createRequire(import.meta.url)(file) as Partial<NativeShim> | null;
    if (mod === null || typeof mod !== 'object' || typeof mod.adviseHugePages !== 'function') {
      return { shim: null, path: file, reason: `${file} does not export adviseHugePages (an old build? npm run build:native)` };
    }
    return { shim: mod as NativeShim, path: file, reason: null };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { shim: null, path: file, reason: `${file} does not load: ${message.split('\n')[0]}` };
  }
}

/** What the build said (scripts/build-native-shim.mjs keeps its last line beside the addon's folder). */
function buildOutcome(file: string): string {
  try {
    const line = readFileSync(join(dirname(dirname(file)), 'outcome.txt'), 'utf8').trim();
    if (line !== '') return `the build said "${line}"`;
  } catch {
    // never built here
  }
  return 'it was never built (npm ci builds it: npm run build:native)';
}

let status: NativeShimStatus | undefined;

/** The addon and why it is missing, loaded on first use and cached for this thread. */
export function nativeShimStatus(): NativeShimStatus {
  status ??= loadNativeShim();
  return status;
}

/** The addon, or null when it is not built or does not load (cached; never throws). */
export function nativeShim(): NativeShim | null {
  return nativeShimStatus().shim;
}

/**
 * Advise the kernel to back `[byteOffset, byteOffset + byteLength)` of `buffer` with transparent
 * huge pages; call it on a fresh buffer, before its pages are first touched (pages touched
 * earlier stay 4 KiB until khugepaged gets to them). Only whole 2 MiB pages inside the range are
 * advised. Returns the bytes advised, 0 when the addon is absent (or the range holds no whole
 * 2 MiB page), or -errno from the addon (see `NativeShim`). A hint: it changes how fast the memory
 * is first touched and how much of it stays resident, never what it holds.
 */
export function adviseHugePages(buffer: ArrayBuffer, byteOffset: number, byteLength: number): number {
  const shim = nativeShim();
  return shim === null ? 0 : shim.adviseHugePages(buffer, byteOffset, byteLength);
}

/** The kernel's transparent-huge-page mode (`always`, `madvise`, `never`), or null when it has none. */
export function transparentHugePages(): string | null {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}
