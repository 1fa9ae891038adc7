import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'interop/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Interop suites start their own brokers on port 0; files run in parallel workers.
    pool: 'forks',
    // Brokers that tests spawn (dist/main.js) would all take the management port 15672: off
    // unless a test asks for one (in-process brokers get the same default in test/support).
    env: { WARREN_MANAGEMENT_PORT: '0' },
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
