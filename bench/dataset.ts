/**
 * The benchmark's TripClick-scale click stream, generated once and cached.
 *
 * Cache: `<benchDir>/data/tripclick-<key>/` plus a `tripclick-<key>.json` marker written after a
 * complete generation. The key hashes the resolved generator options, the compiled generator code
 * (dist/generator/*.js) and the DuckDB package version (the generator's randomness is DuckDB's
 * hash()), so a changed generator or option regenerates; an interrupted generation (no marker) is
 * redone. Older `tripclick-*` folders are removed when a new one is generated.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateStream, resolveOptions, type GenerateOptions, type GenerateResult } from '../generator/generate.js';

/** What the benchmark generates: the full TripClick preset (2013-01-01..2020-10-31, 5,272,064 events). */
export const BENCH_GENERATOR_OPTIONS: Omit<GenerateOptions, 'out'> = { preset: 'tripclick', seed: 42 };

export interface DataFile {
  /** Path relative to the dataset root, '/'-separated: `event_date=2019-01-01/part-00000.parquet`. */
  readonly rel: string;
  readonly size: number;
}

export interface Dataset {
  readonly dir: string;
  /** Cache key; undefined for a dataset given with --data. */
  readonly key?: string;
  /** True when this run generated it. */
  readonly generated: boolean;
  readonly generateSeconds?: number;
  /** The generator's own figures (from this run or the cache marker); undefined for --data. */
  readonly generator?: GenerateResult;
  readonly files: readonly DataFile[];
  readonly bytes: number;
}

async function generatorFingerprint(): Promise<string> {
  const h = createHash('sha256');
  const dir = path.resolve(import.meta.dirname, '..', 'generator');
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.js')).sort()) {
    h.update(name).update('\0').update(await readFile(path.join(dir, name))).update('\0');
  }
  try {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(await readFile(require.resolve('@duckdb/node-api/package.json'), 'utf8')) as { version: string };
    h.update(`duckdb ${pkg.version}`);
  } catch {
    h.update('duckdb ?');
  }
  return h.digest('hex');
}

export async function datasetKey(): Promise<{ key: string; options: Record<string, unknown> }> {
  const { out: _out, force: _force, concurrency: _c, ...options } = resolveOptions({ ...BENCH_GENERATOR_OPTIONS, out: '/x' });
  const key = createHash('sha256').update(JSON.stringify(options)).update(await generatorFingerprint()).digest('hex').slice(0, 12);
  return { key, options };
}

export async function listDataFiles(root: string): Promise<DataFile[]> {
  const out: DataFile[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.name.endsWith('.parquet')) out.push({ rel: r, size: (await stat(path.join(root, r))).size });
    }
  }
  await walk('');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export interface EnsureOptions {
  readonly benchDir: string;
  /** Use this folder as is (no generation, no cache). */
  readonly dataDir?: string;
  /** Generate again even when the cache is complete. */
  readonly regenerate?: boolean;
  readonly log: (line: string) => void;
}

export async function ensureDataset(o: EnsureOptions): Promise<Dataset> {
  if (o.dataDir) {
    const dir = path.resolve(o.dataDir);
    if (!existsSync(dir)) throw new Error(`--data ${dir}: no such folder`);
    const files = await listDataFiles(dir);
    if (files.length === 0) throw new Error(`--data ${dir}: no .parquet files`);
    o.log(`data: ${dir} (given with --data, not generated): ${files.length.toLocaleString('en-US')} files, ${mib(sum(files))}`);
    return { dir, generated: false, files, bytes: sum(files) };
  }
  const { key, options } = await datasetKey();
  const dataRoot = path.join(o.benchDir, 'data');
  const dir = path.join(dataRoot, `tripclick-${key}`);
  const marker = path.join(dataRoot, `tripclick-${key}.json`);
  if (!o.regenerate && existsSync(marker) && existsSync(dir)) {
    const saved = JSON.parse(await readFile(marker, 'utf8')) as { generator: GenerateResult };
    const files = await listDataFiles(dir);
    if (files.length === saved.generator.files) {
      o.log(`data: cached ${path.relative(process.cwd(), dir) || dir} (key ${key}): ${describe(saved.generator)}`);
      return { dir, key, generated: false, generator: saved.generator, files, bytes: sum(files) };
    }
    o.log(`data: cache ${dir} holds ${files.length} files, its marker says ${saved.generator.files}: generating again`);
  }
  await mkdir(dataRoot, { recursive: true });
  // One cached dataset at a time: drop folders of other keys (an older generator or options).
  for (const name of await readdir(dataRoot)) {
    if (name.startsWith('tripclick-') && !name.startsWith(`tripclick-${key}`)) {
      o.log(`data: removing stale cache ${name}`);
      await rm(path.join(dataRoot, name), { recursive: true, force: true });
    }
  }
  await rm(marker, { force: true });
  o.log(`data: generating TripClick-scale click stream into ${dir} (key ${key}; a few minutes, once) ...`);
  const t0 = performance.now();
  let lastProgress = 0;
  const generator = await generateStream({
    ...BENCH_GENERATOR_OPTIONS,
    out: dir,
    force: true,
    onProgress: (m) => {
      // Chunk messages come often: one line every 15 s is enough.
      const now = performance.now();
      if (!m.includes('chunk') || now - lastProgress > 15_000) {
        lastProgress = now;
        o.log(`      ${m}`);
      }
    },
  });
  const generateSeconds = (performance.now() - t0) / 1000;
  await checkGenerated(dir, generator, o.log);
  await writeFile(marker, JSON.stringify({ key, options, generator, generated_at: new Date().toISOString(), seconds: generateSeconds }, null, 2) + '\n');
  const files = await listDataFiles(dir);
  o.log(`data: generated in ${generateSeconds.toFixed(1)} s: ${describe(generator)}`);
  return { dir, key, generated: true, generateSeconds, generator, files, bytes: sum(files) };
}

/**
 * Guards the cache against a broken generator (e.g. one being edited while the bench ran): the
 * files must hold about as many distinct dedup keys and sessions as the generator says it made,
 * and clinical areas that are more than commas. A failed check leaves no marker, so the next run
 * generates again.
 */
async function checkGenerated(dir: string, g: GenerateResult, log: (line: string) => void): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: '1GB' });
  try {
    const conn = await instance.connect();
    const glob = `${dir}/*/*.parquet`.replace(/'/g, "''");
    const [rows, keys, sessions, areas] = (
      await conn.runAndReadAll(
        `SELECT count(*), count(DISTINCT dedup_key), approx_count_distinct(session_id),
                count(*) FILTER (WHERE regexp_matches(clinical_areas, '[A-Za-z]'))
         FROM read_parquet('${glob}', hive_partitioning = true)`,
      )
    ).getRows()[0].map(Number);
    conn.closeSync();
    const problems: string[] = [];
    if (rows !== g.rows) problems.push(`${rows} rows in the files, the generator reports ${g.rows}`);
    if (keys < g.events * 0.99) problems.push(`${keys} distinct dedup keys for ${g.events} events`);
    if (sessions < g.sessions * 0.8) problems.push(`about ${sessions} distinct session ids for ${g.sessions} sessions`);
    if (areas < rows * 0.5) problems.push(`only ${areas} of ${rows} rows have a clinical area name`);
    if (problems.length) {
      throw new Error(`the generated data in ${dir} looks wrong (${problems.join('; ')}): is the generator being edited? Not cached; fix it and run again.`);
    }
    log(`data: checked: ${rows.toLocaleString('en-US')} rows, ${keys.toLocaleString('en-US')} dedup keys, ~${sessions.toLocaleString('en-US')} sessions`);
  } finally {
    instance.closeSync();
  }
}

function describe(g: GenerateResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `${n(g.events)} events, ${n(g.sessions)} sessions, ${n(g.rows)} rows (${n(g.duplicateRows)} replayed, ${n(g.invalidRows)} invalid), ${n(g.files)} files, ${g.firstDate}..${g.lastDate}`;
}

export function sum(files: readonly DataFile[]): number {
  return files.reduce((s, f) => s + f.size, 0);
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
