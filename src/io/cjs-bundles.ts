/**
 * Loads the command line's CommonJS bundles (dist/src/cli/NAME.cjs, written by
 * scripts/bundle-cli.mjs) with the V8 code cache the build wrote beside each (NAME.cjs.cache), so
 * that a `vfp` run neither reads many files nor parses and compiles the code it runs: for a short
 * command such as `vfp validate`, that is most of its time.
 *
 * - A bundle requires another as './OTHER.cjs'; that goes through here too, and each bundle is
 *   loaded once (so every bundle sees the same base/errors classes). Other requires are Node's.
 * - A bundle runs as a vm.Script, where import() is unavailable (on Node 20, not with a code
 *   cache, and only behind an experimental flag); the build turns its imports of ES modules
 *   outside the bundles (`vfp bench`'s harness) into calls of __vfpImport(path from the bundle).
 * - A cache file starts with the bundle's size and modification time (two float64s); it is used
 *   only when they match the bundle, so a rebuilt bundle never meets an old cache (V8 itself
 *   checks only the source length, its version and its flags). A missing, stale or rejected cache
 *   costs only the compile it would have saved.
 * - Nothing is written at run time, except with VFP_BUILD_CODE_CACHE=1 (set by the build): at
 *   exit, the cache of every bundle loaded without a valid one is written, holding the code that
 *   run compiled.
 */
import { createRequire } from 'node:module';
import type { Script } from 'node:vm';

// Node's modules through require: an ES import of node:fs builds its namespace, which loads
// the stream modules (a few milliseconds of every run).
const nodeRequire = createRequire(import.meta.url);
const fs = nodeRequire('node:fs') as typeof import('node:fs');
const path = nodeRequire('node:path') as typeof import('node:path');
const { fileURLToPath, pathToFileURL } = nodeRequire('node:url') as typeof import('node:url');

const HEADER_BYTES = 16;

interface Loaded {
  exports: unknown;
  script: Script;
  file: string;
  cached: boolean;
}

const loaded = new Map<string, Loaded>();
let writeAtExit = false;

/** The bundle's size and mtime as the cache header holds them. */
function stamp(file: string): Float64Array {
  const s = fs.statSync(file);
  return Float64Array.of(s.size, s.mtimeMs);
}

function readCache(file: string, bundleStamp: Float64Array): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(`${file}.cache`);
  } catch {
    return undefined;
  }
  if (bytes.length <= HEADER_BYTES) return undefined;
  const header = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + HEADER_BYTES));
  if (header[0] !== bundleStamp[0] || header[1] !== bundleStamp[1]) return undefined;
  return bytes.subarray(HEADER_BYTES);
}

/**
 * Whether `bundle` exists and was written after `source` (the tsc output it was made from), if
 * that exists: after a bare `tsc`, the modules it wrote are newer than the bundles and run instead.
 */
export function bundleIsCurrent(bundle: URL, source: URL): boolean {
  let b: number;
  try {
    b = fs.statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  try {
    return b >= fs.statSync(source).mtimeMs;
  } catch {
    return true;
  }
}

/** The exports of the bundle at `url`, loaded once; null when there is no such file. */
export function loadBundle(url: URL): unknown {
  return load(fileURLToPath(url));
}

function load(file: string): unknown {
  const known = loaded.get(file);
  if (known) return known.exports;
  let bundleStamp: Float64Array;
  try {
    bundleStamp = stamp(file);
  } catch {
    return null;
  }
  const source = fs.readFileSync(file, 'utf8');
  const cachedData = readCache(file, bundleStamp);
  const vm = nodeRequire('node:vm') as typeof import('node:vm');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __vfpImport) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const dir = path.dirname(file);
  const fallback = createRequire(file);
  const require = (id: string): unknown => {
    if (!(id.startsWith('./') && id.endsWith('.cjs'))) return fallback(id);
    const exports = load(path.join(dir, id));
    if (exports === null) throw new Error(`${file} requires ${id}, which is not there: run npm run build`);
    return exports;
  };
  const module = { exports: {} as unknown };
  const entry: Loaded = { exports: module.exports, script, file, cached: cachedData !== undefined && !script.cachedDataRejected };
  loaded.set(file, entry);
  if (!entry.cached && process.env['VFP_BUILD_CODE_CACHE'] === '1' && !writeAtExit) {
    writeAtExit = true;
    process.on('exit', writeCaches);
  }
  const importFromBundle = (spec: string): Promise<unknown> => import(new URL(spec, pathToFileURL(file)).href);
  try {
    (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, require, module, file, dir, importFromBundle);
  } catch (e) {
    loaded.delete(file);
    throw e;
  }
  entry.exports = module.exports;
  return entry.exports;
}

function writeCaches(): void {
  for (const b of loaded.values()) {
    if (b.cached) continue;
    const data = b.script.createCachedData();
    const header = new Uint8Array(stamp(b.file).buffer);
    fs.writeFileSync(`${b.file}.cache`, Buffer.concat([header, data]));
  }
}

/** The bundles loaded so far, and whether each came from its code cache (for tests). */
export function loadedBundles(): { file: string; cached: boolean }[] {
  return [...loaded.values()].map((b) => ({ file: b.file, cached: b.cached }));
}
