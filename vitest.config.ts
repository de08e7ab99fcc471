import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test file gets its own process (env vars, DuckDB instances) and its own PostgreSQL schema.
    pool: 'forks',
    // As bin/tm.js does: FIFO opens and file reads share libuv's pool.
    env: { UV_THREADPOOL_SIZE: '16' },
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      // Seconds, with no PostgreSQL, no browser and no build.
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'generator/**/*.test.ts'] } },
      // The built CLI as real processes, PostgreSQL, Chromium: the global setup installs, builds and starts them.
      { extends: true, test: { name: 'e2e', include: ['e2e/**/*.test.ts'], globalSetup: ['test-support/global-setup.ts'] } },
    ],
  },
});
