import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { openDuckDb, quoteIdent, type DuckDb } from '../engines/duckdb.js';
import { openPostgresTarget } from '../engines/postgres.js';
import type { Target, TargetSession } from '../engines/target.js';
import { loadTargetConfig, type TargetConfig } from '../project/load-profile.js';

/** The open connections of one command: the target database and a DuckDB for compute. */
export interface Runtime {
  readonly config: TargetConfig;
  readonly target: Target;
  readonly duck: DuckDb;
  close(): Promise<void>;
}

export async function openTarget(config: TargetConfig, threads: number): Promise<Target> {
  if (config.type === 'pglite') {
    // Loaded only for a PGlite target: a PostgreSQL run (a hot cycle) does not pay for its WASM.
    const { openPgliteTarget } = await import('../engines/pglite.js');
    return openPgliteTarget({ name: config.name, dataDir: config.path, schema: config.schema });
  }
  // Each running model may hold one session and borrow more to build indexes in parallel.
  return openPostgresTarget({ name: config.name, url: config.url, schema: config.schema, maxSessions: Math.max(4, threads * 2 + 1) });
}

/** Opens the target and DuckDB; `createSchema: false` (a dry run) leaves a missing target schema missing. */
export async function openRuntime(projectDir: string, targetName: string | undefined, threadsOverride?: number, options: { createSchema?: boolean } = {}): Promise<Runtime> {
  const config = await loadTargetConfig(projectDir, targetName);
  const threads = threadsOverride ?? config.threads;
  await mkdir(config.duckdb.tempDirectory, { recursive: true });
  const target = await openTarget(config, threads);
  let duck: DuckDb;
  try {
    // Fail fast, before any work, when the target cannot be reached.
    const session = await target.acquire();
    try {
      if (options.createSchema ?? true) await ensureTargetSchema(session, target.schema);
      else await session.query('SELECT 1');
    } finally {
      await session.release();
    }
    // Spill files get a folder per process: DuckDB names them alike, and two tm processes on one project
    // (a hot loop and a cold run) must never read each other's.
    duck = await openDuckDb({
      ...config.duckdb,
      tempDirectory: path.join(config.duckdb.tempDirectory, `run-${process.pid}-${Date.now()}`),
      removeTempDirectoryOnClose: true,
    });
  } catch (err) {
    await target.close();
    throw err;
  }
  return {
    config,
    target,
    duck,
    async close() {
      duck.close();
      await target.close();
    },
  };
}

/**
 * Creates the target schema once, before models run: models creating it concurrently race in
 * pg_namespace (duplicate key). Another process winning the race is fine.
 */
async function ensureTargetSchema(session: TargetSession, schema: string): Promise<void> {
  const [row] = await session.query<{ ok: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS ok`, [schema]);
  if (row?.ok) return;
  try {
    await session.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (err) {
    if (!['23505', '42P06'].includes((err as { code?: string }).code ?? '')) throw err;
  }
}
