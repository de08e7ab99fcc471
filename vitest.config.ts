import { defineConfig } from 'vitest/config';

/** Tests beside their modules that start a server (S3, PGlite) or generate whole streams: seconds each, so not unit. */
const SLOW = ['src/sources/s3-location.test.ts', 'src/compile/format-engine-error.test.ts', 'generator/**/*.test.ts'];

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
      // Seconds, with no PostgreSQL, no browser, no build and no server.
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: SLOW } },
      // The built CLI as real processes, PostgreSQL, Chromium, an S3 server, generated streams:
      // the global setup installs, builds and starts what they need.
      { extends: true, test: { name: 'e2e', include: ['e2e/**/*.test.ts', ...SLOW], globalSetup: ['test-support/global-setup.ts'] } },
    ],
  },
});
