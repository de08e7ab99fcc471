import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { TmError } from '../core/errors.js';
import { throwIfCancelled } from '../core/cancel.js';
import { pausePoint } from '../core/pause-point.js';
import { quoteIdent } from '../core/sql-quote.js';
import { checkCopiedRows } from './copy-check.js';
import { SESSION_SETTINGS_SQL } from '../core/session-settings.js';
import { maskSecretsIn, maskUrl } from '../core/mask-url.js';
import type { DedicatedSession, Target, TargetSession } from './target.js';

/** Dates, timestamps, numerics and int8 stay strings: no driver may turn a TIMESTAMP into a local-time Date. */
const RAW_TYPES = new Set([1082, 1114, 1184, 1700, 20, 1083, 1266]);
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (RAW_TYPES.has(oid)) return (value: string) => value;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface PostgresTargetOptions {
  readonly name: string;
  readonly url: string;
  readonly schema: string;
  readonly maxSessions: number;
  /** `tm:<run id>`: lets a run find (and cancel) its own backends in pg_stat_activity. */
  readonly applicationName?: string;
  /** The run's scratch folder for COPY files (default: a folder of its own under the temp folder). */
  readonly scratchDir?: string;
}

/** Host, port and database of a URL, without user or password. */
export function describeUrl(url: string): { host: string; port: string; database: string } {
  const invalid = () => new TmError(`the PostgreSQL URL is not a valid URL (expected postgres://user@host:port/database): ${maskUrl(url)}`);
  // Without `//` there is no user info: `postgres:/user:pw@host/db` would be all path, password included.
  if (!/^postgres(ql)?:\/\//i.test(url)) throw invalid();
  try {
    const u = new URL(url);
    return { host: u.hostname || 'localhost', port: u.port || '5432', database: decodeURIComponent(u.pathname.slice(1)) || 'postgres' };
  } catch {
    throw invalid();
  }
}

function connectionError(err: unknown, label: string, url: string): TmError {
  const code = (err as { code?: string }).code;
  const reason =
    code === 'ECONNREFUSED' ? 'connection refused' :
    code === 'ENOTFOUND' ? 'host not found' :
    code === 'ETIMEDOUT' ? 'timed out' :
    code === '3D000' ? 'database does not exist' :
    code === '28P01' || code === '28000' ? 'authentication failed' :
    (err as Error).message;
  return new TmError(`cannot connect to PostgreSQL at ${label}: ${maskSecretsIn(reason, url)}`, 2, { cause: err });
}

export async function openPostgresTarget(options: PostgresTargetOptions): Promise<Target> {
  const where = describeUrl(options.url);
  const label = `${where.host}:${where.port}/${where.database}`;
  const clientConfig = {
    connectionString: options.url,
    types,
    application_name: options.applicationName ?? 'tm',
    connectionTimeoutMillis: 10_000,
    options: '-c TimeZone=UTC -c DateStyle=ISO',
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.maxSessions });
  pool.on('error', () => undefined); // an idle client lost: the next acquire reconnects
  const prepared = new WeakSet<pg.PoolClient>();
  let scratch: Promise<string> | undefined = options.scratchDir ? Promise.resolve(options.scratchDir) : undefined;
  let fileSeq = 0;
  const target: Target = {
    kind: 'postgres',
    name: options.name,
    database: where.database,
    schema: options.schema,
    label,
    maxSessions: options.maxSessions,
    sharedByProcesses: true,
    scratchDir: options.scratchDir,
    async acquire() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw connectionError(err, label, options.url);
      }
      let broken = false;
      const session: TargetSession = {
        async query<R>(sql: string, params?: readonly unknown[]) {
          // The extended protocol, as PGlite's query uses: exactly one statement (`exec` runs scripts).
          const config: pg.QueryConfig & { queryMode: 'extended' } = { text: sql, values: params as unknown[] | undefined, queryMode: 'extended' };
          const result = await client.query(config);
          return result.rows as R[];
        },
        async exec(sql) {
          await client.query(sql);
        },
        async copyCsvIn(table, columns, write, copyOptions) {
          // DuckDB writes the rows to a file, then COPY streams it in. Not a FIFO: a DuckDB worker thread
          // writing into a pipe waits as long as PostgreSQL parses (measured: a 5M-row load blocked one of two
          // threads for 18 s and slowed the next model's compute 4x); the file takes 1-2 s to write.
          scratch ??= mkdtemp(path.join(os.tmpdir(), 'tm-copy-'));
          const file = path.join(await scratch, `copy-${fileSeq++}.csv`);
          try {
            const written = await write(file, false);
            throwIfCancelled();
            const cols = columns.map(quoteIdent).join(', ');
            const copy = client.query(copyFrom(`COPY ${table} (${cols}) FROM STDIN WITH (FORMAT csv)`));
            // The server is in COPY now, waiting for rows: a kill or a terminated backend here is "during COPY".
            // An error before the file is piped in (backend terminated) must fail the load, not crash the process.
            let early: Error | undefined;
            const onEarlyError = (err: Error) => {
              early = err;
            };
            copy.on('error', onEarlyError);
            if (copyOptions?.model) await pausePoint('during-copy', copyOptions.model);
            copy.off('error', onEarlyError);
            if (early) throw early;
            await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), copy);
            return checkCopiedRows(written, copy.rowCount, table, copyOptions?.model);
          } finally {
            await rm(file, { force: true });
          }
        },
        async copyCsvOut(query, file) {
          const stream = client.query(copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER)`));
          await pipeline(stream, createWriteStream(file));
          return stream.rowCount;
        },
        async release() {
          // A pooled client serves many sessions: drop this session's listener, or they pile up.
          client.off('error', onError);
          client.release(broken);
        },
      };
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      if (!prepared.has(client)) {
        await client.query(`${SESSION_SETTINGS_SQL}; SET search_path TO ${quoteIdent(options.schema)}, public`).catch((err) => {
          client.release(true);
          throw connectionError(err, label, options.url);
        });
        prepared.add(client);
      }
      return session;
    },
    async openDedicated() {
      const client = new pg.Client(clientConfig);
      let lost = false;
      client.on('error', () => {
        lost = true;
      });
      client.on('end', () => {
        lost = true;
      });
      try {
        await client.connect();
        await client.query(SESSION_SETTINGS_SQL);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw connectionError(err, label, options.url);
      }
      const session: DedicatedSession = {
        async query<R>(sql: string, params?: readonly unknown[]) {
          return (await client.query(sql, params as unknown[] | undefined)).rows as R[];
        },
        lost: () => lost,
        async close() {
          await client.end().catch(() => undefined);
        },
      };
      return session;
    },
    async close() {
      await pool.end();
      // The run's scratch folder belongs to the run (execute/scratch.ts), not to the target.
      if (scratch && !options.scratchDir) await rm(await scratch, { recursive: true, force: true });
    },
  };
  return target;
}
