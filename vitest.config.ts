import { defineConfig } from 'vitest/config';

// The default `forks` pool is kept on purpose: native addons (nan-based ones in particular)
// fail to load twice in one process under the `threads` pool.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
