// Assemble src/flow/probe.wat (WebAssembly text) into src/flow/probe-wasm.ts, the bytes the flow
// table instantiates. Run with `npm run build:wasm` after editing the .wat; the test
// test/flow/probe-wasm.test.ts fails while the two disagree. wabt is a dev dependency only: the
// engine itself needs nothing but the committed bytes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleProbe, renderProbeModule } from './wasm-text.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bytes = await assembleProbe(root);
const out = path.join(root, 'src/flow/probe-wasm.ts');
fs.writeFileSync(out, renderProbeModule(bytes));
console.log(`wrote ${path.relative(root, out)} (${bytes.length} bytes of WebAssembly)`);
