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
import { build, type Plugin } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const outdir = path.join(root, 'dist', 'cli-bundle');

/**
 * pg asks, as it loads, whether it runs in a Cloudflare Worker by building a `Response`: on Node 20
 * that loads Node's fetch implementation (undici), ~40 ms of a fresh process that never fetches. The
 * bundle answers no. When a pg release reshapes the check, the build says so and keeps pg's own.
 */
const pgOnNode: Plugin = {
  name: 'pg-on-node',
  setup(b) {
    b.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const check = 'function isCloudflareRuntime() {';
      if (!text.includes(check)) {
        return { contents: text, loader: 'js', warnings: [{ text: `${check} not found: pg's runtime check stays (loads undici)` }] };
      }
      return { contents: text.replace(check, `${check}\n  return false;`), loader: 'js' };
    });
  },
};

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
  plugins: [pgOnNode],
  logLevel: 'warning',
});
