import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { enforceContract } from '../compile/contract.js';
import { renderModelConfigSql, renderModelSql } from '../compile/render-model.js';
import type { TemplateEnv } from '../compile/template-env.js';
import { copyDuckToTarget, copyTargetToDuck } from '../engines/duck-transfer.js';
import { type DuckSession } from '../engines/duckdb.js';
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import { qualified, type Target } from '../engines/target.js';
import { errorMessage, TmError } from '../core/errors.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { strategyFor } from '../materialize/index.js';
import { replacePartitions } from '../materialize/replace-partitions.js';
import type { MaterializeResult, ModelResult, Relation } from '../materialize/types.js';
import type { ModelStep } from '../plan/types.js';
import type { PreparedSource } from '../sources/prepare-source.js';

/** What running one model needs besides its step: the run's connections and DuckDB bookkeeping. */
export interface StepEnv {
  readonly manifest: Manifest;
  readonly target: Target;
  readonly templates: TemplateEnv;
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly runId: string;
  readonly fullRefresh: boolean;
  readonly compiledDir: string;
  /** Scratch folder of the run (CSV files between PostgreSQL and DuckDB). */
  readonly scratch: string;
  /** Runs a heavy DuckDB statement under the run's one-query-at-a-time slot. */
  readonly heavy: (session: DuckSession, sql: string, model: ModelNode) => Promise<void>;
  /** Makes a model's table readable in DuckDB under its name (once per run). */
  readonly ensureInDuck: (session: DuckSession, name: string) => Promise<void>;
  /** Records that a model's rows are now in DuckDB under its name. */
  readonly markInDuck: (name: string) => void;
  /** Whether a later DuckDB model of the run reads this model: its result then stays in DuckDB under its name. */
  readonly keptInDuck: (name: string) => boolean;
  /** `--defer-to`: refs read from another schema (ref name -> schema). */
  readonly deferred?: ReadonlyMap<string, string>;
}

/** Renders, computes and materializes one model of a `build` step; errors name the model and its compiled SQL. */
export async function buildModel(step: ModelStep, env: StepEnv, session: DuckSession): Promise<MaterializeResult> {
  const { model } = step;
  const { manifest, target } = env;
  const compiledPath = path.join(env.compiledDir, model.path);
  const inDuck = model.config.engine === 'duckdb';
  if (inDuck) for (const r of model.refs) await env.ensureInDuck(session, r);
  const relation: Relation = { schema: target.schema, name: step.relationName, qualified: qualified(target.schema, step.relationName) };
  if (step.thisRows) {
    await copyTargetToDuck(session, target, step.thisRows.exists ? relation.qualified : undefined, { columns: model.columns, into: step.thisRows.table, scratch: env.scratch });
  }
  const renderInput = {
    model, manifest, schema: target.schema, relationName: step.relationName, isIncremental: step.isIncremental, values: step.values,
    sourceRelation: (name: string) => env.sources.get(name)?.relation, deferred: env.deferred,
  };
  const sql = renderModelSql(env.templates, renderInput);
  await mkdir(path.dirname(compiledPath), { recursive: true });
  await writeFile(compiledPath, sql);
  const sqlError = (err: unknown) => new TmError(`${model.path}: ${errorMessage(err).split('\n')[0]} (compiled SQL: ${path.relative(manifest.projectDir, compiledPath)})`, 1, { cause: err });
  const duck = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw err instanceof TmError ? err : sqlError(err);
    }
  };

  // A partition-aware model that recomputed some days replaces those days in its table; else its kind's strategy.
  const strategy = step.partitions ? replacePartitions : strategyFor(model.config.materialized);
  let dropAfter: string | undefined;
  let result: ModelResult;
  if (strategy.lives === 'duckdb') {
    result = {
      loadInto: () => Promise.reject(new TmError(`model '${model.name}' lives in DuckDB and is not written to the target`)),
      keepInDuckDb: async (as) => {
        if (as === 'view') {
          await duck(() => session.run(`CREATE OR REPLACE VIEW ${quoteIdent(model.name)} AS ${sql}`));
          env.markInDuck(model.name);
          return undefined;
        }
        await duck(() => env.heavy(session, `CREATE OR REPLACE TABLE ${quoteIdent(model.name)} AS ${sql}`, model));
        env.markInDuck(model.name);
        const [{ n }] = await session.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${quoteIdent(model.name)}`);
        return n;
      },
    };
  } else if (inDuck) {
    const described = await duck(() => session.all<{ column_name: string }>(`DESCRIBE ${sql}`));
    const contracted = enforceContract(model, sql, described.map((d) => d.column_name));
    // Computed into a DuckDB table under the slot; the COPY into the target runs outside it, so
    // PostgreSQL parsing this model's rows overlaps DuckDB computing the next model.
    const kept = env.keptInDuck(model.name);
    const resultTable = kept ? model.name : `__tm_result_${model.name}`;
    const queries = batchQueries(contracted, step.batches);
    await duck(() => env.heavy(session, `CREATE OR REPLACE TABLE ${quoteIdent(resultTable)} AS ${queries[0]}`, model));
    for (const query of queries.slice(1)) await duck(() => env.heavy(session, `INSERT INTO ${quoteIdent(resultTable)} ${query}`, model));
    if (kept) env.markInDuck(model.name);
    else dropAfter = resultTable;
    result = {
      loadInto: (into, table) => duck(() => copyDuckToTarget(session, resultTable, into, table, model.columns.map((c) => c.name))),
      keepInDuckDb: () => Promise.reject(new TmError(`model '${model.name}' is written to the target, not kept in DuckDB`)),
    };
  } else {
    const columns = model.columns.map((c) => quoteIdent(c.name)).join(', ');
    result = {
      loadInto: async (into, table) => {
        const rows = await into.query<{ n: number }>(
          `WITH inserted AS (INSERT INTO ${table} (${columns}) SELECT ${columns} FROM (${sql}) AS m RETURNING 1) SELECT count(*)::int AS n FROM inserted`,
        );
        return rows[0]?.n ?? 0;
      },
      keepInDuckDb: () => Promise.reject(new TmError(`model '${model.name}' runs in PostgreSQL`)),
    };
  }
  try {
    return await strategy.apply({
      model, target, relation, result, runId: env.runId, fullRefresh: env.fullRefresh, values: step.values, state: step.stateWrite,
      partitionState: step.partitionState, partitions: step.partitions,
      render: (template, extra) => renderModelConfigSql(env.templates, renderInput, template, extra),
    });
  } finally {
    if (dropAfter) await session.run(`DROP TABLE IF EXISTS ${quoteIdent(dropAfter)}`).catch(() => undefined);
  }
}

/**
 * The model's query once, or once per batch of days: each batch filters the model's output on its
 * partition column, a filter DuckDB pushes down to the source's scan, so one batch's aggregation holds
 * only its days. The batches together are exactly the model's rows (the last takes the rest and NULL).
 */
export function batchQueries(sql: string, batches: ModelStep['batches']): string[] {
  if (!batches?.bounds.length) return [sql];
  const column = quoteIdent(batches.column);
  const day = (d: string) => `DATE ${quoteLiteral(d)}`;
  const { bounds } = batches;
  const where = [
    `${column} <= ${day(bounds[0])}`,
    ...bounds.slice(1).map((b, i) => `${column} > ${day(bounds[i])} AND ${column} <= ${day(b)}`),
    `${column} > ${day(bounds[bounds.length - 1])} OR ${column} IS NULL`,
  ];
  return where.map((w) => `SELECT * FROM (${sql}) AS batch WHERE ${w}`);
}

/** Copies a model's target rows into DuckDB under its name; an incremental model never built reads as empty. */
export async function importModel(session: DuckSession, target: Target, model: ModelNode, scratch: string, missingIsEmpty: boolean, schema = target.schema): Promise<void> {
  try {
    await copyTargetToDuck(session, target, qualified(schema, model.name), { columns: model.columns, into: model.name, scratch });
  } catch (err) {
    if ((err as { code?: string }).code === '42P01' && missingIsEmpty) {
      await copyTargetToDuck(session, target, undefined, { columns: model.columns, into: model.name, scratch });
      return;
    }
    throw new TmError(`cannot read model '${model.name}' from the target (has it been built?): ${errorMessage(err)}`, 1, { cause: err });
  }
}
