import { mkdir, writeFile } from 'node:fs/promises';
import { maskSecrets } from '../compile/secrets.js';
import path from 'node:path';
import { renderModelConfigSql, renderModelSql } from '../compile/render-model.js';
import type { TemplateEnv } from '../compile/template-env.js';
import { formatEngineError } from '../compile/format-engine-error.js';
import { sourceEngineTraits } from '../engines/compute/traits.js';
import { ModelStatementError, type ComputedRows, type ComputeEngine, type ComputeRequest, type ComputeSession, type EngineName } from '../engines/compute/types.js';
import { qualified, type Target } from '../engines/target.js';
import { errorMessage, TmError } from '../core/errors.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { strategyFor } from '../materialize/index.js';
import { replacePartitions } from '../materialize/replace-partitions.js';
import type { MaterializeResult, ModelResult, Relation } from '../materialize/types.js';
import { addsToStoredRows, stateWriteOf, type ModelStep } from '../plan/types.js';
import type { PreparedSource } from '../sources/prepare-source.js';

/** What running one model needs besides its step: the run's connections and its engines' stores. */
export interface StepEnv {
  readonly manifest: Manifest;
  readonly target: Target;
  readonly templates: TemplateEnv;
  /** The template environment of models on an engine (its macro variants, macro-dispatch.ts); default `templates`. */
  readonly engineTemplates?: (engine: EngineName) => Promise<TemplateEnv>;
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly runId: string;
  readonly fullRefresh: boolean;
  readonly compiledDir: string;
  /** Scratch folder of the run (files between the target and an engine). */
  readonly scratch: string;
  /** Runs a heavy statement of the model under the run's one-query-at-a-time slot. */
  readonly heavy: (model: ModelNode) => ComputeRequest['heavy'];
  /** Makes a model's table readable in the engine's store under its name (once per run and engine). */
  readonly ensureInStore: (engine: ComputeEngine, session: ComputeSession, name: string) => Promise<void>;
  /** Hands a prepared source over to an engine other than the source engine (once per run and engine). */
  readonly ensureSourceInStore: (engine: ComputeEngine, session: ComputeSession, source: string) => Promise<void>;
  /** Records that a model's rows are now in the engine's store under its name. */
  readonly markInStore: (engine: ComputeEngine, name: string) => void;
  /** Whether a later model of the run on the same engine reads this model: its result then stays in the store. */
  readonly keptInStore: (name: string) => boolean;
  /** `--defer-to`: refs read from another schema (ref name -> schema). */
  readonly deferred?: ReadonlyMap<string, string>;
}

/** Renders, computes and materializes one model of a `build` step; errors name the model and its compiled SQL. */
export async function buildModel(step: ModelStep, env: StepEnv, engine: ComputeEngine, session: ComputeSession): Promise<MaterializeResult> {
  const { model } = step;
  const { manifest, target } = env;
  const { traits } = engine;
  const compiledPath = path.join(env.compiledDir, model.path);
  if (traits.store === 'run') for (const r of model.refs) await env.ensureInStore(engine, session, r);
  if (traits.readsSources && traits.name !== sourceEngineTraits.name) for (const s of model.sources) await env.ensureSourceInStore(engine, session, s);
  const relation: Relation = { schema: target.schema, name: step.relationName, qualified: qualified(target.schema, step.relationName) };
  const thisRows = step.kind === 'incremental' ? step.thisRows : undefined;
  if (thisRows) {
    await session.importTargetRows({ target, from: thisRows.exists ? relation.qualified : undefined, columns: model.columns, into: thisRows.table, scratch: env.scratch });
  }
  const days = step.kind === 'partitioned' ? step : undefined;
  const renderInput = {
    model, manifest, schema: target.schema, relationName: step.relationName, isIncremental: addsToStoredRows(step), values: step.values,
    sourceRelation: (name: string) => env.sources.get(name)?.relation, deferred: env.deferred,
  };
  const sql = renderModelSql(env.engineTemplates ? await env.engineTemplates(traits.name) : env.templates, renderInput);
  await mkdir(path.dirname(compiledPath), { recursive: true });
  await writeFile(compiledPath, maskSecrets(manifest, sql));
  const sqlError = (err: unknown, statement?: string) => new TmError(formatEngineError(err, { file: model.path, rendered: sql, statement, body: model.rawSql, bodyLine: model.bodyLine, compiledPath: path.relative(manifest.projectDir, compiledPath), model: { name: model.name, yamlPath: model.yamlPath, projectDir: manifest.projectDir } }), 1, { cause: err });
  // Errors of an engine with a store of its own name the compiled SQL, at the model's line; the target's own
  // errors (a broken unique key) are explained by the materialization.
  const inEngine = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ModelStatementError) throw sqlError(err.error, err.statement);
      throw err instanceof TmError || traits.store === 'target' ? err : sqlError(err);
    }
  };

  // A partition-aware model that recomputed some days replaces those days in its table; else its kind's strategy.
  const strategy = days?.partitions ? replacePartitions : strategyFor(model.config.materialized);
  const heavy = env.heavy(model);
  let computed: ComputedRows | undefined;
  let result: ModelResult;
  if (strategy.lives === 'run') {
    result = {
      loadInto: () => Promise.reject(new TmError(`model '${model.name}' lives in the run's ${traits.label} and is not written to the target`)),
      keepForRun: async (as) => {
        const rows = await inEngine(() => session.keep(model.name, sql, as, heavy));
        env.markInStore(engine, model.name);
        return rows;
      },
    };
  } else {
    const keep = traits.store === 'run' && env.keptInStore(model.name);
    const rows = await inEngine(() => session.compute({ model, sql, batches: days?.batches, keep, heavy }));
    computed = rows;
    if (keep) env.markInStore(engine, model.name);
    result = {
      loadInto: (into, table) => inEngine(() => rows.loadInto(into, table)),
      keepForRun: () => Promise.reject(new TmError(`model '${model.name}' is written to the target, not kept for the run`)),
    };
  }
  try {
    return await strategy.apply({
      model, target, relation, result, runId: env.runId, fullRefresh: env.fullRefresh, values: step.values, state: stateWriteOf(step),
      partitionState: days?.partitionState, partitions: days?.partitions,
      render: (template, extra) => renderModelConfigSql(env.templates, renderInput, template, extra),
    });
  } finally {
    await computed?.release();
  }
}

/** Copies a model's target rows into the engine's store under its name; an incremental model never built reads as empty. */
export async function importModel(session: ComputeSession, target: Target, model: ModelNode, scratch: string, missingIsEmpty: boolean, schema = target.schema): Promise<void> {
  const copy = { target, columns: model.columns, into: model.name, scratch };
  try {
    await session.importTargetRows({ ...copy, from: qualified(schema, model.name) });
  } catch (err) {
    if ((err as { code?: string }).code === '42P01' && missingIsEmpty) {
      await session.importTargetRows({ ...copy, from: undefined });
      return;
    }
    throw new TmError(`cannot read model '${model.name}' from the target (has it been built?): ${errorMessage(err)}`, 1, { cause: err });
  }
}
