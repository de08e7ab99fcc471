import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'generator/**/*.test.ts', 'e2e/**/*.test.ts'],
    globalSetup: ['test-support/global-setup.ts'],
    // Each test file gets its own process (env vars, DuckDB instances) and its own PostgreSQL schema.
    pool: 'forks',
    // As bin/tm.js does: FIFO opens and file reads share libuv's pool.
    env: { UV_THREADPOOL_SIZE: '16' },
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
