import { quoteIdent } from '../core/sql-quote.js';
import { qualified, type DedicatedSession, type RunStaging, type Target, type TargetSession } from '../engines/target.js';
import { TmError } from '../core/errors.js';
import { stateSchemaOf } from './store.js';

/**
 * Staging relations belong to a run. A run holds a session-level advisory lock keyed by its id on a
 * connection of its own for its whole life, and records each staging table it makes (schema, name,
 * run id) in `<schema>__tm_state.staging`, in the transaction that creates it. A run killed by SIGKILL,
 * or cut off by a server restart, loses its connection and so its lock; the next run to start finds
 * the recorded relations whose run's lock is free, drops them, and says so in one line. Names are
 * read from the registry, never parsed (names over 63 bytes are hashed). Only relations tm recorded,
 * in the target's own schema, are ever dropped.
 *
 * PGlite serves one process (engines/pglite-lock.ts): every recorded relation of another run is dead.
 */
export interface RunRegistry extends RunStaging {
  /** Cancels this run's statements in flight (its other backends, found by application_name). */
  cancelInFlight(): Promise<void>;
  /** Drops what this run recorded and did not clean itself (a backend terminated mid-model), lets the lock go. */
  close(): Promise<void>;
}

/** `pg_advisory_lock(RUN_LOCK_CLASS, hashtext(run_id))`: a run's lock, apart from the model locks' keys. */
const RUN_LOCK = `hashtext('tm_run'), hashtext($1)`;

export function applicationNameOf(runId: string): string {
  return `tm:${runId}`;
}

type Query = <R>(sql: string, params?: readonly unknown[]) => Promise<R[]>;

export async function openRunRegistry(target: Target, runId: string, log: (line: string) => void): Promise<RunRegistry> {
  const schema = stateSchemaOf(target.schema);
  const table = qualified(schema, 'staging');
  const dedicated: DedicatedSession | undefined = target.openDedicated ? await target.openDedicated() : undefined;
  try {
    if (dedicated) await dedicated.query(`SELECT pg_advisory_lock(${RUN_LOCK})`, [runId]);
    await withQuery(target, dedicated, (q) => ensureRegistry(q, schema, table, target.sharedByProcesses));
    const dropped = await withQuery(target, dedicated, (q) => dropDeadStaging(q, table, target.schema, runId));
    if (dropped.length) {
      const runs = new Set(dropped.map((d) => d.run_id)).size;
      log(`tm: dropped ${dropped.length} staging table${dropped.length === 1 ? '' : 's'} left by ${runs} run${runs === 1 ? '' : 's'} that died (${dropped.map((d) => d.relation_name).join(', ')})`);
    }
  } catch (err) {
    await dedicated?.close();
    throw err;
  }
  return {
    runId,
    async record(tx, relSchema, name) {
      if (dedicated?.lost()) throw new TmError(`the run lost its connection to the target (its lock with it): not creating more staging tables`, 1);
      await tx.query(`INSERT INTO ${table} (schema_name, relation_name, run_id) VALUES ($1, $2, $3) ON CONFLICT (schema_name, relation_name) DO UPDATE SET run_id = EXCLUDED.run_id, created_at = now()`, [relSchema, name, runId]);
    },
    async forget(tx, relSchema, name) {
      await tx.query(`DELETE FROM ${table} WHERE schema_name = $1 AND relation_name = $2 AND run_id = $3`, [relSchema, name, runId]);
    },
    async cancelInFlight() {
      if (!dedicated || dedicated.lost()) return;
      await dedicated.query(
        `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid() AND datname = current_database()`,
        [applicationNameOf(runId)],
      );
    },
    async close() {
      try {
        if (!dedicated || !dedicated.lost()) await withQuery(target, dedicated, (q) => dropStagingOf(q, table, target.schema, runId));
      } finally {
        await dedicated?.close(); // ends the session: the run's lock goes with it
      }
    },
  };
}

/** Runs `work` on the dedicated session, or (PGlite) on a pooled one held just for it. */
async function withQuery<T>(target: Target, dedicated: DedicatedSession | undefined, work: (q: Query) => Promise<T>): Promise<T> {
  if (dedicated) return work((sql, params) => dedicated.query(sql, params));
  const session: TargetSession = await target.acquire();
  try {
    return await work((sql, params) => session.query(sql, params));
  } finally {
    await session.release();
  }
}

/** Creation is safe when two first runs do it at once: an advisory transaction lock, IF NOT EXISTS, and catalog races caught. */
async function ensureRegistry(q: Query, schema: string, table: string, shared: boolean): Promise<void> {
  const [row] = await q<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table]);
  if (row?.ok) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await q('BEGIN');
      // Same key as the state tables' creation (state/store.ts): one creator of the state schema at a time.
      if (shared) await q(`SELECT pg_advisory_xact_lock(hashtext('tm_state'), hashtext($1))`, [schema]);
      await q(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await q(
        `CREATE TABLE IF NOT EXISTS ${table} (
          schema_name TEXT NOT NULL, relation_name TEXT NOT NULL, run_id TEXT NOT NULL,
          created_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (schema_name, relation_name))`,
      );
      await q('COMMIT');
      return;
    } catch (err) {
      await q('ROLLBACK').catch(() => undefined);
      if (attempt < 3 && isCatalogRace(err)) continue;
      throw err;
    }
  }
}

/** Another session created the same schema, table or type at the same moment. */
export function isCatalogRace(err: unknown): boolean {
  return ['23505', '42P07', '42P06', '42710'].includes((err as { code?: string }).code ?? '');
}

interface StagingRow {
  readonly schema_name: string;
  readonly relation_name: string;
  readonly run_id: string;
}

/** For each other run with recorded staging: if its lock is free (it died), drop its relations and forget them. */
async function dropDeadStaging(q: Query, table: string, targetSchema: string, runId: string): Promise<StagingRow[]> {
  const runs = await q<{ run_id: string }>(`SELECT DISTINCT run_id FROM ${table} WHERE schema_name = $1 AND run_id <> $2`, [targetSchema, runId]);
  const dropped: StagingRow[] = [];
  for (const { run_id } of runs) {
    // Taking the dead run's lock also keeps two starting runs from dropping the same relations at once.
    const [got] = await q<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${RUN_LOCK}) AS ok`, [run_id]);
    if (!got?.ok) continue; // alive
    try {
      dropped.push(...(await dropStagingOf(q, table, targetSchema, run_id)));
    } finally {
      await q(`SELECT pg_advisory_unlock(${RUN_LOCK})`, [run_id]);
    }
  }
  return dropped;
}

async function dropStagingOf(q: Query, table: string, targetSchema: string, runId: string): Promise<StagingRow[]> {
  const rows = await q<StagingRow>(`SELECT schema_name, relation_name, run_id FROM ${table} WHERE schema_name = $1 AND run_id = $2`, [targetSchema, runId]);
  if (!rows.length) return [];
  await q('BEGIN');
  try {
    for (const r of rows) await q(`DROP TABLE IF EXISTS ${qualified(r.schema_name, r.relation_name)}`);
    await q(`DELETE FROM ${table} WHERE schema_name = $1 AND run_id = $2`, [targetSchema, runId]);
    await q('COMMIT');
  } catch (err) {
    await q('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return rows;
}
