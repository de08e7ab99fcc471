import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { NodeResult } from '../artifacts/run-results.js';
import { enforceContract } from '../compile/contract.js';
import { renderTemplate, type RenderContext, type TemplateEnv } from '../compile/template-env.js';
import { duckTypeFor } from '../compile/type-map.js';
import { quoteIdent, quoteLiteral, type DuckDb, type DuckSession } from '../engines/duckdb.js';
import { qualified, type Target } from '../engines/target.js';
import { errorMessage, TmError } from '../errors.js';
import { ancestors, parentsOf, type ProjectGraph } from '../graph/build-graph.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { strategyFor } from '../materialize/index.js';
import type { MaterializeInput } from '../materialize/types.js';
import type { PreparedSource } from '../sources/prepare-source.js';
import { elapsedSince, formatCount, modelLine, type Log } from './progress.js';
import { runInOrder } from './scheduler.js';
import { createSemaphore } from './semaphore.js';

/** Per-model hooks a caller (e.g. the incremental tier) can add: template values, incremental flag, state writes. */
export interface ModelHooks {
  readonly values?: Readonly<Record<string, string>>;
  readonly isIncremental?: boolean;
  readonly beforeCommit?: MaterializeInput['beforeCommit'];
  /** Called after the model succeeded (outside its transaction). */
  readonly afterSuccess?: () => Promise<void>;
  /**
   * The model has nothing to do in this run (nothing new upstream, or another process holds it):
   * its SQL is not run; `record` may still write state (e.g. that it was checked).
   */
  readonly skip?: { readonly status: 'success' | 'skipped'; readonly reason: string; readonly record?: () => Promise<void> };
  /** The model writes into another model's table (e.g. a reconciliation), under that table's name. */
  readonly relationName?: string;
  /**
   * Makes the model's current target rows readable in DuckDB as this table (e.g. `{{this_rows}}`),
   * typed by its contract; empty when the target table does not exist yet.
   */
  readonly thisRows?: { readonly table: string; readonly exists: boolean };
}

export interface RunModelsInput {
  /** Heavy DuckDB statements (model results) allowed at once; default 1. */
  readonly duckConcurrency?: number;
  readonly manifest: Manifest;
  readonly graph: ProjectGraph;
  /** Selected model uniqueIds, in topological order. */
  readonly selected: readonly string[];
  readonly target: Target;
  readonly duck: DuckDb;
  readonly templates: TemplateEnv;
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly threads: number;
  readonly fullRefresh: boolean;
  /** Values every template sees (SQL literals): `now`, `run_started_at`... */
  readonly values: Readonly<Record<string, string>>;
  readonly compiledDir: string;
  readonly runId: string;
  readonly log: Log;
  /** Optional per-model preparation (incremental context), run before the model's SQL is rendered. */
  readonly hooksFor?: (model: ModelNode) => Promise<ModelHooks>;
  /** Nodes scheduled with the models (`tm build`: the tests). */
  readonly extraNodes?: readonly ExtraNode[];
}

/** A node run among the models, e.g. a test: after the models it reads, before the models it blocks. */
export interface ExtraNode {
  readonly id: string;
  readonly name: string;
  /** Selected models it runs after. */
  readonly dependsOn: readonly string[];
  /** Selected models that wait for it, and are skipped (with their descendants) when it fails. */
  readonly blocks: readonly string[];
  readonly run: () => Promise<'success' | 'error'>;
  /** Called instead of `run` when something upstream failed; `cause` is that node's name. */
  readonly skip: (cause: string) => void;
}

/** Models run in DuckDB by default; their result reaches the target by COPY through the model's materialization. */
export async function runModels(input: RunModelsInput): Promise<NodeResult[]> {
  const { manifest, graph, selected, log } = input;
  const byId = new Map([...manifest.models.values()].map((m) => [m.uniqueId, m]));
  const models = selected.map((id) => byId.get(id)!).filter(Boolean);
  const selectedNames = new Set(models.map((m) => m.name));
  // Results that a later DuckDB model of this run reads are kept in DuckDB rather than read back from the target.
  const keep = new Set<string>();
  // An incremental model's result is only this run's batch, not its table: readers import the table after it is written.
  for (const m of models) if (m.config.engine === 'duckdb') for (const r of m.refs) if (selectedNames.has(r) && !isIncremental(manifest.models.get(r))) keep.add(r);
  const inDuck = new Set<string>();
  const importing = new Map<string, Promise<void>>();
  const results = new Map<string, NodeResult>();
  const total = models.length;
  const indexOf = new Map(models.map((m, i) => [m.uniqueId, i + 1]));
  const scratch = await mkdtemp(path.join(input.target.scratchDir ?? os.tmpdir(), 'models-')); // rel: inside the run's folder

  const ensureInDuck = async (session: DuckSession, name: string): Promise<void> => {
    if (inDuck.has(name)) return;
    let pending = importing.get(name);
    if (!pending) {
      pending = importFromTarget(session, input.target, manifest.models.get(name)!, scratch).then(() => {
        inDuck.add(name);
      });
      importing.set(name, pending);
    }
    await pending;
  };

  // DuckDB already uses every core for one query; running several heavy ones at once only splits the
  // memory cap between them. One at a time, while earlier models' loads and index builds go on in PostgreSQL.
  const duckSlot = createSemaphore(input.duckConcurrency ?? 1);
  // Time each model waits for the slot, reported apart: its line's time is wall time, queue included.
  const queued = new Map<string, number>();
  const heavy = (session: DuckSession, sql: string, model: ModelNode, compiledPath: string) => {
    const waitStart = performance.now();
    return duckSlot(() => {
      queued.set(model.uniqueId, (queued.get(model.uniqueId) ?? 0) + (performance.now() - waitStart) / 1000);
      return runDuck(session, sql, model, compiledPath, manifest.projectDir);
    });
  };

  const runOne = async (id: string): Promise<'success' | 'error'> => {
    const model = byId.get(id)!;
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const compiledPath = path.join(input.compiledDir, model.path);
    const excluded = excludedFor(graph, model, input.sources);
    const finish = (result: { status: 'success' | 'error' | 'skipped'; rows?: number; deleted?: number; message?: string }, line: string) => {
      const seconds = elapsedSince(started);
      const waited = Math.round((queued.get(id) ?? 0) * 100) / 100;
      results.set(id, {
        unique_id: id, name: model.name, kind: 'model', execution_time_s: seconds, queued_s: waited || undefined, started_at: startedAt,
        completed_at: new Date().toISOString(), compiled_path: path.relative(manifest.projectDir, compiledPath),
        rows_excluded: Object.keys(excluded).length ? excluded : undefined, ...result,
      } as NodeResult);
      log(modelLine(indexOf.get(id)!, total, result.status === 'success' ? 'OK' : result.status === 'skipped' ? 'SKIP' : 'ERROR', model.name, line, seconds, waited));
    };
    const session = await input.duck.connect();
    let dropAfter: string | undefined;
    try {
      const hooks = (await input.hooksFor?.(model)) ?? {};
      if (hooks.skip) {
        await hooks.skip.record?.();
        finish({ status: hooks.skip.status, rows: 0, message: hooks.skip.reason }, hooks.skip.reason);
        return 'success';
      }
      if (model.config.engine === 'duckdb') for (const r of model.refs) await ensureInDuck(session, r);
      const relationName = hooks.relationName ?? model.name;
      const relation = { schema: input.target.schema, name: relationName, qualified: qualified(input.target.schema, relationName) };
      if (hooks.thisRows) await importFromTarget(session, input.target, model, scratch, { from: relation.qualified, into: hooks.thisRows.table, exists: hooks.thisRows.exists });
      const values = { ...input.values, ...(hooks.values ?? {}) };
      const renderContext: RenderContext = {
        resolveRef: (name) => (model.config.engine === 'duckdb' ? quoteIdent(name) : qualified(input.target.schema, name)),
        resolveSource: (name) => {
          if (model.config.engine === 'postgres') throw new TmError(`model '${model.name}' runs in PostgreSQL and cannot read source '${name}' (sources are read by DuckDB)`);
          const prepared = input.sources.get(name);
          if (!prepared) throw new TmError(`source '${name}' was not prepared for this run`);
          return prepared.relation;
        },
        thisRelation: relation.qualified,
        isIncremental: hooks.isIncremental ?? false,
        vars: manifest.vars,
        config: { ...model.config.extra, materialized: model.config.materialized, engine: model.config.engine },
        values,
      };
      const sql = renderTemplate(input.templates, model.rawSql, model.path, model.bodyLine - 1, renderContext);
      await mkdir(path.dirname(compiledPath), { recursive: true });
      await writeFile(compiledPath, sql);

      if (model.config.materialized === 'temp') {
        // `as_view: true`: a view that readers' queries inline (columns they do not read are never computed).
        if (model.config.extra.as_view === true) {
          await runDuck(session, `CREATE OR REPLACE VIEW ${quoteIdent(model.name)} AS ${sql}`, model, compiledPath, manifest.projectDir);
          inDuck.add(model.name);
          await hooks.afterSuccess?.();
          finish({ status: 'success' }, 'VIEW');
          return 'success';
        }
        await heavy(session, `CREATE OR REPLACE TABLE ${quoteIdent(model.name)} AS ${sql}`, model, compiledPath);
        inDuck.add(model.name);
        const [{ n }] = await session.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${quoteIdent(model.name)}`);
        await hooks.afterSuccess?.();
        finish({ status: 'success', rows: n }, `TEMP ${formatCount(n)} rows`);
        return 'success';
      }
      const strategy = strategyFor(model.config.materialized);
      if (!strategy) throw new TmError(`model '${model.name}': materialization '${model.config.materialized}' is not available`);
      let loadInto: MaterializeInput['loadInto'];
      const columns = model.columns.map((c) => c.name);
      if (model.config.engine === 'duckdb') {
        const described = await runDuckAll<{ column_name: string }>(session, `DESCRIBE ${sql}`, model, compiledPath, manifest.projectDir);
        const contracted = enforceContract(model, sql, described.map((d) => d.column_name));
        // The result is computed into a DuckDB table under the slot; the COPY into the target then runs outside it,
        // so PostgreSQL parsing this model's rows overlaps DuckDB computing the next model.
        const resultTable = quoteIdent(keep.has(model.name) ? model.name : `__tm_result_${model.name}`);
        await heavy(session, `CREATE OR REPLACE TABLE ${resultTable} AS ${contracted}`, model, compiledPath);
        if (keep.has(model.name)) inDuck.add(model.name);
        else dropAfter = resultTable;
        loadInto = (target, table) =>
          target.copyCsvIn(table, columns, (dest, chunked) =>
            runDuck(
              session,
              `COPY ${resultTable} TO ${quoteLiteral(dest)} (FORMAT csv, HEADER false${chunked ? `, FILE_SIZE_BYTES '32MB', OVERWRITE` : ', USE_TMP_FILE false'})`,
              model, compiledPath, manifest.projectDir,
            ),
          );
      } else {
        loadInto = async (target, table) => {
          const rows = await target.query<{ n: number }>(
            `WITH inserted AS (INSERT INTO ${table} (${columns.map(quoteIdent).join(', ')}) SELECT ${columns.map(quoteIdent).join(', ')} FROM (${sql}) AS m RETURNING 1) SELECT count(*)::int AS n FROM inserted`,
          );
          return rows[0]?.n ?? 0;
        };
      }
      const result = await strategy({
        model, target: input.target, relation, loadInto, runId: input.runId, fullRefresh: input.fullRefresh, values,
        beforeCommit: hooks.beforeCommit,
        render: (template, extra) =>
          renderTemplate(input.templates, template, model.yamlPath ?? model.path, 0, { ...renderContext, values: { ...values, ...(extra ?? {}) } }),
      });
      await hooks.afterSuccess?.();
      finish({ status: 'success', rows: result.rows, deleted: result.deleted }, result.summary.replace(/(\d+)$/, (n) => `${formatCount(Number(n))} rows`));
      return 'success';
    } catch (err) {
      const message = describeModelError(err, model);
      finish({ status: 'error', message }, 'ERROR');
      log(`      ${message}`);
      return 'error';
    } finally {
      if (dropAfter) await session.run(`DROP TABLE IF EXISTS ${dropAfter}`).catch(() => undefined);
      session.close();
    }
  };

  try {
    const extras = new Map((input.extraNodes ?? []).map((e) => [e.id, e]));
    const blockedBy = (id: string) => [...extras.values()].filter((e) => e.blocks.includes(id)).map((e) => e.id);
    await runInOrder(
      [
        ...models.map((m) => ({ id: m.uniqueId, dependsOn: [...parentsOf(graph, m.uniqueId), ...blockedBy(m.uniqueId)] })),
        ...[...extras.values()].map((e) => ({ id: e.id, dependsOn: e.dependsOn })),
      ],
      input.threads,
      (id) => extras.get(id)?.run() ?? runOne(id),
      (id, cause) => {
        const causeName = byId.get(cause)?.name ?? extras.get(cause)?.name ?? cause;
        const extra = extras.get(id);
        if (extra) return extra.skip(causeName);
        const model = byId.get(id)!;
        results.set(id, { unique_id: id, name: model.name, kind: 'model', status: 'skipped', execution_time_s: 0, message: `skipped: upstream '${causeName}' failed` });
        log(modelLine(indexOf.get(id)!, total, 'SKIP', model.name, `upstream ${causeName} failed`, 0));
      },
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return models.map((m) => results.get(m.uniqueId)!);
}

/** Rows left out of a model's inputs: the contract exclusions of every source upstream of it. */
function excludedFor(graph: ProjectGraph, model: ModelNode, sources: ReadonlyMap<string, PreparedSource>): Record<string, number> {
  const out: Record<string, number> = {};
  const upstream = [...ancestors(graph, model.uniqueId)].map((id) => graph.nodes.get(id)).filter((n) => n?.kind === 'source');
  for (const s of upstream) {
    const prepared = sources.get(s!.name);
    if (!prepared) continue;
    for (const [rule, n] of Object.entries(prepared.excluded)) out[`${s!.name}.${rule}`] = n;
  }
  return out;
}

class ModelSqlError extends TmError {}

async function runDuck(session: DuckSession, sql: string, model: ModelNode, compiledPath: string, projectDir: string): Promise<void> {
  try {
    await session.run(sql);
  } catch (err) {
    throw new ModelSqlError(`${model.path}: ${errorMessage(err).split('\n')[0]} (compiled SQL: ${path.relative(projectDir, compiledPath)})`, 1, { cause: err });
  }
}

async function runDuckAll<R>(session: DuckSession, sql: string, model: ModelNode, compiledPath: string, projectDir: string): Promise<R[]> {
  try {
    return await session.all<R>(sql);
  } catch (err) {
    throw new ModelSqlError(`${model.path}: ${errorMessage(err).split('\n')[0]} (compiled SQL: ${path.relative(projectDir, compiledPath)})`, 1, { cause: err });
  }
}

function describeModelError(err: unknown, model: ModelNode): string {
  if (err instanceof TmError) return err.message;
  const e = err as { message?: string; where?: string; detail?: string };
  const where = e.where ? ` (${e.where.split('\n')[0]})` : '';
  return `model '${model.name}' (${model.path}): ${errorMessage(err).split('\n')[0]}${where}`;
}

function isIncremental(model: ModelNode | undefined): boolean {
  return model !== undefined && ['upsert', 'snapshot', 'append'].includes(model.config.materialized);
}

/**
 * A model not built in this run but read by one that is: its rows come from the target, typed by its
 * contract. An incremental model that was never built reads as empty (there is nothing to add to yet).
 */
async function importFromTarget(
  session: DuckSession, target: Target, model: ModelNode, scratch: string,
  where: { from?: string; into?: string; exists?: boolean } = {},
): Promise<void> {
  const into = where.into ?? model.name;
  const file = path.join(scratch, `${into}.csv`);
  const types = model.columns.map((c) => `${quoteIdent(c.name)} ${duckTypeFor(c.type)}`).join(', ');
  if (where.exists === false) {
    await session.run(`CREATE OR REPLACE TABLE ${quoteIdent(into)} (${types})`);
    return;
  }
  const t = await target.acquire();
  try {
    await t.copyCsvOut(`SELECT ${model.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${where.from ?? qualified(target.schema, model.name)}`, file);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01' && isIncremental(model)) {
      await session.run(`CREATE OR REPLACE TABLE ${quoteIdent(into)} (${types})`);
      return;
    }
    throw new TmError(`cannot read model '${model.name}' from the target (has it been built?): ${errorMessage(err)}`, 1, { cause: err });
  } finally {
    await t.release();
  }
  const columns = model.columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(duckTypeFor(c.type))}`).join(', ');
  await session.run(`CREATE OR REPLACE TABLE ${quoteIdent(into)} AS SELECT * FROM read_csv(${quoteLiteral(file)}, header = true, columns = {${columns}})`);
}
