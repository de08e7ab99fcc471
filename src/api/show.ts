import { renderModelSql } from '../compile/render-model.js';
import { analyzeTemplate } from '../compile/static-analysis.js';
import { renderTemplate } from '../compile/template-env.js';
import { stateDirOf } from '../project/state-dir.js';
import { prepareSources } from '../sources/prepare-sources.js';
import { TmError } from '../core/errors.js';
import { quoteIdent } from '../core/sql-quote.js';
import { qualified, withSession } from '../engines/target.js';
import { importModel } from '../execute/model-step.js';
import type { ModelNode } from '../manifest/types.js';
import { addsToStoredRows } from '../plan/types.js';
import { deferTarget } from './defer.js';
import { closePlannedRun, openPlannedRun, type RunOptions } from './run.js';

export interface ShowOptions extends RunOptions {
  /** Rows shown; default 10. */
  readonly limit?: number;
  /** `--inline`: a DuckDB query over `{{ref}}` and `{{source}}` instead of a model. */
  readonly inline?: string;
}

export interface ShownRows {
  readonly model: string;
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
}

/**
 * `tm show --select m`: the model's first rows as a run would compute them, written nowhere. The run's
 * dry-run plan gives the values and the prepared sources; the temp models it reads are computed as
 * views in this process's DuckDB, the models it refs are read from the target (or, with `--defer-to`,
 * from that target), and the model's query runs with a LIMIT in its engine.
 */
export async function show(options: ShowOptions): Promise<ShownRows> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (options.inline !== undefined) return showInline(options, options.inline, log);
  const planned = await openPlannedRun({ ...options, dryRun: true, log });
  try {
    const { plan, ctx, runtime, templates, deferred } = planned;
    const shown = plan.steps.filter((s) => s.model.config.materialized !== 'temp');
    const step = shown.length === 1 ? shown[0] : plan.steps.length === 1 ? plan.steps[0] : undefined;
    if (!step) throw new TmError(`tm show shows one model: --select picked ${shown.length} (${shown.map((s) => s.model.name).join(', ')})`, 2);
    const target = runtime.target;
    const scratch = target.scratchDir ?? ctx.targetDir;
    // The sources the plan reads, read as a run would (into the run's engine; the target is not written).
    const { sources } = await planned.ingest(plan);
    const render = (s: (typeof plan.steps)[number]) =>
      renderModelSql(templates, {
        model: s.model, manifest: ctx.manifest, schema: target.schema, relationName: s.relationName, isIncremental: addsToStoredRows(s), values: s.values,
        sourceRelation: (name) => sources.get(name)?.relation, deferred,
      });
    const computed = new Set(plan.steps.map((s) => s.model.name));
    const session = await runtime.engines.sources.connect();
    try {
      const imported = new Set<string>();
      const importRefs = async (model: ModelNode) => {
        for (const ref of model.refs) {
          if (computed.has(ref) || imported.has(ref)) continue;
          const refModel = ctx.manifest.models.get(ref)!;
          await importModel(session, target, refModel, scratch, 'incremental' in refModel.config.kind, deferred.get(ref));
          imported.add(ref);
        }
      };
      for (const s of plan.steps) {
        if (s === step) break;
        await importRefs(s.model);
        await session.run(`CREATE OR REPLACE VIEW ${quoteIdent(s.model.name)} AS ${render(s)}`);
      }
      const limit = options.limit ?? 10;
      if (runtime.engines.get(step.model.config.engine).traits.store === 'target') {
        const rows = await withSession(target, (t) => t.query<Record<string, unknown>>(`SELECT * FROM (${render(step)}) AS shown LIMIT ${limit}`));
        return { model: step.model.name, columns: columnsOf(step.model, rows), rows };
      }
      await importRefs(step.model);
      const thisRows = step.kind === 'incremental' ? step.thisRows : undefined;
      if (thisRows) {
        const own = qualified(target.schema, step.relationName);
        await session.importTargetRows({ target, from: thisRows.exists ? own : undefined, columns: step.model.columns, into: thisRows.table, scratch });
      }
      const rows = await session.all<Record<string, unknown>>(`SELECT * FROM (${render(step)}) AS shown LIMIT ${limit}`);
      return { model: step.model.name, columns: columnsOf(step.model, rows), rows };
    } finally {
      session.close();
    }
  } finally {
    await closePlannedRun(planned);
  }
}

/**
 * `--inline`: the query's refs are selected (their temp models computed as views, the others read from
 * the target or `--defer-to`), its sources prepared, and the query runs in DuckDB with a LIMIT.
 */
async function showInline(options: ShowOptions, query: string, log: (line: string) => void): Promise<ShownRows> {
  const declared = analyzeTemplate(query, '--inline');
  // No ref: nothing selected (`--exclude '*'`), only the run's values and connections.
  const selection = declared.refs.length ? { select: declared.refs, exclude: [] } : { select: [], exclude: ['*'] };
  const planned = await openPlannedRun({ ...options, ...selection, dryRun: true, log });
  try {
    const { plan, ctx, runtime, templates, deferred } = planned;
    const target = runtime.target;
    const scratch = target.scratchDir ?? ctx.targetDir;
    const sources = new Map((await planned.ingest(plan)).sources);
    const missing = declared.sources.filter((s) => !sources.has(s)).map((name) => {
      const source = ctx.manifest.sources.get(name);
      if (!source) throw new TmError(`--inline: no source '${name}'`, 2);
      return source;
    });
    if (missing.length) {
      const setup = { projectDir: ctx.project.projectDir, stateDir: stateDirOf(ctx.project.projectDir), values: plan.values, log };
      for (const [name, prepared] of await prepareSources(runtime.engines.sources, ctx.manifest, missing, setup)) sources.set(name, prepared);
    }
    // The query's refs are selected, so the run defers none of them: a ref not built here reads the --defer-to target.
    const other = options.deferTo ? await deferTarget(ctx.project.projectDir, runtime.config, options.deferTo) : undefined;
    const schemaOf = async (name: string): Promise<string | undefined> => {
      if (!other) return deferred.get(name);
      const [row] = await withSession(target, (t) => t.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [qualified(target.schema, name)]));
      return row?.ok ? undefined : other.schema;
    };
    const session = await runtime.engines.sources.connect();
    try {
      for (const s of plan.steps) {
        if (s.model.config.materialized !== 'temp') {
          await importModel(session, target, s.model, scratch, 'incremental' in s.model.config.kind, await schemaOf(s.model.name));
          continue;
        }
        for (const ref of s.model.refs.filter((r) => !plan.steps.some((p) => p.model.name === r))) {
          await importModel(session, target, ctx.manifest.models.get(ref)!, scratch, false, deferred.get(ref));
        }
        const sql = renderModelSql(templates, {
          model: s.model, manifest: ctx.manifest, schema: target.schema, relationName: s.relationName, isIncremental: false, values: s.values,
          sourceRelation: (name) => sources.get(name)?.relation, deferred,
        });
        await session.run(`CREATE OR REPLACE VIEW ${quoteIdent(s.model.name)} AS ${sql}`);
      }
      const sql = renderTemplate(templates, query, '--inline', 0, {
        resolveRef: (name) => quoteIdent(name),
        resolveSource: (name) => sources.get(name)!.relation,
        thisRelation: '',
        isIncremental: false,
        vars: ctx.manifest.vars,
        config: {},
        values: plan.values,
      });
      const rows = await session.all<Record<string, unknown>>(`SELECT * FROM (${sql}) AS shown LIMIT ${options.limit ?? 10}`);
      return { model: '--inline', columns: rows.length ? Object.keys(rows[0]) : [], rows };
    } finally {
      session.close();
    }
  } finally {
    await closePlannedRun(planned);
  }
}

function columnsOf(model: ModelNode, rows: readonly Record<string, unknown>[]): string[] {
  return rows.length ? Object.keys(rows[0]) : model.columns.map((c) => c.name);
}
