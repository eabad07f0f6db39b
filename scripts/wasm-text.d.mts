// Types of scripts/wasm-text.mjs, for the test that imports it (test/flow/probe-wasm.test.ts).

/** The bytes src/flow/probe.wat assembles to (wabt, default features); `root` is the repository. */
export function assembleProbe(root: string): Promise<Uint8Array>;

/** The text of src/flow/probe-wasm.ts for these bytes. */
export function renderProbeModule(bytes: Uint8Array): string;
