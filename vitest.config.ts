import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'interop/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Interop suites start their own brokers on port 0; files run in parallel workers.
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
