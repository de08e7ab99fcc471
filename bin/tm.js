#!/usr/bin/env node
import { statSync } from 'node:fs';

// Index builds, COPY file reads and S3 downloads share libuv's pool: give it room before anything uses it.
process.env.UV_THREADPOOL_SIZE ??= '16';

// The bundled CLI (scripts/bundle-cli.ts) starts faster; the tsc output alone is used when there is no
// bundle or it is older (a `tsc --watch` session), so the code that runs is never stale.
const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = mtime('../dist/cli-bundle/main.js') >= mtime('../dist/src/cli/main.js');
await import(bundled ? '../dist/cli-bundle/main.js' : '../dist/src/cli/main.js');
