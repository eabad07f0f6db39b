/**
 * The flow table's WebAssembly probe kernel: the committed bytes (src/flow/probe-wasm.ts) are what
 * src/flow/probe.wat assembles to, so the reviewed text is the code that runs; and the module
 * compiles and exports the one function the table calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBE_WASM } from '../../src/flow/probe-wasm.js';
import { assembleProbe, renderProbeModule } from '../../scripts/wasm-text.mjs';

const root = path.resolve(import.meta.dirname, '../..');

/** The part of the WebAssembly API used here (the project's `lib` has no WebAssembly types, as in src/flow/table.ts). */
interface WasmModuleApi {
  Module: {
    new (bytes: Uint8Array): object;
    imports(module: object): Array<{ module: string; name: string; kind: string }>;
    exports(module: object): Array<{ name: string; kind: string }>;
  };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmModuleApi }).WebAssembly;

describe('flow table: probe kernel', () => {
  it('src/flow/probe-wasm.ts is exactly what `npm run build:wasm` makes of src/flow/probe.wat', async () => {
    const bytes = await assembleProbe(root);
    expect(Array.from(PROBE_WASM)).toEqual(Array.from(bytes));
    expect(fs.readFileSync(path.join(root, 'src/flow/probe-wasm.ts'), 'utf8')).toBe(renderProbeModule(bytes));
  });

  it('compiles, imports only the table memory and exports probe', () => {
    const mod = new WebAssembly.Module(PROBE_WASM);
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'table', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(mod)).toEqual([{ name: 'probe', kind: 'function' }]);
  });
});
