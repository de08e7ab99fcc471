import { quoteIdent } from '../core/sql-quote.js';
import { qualified, transaction, type Target, type TargetSession } from '../engines/target.js';
import { stateExists, stateSchemaOf } from './store.js';

/**
 * What a partition-aware model's state records per date partition, beside the files it saw there
 * (the state's `files` table, by `part`): the newest valid event of the day (so that a run that reads
 * a few days still knows the stream clock), and the earliest event the contract left out only because
 * it lay in the future then (the day must be read again once the wall clock reaches it).
 */
export interface PartStat {
  /** `YYYY-MM-DD` */
  readonly part: string;
  /** Largest clock value among the day's valid rows (before deduplication), `YYYY-MM-DD HH:MM:SS[.f]`. */
  readonly maxClock: string | null;
  /** Smallest clock value among rows left out by a rule that reads `now`. */
  readonly futureFrom: string | null;
}

/** Committed with the model's rows: the stats of the days the run rewrote (all of them on a full rebuild). */
export interface PartitionStateWrite {
  readonly model: string;
  /** Every day was rebuilt: the model's earlier rows are forgotten. */
  readonly replaceAll: boolean;
  /** Days rewritten (their earlier rows are replaced by `stats`). */
  readonly parts: readonly string[];
  readonly stats: readonly PartStat[];
}

function partitionsTable(targetSchema: string): string {
  return qualified(stateSchemaOf(targetSchema), 'partitions');
}

/** Creates the table when missing (the state schema exists: `ensureState` ran). */
export async function ensurePartitionState(target: Target): Promise<void> {
  const session = await target.acquire();
  try {
    const table = partitionsTable(target.schema);
    const [{ ok }] = await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${quoteIdent(stateSchemaOf(target.schema))}.partitions`]);
    if (ok) return;
    await transaction(session, async (tx) => {
      if (target.sharedByProcesses) await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tm_state'), hashtext($1))`, [stateSchemaOf(target.schema)]);
      await tx.exec(`CREATE TABLE IF NOT EXISTS ${table} (model TEXT NOT NULL, part TEXT NOT NULL, max_clock TIMESTAMP, future_from TIMESTAMP, PRIMARY KEY (model, part))`);
    });
  } finally {
    await session.release();
  }
}

/** The stats of each model's days; empty when the target has no such table yet. */
export async function readPartStats(session: TargetSession, targetSchema: string, models: readonly string[]): Promise<Map<string, PartStat[]>> {
  const out = new Map<string, PartStat[]>(models.map((m) => [m, []]));
  if (!models.length || !(await stateExists(session, targetSchema))) return out;
  const [{ ok }] = await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${quoteIdent(stateSchemaOf(targetSchema))}.partitions`]);
  if (!ok) return out;
  const rows = await session.query<{ model: string; part: string; max_clock: string | null; future_from: string | null }>(
    `SELECT model, part, max_clock::text, future_from::text FROM ${partitionsTable(targetSchema)} WHERE model = ANY($1::text[])`,
    [models],
  );
  for (const r of rows) out.get(r.model)?.push({ part: r.part, maxClock: r.max_clock, futureFrom: r.future_from });
  return out;
}

/** Writes a model's day stats; call it inside the transaction that writes the model's rows. */
export async function writePartitionState(session: TargetSession, targetSchema: string, w: PartitionStateWrite): Promise<void> {
  const table = partitionsTable(targetSchema);
  if (w.replaceAll) await session.query(`DELETE FROM ${table} WHERE model = $1`, [w.model]);
  else if (w.parts.length) await session.query(`DELETE FROM ${table} WHERE model = $1 AND part = ANY($2::text[])`, [w.model, w.parts]);
  if (!w.stats.length) return;
  await session.query(
    `INSERT INTO ${table} (model, part, max_clock, future_from)
     SELECT $1, p, c::timestamp, f::timestamp FROM unnest($2::text[], $3::text[], $4::text[]) AS s(p, c, f)`,
    [w.model, w.stats.map((s) => s.part), w.stats.map((s) => s.maxClock), w.stats.map((s) => s.futureFrom)],
  );
}
