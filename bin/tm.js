#!/usr/bin/env node
// Index builds, FIFO opens and file reads share libuv's pool: give it room before anything uses it.
process.env.UV_THREADPOOL_SIZE ??= '16';
await import('../dist/src/cli/main.js');
