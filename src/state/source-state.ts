import { quoteIdent } from '../core/sql-quote.js';
import { qualified, withSession, type Target, type TargetSession } from '../engines/target.js';
import { stateSchemaOf } from './store.js';

/**
 * What runs saw of each source, for its lags (docs/freshness.md): the newest file's modification time
 * in its listing, the newest valid event read, and when it was last listed. An observation, not a
 * checkpoint: it is written when a run lists the source, whether its models then succeed or not.
 */
export interface SourceObservation {
  readonly source: string;
  /** UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]`, or null when never known. */
  readonly newestFileAt: string | null;
  readonly newestEvent: string | null;
  readonly listedAt: string | null;
}

const tableOf = (targetSchema: string) => qualified(stateSchemaOf(targetSchema), 'sources');
/** Targets whose table this process made sure of (states made before it existed get it on the first write). */
const ensured = new Set<string>();

async function ensureTable(session: TargetSession, targetSchema: string): Promise<void> {
  if (ensured.has(targetSchema)) return;
  try {
    await session.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(stateSchemaOf(targetSchema))}`);
    await session.exec(`CREATE TABLE IF NOT EXISTS ${tableOf(targetSchema)} (source TEXT PRIMARY KEY, newest_file_at TIMESTAMP, newest_event TIMESTAMP, listed_at TIMESTAMP NOT NULL)`);
  } catch (err) {
    // Two first writers at once: the other one created it.
    if (!['23505', '42P07', '42P06'].includes((err as { code?: string }).code ?? '')) throw err;
  }
  ensured.add(targetSchema);
}

/** Records this run's view of its sources (call once the state schema exists). Times only move forward. */
export async function recordSourceObservations(target: Target, seen: readonly SourceObservation[]): Promise<void> {
  if (!seen.length) return;
  await withSession(target, async (session) => {
    await ensureTable(session, target.schema);
    await session.query(
      `INSERT INTO ${tableOf(target.schema)} AS s (source, newest_file_at, newest_event, listed_at)
       SELECT * FROM unnest($1::text[], $2::timestamp[], $3::timestamp[], $4::timestamp[])
       ON CONFLICT (source) DO UPDATE SET newest_file_at = GREATEST(s.newest_file_at, EXCLUDED.newest_file_at),
         newest_event = GREATEST(s.newest_event, EXCLUDED.newest_event), listed_at = GREATEST(s.listed_at, EXCLUDED.listed_at)`,
      [seen.map((o) => o.source), seen.map((o) => o.newestFileAt), seen.map((o) => o.newestEvent), seen.map((o) => o.listedAt)],
    );
  });
}

/** Every source's last observation; empty when no run recorded one yet. */
export async function readSourceObservations(session: TargetSession, targetSchema: string): Promise<Map<string, SourceObservation>> {
  const exists = await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [tableOf(targetSchema)]);
  if (exists[0]?.ok !== true) return new Map();
  const rows = await session.query<{ source: string; newest_file_at: string | null; newest_event: string | null; listed_at: string | null }>(
    `SELECT source, newest_file_at::text, newest_event::text, listed_at::text FROM ${tableOf(targetSchema)}`,
  );
  return new Map(rows.map((r) => [r.source, { source: r.source, newestFileAt: r.newest_file_at, newestEvent: r.newest_event, listedAt: r.listed_at }]));
}
