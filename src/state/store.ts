import { randomBytes } from 'node:crypto';
import { quoteIdent } from '../core/sql-quote.js';
import { qualified, transaction, type Target, type TargetSession } from '../engines/target.js';
import { pgName } from '../materialize/ddl.js';

/**
 * tm's own state in the target: per model, the clock it reached and the source files it has seen.
 * It lives in the schema `<target schema>__tm_state` of the same database, so two target schemas of
 * one database never share state, and a model's state commits in the transaction that writes its rows.
 */

/** Progress of one model, as last committed (timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC). */
export interface ModelProgress {
  readonly model: string;
  /** Stream clock C the model's last successful run reached. */
  readonly clockReached: string | null;
  /** Snapshot time S of that run. */
  readonly snapshotReached: string | null;
  /** Hot range start H of that run. */
  readonly hotStart: string | null;
  /** Wall-clock time of the last successful run or check (nothing new to do counts as success). */
  readonly lastSuccessAt: string | null;
  /** Wall-clock time the model last wrote rows. */
  readonly lastChangeAt: string | null;
  /** Fingerprint of the model's SQL, config and vars when it last wrote rows. */
  readonly modelHash: string | null;
  readonly filesSeen: number;
  /** Id of the run that last wrote the model's state (it changes with every write). */
  readonly runId: string | null;
}

/** A source file as a model saw it. */
export interface SeenFile {
  readonly source: string;
  readonly uri: string;
  readonly size: number;
  readonly version: string;
  /** Date partition value (`YYYY-MM-DD`), '' when the source has none. */
  readonly part: string;
}

/** What a model's successful run commits with its rows. */
export interface ModelStateWrite {
  readonly model: string;
  readonly clockReached: string | null;
  readonly snapshotReached: string | null;
  readonly hotStart: string | null;
  readonly at: string;
  readonly modelHash: string;
  readonly runId: string;
  /** Forget every file seen before (full refresh, first run). */
  readonly resetFiles: boolean;
  /** Files seen before that are gone or changed, and partitions the model no longer reads (older than `keepPartsFrom`). */
  readonly forget: readonly string[];
  readonly keepPartsFrom?: string;
  /** Files new or changed since the last run. */
  readonly add: readonly SeenFile[];
}

export function stateSchemaOf(targetSchema: string): string {
  return pgName(`${targetSchema}__tm_state`);
}

function tables(schema: string) {
  return {
    meta: qualified(schema, 'meta'),
    models: qualified(schema, 'models'),
    files: qualified(schema, 'files'),
  };
}

/** True when the state schema exists (a status query must not create it). */
export async function stateExists(session: TargetSession, targetSchema: string): Promise<boolean> {
  const rows = await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${quoteIdent(stateSchemaOf(targetSchema))}.models`]);
  return rows[0]?.ok === true;
}

/** The state id of the target, without creating anything: undefined when it has no state yet. */
export async function readStateId(target: Target): Promise<string | undefined> {
  const session = await target.acquire();
  try {
    if (!(await stateExists(session, target.schema))) return undefined;
    const rows = await session.query<{ value: string }>(`SELECT value FROM ${tables(stateSchemaOf(target.schema)).meta} WHERE key = 'state_id'`);
    return rows[0]?.value;
  } finally {
    await session.release();
  }
}

/**
 * Creates the state tables when missing (under a transaction-level advisory lock so that two first
 * runs do not race) and returns the state id: a random id made once, that tells this state apart
 * from the state of a target that was dropped and built again.
 */
export async function ensureState(target: Target): Promise<string> {
  const schema = stateSchemaOf(target.schema);
  const t = tables(schema);
  const session = await target.acquire();
  try {
    const read = async () => (await session.query<{ value: string }>(`SELECT value FROM ${t.meta} WHERE key = 'state_id'`))[0]?.value;
    if (await stateExists(session, target.schema)) {
      const id = await read();
      if (id) return id;
    }
    return await transaction(session, async (tx) => {
      if (target.sharedByProcesses) await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tm_state'), hashtext($1))`, [schema]);
      await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await tx.exec(`CREATE TABLE IF NOT EXISTS ${t.meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      await tx.exec(
        `CREATE TABLE IF NOT EXISTS ${t.models} (
          model TEXT PRIMARY KEY,
          clock_reached TIMESTAMP, snapshot_reached TIMESTAMP, hot_start TIMESTAMP,
          last_success_at TIMESTAMP, last_check_at TIMESTAMP, last_change_at TIMESTAMP,
          model_hash TEXT, files_seen INT NOT NULL DEFAULT 0, run_id TEXT)`,
      );
      await tx.exec(
        `CREATE TABLE IF NOT EXISTS ${t.files} (
          model TEXT NOT NULL, source TEXT NOT NULL, uri TEXT NOT NULL, size BIGINT NOT NULL, version TEXT NOT NULL,
          part TEXT NOT NULL, seen_at TIMESTAMP NOT NULL, PRIMARY KEY (model, uri))`,
      );
      await tx.query(`INSERT INTO ${t.meta} (key, value) VALUES ('state_id', $1) ON CONFLICT (key) DO NOTHING`, [randomBytes(8).toString('hex')]);
      return (await read())!;
    });
  } finally {
    await session.release();
  }
}

export async function readProgress(session: TargetSession, targetSchema: string, models: readonly string[]): Promise<Map<string, ModelProgress>> {
  const t = tables(stateSchemaOf(targetSchema));
  const rows = await session.query<{
    model: string; clock_reached: string | null; snapshot_reached: string | null; hot_start: string | null;
    last_success_at: string | null; last_change_at: string | null; model_hash: string | null; files_seen: number; run_id: string | null;
  }>(
    `SELECT model, clock_reached::text, snapshot_reached::text, hot_start::text, last_success_at::text, last_change_at::text, model_hash, files_seen, run_id
       FROM ${t.models} WHERE model = ANY($1::text[])`,
    [models],
  );
  return new Map(
    rows.map((r) => [r.model, {
      model: r.model, clockReached: r.clock_reached, snapshotReached: r.snapshot_reached, hotStart: r.hot_start,
      lastSuccessAt: r.last_success_at, lastChangeAt: r.last_change_at, modelHash: r.model_hash, filesSeen: Number(r.files_seen), runId: r.run_id,
    }]),
  );
}

/** Every model's progress row (for `tm status`). */
export async function readAllProgress(session: TargetSession, targetSchema: string): Promise<ModelProgress[]> {
  const t = tables(stateSchemaOf(targetSchema));
  const rows = await session.query<{ model: string }>(`SELECT model FROM ${t.models}`);
  return [...(await readProgress(session, targetSchema, rows.map((r) => r.model))).values()];
}

/** Files each of the models has seen. */
export async function readSeenFilesOf(session: TargetSession, targetSchema: string, models: readonly string[]): Promise<Map<string, SeenFile[]>> {
  const t = tables(stateSchemaOf(targetSchema));
  const rows = await session.query<{ model: string; source: string; uri: string; size: string; version: string; part: string }>(
    `SELECT model, source, uri, size, version, part FROM ${t.files} WHERE model = ANY($1::text[])`,
    [models],
  );
  const out = new Map<string, SeenFile[]>(models.map((m) => [m, []]));
  for (const r of rows) out.get(r.model)?.push({ source: r.source, uri: r.uri, size: Number(r.size), version: r.version, part: r.part });
  return out;
}

/** Writes a model's state; call it inside the transaction that writes the model's rows. */
export async function writeModelState(session: TargetSession, targetSchema: string, w: ModelStateWrite): Promise<void> {
  const t = tables(stateSchemaOf(targetSchema));
  if (w.resetFiles) await session.query(`DELETE FROM ${t.files} WHERE model = $1`, [w.model]);
  else {
    if (w.forget.length) await session.query(`DELETE FROM ${t.files} WHERE model = $1 AND uri = ANY($2::text[])`, [w.model, w.forget]);
    if (w.keepPartsFrom) await session.query(`DELETE FROM ${t.files} WHERE model = $1 AND part < $2 AND part <> ''`, [w.model, w.keepPartsFrom]);
  }
  if (w.add.length) {
    await session.query(
      `INSERT INTO ${t.files} (model, source, uri, size, version, part, seen_at)
       SELECT $1, s, u, z, v, p, $7::timestamp FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[]) AS f(s, u, z, v, p)
       ON CONFLICT (model, uri) DO UPDATE SET source = EXCLUDED.source, size = EXCLUDED.size, version = EXCLUDED.version, part = EXCLUDED.part, seen_at = EXCLUDED.seen_at`,
      [w.model, w.add.map((f) => f.source), w.add.map((f) => f.uri), w.add.map((f) => String(f.size)), w.add.map((f) => f.version), w.add.map((f) => f.part), w.at],
    );
  }
  await session.query(
    `INSERT INTO ${t.models} AS m (model, clock_reached, snapshot_reached, hot_start, last_success_at, last_check_at, last_change_at, model_hash, files_seen, run_id)
     VALUES ($1, $2::timestamp, $3::timestamp, $4::timestamp, $5::timestamp, $5::timestamp, $5::timestamp, $6, (SELECT count(*) FROM ${t.files} WHERE model = $1), $7)
     ON CONFLICT (model) DO UPDATE SET clock_reached = EXCLUDED.clock_reached, snapshot_reached = EXCLUDED.snapshot_reached,
       hot_start = EXCLUDED.hot_start, last_success_at = EXCLUDED.last_success_at, last_check_at = EXCLUDED.last_check_at,
       last_change_at = EXCLUDED.last_change_at, model_hash = EXCLUDED.model_hash, files_seen = EXCLUDED.files_seen, run_id = EXCLUDED.run_id`,
    [w.model, w.clockReached, w.snapshotReached, w.hotStart, w.at, w.modelHash, w.runId],
  );
}

/** Records that the models were checked and had nothing new to do: they are up to date as of `at`. */
export async function recordCheck(session: TargetSession, targetSchema: string, models: string | readonly string[], at: string): Promise<void> {
  const t = tables(stateSchemaOf(targetSchema));
  await session.query(`UPDATE ${t.models} SET last_check_at = $2::timestamp, last_success_at = $2::timestamp WHERE model = ANY($1::text[])`, [
    typeof models === 'string' ? [models] : models,
    at,
  ]);
}
