#!/usr/bin/env node
// Index builds, COPY file reads and S3 downloads share libuv's pool: give it room before anything uses it.
process.env.UV_THREADPOOL_SIZE ??= '16';
await import('../dist/src/cli/main.js');
