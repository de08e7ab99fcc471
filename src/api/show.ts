import { renderModelSql } from '../compile/render-model.js';
import { TmError } from '../core/errors.js';
import { quoteIdent } from '../core/sql-quote.js';
import { copyTargetToDuck } from '../engines/duck-transfer.js';
import { qualified, withSession } from '../engines/target.js';
import { importModel } from '../execute/model-step.js';
import type { ModelNode } from '../manifest/types.js';
import { closePlannedRun, openPlannedRun, type RunOptions } from './run.js';

export interface ShowOptions extends RunOptions {
  /** Rows shown; default 10. */
  readonly limit?: number;
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
  const planned = await openPlannedRun({ ...options, dryRun: true, log: options.log ?? ((line) => process.stderr.write(line + '\n')) });
  try {
    const { plan, ctx, runtime, observation, templates, deferred } = planned;
    const shown = plan.steps.filter((s) => s.model.config.materialized !== 'temp');
    const step = shown.length === 1 ? shown[0] : plan.steps.length === 1 ? plan.steps[0] : undefined;
    if (!step) throw new TmError(`tm show shows one model: --select picked ${shown.length} (${shown.map((s) => s.model.name).join(', ')})`, 2);
    const target = runtime.target;
    const scratch = target.scratchDir ?? ctx.targetDir;
    const render = (s: (typeof plan.steps)[number]) =>
      renderModelSql(templates, {
        model: s.model, manifest: ctx.manifest, schema: target.schema, relationName: s.relationName, isIncremental: s.isIncremental, values: s.values,
        sourceRelation: (name) => observation.prepared.get(name)?.relation, deferred,
      });
    const computed = new Set(plan.steps.map((s) => s.model.name));
    const session = await runtime.duck.connect();
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
      if (step.model.config.engine === 'postgres') {
        const rows = await withSession(target, (t) => t.query<Record<string, unknown>>(`SELECT * FROM (${render(step)}) AS shown LIMIT ${limit}`));
        return { model: step.model.name, columns: columnsOf(step.model, rows), rows };
      }
      await importRefs(step.model);
      if (step.thisRows) {
        const own = qualified(target.schema, step.relationName);
        await copyTargetToDuck(session, target, step.thisRows.exists ? own : undefined, { columns: step.model.columns, into: step.thisRows.table, scratch });
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

function columnsOf(model: ModelNode, rows: readonly Record<string, unknown>[]): string[] {
  return rows.length ? Object.keys(rows[0]) : model.columns.map((c) => c.name);
}
