import { withSession, type Target } from '../engines/target.js';
import { recalledSeenFiles } from './seen-memo.js';
import { readProgress, readSeenFilesOf, stateExists, type ModelProgress, type SeenFile } from './store.js';

export interface StoredState {
  readonly progress: ReadonlyMap<string, ModelProgress>;
  readonly seen: ReadonlyMap<string, readonly SeenFile[]>;
  /** Which of the asked tables exist in the target schema. */
  readonly existing: ReadonlySet<string>;
}

/**
 * The state of the given models (progress, files seen: from this process's memo when it is still
 * current) and which of `tables` exist. A target without state reads as empty: nothing is created.
 */
export async function readStoredState(target: Target, models: readonly string[], tables: readonly string[]): Promise<StoredState> {
  return withSession(target, async (session) => {
    const rows = await session.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')`,
      [target.schema, tables],
    );
    const existing = new Set(rows.map((r) => r.name));
    if (!models.length || !(await stateExists(session, target.schema))) return { progress: new Map(), seen: new Map(), existing };
    const progress = await readProgress(session, target.schema, models);
    const seen = new Map<string, readonly SeenFile[]>();
    for (const m of models) {
      const recalled = recalledSeenFiles(target, m, progress.get(m)?.runId);
      if (recalled) seen.set(m, recalled);
    }
    const unknown = models.filter((m) => !seen.has(m));
    if (unknown.length) for (const [m, files] of await readSeenFilesOf(session, target.schema, unknown)) seen.set(m, files);
    return { progress, seen, existing };
  });
}
