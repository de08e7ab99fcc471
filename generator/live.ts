/**
 * Live mode: writes a small curated-stream file every few seconds with event times near
 * the wall clock, for watching the hot marts move. Adds late events (1-12 minutes old,
 * sometimes ~30 minutes, written into their own day's folder), replayed duplicates and
 * click bursts that continue over several files. Runs until SIGINT/SIGTERM, an abort
 * signal, or `durationSec`; the file in progress is always finished.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  catalogSetupSql,
  docAttributeSql,
  docBaseHashSql,
  docCoreColumnsSql,
  docDerivedColumnsSql,
  docHashColumnsSql,
  docIdForRank,
  docRank,
  keywordsSql,
  queryBaseHashSql,
  queryCoreColumnsSql,
  queryDerivedColumnsSql,
  queryHashColumnsSql,
  queryRank,
  sessionIdFromRandom,
} from './catalog.js';
import { PARQUET_COPY_OPTIONS, connectUtc, dayFolder, sqlString } from './parquet-writer.js';
import { hash32, mulberry32 } from './random.js';

export interface LiveOptions {
  out: string;
  /** Seconds between files (default 3). */
  intervalSec?: number;
  /** Stop after this many seconds (default: run until SIGINT/SIGTERM or `signal`). */
  durationSec?: number;
  /** Seed of the pseudo-random choices (default 42); dedup keys are always fresh random. */
  seed?: number;
  /** Mean ordinary clicks per second (default 5). */
  eventsPerSec?: number;
  /** Share of events that arrive 1-12 minutes late (default 0.03; 1 in 10 of them ~30 minutes). */
  lateFraction?: number;
  /** Chance per file of replaying a few recent events (default 0.1). */
  replayChance?: number;
  /** Mean seconds between click bursts (default 240). */
  burstEverySec?: number;
  /** Stops the loop (after the current file). */
  signal?: AbortSignal;
  /** One line per file written (default: console.log). */
  log?: (line: string) => void;
  /** Install SIGINT/SIGTERM handlers that stop the loop (default true). */
  handleSignals?: boolean;
  /** Run the clock this many times faster than real time (tests, demos; default 1). */
  speed?: number;
}

export interface LiveResult {
  files: number;
  rows: number;
  ticks: number;
}

interface LiveEvent {
  dedupKey: string;
  tsUs: bigint;
  sessionId: string;
  docId: number;
  qrank: number;
}

interface Session {
  id: string;
  nextUs: number;
  gapUs: number;
  remaining: number;
  clicksPerQuery: number;
  pos: number;
  querySeed: number;
  burst: boolean;
  burstClickUs?: number[];
}

function isoDay(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString().slice(0, 10);
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

let liveCounter = 0;

/** Mean clicks of an ordinary live session (0.42 x 1 + 0.58 x (2 + 3.3)). */
const MEAN_SESSION_CLICKS = 3.5;

/** Documents and queries prepared once per run (their strings computed in one query). */
const POOL_SIZE = 20_000;
/** Popularity ranks below this are the candidates of the "hot" documents. */
const HOT_RANKS = 3000;

/** SQL building `<table>_docs` and `<table>_queries` (strings) from `<table>_pool_docs/_pool_queries`. */
function poolStringsSql(table: string): string[] {
  const doc = docAttributeSql('doc_id');
  return [
    `CREATE OR REPLACE TABLE ${table}_docs AS
     SELECT doc_id, ${doc.url} AS url, ${doc.title} AS title, ${doc.doi} AS doi, ${doc.clinicalAreas} AS clinical_areas
     FROM (SELECT *, ${docCoreColumnsSql()} FROM (SELECT *, ${docDerivedColumnsSql()} FROM (SELECT *, ${docHashColumnsSql()} FROM (
       SELECT doc_id, ${docBaseHashSql('doc_id')} FROM ${table}_pool_docs))))`,
    `CREATE OR REPLACE TABLE ${table}_queries AS
     SELECT qrank, ${keywordsSql('qrank')} AS keywords
     FROM (SELECT *, ${queryCoreColumnsSql()} FROM (SELECT *, ${queryDerivedColumnsSql('qrank')} FROM (SELECT *, ${queryHashColumnsSql()} FROM (
       SELECT qrank, ${queryBaseHashSql('qrank')} FROM ${table}_pool_queries))))`,
  ];
}

/** SELECT producing file rows from the live skeleton table for one day folder (parameter $1). */
function liveSelectSql(table: string): string {
  return `
SELECT r.dedup_key, make_timestamp(r.ts_us) AS event_ts, r.session_id, r.doc_id AS document_id,
       d.url, d.title, d.doi, d.clinical_areas, q.keywords
FROM ${table} r JOIN ${table}_docs d ON d.doc_id = r.doc_id JOIN ${table}_queries q ON q.qrank = r.qrank
WHERE r.day = $1
ORDER BY r.rn`;
}

function poisson(rand: () => number, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * (rand() + rand() + rand() - 1.5) * 2));
  const l = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > l) {
    k++;
    p *= rand();
  }
  return k;
}

/** Runs live mode; resolves when stopped. */
export async function generateLive(options: LiveOptions): Promise<LiveResult> {
  const intervalSec = options.intervalSec ?? 3;
  if (!(intervalSec > 0) || intervalSec > 3600) throw new Error(`intervalSec must be in (0, 3600], got ${intervalSec}`);
  const durationSec = options.durationSec;
  if (durationSec !== undefined && !(durationSec >= 0)) throw new Error(`durationSec must be >= 0, got ${durationSec}`);
  const eventsPerSec = options.eventsPerSec ?? 5;
  const lateFraction = options.lateFraction ?? 0.03;
  const replayChance = options.replayChance ?? 0.1;
  const burstEverySec = options.burstEverySec ?? 240;
  const seed = options.seed ?? 42;
  const log = options.log ?? ((line: string) => console.log(line));
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`);
  let realStart = Date.now();
  const now = () => realStart + (Date.now() - realStart) * speed;
  const out = path.resolve(options.out);
  const rand = mulberry32(hash32(seed, now() % 2147483647));

  const conn: DuckDBConnection = await connectUtc();
  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  if (options.signal) {
    if (options.signal.aborted) stopping = true;
    options.signal.addEventListener('abort', stop, { once: true });
  }

  const sessions: Session[] = [];
  const recent: LiveEvent[] = [];
  let startMs = 0;
  let lastUs = 0;
  const newSession = (firstUs: number): Session => ({
    id: sessionIdFromRandom(rand),
    nextUs: firstUs,
    gapUs: Math.exp(Math.log(12) + rand() * Math.log(25)) * 1e6,
    remaining: rand() < 0.42 ? 1 : 2 + Math.floor(-Math.log(1 - rand()) * 3.3),
    clicksPerQuery: [1, 1, 2, 2, 3, 4][Math.floor(rand() * 6)],
    pos: 0,
    querySeed: Math.floor(rand() * 2 ** 31),
    burst: false,
  });
  let files = 0;
  let rows = 0;
  let ticks = 0;
  const table = `tm_live_${process.pid}_${++liveCounter}`;
  const tmpFile = path.join(out, `.tm-live-${process.pid}-${liveCounter}.parquet.tmp`);
  try {
    for (const sql of catalogSetupSql()) await conn.run(sql);
    await mkdir(out, { recursive: true });
    await conn.run(
      `CREATE OR REPLACE TABLE ${table} (rn INTEGER, day VARCHAR, dedup_key VARCHAR, ts_us BIGINT, session_id VARCHAR, doc_id INTEGER, qrank BIGINT)`,
    );
    // pools of documents (popularity-weighted, with repeats; plus all hot candidates) and queries
    const docPicks = Array.from({ length: POOL_SIZE }, () => docIdForRank(docRank(rand(), rand())));
    const queryPicks = Array.from({ length: POOL_SIZE }, () => queryRank(rand()));
    const hotIds = Array.from({ length: HOT_RANKS }, (_, r) => docIdForRank(r));
    await conn.run(`CREATE OR REPLACE TABLE ${table}_pool_docs (doc_id INTEGER)`);
    await conn.run(`CREATE OR REPLACE TABLE ${table}_pool_queries (qrank BIGINT)`);
    const pd = await conn.createAppender(`${table}_pool_docs`);
    for (const id of new Set([...docPicks, ...hotIds])) {
      pd.appendInteger(id);
      pd.endRow();
    }
    pd.closeSync();
    const pq = await conn.createAppender(`${table}_pool_queries`);
    for (const q of new Set(queryPicks)) {
      pq.appendBigInt(BigInt(q));
      pq.endRow();
    }
    pq.closeSync();
    for (const sql of poolStringsSql(table)) await conn.run(sql);
    const copy = await conn.prepare(`COPY (${liveSelectSql(table)}) TO ${sqlString(tmpFile)} (${PARQUET_COPY_OPTIONS})`);
    // the clock starts once the setup is done
    realStart = Date.now();
    startMs = realStart;
    lastUs = startMs * 1000 - intervalSec * 1e6;
    // warm-up: the sessions of the last 30 minutes are already under way (their past clicks are not written)
    const warmUs = 30 * 60e6;
    const warm = poisson(rand, (eventsPerSec * warmUs) / 1e6 / MEAN_SESSION_CLICKS);
    for (let k = 0; k < warm; k++) {
      const s = newSession(lastUs - rand() * warmUs);
      while (s.remaining > 0 && s.nextUs <= lastUs) {
        s.pos++;
        s.remaining--;
        s.nextUs += s.gapUs * (0.5 + rand());
      }
      if (s.remaining > 0) sessions.push(s);
    }
    while (!stopping) {
      const due = startMs + (ticks + 1) * intervalSec * 1000;
      if (durationSec !== undefined && due > startMs + durationSec * 1000 + 1) break;
      const wait = due - now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait / speed);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (stopping) break;
      }
      ticks++;
      // real time at speed 1; a logical clock (one interval per file) when sped up
      const tickMs = speed === 1 ? now() : due;
      const nowUs = tickMs * 1000;
      const events: LiveEvent[] = [];
      const period = Math.floor(tickMs / 1_200_000); // the "hot" documents change every 20 minutes
      const pickDoc = () =>
        rand() < 0.12 ? docIdForRank(hash32(seed, period, Math.floor(rand() * 10)) % HOT_RANKS) : docPicks[Math.floor(rand() * docPicks.length)];
      const clickOf = (s: Session, tsUs: number): LiveEvent => {
        const qi = Math.floor(s.pos / s.clicksPerQuery);
        s.pos++;
        return {
          dedupKey: randomBytes(16).toString('hex'),
          tsUs: BigInt(Math.floor(tsUs)),
          sessionId: s.id,
          docId: pickDoc(),
          qrank: queryPicks[hash32(s.querySeed, qi) % queryPicks.length],
        };
      };

      // new ordinary sessions (~3.5 clicks each), first click inside this interval
      const newSessions = poisson(rand, (eventsPerSec * (nowUs - lastUs)) / 1e6 / MEAN_SESSION_CLICKS);
      for (let k = 0; k < newSessions; k++) sessions.push(newSession(lastUs + rand() * (nowUs - lastUs)));
      // an occasional burst: 50-150 clicks in 2-6 minutes, spread over many files
      if (rand() < (nowUs - lastUs) / 1e6 / burstEverySec) {
        const clicks = 50 + Math.floor(rand() * 101);
        const durUs = (clicks < 100 ? 120 + rand() * 120 : 120 + rand() * 240) * 1e6;
        const startUs = lastUs + rand() * (nowUs - lastUs);
        const times = Array.from({ length: clicks }, (_, j) => startUs + (durUs * j) / clicks + rand() * 0.9 * (durUs / clicks));
        sessions.push({
          id: sessionIdFromRandom(rand),
          nextUs: times[0],
          gapUs: 0,
          remaining: clicks,
          clicksPerQuery: 40,
          pos: 0,
          querySeed: Math.floor(rand() * 2 ** 31),
          burst: true,
          burstClickUs: times,
        });
      }
      // clicks that fall due in (lastUs, nowUs]
      for (const s of sessions) {
        while (s.remaining > 0 && s.nextUs <= nowUs) {
          const ev = clickOf(s, s.nextUs);
          s.remaining--;
          if (s.burst) s.nextUs = s.burstClickUs![s.pos] ?? Number.POSITIVE_INFINITY;
          else s.nextUs += s.gapUs * (0.5 + rand());
          if (!s.burst && rand() < lateFraction) {
            // arrives late: 1-12 minutes old, 1 in 10 about 30 minutes old
            const lagUs = rand() < 0.1 ? (25 + rand() * 10) * 60e6 : (1 + rand() * 11) * 60e6;
            ev.tsUs = BigInt(Math.floor(nowUs - lagUs));
          }
          events.push(ev);
        }
      }
      for (let k = sessions.length - 1; k >= 0; k--) if (sessions[k].remaining <= 0) sessions.splice(k, 1);
      // an occasional replay of a few recent events (same dedup_key, same content)
      if (recent.length > 0 && rand() < replayChance) {
        const n = 1 + Math.floor(rand() * Math.min(20, recent.length));
        const from = Math.floor(rand() * (recent.length - n + 1));
        events.push(...recent.slice(from, from + n).map((e) => ({ ...e })));
      }
      for (const e of events) recent.push(e);
      if (recent.length > 2000) recent.splice(0, recent.length - 2000);
      lastUs = nowUs;

      // one file per day folder touched (late events of yesterday land in yesterday's folder)
      const byDay = new Map<string, LiveEvent[]>();
      for (const e of events) {
        const day = isoDay(e.tsUs);
        if (!byDay.has(day)) byDay.set(day, []);
        byDay.get(day)!.push(e);
      }
      if (byDay.size === 0) continue;
      await conn.run(`DELETE FROM ${table}`);
      const appender = await conn.createAppender(table);
      events.forEach((e, rn) => {
        appender.appendInteger(rn);
        appender.appendVarchar(isoDay(e.tsUs));
        appender.appendVarchar(e.dedupKey);
        appender.appendBigInt(e.tsUs);
        appender.appendVarchar(e.sessionId);
        appender.appendInteger(e.docId);
        appender.appendBigInt(BigInt(e.qrank));
        appender.endRow();
      });
      appender.closeSync();
      for (const [day, dayEvents] of [...byDay.entries()].sort()) {
        files++;
        const folder = dayFolder(out, day);
        const file = path.join(folder, `live-${stamp(tickMs)}-${String(files).padStart(6, '0')}.parquet`);
        await mkdir(folder, { recursive: true });
        // the prepared COPY writes a hidden temp file in <out>; a rename publishes it atomically
        copy.bindVarchar(1, day);
        try {
          await copy.run();
          await rename(tmpFile, file);
        } catch (err) {
          await rm(tmpFile, { force: true });
          throw err;
        }
        rows += dayEvents.length;
        log(`${file} ${dayEvents.length} rows`);
      }
    }
  } finally {
    if (handleSignals) {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    options.signal?.removeEventListener('abort', stop);
    try {
      for (const t of ['', '_docs', '_queries', '_pool_docs', '_pool_queries']) await conn.run(`DROP TABLE IF EXISTS ${table}${t}`);
    } finally {
      conn.closeSync();
    }
  }
  return { files, rows, ticks };
}
