/**
 * Writes curated-stream Parquet files (the `tm` source contract, spec/marts.md section 1)
 * with DuckDB. Used by the generator's live mode and by tests that craft fixtures:
 * it writes exactly the rows it is given, NULLs, duplicates and odd values included.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** One row of a curated-stream file. `event_date` is not a column: it is the Hive folder. */
export interface EventRow {
  dedup_key: string | null;
  /** UTC wall time 'YYYY-MM-DD HH:MM:SS[.ffffff]' ('T' separator and a trailing 'Z' are accepted). */
  event_ts: string | null;
  session_id: string | null;
  document_id: number | null;
  /** Optional string columns default to '' when omitted (undefined); pass null for a NULL. */
  url?: string | null;
  title?: string | null;
  doi?: string | null;
  clinical_areas?: string | null;
  keywords?: string | null;
}

/** Column order and Parquet/DuckDB types of a curated-stream file. */
export const EVENT_COLUMNS = [
  ['dedup_key', 'VARCHAR'],
  ['event_ts', 'TIMESTAMP'],
  ['session_id', 'VARCHAR'],
  ['document_id', 'INTEGER'],
  ['url', 'VARCHAR'],
  ['title', 'VARCHAR'],
  ['doi', 'VARCHAR'],
  ['clinical_areas', 'VARCHAR'],
  ['keywords', 'VARCHAR'],
] as const;

/** Parquet COPY options used for every generated file. */
export const PARQUET_COPY_OPTIONS = 'FORMAT parquet, COMPRESSION zstd';

let sharedInstance: Promise<DuckDBInstance> | undefined;
let tableCounter = 0;

/** A process-wide in-memory DuckDB instance (UTC pinned on every connection handed out). */
export async function getSharedDuckDB(): Promise<DuckDBInstance> {
  if (!sharedInstance) {
    sharedInstance = DuckDBInstance.create(':memory:', { threads: '2' }).catch((err: unknown) => {
      sharedInstance = undefined;
      throw err;
    });
  }
  return sharedInstance;
}

/** A new connection to the shared instance with `TimeZone='UTC'`. Caller closes it. */
export async function connectUtc(instance?: DuckDBInstance): Promise<DuckDBConnection> {
  const inst = instance ?? (await getSharedDuckDB());
  const conn = await inst.connect();
  await conn.run("SET TimeZone='UTC'");
  return conn;
}

/** SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const TS_RE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(?:Z|[+-]00(?::?00)?)?$/;

/** Normalises an EventRow timestamp to 'YYYY-MM-DD HH:MM:SS[.ffffff]' or throws. */
export function normaliseTimestamp(value: string): string {
  const m = TS_RE.exec(value.trim());
  if (!m) {
    throw new Error(`event_ts ${JSON.stringify(value)} is not 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC)`);
  }
  return `${m[1]} ${m[2]}`;
}

function appendText(appender: { appendVarchar(v: string): void; appendNull(): void }, value: string | null | undefined): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value ?? '');
}

/**
 * Writes `rows` (in the given order) to the Parquet file `file` with the curated-stream
 * schema: dedup_key VARCHAR, event_ts TIMESTAMP (µs, UTC, no time zone), session_id
 * VARCHAR, document_id INTEGER, url, title, doi, clinical_areas, keywords VARCHAR.
 * The file is written directly; see `writeDayFile` for an atomic write into a day folder.
 */
export async function writeEventsParquet(file: string, rows: readonly EventRow[]): Promise<void> {
  // Validate before touching DuckDB so a bad row never leaves a half-written file.
  const tsValues = rows.map((row, index) => {
    if (row.document_id !== null && row.document_id !== undefined) {
      if (!Number.isInteger(row.document_id) || row.document_id < -2147483648 || row.document_id > 2147483647) {
        throw new Error(`row ${index}: document_id ${row.document_id} is not a 32-bit integer`);
      }
    }
    return row.event_ts === null || row.event_ts === undefined ? null : normaliseTimestamp(row.event_ts);
  });

  const conn = await connectUtc();
  const table = `tm_gen_rows_${process.pid}_${++tableCounter}`;
  try {
    await conn.run(
      `CREATE TABLE ${table} (rn INTEGER, dedup_key VARCHAR, event_ts VARCHAR, session_id VARCHAR, document_id INTEGER, ` +
        `url VARCHAR, title VARCHAR, doi VARCHAR, clinical_areas VARCHAR, keywords VARCHAR)`,
    );
    const appender = await conn.createAppender(table);
    try {
      rows.forEach((row, index) => {
        appender.appendInteger(index);
        appendText(appender, row.dedup_key ?? null);
        appendText(appender, tsValues[index]);
        appendText(appender, row.session_id ?? null);
        if (row.document_id === null || row.document_id === undefined) appender.appendNull();
        else appender.appendInteger(row.document_id);
        appendText(appender, row.url);
        appendText(appender, row.title);
        appendText(appender, row.doi);
        appendText(appender, row.clinical_areas);
        appendText(appender, row.keywords);
        appender.endRow();
      });
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await conn.run(
      `COPY (SELECT dedup_key, CAST(event_ts AS TIMESTAMP) AS event_ts, session_id, document_id, url, title, doi, ` +
        `clinical_areas, keywords FROM ${table} ORDER BY rn) TO ${sqlString(file)} (${PARQUET_COPY_OPTIONS})`,
    );
  } finally {
    try {
      await conn.run(`DROP TABLE IF EXISTS ${table}`);
    } finally {
      conn.closeSync();
    }
  }
}

/** `<root>/event_date=<eventDate>` */
export function dayFolder(root: string, eventDate: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(eventDate) ? Date.parse(`${eventDate}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== eventDate) {
    throw new Error(`event date ${JSON.stringify(eventDate)} is not a YYYY-MM-DD date`);
  }
  return path.join(root, `event_date=${eventDate}`);
}

/**
 * Runs `write(tmpPath)` and renames the result to `finalPath` (same folder, so the rename
 * is atomic): readers never see a half-written `.parquet` file.
 */
export async function writeAtomically(finalPath: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(finalPath);
  const tmp = path.join(dir, `.${path.basename(finalPath)}.tmp`);
  await mkdir(dir, { recursive: true });
  try {
    await write(tmp);
    await rename(tmp, finalPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes `rows` to `<root>/event_date=<eventDate>/<fileName>` atomically (a hidden
 * `.<fileName>.tmp` in the same folder, then a rename). Returns the final path.
 */
export async function writeDayFile(root: string, eventDate: string, fileName: string, rows: readonly EventRow[]): Promise<string> {
  if (fileName.includes('/') || fileName.includes('\\') || fileName.startsWith('.')) {
    throw new Error(`file name ${JSON.stringify(fileName)} must be a plain, non-hidden name`);
  }
  const finalPath = path.join(dayFolder(root, eventDate), fileName);
  await writeAtomically(finalPath, (tmp) => writeEventsParquet(tmp, rows));
  return finalPath;
}
