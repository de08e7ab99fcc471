import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { TmError } from '../core/errors.js';
import { pausePoint } from '../core/pause-point.js';
import { quoteIdent } from '../core/sql-quote.js';
import { checkCopiedRows } from './copy-check.js';
import { SESSION_SETTINGS_SQL } from '../core/session-settings.js';
import { ensurePrivateDir, tightenTree } from '../core/file-modes.js';
import { lockPgliteFolder } from './pglite-lock.js';
import type { Target, TargetSession } from './target.js';

/** Same rule as the PostgreSQL target: dates, timestamps, numerics and int8 come back as strings. */
const passThrough = (value: string) => value;
const parsers = { 1082: passThrough, 1114: passThrough, 1184: passThrough, 1700: passThrough, 20: passThrough, 1083: passThrough, 1266: passThrough };

export interface PgliteTargetOptions {
  readonly name: string;
  /** Data directory (absolute). */
  readonly dataDir: string;
  readonly schema: string;
  /** The run's scratch folder (default: a folder of its own under the temp folder). */
  readonly scratchDir?: string;
}

/**
 * PGlite: real PostgreSQL in process. One connection, so sessions take turns (a FIFO of waiters),
 * and CSV arrives through `/dev/blob` from files DuckDB wrote in bounded chunks.
 */
export async function openPgliteTarget(options: PgliteTargetOptions): Promise<Target> {
  await mkdir(path.dirname(options.dataDir), { recursive: true });
  // One process at a time (PGlite has no lock of its own): a second one gets an error naming the first.
  const folderLock = lockPgliteFolder(options.dataDir);
  let db: PGlite;
  try {
    // PGlite writes its files 0666 (Emscripten's modes): the folder is 0700 and its files 0600, whatever made them.
    ensurePrivateDir(options.dataDir);
    tightenTree(options.dataDir);
    db = await PGlite.create(options.dataDir, { parsers });
    await db.exec(SESSION_SETTINGS_SQL);
  } catch (err) {
    folderLock.release();
    throw new TmError(`cannot open the PGlite database at ${options.dataDir}: ${(err as Error).message}`, 2, { cause: err });
  }
  let busy: Promise<void> = Promise.resolve();
  const tmp = options.scratchDir ? await mkdtemp(path.join(options.scratchDir, 'pglite-')) : await mkdtemp(path.join(os.tmpdir(), 'tm-pglite-'));
  let seq = 0;
  return {
    kind: 'pglite',
    name: options.name,
    database: 'postgres',
    schema: options.schema,
    label: `pglite:${options.dataDir}`,
    maxSessions: 1,
    sharedByProcesses: false,
    scratchDir: options.scratchDir,
    async acquire() {
      let release!: () => void;
      const previous = busy;
      busy = new Promise<void>((resolve) => (release = resolve));
      await previous;
      await db.exec(`SET search_path TO ${quoteIdent(options.schema)}, public`);
      const session: TargetSession = {
        async query<R>(sql: string, params?: readonly unknown[]) {
          const result = await db.query<R>(sql, params as unknown[] | undefined);
          return result.rows;
        },
        async exec(sql) {
          await db.exec(sql);
        },
        async copyCsvIn(table, columns, write, copyOptions) {
          // DuckDB writes the CSV in chunks of bounded size; each chunk goes in as one blob.
          const dir = path.join(tmp, `in-${seq++}`);
          const written = await write(dir, true);
          const cols = columns.map(quoteIdent).join(', ');
          let rows = 0;
          try {
            const files = (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort();
            if (copyOptions?.model) await pausePoint('during-copy', copyOptions.model);
            for (const f of files) {
              const blob = new Blob([await readFile(path.join(dir, f))]);
              const result = await db.query(`COPY ${table} (${cols}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob });
              rows += result.affectedRows ?? 0;
            }
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
          return checkCopiedRows(written, rows, table, copyOptions?.model);
        },
        async copyCsvOut(query, file) {
          const result = await db.query(`COPY (${query}) TO '/dev/blob' WITH (FORMAT csv, HEADER)`);
          const blob = (result as { blob?: Blob }).blob;
          await writeFile(file, blob ? Buffer.from(await blob.arrayBuffer()) : '');
          return result.affectedRows ?? 0;
        },
        async release() {
          release();
        },
      };
      return session;
    },
    async close() {
      await busy;
      try {
        await db.close();
      } finally {
        await rm(tmp, { recursive: true, force: true });
        try {
          tightenTree(options.dataDir);
        } finally {
          folderLock.release();
        }
      }
    },
  };
}

