import { qualified, transaction, withSession, type Target } from '../engines/target.js';
import { ensurePartitionState } from '../state/partition-state.js';
import { ensureState, stateSchemaOf } from '../state/store.js';
import type { ModelNode } from '../manifest/types.js';
import { loadTargetConfig, type TargetConfig } from '../project/load-profile.js';
import { assertSameDatabase } from './other-target.js';

/** The `--defer-to` target's config: a schema of this target's database. */
export async function deferTarget(projectDir: string, here: TargetConfig, deferTo: string): Promise<TargetConfig> {
  const other = await loadTargetConfig(projectDir, deferTo);
  assertSameDatabase(here, other, '--defer-to reads');
  return other;
}

/**
 * `--defer-to TARGET`: a ref to a model the run does not compute and that this target has not built
 * reads the other target's relation instead (a schema of the same database). Models computed in
 * PostgreSQL name that schema in their SQL; DuckDB models import the rows from there.
 */
export async function deferredRefs(here: TargetConfig, target: Target, other: TargetConfig, models: readonly ModelNode[]): Promise<Map<string, string>> {
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

/**
 * The most a deferred incremental model's table may weigh (pg_total_relation_size) to be copied from the
 * other target; a larger one builds in full in this target, as without `--defer-to`.
 */
export const DEFER_COPY_MAX_BYTES = 256 * 1024 * 1024;

/**
 * A selected incremental or partition-aware model that this target has not built starts from a copy of
 * the other target's table and state (progress, files seen, day stats), so that its first run here is
 * incremental rather than a full rebuild. One transaction per model; a dry run only says what it would copy.
 */
export async function copyDeferredState(target: Target, otherSchema: string, models: readonly ModelNode[], dryRun: boolean, log: (line: string) => void): Promise<void> {
  const names = models.map((m) => m.name);
  if (!names.length) return;
  const sizes = await withSession(target, (session) =>
    session.query<{ name: string; here: boolean; bytes: string | null }>(
      `SELECT m AS name, to_regclass(format('%I.%I', $1::text, m)) IS NOT NULL AS here, pg_total_relation_size(to_regclass(format('%I.%I', $2::text, m)))::text AS bytes
         FROM unnest($3::text[]) AS m`,
      [target.schema, otherSchema, names],
    ),
  );
  const otherState = stateSchemaOf(otherSchema);
  for (const row of sizes) {
    if (row.here || row.bytes === null) continue;
    const bytes = Number(row.bytes);
    const size = `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    if (bytes > DEFER_COPY_MAX_BYTES) {
      log(`tm: ${row.name} is not copied from ${otherSchema} (${size}, over ${DEFER_COPY_MAX_BYTES / 1024 / 1024} MB): it builds in full here`);
      continue;
    }
    if (dryRun) {
      log(`tm: ${row.name} would start from a copy of ${qualified(otherSchema, row.name)} and its state (${size})`);
      continue;
    }
    await ensureState(target);
    await ensurePartitionState(target);
    const mine = stateSchemaOf(target.schema);
    await withSession(target, (session) =>
      transaction(session, async (tx) => {
        await tx.exec(`CREATE TABLE ${qualified(target.schema, row.name)} (LIKE ${qualified(otherSchema, row.name)} INCLUDING ALL)`);
        await tx.exec(`INSERT INTO ${qualified(target.schema, row.name)} SELECT * FROM ${qualified(otherSchema, row.name)}`);
        const [stateThere] = await tx.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [qualified(otherState, 'models')]);
        if (!stateThere?.ok) return;
        for (const table of ['models', 'files', 'partitions']) {
          const [exists] = await tx.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [qualified(otherState, table)]);
          if (!exists?.ok) continue;
          await tx.query(`DELETE FROM ${qualified(mine, table)} WHERE model = $1`, [row.name]);
          await tx.query(`INSERT INTO ${qualified(mine, table)} SELECT * FROM ${qualified(otherState, table)} WHERE model = $1`, [row.name]);
        }
      }),
    );
    log(`tm: ${row.name} starts from a copy of ${qualified(otherSchema, row.name)} and its state (${size})`);
  }
}
