import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTemplateEnv, renderTemplate } from '../compile/template-env.js';
import { quoteIdent } from '../engines/duckdb.js';
import { qualified } from '../engines/target.js';
import { selectNodes } from '../graph/select.js';
import { sourceRelation } from '../sources/prepare-source.js';
import { loadProjectContext, type CommonOptions } from './project-context.js';
import { parseNow, sqlTimestamp } from './time.js';

export interface CompileOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly now?: string;
  /** Schema that model relations render with (the target's; `public` when not connecting). */
  readonly schema?: string;
}

/** `tm compile`: renders the selected models to `target/compiled/` without touching any database. */
export async function compile(options: CompileOptions): Promise<{ files: string[] }> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const ctx = await loadProjectContext(options);
  const ids = selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'] });
  const templates = await createTemplateEnv(ctx.manifest);
  const now = sqlTimestamp(parseNow(options.now));
  const schema = options.schema ?? 'public';
  const files: string[] = [];
  for (const id of ids) {
    const model = [...ctx.manifest.models.values()].find((m) => m.uniqueId === id)!;
    const sql = renderTemplate(templates, model.rawSql, model.path, model.bodyLine - 1, {
      resolveRef: (name) => (model.config.engine === 'duckdb' ? quoteIdent(name) : qualified(schema, name)),
      resolveSource: (name) => sourceRelation(name),
      thisRelation: qualified(schema, model.name),
      isIncremental: false,
      vars: ctx.manifest.vars,
      config: { ...model.config.extra, materialized: model.config.materialized, engine: model.config.engine },
      values: { now, run_started_at: now, clock: now, snapshot_ts: now, hot_start: now, window_start: now, previous_snapshot_ts: now, lookback_minutes: '0', this_rows: quoteIdent(`__this_${model.name}`) },
    });
    const file = path.join(ctx.targetDir, 'compiled', model.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, sql);
    files.push(file);
    log(`compiled ${model.name} -> ${path.relative(ctx.project.projectDir, file)}`);
  }
  return { files };
}
