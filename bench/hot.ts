/**
 * Section `hot`: the hot tier's cost per cycle when one new file arrives, on the TripClick-scale
 * stream, with 3 days and with 8 years of partition folders behind it:
 *  - in the `--every` loop: the cycle runner `tm run --every` uses, in this process, timed per cycle;
 *  - as a fresh `tm run --select hot` process (node start included), spawn to exit;
 *  - freshness: `tm run --select hot --every 5s`, `--every 1s` and `--watch` as child processes while files
 *    keep arriving; the time from a file's rename into the folder to its minute's row being readable in
 *    PostgreSQL; and the CPU each loop uses per idle minute (no file arriving), from /proc.
 * Every new file holds 50 events of one minute that no file had before (the minutes after the data's end);
 * the 48 hours before them hold a small file per minute, as the upstream writes them.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectUtc, PARQUET_COPY_OPTIONS, writeDayFile, type EventRow } from '../generator/parquet-writer.js';
import type { Dataset } from './dataset.js';
import { cleanEnv, freshSchema, runChild, withPg } from './proc.js';
import type { BenchContext, BenchSection, SectionResult, TargetCheck } from './types.js';

const execFileAsync = promisify(execFile);

const LOOP_CYCLES = 20;
const FRESH_PROCESSES = 7;
const FRESHNESS_FILES = 12;
const EVENTS_PER_FILE = 50;
const WINDOW_HOURS = 48;

interface Variant {
  readonly name: string;
  /** Partition folders linked from the dataset (the last `days`, or all). */
  readonly days?: number;
}

const VARIANTS: readonly Variant[] = [{ name: '3 days', days: 3 }, { name: '8 years' }];

interface VariantFigures {
  readonly variant: string;
  readonly folders: number;
  readonly files: number;
  readonly firstRunSeconds: number;
  readonly loopMs: readonly number[];
  readonly freshMs: readonly number[];
  readonly freshnessMs?: readonly number[];
  /** Per loop mode: freshness of each file (ms) and CPU seconds per idle minute. */
  readonly loops?: readonly LoopFigures[];
}

interface LoopFigures {
  readonly mode: string;
  readonly freshnessMs: readonly number[];
  readonly idleCpuSecondsPerMinute: number;
}

/** The loops compared: polling at two periods, and woken by files (with its 30 s safety-net listing). */
const LOOP_MODES: readonly { readonly mode: string; readonly args: readonly string[] }[] = [
  { mode: '--every 5s', args: ['--every', '5s'] },
  { mode: '--every 1s', args: ['--every', '1s'] },
  { mode: '--watch', args: ['--watch', '--every', '30s'] },
];
const IDLE_SECONDS = 30;

export const hotSection: BenchSection = {
  name: 'hot',
  title: 'hot tier: one new file per cycle, in the --every loop and as a fresh process; freshness; 3 days vs 8 years of folders',
  async run(ctx) {
    const data = await ctx.dataset();
    const figures: VariantFigures[] = [];
    const errors: string[] = [];
    for (const variant of VARIANTS) {
      try {
        figures.push(await measureVariant(ctx, data, variant, variant.days === undefined));
      } catch (err) {
        errors.push(`${variant.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return summarize(figures, errors);
  },
};

async function measureVariant(ctx: BenchContext, data: Dataset, variant: Variant, withFreshness: boolean): Promise<VariantFigures> {
  const tag = variant.days === undefined ? 'all' : `${variant.days}d`;
  const dir = path.join(ctx.benchDir, `hot-${tag}`);
  const schema = `${ctx.runTag}_hot_${tag}`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const folders = (await readdir(data.dir)).filter((f) => f.startsWith('event_date=')).sort();
  const linked = variant.days === undefined ? folders : folders.slice(-variant.days);
  // Hard links: the folders are real (tm lists real folders), the file contents are not copied.
  await execFileAsync('cp', ['-al', ...linked.map((f) => path.join(data.dir, f)), dir]);
  await freshSchema(ctx.pgUrl, schema);
  const lastDay = linked[linked.length - 1].slice('event_date='.length);
  const newDay = new Date(Date.parse(`${lastDay}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  // Far enough after the new files' events that none is "in the future".
  const now = `${newDay}T12:00:00Z`;
  // The stream's recent past as the upstream writes it: a small file per minute for the 48 hours before the
  // new files (the hot window), so that a cycle faces thousands of files in the partitions it reads.
  const windowStart = Date.parse(`${newDay}T00:00:00Z`) - WINDOW_HOURS * 3_600_000;
  const t0 = performance.now();
  await writeWindowFiles(dir, windowStart);
  ctx.log(`hot ${variant.name}: wrote ${WINDOW_HOURS * 60} minute files of the last ${WINDOW_HOURS} h in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const env = { ...cleanEnv(), TM_CURATED_PATH: dir, TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schema, TM_PGLITE_PATH: path.join(dir, '.pglite') };
  const tmArgs = ['run', '--select', 'hot', '--target', 'prod', '--now', now, '--project-dir', ctx.projectDir];
  const linkedSet = new Set(linked);
  const files = data.files.filter((f) => linkedSet.has(f.rel.split('/')[0])).length + WINDOW_HOURS * 60;
  let minute = 0;
  const addFile = async () => writeMinuteFile(dir, newDay, minute++);

  ctx.log(`hot ${variant.name}: ${linked.length} folders, ${files} files; first run fills the marts and the source cache`);
  const first = await timedTm(ctx, tmArgs, env);
  // Warm up once with a new file (the first cycle after a run re-lists the folders and opens the cache).
  await addFile();
  await timedTm(ctx, tmArgs, env);

  ctx.log(`hot ${variant.name}: ${LOOP_CYCLES} cycles in the --every loop, one new file each`);
  const loopMs = await loopCycles(ctx, env, now, addFile);

  ctx.log(`hot ${variant.name}: ${FRESH_PROCESSES} fresh tm processes, one new file each`);
  const freshMs: number[] = [];
  for (let i = 0; i < FRESH_PROCESSES; i++) {
    await addFile();
    freshMs.push((await timedTm(ctx, tmArgs, env)) * 1000);
  }

  let freshnessMs: number[] | undefined;
  const loops: LoopFigures[] = [];
  if (withFreshness) {
    for (const { mode, args } of LOOP_MODES) {
      ctx.log(`hot ${variant.name}: freshness under tm run ${mode}, ${FRESHNESS_FILES} files about 2.7 s apart, then ${IDLE_SECONDS} s idle`);
      const measured = await measureFreshness(ctx, env, [...tmArgs, ...args], schema, newDay, () => minute++, dir);
      loops.push({ mode, ...measured });
      if (mode === '--every 5s') freshnessMs = measured.freshnessMs;
    }
  }
  if (!ctx.keepSchemas) await rm(dir, { recursive: true, force: true });
  return { variant: variant.name, folders: linked.length, files, firstRunSeconds: first, loopMs, freshMs, freshnessMs, loops };
}

/** One file per minute from `startMs` for WINDOW_HOURS, 2 events each, written by one DuckDB connection. */
async function writeWindowFiles(root: string, startMs: number): Promise<void> {
  const duck = await connectUtc();
  try {
    const minutes = WINDOW_HOURS * 60;
    await duck.run(`CREATE OR REPLACE TEMP TABLE window_events AS
      SELECT m, 'bench-window-' || m || '-' || i AS dedup_key,
             make_timestamp(${startMs * 1000}::BIGINT + m * 60000000 + i * 20000000) AS event_ts,
             'bench-window-s' || (m // 5) AS session_id, CAST(2000000 + (m * 13 + i) % 500 AS INTEGER) AS document_id,
             '' AS url, 'window document ' || ((m * 13 + i) % 500) AS title, '' AS doi, 'Cardiology' AS clinical_areas, '' AS keywords
      FROM range(${minutes}) r(m), range(2) k(i)`);
    for (let m = 0; m < minutes; m++) {
      const day = new Date(startMs + m * 60_000).toISOString().slice(0, 10);
      const folder = path.join(root, `event_date=${day}`);
      if (m === 0 || new Date(startMs + (m - 1) * 60_000).toISOString().slice(0, 10) !== day) await mkdir(folder, { recursive: true });
      const file = path.join(folder, `minute-${String(m).padStart(5, '0')}.parquet`);
      await duck.run(`COPY (SELECT * EXCLUDE (m) FROM window_events WHERE m = ${m}) TO '${file}' (${PARQUET_COPY_OPTIONS})`);
    }
  } finally {
    duck.closeSync();
  }
}

/** A file of EVENTS_PER_FILE events inside minute `m` of `day` (its own sessions, keys and documents). */
export async function writeMinuteFile(root: string, day: string, m: number): Promise<{ minute: string; path: string }> {
  const start = Date.parse(`${day}T00:00:00Z`) + m * 60_000;
  const rows: EventRow[] = Array.from({ length: EVENTS_PER_FILE }, (_, i) => ({
    dedup_key: `bench-hot-${day}-${m}-${i}`,
    event_ts: new Date(start + Math.floor((i * 59_000) / EVENTS_PER_FILE)).toISOString().replace('T', ' ').replace('Z', ''),
    session_id: `bench-hot-s${m}-${i % 10}`,
    document_id: 1_000_000 + ((m * 7 + i) % 300),
    title: `bench document ${(m * 7 + i) % 300}`,
    clinical_areas: i % 2 ? 'Cardiology, Oncology' : 'Primary Care',
  }));
  const minute = new Date(start).toISOString().replace('T', ' ').slice(0, 16) + ':00';
  return { minute, path: await writeDayFile(root, day, `bench-${String(m).padStart(5, '0')}.parquet`, rows) };
}

async function timedTm(ctx: BenchContext, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const r = await runChild(process.execPath, [path.join(ctx.repoRoot, 'bin', 'tm.js'), ...args], { env, cwd: ctx.repoRoot });
  if (r.code !== 0) throw new Error(`tm ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r.seconds;
}

/** Cycles of the runner `tm run --every` uses, in this process (the project parsed once, connections kept). */
async function loopCycles(ctx: BenchContext, env: NodeJS.ProcessEnv, now: string, addFile: () => Promise<unknown>): Promise<number[]> {
  const { openCycleRunner } = (await import(path.join(ctx.repoRoot, 'dist', 'src', 'api', 'cycle-runner.js'))) as typeof import('../src/api/cycle-runner.js');
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const runner = openCycleRunner({ projectDir: ctx.projectDir, target: 'prod', select: ['hot'], now, log: () => undefined });
  const ms: number[] = [];
  try {
    const warm = await runner.cycle();
    if (!warm.ok) throw new Error(`first loop cycle failed: ${warm.error ?? 'a model failed'}`);
    for (let i = 0; i < LOOP_CYCLES; i++) {
      await addFile();
      const c = await runner.cycle();
      if (!c.ok) throw new Error(`loop cycle ${i + 1} failed: ${c.error ?? 'a model failed'}`);
      ms.push(c.ms);
    }
  } finally {
    await runner.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  return ms;
}

/** `tm run --every 5s` in a child; files arrive every ~2.7 s; each file's minute is polled for in PostgreSQL. */
async function measureFreshness(
  ctx: BenchContext, env: NodeJS.ProcessEnv, args: readonly string[], schema: string, day: string, nextMinute: () => number, dir: string,
): Promise<{ freshnessMs: number[]; idleCpuSecondsPerMinute: number }> {
  const child = spawn(process.execPath, [path.join(ctx.repoRoot, 'bin', 'tm.js'), ...args], { env, cwd: ctx.repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const results: number[] = [];
  try {
    await withPg(ctx.pgUrl, async (pg) => {
      // Let the loop start and finish its first cycle.
      await sleep(3000);
      const pending: { minute: string; writtenAt: number }[] = [];
      const table = `"${schema}".mart_realtime_traffic_minute`;
      let nextWrite = Date.now();
      const deadline = Date.now() + FRESHNESS_FILES * 2700 + 30_000;
      let written = 0;
      while ((written < FRESHNESS_FILES || pending.length > 0) && Date.now() < deadline) {
        if (written < FRESHNESS_FILES && Date.now() >= nextWrite) {
          const f = await writeMinuteFile(dir, day, nextMinute());
          pending.push({ minute: f.minute, writtenAt: Date.now() });
          written++;
          nextWrite += 2700;
        }
        if (pending.length) {
          const { rows } = await pg.query<{ m: string }>(`SELECT to_char(event_minute, 'YYYY-MM-DD HH24:MI:SS') AS m FROM ${table} WHERE event_minute = ANY($1::timestamp[])`, [pending.map((p) => p.minute)]);
          const seen = new Set(rows.map((r) => r.m));
          for (let i = pending.length - 1; i >= 0; i--) {
            if (seen.has(pending[i].minute)) {
              results.push(Date.now() - pending[i].writtenAt);
              pending.splice(i, 1);
            }
          }
        }
        await sleep(100);
      }
      if (pending.length) throw new Error(`${pending.length} file(s) never became visible within 30 s; tm said: ${output.trim().split('\n').slice(-3).join(' | ')}`);
    });
    // Idle: no file arrives; what the loop costs is its CPU time (user + system) over the wait.
    await sleep(2000);
    const before = await cpuSeconds(child.pid!);
    await sleep(IDLE_SECONDS * 1000);
    const idle = ((await cpuSeconds(child.pid!)) - before) * (60 / IDLE_SECONDS);
    return { freshnessMs: results, idleCpuSecondsPerMinute: idle };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number((await execFileAsync('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  // Fields after the command: state is the first (index 0), utime and stime are the 12th and 13th.
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(figures: readonly VariantFigures[], errors: readonly string[]): SectionResult {
  const table: string[] = [
    'history          folders   files   first run   loop p50   loop p95   fresh process median   freshness p95',
  ];
  for (const f of figures) {
    const fresh = f.freshnessMs ? `${(percentile(f.freshnessMs, 95) / 1000).toFixed(2)} s` : '-';
    table.push(
      `${f.variant.padEnd(15)} ${String(f.folders).padStart(8)} ${String(f.files).padStart(7)} ${`${f.firstRunSeconds.toFixed(2)} s`.padStart(11)} ` +
        `${`${percentile(f.loopMs, 50).toFixed(0)} ms`.padStart(10)} ${`${percentile(f.loopMs, 95).toFixed(0)} ms`.padStart(10)} ` +
        `${`${percentile(f.freshMs, 50).toFixed(0)} ms`.padStart(22)} ${fresh.padStart(15)}`,
    );
  }
  const loops = figures.flatMap((f) => f.loops ?? []);
  if (loops.length) {
    table.push('', 'loop (8 years)   freshness p50   freshness p95   CPU per idle minute');
    for (const l of loops) {
      table.push(`${l.mode.padEnd(15)} ${`${(percentile(l.freshnessMs, 50) / 1000).toFixed(2)} s`.padStart(15)} ${`${(percentile(l.freshnessMs, 95) / 1000).toFixed(2)} s`.padStart(15)} ${`${l.idleCpuSecondsPerMinute.toFixed(2)} s`.padStart(21)}`);
    }
  }
  table.push('', `history: the dataset's last 3 days or all its folders, plus a file per minute for the last ${WINDOW_HOURS} h (${WINDOW_HOURS * 60} files)`);
  table.push(`loop: ${LOOP_CYCLES} cycles; fresh: ${FRESH_PROCESSES} processes; freshness: ${FRESHNESS_FILES} files under --every 5s (8 years only); ${EVENTS_PER_FILE} events per new file`);
  const long = figures.find((f) => f.variant === '8 years');
  const short = figures.find((f) => f.variant === '3 days');
  const targets: TargetCheck[] = [];
  const check = (name: string, value: number, limit: number, unit?: string) => targets.push({ name, value, limit, unit, pass: Number.isFinite(value) && value <= limit });
  if (long) {
    check('loop cycle p50 (8 years), ms', percentile(long.loopMs, 50), 200, 'ms');
    check('loop cycle p95 (8 years), ms', percentile(long.loopMs, 95), 1000, 'ms');
    check('fresh tm process median (8 years), ms', percentile(long.freshMs, 50), 1000, 'ms');
    if (long.freshnessMs) check('freshness p95 (8 years, --every 5s), ms', percentile(long.freshnessMs, 95), 10_000, 'ms');
    const watched = long.loops?.find((l) => l.mode === '--watch');
    if (watched) {
      check('freshness p95 (8 years, --watch), ms', percentile(watched.freshnessMs, 95), 500, 'ms');
      check('CPU per idle minute (8 years, --watch), s', watched.idleCpuSecondsPerMinute, 0.3, 's');
    }
  }
  // "Flat": the loop cycle with 8 years of folders behind it within 1.5x of the one with 3 days (tm's own bar).
  if (long && short) check('loop p50 8 years / 3 days', percentile(long.loopMs, 50) / percentile(short.loopMs, 50), 1.5);
  return {
    table,
    figures: { variants: figures, events_per_new_file: EVENTS_PER_FILE },
    targets,
    problems: [],
    notes: [],
    errors,
  };
}
