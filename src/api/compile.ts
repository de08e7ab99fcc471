import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderModelSql } from '../compile/render-model.js';
import { createTemplateEnv, type TemplateEnv } from '../compile/template-env.js';
import { maskSecrets } from '../compile/secrets.js';
import { selectNodes } from '../graph/select.js';
import type { ModelNode } from '../manifest/types.js';
import { incrementalConfigOf } from '../manifest/kind-facts.js';
import { parseNow, sqlTimestampText } from '../plan/time.js';
import { baseValues, clockValues, incrementalValues } from '../plan/values.js';
import { sourceRelation } from '../sources/prepare-source.js';
import { loadProjectContext, type CommonOptions } from './project-context.js';

export interface CompileOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly now?: string;
  /** Schema that model relations render with (the target's; `public` when not connecting). */
  readonly schema?: string;
}

/** Values that only a run knows (from the stream and the target's state): compiled as marked stand-ins. */
const STAND_INS = new Set(['clock', 'snapshot_ts', 'hot_start', 'window_start', 'previous_snapshot_ts']);

/**
 * `tm compile`: renders the selected models to `target/compiled/` without touching any database.
 * The stream clock and what follows from it are unknown here: they render as the wall clock,
 * marked `/* stand-in ... *\/` in the SQL (`tm run --dry-run --show-sql` shows the real values).
 */
export async function compile(options: CompileOptions): Promise<{ files: string[] }> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const ctx = await loadProjectContext(options);
  const ids = selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'] });
  // Each engine sees its own macro variants (macros/x.spark.sql for Spark models).
  const templates = new Map<string, Promise<TemplateEnv>>();
  const templatesOf = (engine: string) => templates.get(engine) ?? templates.set(engine, createTemplateEnv(ctx.manifest, engine)).get(engine)!;
  const now = parseNow(options.now);
  const files: string[] = [];
  for (const id of ids) {
    const model = ctx.graph.nodes.get(id) as ModelNode;
    const sql = renderModelSql(await templatesOf(model.config.engine), {
      model, manifest: ctx.manifest, schema: options.schema ?? 'public', isIncremental: false, sourceRelation, values: standInValues(model, now),
    });
    const file = path.join(ctx.targetDir, 'compiled', model.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, maskSecrets(ctx.manifest, sql));
    files.push(file);
    log(`compiled ${model.name} -> ${path.relative(ctx.project.projectDir, file)}`);
  }
  return { files };
}

/** The run values of a model rendered without a run (`tm compile`, `tm check`): the wall clock, stand-ins marked. */
export function standInValues(model: ModelNode, now: Date): Record<string, string> {
  const clock = sqlTimestampText(now);
  const config = incrementalConfigOf(model);
  const values: Record<string, string> = {
    ...baseValues(now, now),
    ...clockValues(clock, clock),
    ...incrementalValues(model, config ?? { lookbackMinutes: 0, maxCatchUpHours: Number.POSITIVE_INFINITY, sourceSince: '' }, clock, undefined),
  };
  for (const name of STAND_INS) values[name] = `${values[name]} /* stand-in for {{${name}}}: known at run time */`;
  return values;
}
