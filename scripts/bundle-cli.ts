/**
 * `npm run build`, second step: the CLI as one ES module (and a chunk per lazily imported command) in
 * `dist/cli-bundle/`, which `bin/tm.js` loads when it is at least as new as the tsc output.
 *
 * Why: a hot cycle is often a fresh `tm run` process, and loading some 300 separate module files
 * (ours, DuckDB's API, pg's, Handlebars', commander's) was a fifth of it. Measured on the hot bench's
 * fresh process (2 cores, alternating runs): ~120 ms less as one bundle, half of it
 * `@duckdb/node-api`'s ~120 files. Left outside: native code (DuckDB's binding), packages that read
 * files next to themselves (PGlite's WASM, ECharts' page script), and the S3 client (loaded only for
 * s3:// sources).
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const outdir = path.join(root, 'dist', 'cli-bundle');

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist', 'src', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@duckdb/node-bindings', '@duckdb/node-bindings-*', 'pg-native', '@electric-sql/pglite', '@electric-sql/pglite/*', '@aws-sdk/*', 'echarts'],
  // CommonJS packages inside an ES module still call require() for Node's own modules.
  banner: { js: `import { createRequire as __tmCreateRequire } from 'node:module'; const require = __tmCreateRequire(import.meta.url);` },
  logLevel: 'warning',
});
