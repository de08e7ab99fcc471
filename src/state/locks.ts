import type { Target, TargetSession } from '../engines/target.js';

/** Models whose advisory locks this run holds, and how to let them go. */
export interface ModelLocks {
  readonly held: ReadonlySet<string>;
  release(): Promise<void>;
}

/**
 * One session-level PostgreSQL advisory lock per model, keyed by database, schema and model name,
 * held on a session of its own for the whole run: two tm processes never process one model at
 * once, and a killed process loses its locks with its connection. Locks are taken in name order,
 * so processes that wait (`wait`) cannot deadlock. PGlite (one process) needs none.
 */
export async function lockModels(target: Target, names: readonly string[], options: { wait: boolean }): Promise<ModelLocks> {
  const sorted = [...new Set(names)].sort();
  if (!target.sharedByProcesses || sorted.length === 0) return { held: new Set(sorted), release: async () => undefined };
  const session: TargetSession = await target.acquire();
  const held = new Set<string>();
  const key = `hashtext(current_database() || '.' || $1), hashtext($2)`;
  try {
    if (options.wait) {
      for (const name of sorted) {
        await session.query(`SELECT pg_advisory_lock(${key})`, [target.schema, name]);
        held.add(name);
      }
    } else {
      // Trying never waits, so one round trip can try them all (in name order, like the loop above).
      const rows = await session.query<{ name: string; ok: boolean }>(
        `SELECT n AS name, pg_try_advisory_lock(hashtext(current_database() || '.' || $1), hashtext(n)) AS ok FROM unnest($2::text[]) WITH ORDINALITY AS t(n, i) ORDER BY i`,
        [target.schema, sorted],
      );
      for (const r of rows) if (r.ok) held.add(r.name);
    }
  } catch (err) {
    await session.release();
    throw err;
  }
  return {
    held,
    async release() {
      try {
        if (held.size) await session.exec('SELECT pg_advisory_unlock_all()');
      } finally {
        await session.release();
      }
    },
  };
}
