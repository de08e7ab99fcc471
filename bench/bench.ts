/**
 * `npm run bench`: tm's cold build at TripClick scale on the real PostgreSQL, against the floor of
 * DuckDB alone + COPY; the hot tier's cycle cost; the cold build from S3; and tm against the real
 * dbt-postgres on the same files (section peers).
 *
 *   npm run bench                        every section, once each
 *   npm run bench -- --only cold         one section (comma list or repeated: --only cold,hot)
 *   npm run bench -- --skip s3           all but these
 *   npm run bench -- --repeat 3          medians of 3 measurements per case
 *   npm run bench -- --strict            exit 1 when a target is missed or the builds disagree
 *
 * Env: TM_PG_URL (default postgres://postgres@127.0.0.1:5432/test), TM_BENCH_DIR (cache and
 * results, default .tm/bench). Results: <bench dir>/results.json. See bench/README.md.
 *
 * Sections are the extension point: SECTIONS below, each a BenchSection (bench/types.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { coldSection } from './cold.js';
import { dashboardsSection } from './dashboards.js';
import { incrementalSection } from './incremental.js';
import { fuzzSection } from './fuzz.js';
import { peersSection } from './peers/section.js';
import { hotSection } from './hot.js';
import { ensureDataset, mib, type Dataset } from './dataset.js';
import { TmRunError, dropSchemaFamilies, prepareProjectCopy, runChild, withPg } from './proc.js';
import { s3Section } from './s3.js';
import { soakSection } from './soak.js';
import { sparkSection } from './spark.js';
import type { BenchContext, BenchSection, SectionResult, TargetCheck } from './types.js';

/** Every section, in run order. */
const SECTIONS: readonly BenchSection[] = [coldSection, incrementalSection, hotSection, s3Section, dashboardsSection, peersSection, sparkSection, fuzzSection, soakSection];

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

const USAGE = `usage: npm run bench -- [options]
  --only <names>       sections to run (comma-separated or repeated): ${SECTIONS.map((s) => s.name).join(', ')}
  --skip <names>       sections to leave out
  --repeat <n>         measurements per case (default 1); figures are medians
  --strict             exit 1 when a target is missed or the builds' row counts disagree
  --data <dir>         use this curated-stream folder as is (no generation, no cache)
  --regenerate         generate the cached dataset again
  --verify             also compare the marts of (a) and (c) row by row (EXCEPT ALL; slow)
  --keep-schemas       keep the PostgreSQL schemas the bench creates (default: dropped)
  --s3-year <yyyy>     s3 section: use this year's files only
  --s3-full            s3 section: upload the whole stream whatever it takes
  --dashboards-schema <s>  dashboards section: chart the marts already in this schema (no hot/cold run)
  --quick              peers, spark sections: a small generated stream (about a minute) instead of the TripClick-scale one
  --soak-minutes <n>   soak section: how long the hot loop runs (default 16)
env: TM_PG_URL (default ${DEFAULT_PG_URL}), TM_BENCH_DIR (default .tm/bench)
sections:
${SECTIONS.map((s) => `  ${s.name.padEnd(6)} ${s.title}`).join('\n')}`;

function names(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function log(line: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stdout.write(`[${t}] ${line}\n`);
}

function fmtTarget(t: TargetCheck): string {
  const limit = t.unit ? `${figure(t.limit)} ${t.unit}` : String(t.limit);
  if (!Number.isFinite(t.value)) return `MISS  ${t.name} = n/a (not measured: see FAILED) (target <= ${limit})`;
  const v = t.unit ? `${figure(t.value)} ${t.unit}` : t.value.toFixed(3);
  return `${t.pass ? 'PASS' : 'MISS'}  ${t.name} = ${v} (target <= ${limit})`;
}

/** Whole numbers from 100 on (ms), three significant digits below (0.040 x, 1.57 s). */
function figure(x: number): string {
  const a = Math.abs(x);
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      skip: { type: 'string', multiple: true },
      repeat: { type: 'string', default: '1' },
      strict: { type: 'boolean', default: false },
      data: { type: 'string' },
      regenerate: { type: 'boolean', default: false },
      verify: { type: 'boolean', default: false },
      'keep-schemas': { type: 'boolean', default: false },
      's3-year': { type: 'string' },
      'dashboards-schema': { type: 'string' },
      's3-full': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      'soak-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError(`--repeat must be a whole number >= 1, got '${values.repeat}'`);
  if (values['s3-year'] !== undefined && !/^\d{4}$/.test(values['s3-year'])) throw new UsageError(`--s3-year must be a year (YYYY)`);
  const known = new Set(SECTIONS.map((s) => s.name));
  const only = names(values.only);
  const skip = names(values.skip);
  for (const n of [...only, ...skip]) if (!known.has(n)) throw new UsageError(`unknown section '${n}' (sections: ${[...known].join(', ')})`);
  const chosen = SECTIONS.filter((s) => (only.length === 0 || only.includes(s.name)) && !skip.includes(s.name));
  if (chosen.length === 0) throw new UsageError('no section left to run');

  const benchDir = path.resolve(process.env.TM_BENCH_DIR || path.join(repoRoot, '.tm', 'bench'));
  await mkdir(benchDir, { recursive: true });
  const pgUrl = process.env.TM_PG_URL || DEFAULT_PG_URL;
  if (!process.env.TM_PG_URL) log(`TM_PG_URL not set: using ${DEFAULT_PG_URL}`);
  await preflight(pgUrl);

  const started = new Date();
  const host = {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    memory_bytes: os.totalmem(),
    loadavg_start: os.loadavg(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  const tm = await tmVersion();
  log(`tm: commit ${tm.commit.slice(0, 10)}${tm.dirty ? `, ${tm.dirty} files changed or added in src/, models/, macros/ or the project/profile files (uncommitted: figures are for the working tree)` : ''}`);
  log(`tm bench: sections ${chosen.map((s) => s.name).join(', ')}; repeat ${repeat}; ${host.cpus} CPUs, ${mib(host.memory_bytes)} RAM, load ${host.loadavg_start.map((x) => x.toFixed(2)).join(' ')}; bench dir ${benchDir}`);
  const busyNote = (when: string, load: number) =>
    load > host.cpus * 0.5 ? `machine was busy ${when} (1-min load ${load.toFixed(2)} on ${host.cpus} CPUs): other processes share the CPUs, figures are noisy` : undefined;

  let datasetPromise: Promise<Dataset> | undefined;
  const projectDir = await prepareProjectCopy(repoRoot, path.join(benchDir, 'project'));
  const ctx: BenchContext = {
    repoRoot,
    projectDir,
    benchDir,
    pgUrl,
    repeat,
    runTag: `tmbench_${Date.now().toString(36)}_${process.pid}`,
    keepSchemas: values['keep-schemas'] ?? false,
    verifyRows: values.verify ?? false,
    options: { 's3-year': values['s3-year'], 's3-full': values['s3-full'], 'dashboards-schema': values['dashboards-schema'], quick: values.quick, 'soak-minutes': values['soak-minutes'] },
    dataset() {
      datasetPromise ??= ensureDataset({ benchDir, dataDir: values.data, regenerate: values.regenerate, log });
      return datasetPromise;
    },
    log,
  };

  const results: Record<string, (SectionResult & { seconds: number }) | { error: string; seconds: number }> = {};
  const report: string[] = [];
  let failed = false;
  for (const section of chosen) {
    const t0 = performance.now();
    log(`== section ${section.name}: ${section.title}`);
    const loadBefore = os.loadavg()[0];
    try {
      const r = await section.run(ctx);
      const notes = [...r.notes];
      const busy = busyNote(`during section ${section.name}`, Math.max(loadBefore, os.loadavg()[0]));
      if (busy) notes.push(busy);
      results[section.name] = { ...r, notes, seconds: (performance.now() - t0) / 1000 };
      report.push('', `=== ${section.name}: ${section.title}`, ...r.table.map((l) => (l ? `  ${l}` : '')));
      for (const t of r.targets) report.push(`  ${fmtTarget(t)}`);
      for (const n of notes) report.push(`  note: ${n}`);
      for (const p of r.problems) report.push(`  !!!!! ${p}`);
      for (const e of r.errors ?? []) report.push(`  FAILED: ${e.split('\n').join('\n          ')}`);
      if (r.errors?.length) failed = true;
    } catch (err) {
      failed = true;
      const message = err instanceof TmRunError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
      results[section.name] = { error: message, seconds: (performance.now() - t0) / 1000 };
      report.push('', `=== ${section.name}: FAILED`, `  ${message.split('\n').join('\n  ')}`);
    }
    (globalThis as { gc?: () => void }).gc?.();
  }

  // Whatever a failed section left behind (tm also derives `<schema>_tm_audit`, `<schema>__tm_state`).
  if (!ctx.keepSchemas) await dropSchemaFamilies(pgUrl, [ctx.runTag]).catch((err: unknown) => log(`cleanup of ${ctx.runTag}_* schemas failed: ${String(err)}`));
  const dataset = datasetPromise ? await datasetPromise.catch(() => undefined) : undefined;
  const out = {
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    argv: process.argv.slice(2),
    host: { ...host, loadavg_end: os.loadavg() },
    tm,
    pg_url: pgUrl.replace(/\/\/[^@/]*@/, '//***@'),
    repeat,
    dataset: dataset && {
      dir: dataset.dir, key: dataset.key, generated_now: dataset.generated, generate_seconds: dataset.generateSeconds,
      generator: dataset.generator, files: dataset.files.length, bytes: dataset.bytes,
    },
    sections: results,
  };
  const resultsFile = path.join(benchDir, 'results.json');
  await writeFile(resultsFile, JSON.stringify(out, null, 2) + '\n');

  console.log(report.join('\n'));
  const allTargets = Object.values(results).flatMap((r) => ('targets' in r ? r.targets : []));
  const allProblems = Object.values(results).flatMap((r) => ('problems' in r ? r.problems : []));
  console.log('');
  console.log(`results: ${resultsFile}`);
  if (allProblems.length) console.log(`!!!!! ${allProblems.length} consistency problem(s) between builds: see above`);
  if (failed) return 1;
  if (values.strict && (allProblems.length > 0 || allTargets.some((t) => !t.pass))) return 1;
  return 0;
}

class UsageError extends Error {}

/** The commit measured, and how many project files differ from it (the working tree is what runs). */
async function tmVersion(): Promise<{ commit: string; dirty: number }> {
  const head = await runChild('git', ['rev-parse', 'HEAD'], { cwd: repoRoot }).catch(() => undefined);
  const status = await runChild('git', ['status', '--porcelain', '--', 'src', 'models', 'macros', 'project.yml', 'profiles.yml'], { cwd: repoRoot }).catch(() => undefined);
  return {
    commit: head?.code === 0 ? head.stdout.trim() : 'unknown',
    dirty: status?.code === 0 ? status.stdout.split('\n').filter((l) => l.trim()).length : 0,
  };
}

/** The real PostgreSQL is reachable and psql is on PATH. */
async function preflight(pgUrl: string): Promise<void> {
  try {
    await withPg(pgUrl, (c) => c.query('SELECT 1'));
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at ${pgUrl.replace(/\/\/[^@/]*@/, '//***@')} (set TM_PG_URL): ${(err as Error).message}`);
  }
  const r = await runChild('psql', ['--version']).catch(() => undefined);
  if (!r || r.code !== 0) throw new Error('psql is not on PATH (the floor build loads with psql \\copy)');
  if (!existsSync(path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is missing: run through `npm run bench` (it builds first)');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
