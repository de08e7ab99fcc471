import { quoteIdent } from '../core/sql-quote.js';
import { transaction, type TargetSession } from '../engines/target.js';
import { TmError } from '../core/errors.js';
import { throwIfCancelled } from '../core/cancel.js';
import { pausePoint } from '../core/pause-point.js';
import type { ModelNode } from '../manifest/types.js';
import { writeModelState } from '../state/store.js';
import { commentSql, createTableSql, ensureSchema, indexName, pgName, tableExists } from './ddl.js';
import type { MaterializeInput, MaterializeResult, Relation } from './types.js';

/** What an incremental strategy applies to the target once the run's rows sit in a staging table. */
export interface Batch {
  readonly tx: TargetSession;
  readonly input: MaterializeInput;
  /** Temporary table holding the run's rows (dropped at commit). */
  readonly stage: string;
  readonly columns: readonly string[];
  /** Columns that identify a row (unique_key, else primary_key). */
  readonly key: readonly string[];
}

export interface BatchOutcome {
  readonly rows: number;
  readonly deleted?: number;
  readonly summary: string;
}

/** unique_key when set, else the primary key. */
export function rowKey(model: ModelNode): readonly string[] {
  return model.config.unique_key?.length ? model.config.unique_key : model.primaryKey;
}

/**
 * The frame of every incremental materialization, in one transaction: create the table when
 * missing (truncate it on a full refresh), COPY the run's rows into a staging table, let the
 * strategy apply them, delete rows past the model's retention, write the model's state
 * (`input.state`), commit. A failure anywhere, or a killed process, leaves table and state as they were.
 * Pause points (tests kill runs there): before-copy, during-copy, before-commit, after-commit.
 */
export async function applyBatch(input: MaterializeInput, apply: (batch: Batch) => Promise<BatchOutcome>): Promise<MaterializeResult> {
  const { model, relation, target } = input;
  const columns = model.columns.map((c) => c.name);
  const key = rowKey(model);
  const session = await target.acquire();
  try {
    const result = await transaction(session, async (tx) => {
      await ensureSchema(tx, relation.schema, { inTransaction: true });
      const created = await ensureTable(tx, relation, model);
      // A full refresh empties the model's own table; a model that writes into another's (a reconciliation) never does.
      if (input.fullRefresh && !created && relation.name === model.name) await tx.exec(`TRUNCATE TABLE ${relation.qualified}`);
      const stage = quoteIdent(pgName(`tm_incoming_${model.name}_${input.runId}`));
      await tx.exec(`CREATE TEMP TABLE ${stage} (LIKE ${relation.qualified} INCLUDING DEFAULTS) ON COMMIT DROP`);
      await pausePoint('before-copy', model.name);
      throwIfCancelled();
      await input.result.loadInto({ ...tx, copyCsvIn: (table, cols, write, options) => tx.copyCsvIn(table, cols, write, { model: model.name, ...options }) }, stage);
      const outcome = await apply({ tx, input, stage, columns, key });
      const deleted = (outcome.deleted ?? 0) + (await applyRetention(tx, input));
      if (input.state) await writeModelState(tx, input.target.schema, input.state);
      await pausePoint('before-commit', model.name);
      throwIfCancelled();
      return { rows: outcome.rows, deleted, summary: outcome.summary };
    });
    await pausePoint('after-commit', model.name);
    return result;
  } catch (err) {
    throw explainTargetError(err, model);
  } finally {
    await session.release();
  }
}

/** Creates the table with its key, unique key and indexes when it does not exist; true when created. */
export async function ensureTable(session: TargetSession, relation: Relation, model: ModelNode): Promise<boolean> {
  if (await tableExists(session, relation.schema, relation.name)) return false;
  const key = rowKey(model);
  // Without a declared primary key, the unique key is the table's primary key.
  const keyed = model.primaryKey.length ? model : { ...model, primaryKey: key };
  await session.exec(createTableSql(relation.qualified, keyed, { withKey: true, tableName: relation.name }));
  const indexes = [...model.indexes];
  if (key.length && key.join(',') !== keyed.primaryKey.join(',')) indexes.push({ columns: key, unique: true });
  for (const ix of indexes) {
    await session.exec(`CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(indexName(relation.name, ix.columns, ix.unique))} ON ${relation.qualified} (${ix.columns.map(quoteIdent).join(', ')})`);
  }
  for (const sql of commentSql(relation.qualified, model)) await session.exec(sql);
  return true;
}

/** Two rows of one batch with the same key are an error that names the key, never a silent pick. */
export async function checkUniqueKeys(batch: Batch): Promise<void> {
  const { tx, stage, key, input } = batch;
  if (!key.length) return;
  const cols = key.map(quoteIdent).join(', ');
  const dup = await tx.query<Record<string, string | null> & { n: string }>(
    `SELECT ${key.map((k) => `${quoteIdent(k)}::text AS ${quoteIdent(k)}`).join(', ')}, count(*)::text AS n FROM ${stage} GROUP BY ${cols} HAVING count(*) > 1 LIMIT 1`,
  );
  if (dup.length) {
    const shown = key.map((k) => `${k} = ${dup[0][k] ?? 'NULL'}`).join(', ');
    throw new TmError(`model '${input.model.name}': ${dup[0].n} rows of this run have the same unique key (${shown}); each key may appear once per run`, 1);
  }
}

export async function countOf(tx: TargetSession, sql: string): Promise<number> {
  const rows = await tx.query<{ n: number }>(`WITH changed AS (${sql} RETURNING 1) SELECT count(*)::int AS n FROM changed`);
  return rows[0]?.n ?? 0;
}

/** `retention: {column, keep_after}`: rows whose column is older than the rendered `keep_after` go. */
async function applyRetention(tx: TargetSession, input: MaterializeInput): Promise<number> {
  const retention = input.model.config.retention;
  if (!retention) return 0;
  const cutoff = renderConfig(input, retention.keep_after, 'retention.keep_after');
  return countOf(tx, `DELETE FROM ${input.relation.qualified} WHERE ${quoteIdent(retention.column)} < (${cutoff})`);
}

export function renderConfig(input: MaterializeInput, template: string, what: string, extra?: Readonly<Record<string, string>>): string {
  if (!input.render) throw new TmError(`model '${input.model.name}': ${what} needs the run's template context`);
  return input.render(template, extra);
}

function explainTargetError(err: unknown, model: ModelNode): unknown {
  const e = err as { code?: string; detail?: string; message?: string };
  if (e.code === '23505') return new TmError(`model '${model.name}': its rows break the unique key: ${e.detail ?? e.message}`, 1, { cause: err });
  if (e.code === '23502') return new TmError(`model '${model.name}': ${e.message}`, 1, { cause: err });
  return err;
}
