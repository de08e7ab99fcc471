import { withSession, type Target } from '../engines/target.js';
import type { ModelNode } from '../manifest/types.js';
import { loadTargetConfig, type TargetConfig } from '../project/load-profile.js';
import { assertSameDatabase } from './other-target.js';

/**
 * `--defer-to TARGET`: a ref to a model the run does not compute and that this target has not built
 * reads the other target's relation instead (a schema of the same database). Models computed in
 * PostgreSQL name that schema in their SQL; DuckDB models import the rows from there.
 */
export async function deferredRefs(projectDir: string, here: TargetConfig, target: Target, deferTo: string, models: readonly ModelNode[]): Promise<Map<string, string>> {
  const other = await loadTargetConfig(projectDir, deferTo);
  assertSameDatabase(here, other, '--defer-to reads');
  const computed = new Set(models.map((m) => m.name));
  const refs = [...new Set(models.flatMap((m) => m.refs))].filter((r) => !computed.has(r));
  if (!refs.length) return new Map();
  const rows = await withSession(target, (session) =>
    session.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1::text[]) AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')`,
      [[here.schema, other.schema], refs],
    ),
  );
  const has = (schema: string, name: string) => rows.some((r) => r.schema === schema && r.name === name);
  return new Map(refs.filter((r) => !has(here.schema, r) && has(other.schema, r)).map((r) => [r, other.schema]));
}
