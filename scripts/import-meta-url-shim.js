// Injected into the CommonJS bundles of dist/src/cli (vfp.cjs, program.cjs, NAME.cjs) by scripts/bundle-cli.mjs: import.meta.url of a CommonJS bundle.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
