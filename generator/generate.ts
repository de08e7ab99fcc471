/**
 * TripClick-like curated click stream generator (batch mode).
 *
 * The JS side plans days (event counts with growth, weekly and holiday pattern, click
 * bursts, replay incidents); DuckDB expands the plan into a numeric event table with
 * hash-based pseudo-randomness (`hash(hash(seed, ...))`), so a seed reproduces the same
 * rows in the same files. Strings (session ids, URLs, titles, areas, keywords) are pure
 * functions of numeric keys (catalog.ts) computed while writing: chunks of whole day
 * folders go through single-threaded `COPY ... PARTITION_BY` into a hidden staging
 * folder, then each file is renamed into place (atomic per file).
 *
 * Layout: `<out>/event_date=YYYY-MM-DD/part-00000.parquet` (the day's main file; more
 * parts when a day holds more than `maxRowsPerFile` rows), `late-0000.parquet` (late
 * events of that day, written "later"), `replay-0000.parquet` (replayed copies).
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  H,
  catalogSetupSql,
  N,
  U,
  dedupKeySql,
  docAttributeSql,
  docBaseHashSql,
  docCoreColumnsSql,
  docDerivedColumnsSql,
  docHashColumnsSql,
  docIdForRankSql,
  docRankSql,
  keywordsSql,
  queryBaseHashSql,
  queryCoreColumnsSql,
  queryDerivedColumnsSql,
  queryHashColumnsSql,
  queryRankSql,
  sessionIdSql,
} from './catalog.js';
import { PARQUET_COPY_OPTIONS, sqlString } from './parquet-writer.js';
import { unit } from './random.js';

export { generateLive, type LiveOptions, type LiveResult } from './live.js';

export interface GenerateOptions {
  /** Output root (the curated-stream `<root>`). */
  out: string;
  /** First day, 'YYYY-MM-DD' (default: `days` days before 2020-11-01, or the preset's). */
  startDate?: string;
  /** Number of days (default 30). */
  days?: number;
  /** Mean events per day (default 2000); traffic grows ~15%/year over long ranges. */
  eventsPerDay?: number;
  /** Exact number of distinct events (overrides eventsPerDay; used by the preset). */
  totalEvents?: number;
  /** Seed (non-negative integer, default 42). */
  seed?: number;
  /** Share of events written into a separate `late-XXXX.parquet` of their day (default 0.01). */
  lateFraction?: number;
  /** Approximate share of events replayed into `replay-XXXX.parquet` files (default 0.005). */
  duplicateFraction?: number;
  /** Mean click bursts per day (default 0.2). */
  burstsPerDay?: number;
  /** Share of contract-breaking rows (default 0.001). */
  invalidFraction?: number;
  /** Mean clicks per session of ordinary sessions (default 3.3). */
  clicksPerSession?: number;
  /** `tripclick`: 2013-01-01..2020-10-31, 5,272,064 events. */
  preset?: 'tripclick';
  /** Multiplies the number of events (same days, `scale` times the traffic), e.g. 10 for a 10x stream. */
  scale?: number;
  /** Delete the contents of a non-empty `out` first (default: refuse). */
  force?: boolean;
  /** Largest number of rows per file before a day's main file is split (default 1,000,000). */
  maxRowsPerFile?: number;
  /** Parallel chunk writers, each on one DuckDB thread (default: cores, 2..4). */
  concurrency?: number;
  /** Rows per written chunk of whole day folders (tuning and tests; default: automatic, <= 150,000). */
  chunkRows?: number;
  /** Progress messages (phases), e.g. for a verbose CLI. */
  onProgress?: (message: string) => void;
}

export interface GenerateResult {
  /** Parquet files written. */
  files: number;
  /** Distinct generated events (each written once in a main or late file). */
  events: number;
  /** Day folders written. */
  days: number;
  /** Rows written, replayed copies included. */
  rows: number;
  /** Ordinary sessions plus burst sessions. */
  sessions: number;
  lateEvents: number;
  duplicateRows: number;
  invalidRows: number;
  bursts: number;
  firstDate: string;
  lastDate: string;
}

export const TRIPCLICK_PRESET = {
  startDate: '2013-01-01',
  days: 2861, // 2013-01-01 .. 2020-10-31
  totalEvents: 5_272_064,
  clicksPerSession: 5_272_064 / 1_602_648,
} as const;

export const DEFAULTS = {
  days: 30,
  eventsPerDay: 2000,
  seed: 42,
  lateFraction: 0.01,
  duplicateFraction: 0.005,
  burstsPerDay: 0.2,
  invalidFraction: 0.001,
  clicksPerSession: 3.3,
  maxRowsPerFile: 1_000_000,
  /** One single-threaded writer per core, 2..4. */
  concurrency: Math.max(2, Math.min(4, os.availableParallelism())),
} as const;

/** Default end of generated data: the day after TripClick's last day. */
export const DEFAULT_END_EXCLUSIVE = '2020-11-01';

const DAY_MS = 86_400_000;
const DAY_US = 86_400_000_000n;
/** Traffic growth per year (about x3 over the 7.8 TripClick years). */
const GROWTH_PER_YEAR = Math.log(3) / 7.83;

export interface ResolvedOptions {
  out: string;
  startDate: string;
  days: number;
  totalEvents: number;
  seed: number;
  lateFraction: number;
  duplicateFraction: number;
  burstsPerDay: number;
  invalidFraction: number;
  clicksPerSession: number;
  maxRowsPerFile: number;
  concurrency: number;
  force: boolean;
}

export class GeneratorOptionError extends Error {}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function parseIsoDate(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new GeneratorOptionError(`date ${JSON.stringify(value)} is not YYYY-MM-DD`);
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(ms) || isoDate(ms) !== value) throw new GeneratorOptionError(`date ${JSON.stringify(value)} does not exist`);
  return ms;
}

function checkFraction(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new GeneratorOptionError(`${name} must be a number in [0, 1], got ${value}`);
  return value;
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new GeneratorOptionError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/** Applies defaults and the preset, and validates. */
export function resolveOptions(options: GenerateOptions): ResolvedOptions {
  if (!options.out) throw new GeneratorOptionError('out is required');
  let days = options.days;
  let startDate = options.startDate;
  let totalEvents = options.totalEvents;
  let clicksPerSession = options.clicksPerSession;
  if (options.preset !== undefined) {
    if (options.preset !== 'tripclick') throw new GeneratorOptionError(`unknown preset ${JSON.stringify(options.preset)} (known: tripclick)`);
    days ??= TRIPCLICK_PRESET.days;
    startDate ??= TRIPCLICK_PRESET.startDate;
    if (totalEvents === undefined && options.eventsPerDay === undefined) totalEvents = TRIPCLICK_PRESET.totalEvents;
    clicksPerSession ??= TRIPCLICK_PRESET.clicksPerSession;
  }
  days = checkInt('days', days ?? DEFAULTS.days, 1, 40_000);
  if (startDate === undefined) startDate = isoDate(parseIsoDate(DEFAULT_END_EXCLUSIVE) - days * DAY_MS);
  parseIsoDate(startDate);
  if (totalEvents === undefined) {
    const epd = options.eventsPerDay ?? DEFAULTS.eventsPerDay;
    if (!Number.isFinite(epd) || epd < 0 || epd > 50_000_000) throw new GeneratorOptionError(`eventsPerDay must be in [0, 50000000], got ${epd}`);
    totalEvents = Math.round(epd * days);
  }
  if (options.scale !== undefined) {
    if (!Number.isFinite(options.scale) || options.scale <= 0 || options.scale > 1000) throw new GeneratorOptionError(`scale must be in (0, 1000], got ${options.scale}`);
    totalEvents = Math.round(totalEvents * options.scale);
  }
  checkInt('totalEvents', totalEvents, 0, 2_000_000_000);
  const seed = checkInt('seed', options.seed ?? DEFAULTS.seed, 0, Number.MAX_SAFE_INTEGER);
  const burstsPerDay = options.burstsPerDay ?? DEFAULTS.burstsPerDay;
  if (!Number.isFinite(burstsPerDay) || burstsPerDay < 0 || burstsPerDay > 100) {
    throw new GeneratorOptionError(`burstsPerDay must be in [0, 100], got ${burstsPerDay}`);
  }
  clicksPerSession ??= DEFAULTS.clicksPerSession;
  if (!Number.isFinite(clicksPerSession) || clicksPerSession < 1 || clicksPerSession > 1000) {
    throw new GeneratorOptionError(`clicksPerSession must be in [1, 1000], got ${clicksPerSession}`);
  }
  return {
    out: path.resolve(options.out),
    startDate,
    days,
    totalEvents,
    seed,
    lateFraction: checkFraction('lateFraction', options.lateFraction ?? DEFAULTS.lateFraction),
    duplicateFraction: checkFraction('duplicateFraction', options.duplicateFraction ?? DEFAULTS.duplicateFraction),
    burstsPerDay,
    invalidFraction: checkFraction('invalidFraction', options.invalidFraction ?? DEFAULTS.invalidFraction),
    clicksPerSession,
    maxRowsPerFile: checkInt('maxRowsPerFile', options.maxRowsPerFile ?? DEFAULTS.maxRowsPerFile, 1, 100_000_000),
    concurrency: checkInt('concurrency', options.concurrency ?? DEFAULTS.concurrency, 1, 16),
    force: options.force ?? false,
  };
}

export interface BurstPlan {
  clicks: number;
  startUs: bigint;
  durUs: bigint;
}

export interface DayPlan {
  d: number;
  date: string;
  dayStartUs: bigint;
  /** Events of the day: ordinary plus burst clicks. */
  total: number;
  /** Ordinary (non-burst) events. */
  regular: number;
  /** Global number of the day's first event. */
  offset: number;
  bursts: BurstPlan[];
  replay: { startUs: bigint; endUs: bigint } | null;
}

const DOW_FACTOR = [0.68, 1.06, 1.08, 1.07, 1.04, 0.95, 0.62]; // Sun..Sat

function dayWeight(seed: number, d: number, ms: number): number {
  const date = new Date(ms);
  const month = date.getUTCMonth() + 1;
  const dom = date.getUTCDate();
  let w = Math.exp((GROWTH_PER_YEAR * d) / 365.25) * DOW_FACTOR[date.getUTCDay()];
  if ((month === 12 && dom === 25) || (month === 1 && dom === 1)) w *= 0.35;
  else if (month === 12 && (dom === 24 || dom === 26 || dom === 31)) w *= 0.55;
  else if (month === 12 && dom >= 27) w *= 0.75;
  else if (month === 8) w *= 0.9;
  w *= 0.88 + 0.24 * unit(seed, d, 1);
  if (unit(seed, d, 2) < 1 / 400) w *= 0.3; // an outage day
  return w;
}

/** Per-day plan (deterministic for the options). */
export function planDays(o: ResolvedOptions): DayPlan[] {
  const startMs = parseIsoDate(o.startDate);
  const weights: number[] = [];
  for (let d = 0; d < o.days; d++) weights.push(dayWeight(o.seed, d, startMs + d * DAY_MS));
  const sum = weights.reduce((a, b) => a + b, 0);
  const plans: DayPlan[] = [];
  let cum = 0;
  let prevRounded = 0;
  for (let d = 0; d < o.days; d++) {
    cum += weights[d];
    const rounded = d === o.days - 1 ? o.totalEvents : Math.round((o.totalEvents * cum) / sum);
    const ms = startMs + d * DAY_MS;
    plans.push({
      d,
      date: isoDate(ms),
      dayStartUs: BigInt(ms) * 1000n,
      total: rounded - prevRounded,
      regular: rounded - prevRounded,
      offset: prevRounded,
      bursts: [],
      replay: null,
    });
    prevRounded = rounded;
  }

  // Click bursts: 50-150 clicks in 2-4 minutes (< 100 clicks) or 2-6 minutes (>= 100 clicks),
  // so that every burst has >= 50 clicks in some minute-aligned 5-minute window.
  const makeBurst = (d: number, k: number): BurstPlan => {
    const clicks = 50 + Math.floor(unit(o.seed, d, 30, k) * 101);
    const durS = clicks < 100 ? 120 + unit(o.seed, d, 31, k) * 120 : 120 + unit(o.seed, d, 31, k) * 240;
    const startS = unit(o.seed, d, 32, k) * (86_400 - durS - 1);
    return { clicks, startUs: plans[d].dayStartUs + BigInt(Math.floor(startS * 1e6)), durUs: BigInt(Math.floor(durS * 1e6)) };
  };
  let burstCount = 0;
  if (o.burstsPerDay > 0) {
    const whole = Math.floor(o.burstsPerDay);
    const frac = o.burstsPerDay - whole;
    for (const p of plans) {
      const n = whole + (unit(o.seed, p.d, 3) < frac ? 1 : 0);
      for (let k = 0; k < n; k++) {
        const b = makeBurst(p.d, k);
        if (p.regular - b.clicks < p.total * 0.4) break; // keep the day mostly ordinary traffic
        p.bursts.push(b);
        p.regular -= b.clicks;
        burstCount++;
      }
    }
    if (burstCount === 0 && o.totalEvents >= 5000) {
      // at least one burst overall: on the busiest day (may exceed a tiny day's count)
      const p = plans.reduce((best, cur) => (cur.total > best.total ? cur : best));
      const b = makeBurst(p.d, 0);
      p.bursts.push(b);
      if (b.clicks <= p.regular) {
        p.regular -= b.clicks;
      } else {
        p.total += b.clicks - p.regular;
        p.regular = 0;
      }
      burstCount++;
    }
  }
  // keep offsets consistent if a forced burst grew a day
  let off = 0;
  for (const p of plans) {
    p.offset = off;
    off += p.total;
  }

  // Replay incidents: on a share q of days, every event of a window of that day is replayed.
  if (o.duplicateFraction > 0) {
    const q = Math.min(1, Math.max(0.25, o.duplicateFraction));
    const lenS = Math.min(86_400, (o.duplicateFraction / q) * 86_400);
    const incident = (p: DayPlan) => {
      const startS = unit(o.seed, p.d, 41) * (86_400 - lenS);
      const startUs = p.dayStartUs + BigInt(Math.floor(startS * 1e6));
      p.replay = { startUs, endUs: startUs + BigInt(Math.ceil(lenS * 1e6)) };
    };
    let any = false;
    for (const p of plans) {
      if (unit(o.seed, p.d, 40) < q) {
        incident(p);
        any = true;
      }
    }
    if (!any) incident(plans[Math.floor(unit(o.seed, 42) * plans.length)]);
  }
  return plans;
}

/** Safety net for `force`: never wipe a filesystem root, the home folder or the cwd (or its parents). */
function assertSafeToWipe(dir: string): void {
  const resolved = path.resolve(dir);
  const cwd = process.cwd();
  if (resolved === path.parse(resolved).root || resolved === os.homedir() || cwd === resolved || cwd.startsWith(resolved + path.sep)) {
    throw new GeneratorOptionError(`refusing to delete the contents of ${resolved}`);
  }
}

/** Ensures `out` is an empty (or new) folder; with `force`, deletes its contents. */
export async function prepareOutDir(out: string, force: boolean): Promise<void> {
  let entries: string[] = [];
  try {
    const st = await stat(out);
    if (!st.isDirectory()) throw new GeneratorOptionError(`--out ${out} exists and is not a folder`);
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (entries.length > 0) {
    if (!force) throw new GeneratorOptionError(`--out ${out} already holds data (${entries.length} entries); use --force to replace it`);
    assertSafeToWipe(out);
    await Promise.all(entries.map((e) => rm(path.join(out, e), { recursive: true, force: true })));
  }
  await mkdir(out, { recursive: true });
}

export async function loadPlan(conn: DuckDBConnection, plans: DayPlan[], o: ResolvedOptions): Promise<void> {
  await conn.run(
    'CREATE TABLE days (d INTEGER, day_start_us BIGINT, n_reg INTEGER, n_sess INTEGER, off BIGINT, rep_start_us BIGINT, rep_end_us BIGINT)',
  );
  await conn.run('CREATE TABLE bursts (d INTEGER, k INTEGER, i0 INTEGER, clicks INTEGER, start_us BIGINT, dur_us BIGINT)');
  const days = await conn.createAppender('days');
  const bursts = await conn.createAppender('bursts');
  for (const p of plans) {
    days.appendInteger(p.d);
    days.appendBigInt(p.dayStartUs);
    days.appendInteger(p.regular);
    // candidate sessions: comfortably more than needed; the last kept one absorbs any rest
    days.appendInteger(p.regular === 0 ? 0 : Math.ceil((p.regular / o.clicksPerSession) * 1.3) + 30);
    days.appendBigInt(BigInt(p.offset));
    if (p.replay) {
      days.appendBigInt(p.replay.startUs);
      days.appendBigInt(p.replay.endUs);
    } else {
      days.appendNull();
      days.appendNull();
    }
    days.endRow();
    let i0 = p.regular;
    p.bursts.forEach((b, k) => {
      bursts.appendInteger(p.d);
      bursts.appendInteger(k);
      bursts.appendInteger(i0);
      bursts.appendInteger(b.clicks);
      bursts.appendBigInt(b.startUs);
      bursts.appendBigInt(b.durUs);
      bursts.endRow();
      i0 += b.clicks;
    });
  }
  days.closeSync();
  bursts.closeSync();
}

/** Uniform in [0,1) from a 64-bit hash column and a small salt (one extra hash). */
function UX(col: string, salt: number): string {
  return `((hash(xor(${col}, ${salt}::UBIGINT)) >> 11)::DOUBLE / 9007199254740992.0)`;
}

/** Session sizes: P(1 click) = p1, else 2 + geometric; mean = clicksPerSession. */
function sessionSizeSql(m: number, u1: string, u2: string): string {
  const p1 = m >= 1.6 ? 0.4 : Math.min(1, 2 - m);
  if (p1 >= 1) return '1';
  const mu = (m - p1) / (1 - p1) - 2; // mean of the geometric part
  if (mu <= 1e-9) return `(CASE WHEN ${u1} < ${p1} THEN 1 ELSE 2 END)`;
  const q = 1 / (1 + mu);
  return `(CASE WHEN ${u1} < ${p1} THEN 1 ELSE 2 + LEAST(100000, floor(ln(1.0 - ${u2}) / ${Math.log(1 - q)}))::INTEGER END)`;
}

/**
 * SQL that builds the per-event skeleton table `ev` (numbers only; strings come later):
 * folder (UTC date of the true event time), fkind (0 main file, 1 late file), rep
 * (replayed), ikind (0 valid, 1-6 invalid kind), g (global event number), session and
 * event hashes, time, query rank, document id.
 */
export function eventsSql(o: ResolvedOptions, endUs: bigint): string {
  const seed = `${o.seed}::BIGINT`;
  // Session start (seconds into the day): Europe-heavy working hours, an Americas peak, a flat rest.
  const z = `((${UX('sk', 2)} + ${UX('sk', 3)} + ${UX('sk', 4)} + ${UX('sk', 5)} - 2.0) * 1.7320508)`;
  const mix = UX('sk', 1);
  const rawStart = `(CASE WHEN ${mix} < 0.55 THEN 41400.0 + 10080.0 * ${z} WHEN ${mix} < 0.80 THEN 61200.0 + 10800.0 * ${z} ELSE ${UX('sk', 6)} * 86400.0 END)`;
  const startUs = `floor((${rawStart} - 86400.0 * floor(${rawStart} / 86400.0)) * 1e6)::BIGINT`;
  const gapUs = `(exp(2.4849 + ${UX('sk', 7)} * 3.2189) * 1e6)`; // 12 s .. 300 s between clicks
  const week = `(day_start_us // 604800000000)`;
  const doc =
    `CASE WHEN ${UX('ek', 2)} < 0.05 THEN ${docIdForRankSql(N(3000, seed, 41, week, `floor(${UX('ek', 3)} * 12)::INTEGER`))} ` +
    `ELSE ${docIdForRankSql(docRankSql(UX('ek', 4), UX('ek', 3)))} END`;
  const clamp = (ts: string) => `LEAST(${ts}, ${endUs}::BIGINT - 1 - (ek % 600000000)::BIGINT)`;
  const flags = `
    (CASE WHEN src = 0 AND ${UX('ek', 6)} < ${o.invalidFraction} THEN 1 + (hash(xor(ek, 7::UBIGINT)) % 6)::INTEGER ELSE 0 END)::TINYINT AS ikind,
    (CASE WHEN ${UX('ek', 5)} < ${o.lateFraction} THEN 1 ELSE 0 END)::TINYINT AS fkind,
    (rep_start_us IS NOT NULL AND ts_us >= rep_start_us AND ts_us < rep_end_us) AS rep`;
  return `
CREATE TABLE ev AS
WITH s0 AS (
  SELECT d, off, day_start_us, n_reg, n_sess, rep_start_us, rep_end_us, unnest(range(n_sess::BIGINT))::INTEGER AS k FROM days
), s1 AS (
  SELECT *, ${H(seed, 21, 'd', 'k')} AS sk FROM s0
), s2 AS (
  SELECT *, ${sessionSizeSql(o.clicksPerSession, UX('sk', 9), UX('sk', 10))} AS size0 FROM s1
), s3 AS (
  SELECT *, coalesce(sum(size0) OVER (PARTITION BY d ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::BIGINT AS before
  FROM s2
), sess AS (
  SELECT d, off, day_start_us, rep_start_us, rep_end_us, sk, before,
         (CASE WHEN k = n_sess - 1 THEN n_reg - before ELSE LEAST(size0, n_reg - before) END)::BIGINT AS size,
         day_start_us + ${startUs} AS start_us, ${gapUs} AS gap_us,
         ([1, 1, 2, 2, 3, 4])[1 + (hash(xor(sk, 11::UBIGINT)) % 6)::INTEGER] AS cpq
  FROM s3 WHERE before < n_reg
), reg AS (
  SELECT d, off + before + pos AS g, sk, pos, start_us, gap_us, cpq, day_start_us, rep_start_us, rep_end_us,
         ${H(seed, 31, 'off + before + pos')} AS ek
  FROM (SELECT *, unnest(range(size))::INTEGER AS pos FROM sess)
), reg2 AS (
  SELECT 0::TINYINT AS src, g, sk, ek,
         ${clamp(`start_us + floor(pos * gap_us)::BIGINT + floor(${UX('ek', 1)} * 0.9 * gap_us)::BIGINT`)} AS ts_us,
         ${queryRankSql(U('sk', 8, 'pos // cpq'))} AS qrank,
         ${doc} AS doc_id, rep_start_us, rep_end_us
  FROM reg
), bur AS (
  SELECT b.d, dd.off + b.i0 + b.j AS g, ${H(seed, 22, 'b.d', 'b.k')} AS sk, b.j::INTEGER AS pos,
         dd.day_start_us, dd.rep_start_us, dd.rep_end_us, b.start_us, b.dur_us, b.clicks, ${H(seed, 31, 'dd.off + b.i0 + b.j')} AS ek
  FROM (SELECT *, unnest(range(clicks::BIGINT)) AS j FROM bursts) b JOIN days dd ON dd.d = b.d
), bur2 AS (
  SELECT 1::TINYINT AS src, g, sk, ek,
         ${clamp(`start_us + (dur_us * pos) // clicks + floor(${UX('ek', 1)} * 0.9 * dur_us / clicks)::BIGINT`)} AS ts_us,
         ${queryRankSql(U('sk', 8, 'pos // 40'))} AS qrank,
         ${doc} AS doc_id, rep_start_us, rep_end_us
  FROM bur
), allev AS (
  SELECT * FROM reg2 UNION ALL SELECT * FROM bur2
)
SELECT make_timestamp(ts_us)::DATE AS folder, ${flags}, src, g, sk, ek, ts_us, qrank, doc_id
FROM allev`;
}

/**
 * SELECT producing the written rows of the `ev` events whose folder is in
 * [fromDate, toDate], replayed copies included: `event_date` and `fname` (the partition
 * columns: folder and file name without extension), then the file columns. Rows come out
 * in file order (folder, kind, event time, g); with one thread that order is kept.
 */
export function chunkRowsSql(fromDate: string, toDate: string, maxRowsPerFile: number): string {
  const doc = docAttributeSql('doc_id');
  const sid = sessionIdSql('s1', 's2');
  const shiftUs = `((CASE WHEN kh % 2 = 0 THEN 1 ELSE -1 END) * (1 + (kh >> 8) % 3)::BIGINT * 86400000000)`;
  const range = `folder BETWEEN DATE '${fromDate}' AND DATE '${toDate}'`;
  const part = `((prn - 1) // ${maxRowsPerFile})::VARCHAR`;
  const fname =
    `CASE fkind WHEN 0 THEN '${KIND_PREFIX[0]}' || lpad(${part}, ${KIND_DIGITS[0]}, '0') ` +
    `WHEN 1 THEN '${KIND_PREFIX[1]}' || lpad(${part}, ${KIND_DIGITS[1]}, '0') ELSE '${KIND_PREFIX[2]}' || lpad(${part}, ${KIND_DIGITS[2]}, '0') END`;
  return `
SELECT event_date, fname,
  CASE WHEN ikind = 1 THEN NULL ELSE ${dedupKeySql('kh', 'g')} END AS dedup_key,
  CASE WHEN ikind = 4 THEN NULL WHEN ikind = 6 THEN make_timestamp(ts_us + ${shiftUs}) ELSE make_timestamp(ts_us) END AS event_ts,
  CASE WHEN ikind = 2 THEN NULL WHEN ikind = 5 THEN sid || '-' || printf('%016x%016x', s1, kh) ELSE sid END AS session_id,
  CASE WHEN ikind = 3 THEN NULL ELSE doc_id END AS document_id,
  url, title, doi, clinical_areas, keywords
FROM (
  SELECT event_date, fname, g, ts_us, doc_id, ikind, kh, s1, ${sid} AS sid,
         ${doc.url} AS url, ${doc.title} AS title, ${doc.doi} AS doi, ${doc.clinicalAreas} AS clinical_areas,
         ${keywordsSql('qrank')} AS keywords
  FROM (
   SELECT *, ${docCoreColumnsSql()}, ${queryCoreColumnsSql()}
   FROM (
    SELECT *, ${docDerivedColumnsSql()}, ${queryDerivedColumnsSql('qrank')}
    FROM (
      SELECT *, ${docHashColumnsSql()}, ${queryHashColumnsSql()}
      FROM (
        SELECT folder AS event_date, ${fname} AS fname, g, ts_us, doc_id, qrank, ikind, hash(xor(ek, 201::UBIGINT)) AS kh,
               hash(xor(sk, 101::UBIGINT)) AS s1, hash(xor(sk, 102::UBIGINT)) AS s2,
               ${docBaseHashSql('doc_id')}, ${queryBaseHashSql('qrank')}
        FROM (
          SELECT row_number() OVER (PARTITION BY folder, fkind ORDER BY ts_us, g) AS prn, *
          FROM (
            SELECT folder, fkind, g, ts_us, doc_id, qrank, ikind, ek, sk FROM ev WHERE ${range}
            UNION ALL
            SELECT folder, 2::TINYINT AS fkind, g, ts_us, doc_id, qrank, ikind, ek, sk FROM ev WHERE ${range} AND rep
          )
        )
        ORDER BY folder, fkind, ts_us, g
      )
    )
   )
  )
)`;
}

interface FileTask {
  folder: string;
  /** File name without `.parquet`. */
  fname: string;
}

const KIND_PREFIX = ['part-', 'late-', 'replay-'];
const KIND_DIGITS = [5, 4, 4];
/** Rows per chunk of whole day folders; each chunk is one single-threaded partitioned COPY. */
const CHUNK_ROWS = 150_000;

/**
 * Generates a curated click stream into `options.out`. Deterministic: the same seed and
 * options give the same files with the same rows in the same order.
 *
 * Events are expanded in parallel into a numeric table; then chunks of whole day folders
 * are written by `COPY ... PARTITION_BY (event_date, fname)` into a hidden staging
 * folder and renamed into place (atomic per file). Each COPY runs on one thread (DuckDB
 * `threads=1`, which keeps the row order and the file split deterministic); two
 * connections write two chunks at a time.
 */
export async function generateStream(options: GenerateOptions): Promise<GenerateResult> {
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const progress = (m: string) => {
    if (!options.onProgress) return;
    const cpu = process.cpuUsage(cpu0);
    options.onProgress(`${((Date.now() - t0) / 1000).toFixed(1)}s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)}s) ${m}`);
  };
  const o = resolveOptions(options);
  await prepareOutDir(o.out, o.force);
  const plans = planDays(o);
  const endUs = plans[plans.length - 1].dayStartUs + DAY_US;

  const tmpDir = path.join(os.tmpdir(), `tm-generator-${process.pid}-${Date.now()}`);
  const staging = path.join(o.out, `.tm-generator-staging-${process.pid}`);
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(Math.max(2, Math.min(8, os.availableParallelism()))),
    memory_limit: '1200MB',
    temp_directory: tmpDir,
    preserve_insertion_order: 'true',
  });
  const conns: DuckDBConnection[] = [];
  const connect = async () => {
    const c = await instance.connect();
    conns.push(c);
    await c.run("SET TimeZone='UTC'");
    for (const sql of catalogSetupSql()) await c.run(sql);
    return c;
  };
  try {
    const conn = await connect();
    progress(`planning ${o.days} days, ${o.totalEvents} events`);
    await loadPlan(conn, plans, o);
    progress('expanding events');
    await conn.run(eventsSql(o, endUs));

    const stats = (
      await conn.runAndReadAll(`
        SELECT count(*), count(*) FILTER (WHERE fkind = 1), count(*) FILTER (WHERE rep), count(*) FILTER (WHERE ikind > 0),
               count(DISTINCT folder), count(DISTINCT sk) FILTER (WHERE src = 0)
        FROM ev`)
    ).getRows()[0].map((v) => Number(v));
    const groups = (
      await conn.runAndReadAll(`
        SELECT strftime(folder, '%Y-%m-%d') AS f, fkind, count(*) FROM ev GROUP BY folder, fkind
        UNION ALL
        SELECT strftime(folder, '%Y-%m-%d'), 2, count(*) FROM ev WHERE rep GROUP BY folder
        ORDER BY 1, 2`)
    ).getRows();
    const folderRows = new Map<string, number>();
    const folderTasks = new Map<string, FileTask[]>();
    let files = 0;
    for (const [folder, fkind, count] of groups) {
      const kind = Number(fkind);
      const n = Number(count);
      const f = String(folder);
      folderRows.set(f, (folderRows.get(f) ?? 0) + n);
      if (!folderTasks.has(f)) folderTasks.set(f, []);
      for (let part = 0; part * o.maxRowsPerFile < n; part++) {
        folderTasks.get(f)!.push({ folder: f, fname: `${KIND_PREFIX[kind]}${String(part).padStart(KIND_DIGITS[kind], '0')}` });
        files++;
      }
    }
    const folders = [...folderRows.keys()];
    const chunks: { from: string; to: string; tasks: FileTask[] }[] = [];
    const chunkRows = options.chunkRows ?? Math.max(20_000, Math.min(CHUNK_ROWS, Math.ceil(o.totalEvents / (o.concurrency * 3))));
    let rowsInChunk = 0;
    for (const f of folders) {
      const n = folderRows.get(f)!;
      let cur = chunks[chunks.length - 1];
      if (cur && rowsInChunk + n <= chunkRows) {
        cur.to = f;
        rowsInChunk += n;
      } else {
        cur = { from: f, to: f, tasks: [] };
        chunks.push(cur);
        rowsInChunk = n;
      }
      cur.tasks.push(...folderTasks.get(f)!);
    }

    progress(`writing ${files} files in ${chunks.length} chunks`);
    await conn.run('SET threads = 1');
    const writers: DuckDBConnection[] = [conn];
    while (writers.length < o.concurrency) writers.push(await connect());
    await Promise.all(folders.map((f) => mkdir(path.join(o.out, `event_date=${f}`), { recursive: true })));
    await mkdir(staging, { recursive: true });

    const writeChunk = async (c: DuckDBConnection, n: number) => {
      const chunk = chunks[n];
      const dir = path.join(staging, `c${n}`);
      await c.run(
        `COPY (${chunkRowsSql(chunk.from, chunk.to, o.maxRowsPerFile)}) TO ${sqlString(dir)} ` +
          `(${PARQUET_COPY_OPTIONS}, PARTITION_BY (event_date, fname), FILE_EXTENSION 'tmp')`,
      );
      for (const t of chunk.tasks) {
        const partDir = path.join(dir, `event_date=${t.folder}`, `fname=${t.fname}`);
        const written = await readdir(partDir);
        if (written.length !== 1) throw new Error(`generator: expected one file in ${partDir}, found ${written.join(', ')}`);
        await rename(path.join(partDir, written[0]), path.join(o.out, `event_date=${t.folder}`, `${t.fname}.parquet`));
      }
      await rm(dir, { recursive: true, force: true });
    };
    let next = 0;
    let done = 0;
    await Promise.all(
      writers.map(async (c) => {
        while (next < chunks.length) {
          const n = next++;
          await writeChunk(c, n);
          done++;
          if (done % 10 === 0 || done === chunks.length) progress(`${done}/${chunks.length} chunks written`);
        }
      }),
    );

    const [events, lateEvents, duplicateRows, invalidRows, dayCount, regularSessions] = stats;
    const bursts = plans.reduce((n, p) => n + p.bursts.length, 0);
    return {
      files,
      events,
      days: dayCount,
      rows: events + duplicateRows,
      sessions: regularSessions + bursts,
      lateEvents,
      duplicateRows,
      invalidRows,
      bursts,
      firstDate: folders[0] ?? o.startDate,
      lastDate: folders[folders.length - 1] ?? o.startDate,
    };
  } finally {
    for (const c of conns) c.closeSync();
    instance.closeSync();
    await rm(tmpDir, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
  }
}
