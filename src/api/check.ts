import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bindCheckModels, type ModelCheck } from '../compile/bind-check.js';
import { createTemplateEnv } from '../compile/template-env.js';
import { EXIT_FAILED, EXIT_OK } from '../core/errors.js';
import { counted } from '../core/plural.js';
import { openSourceEngine } from '../engines/compute/index.js';
import { ancestors, topologicalOrder } from '../graph/build-graph.js';
import { selectNodes } from '../graph/select.js';
import type { ModelNode } from '../manifest/types.js';
import { parseNow } from '../plan/time.js';
import { thisRowsTable } from '../plan/values.js';
import { sourceRelation } from '../sources/prepare-source.js';
import { standInValues } from './compile.js';
import { loadProjectContext, type CommonOptions } from './project-context.js';

export interface CheckOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly now?: string;
  /** `json`: one JSON document on stdout (for editors), instead of lines. */
  readonly output?: 'text' | 'json';
}

export interface CheckOutcome {
  readonly models: readonly ModelCheck[];
  readonly ms: number;
  /** 0 every model bound cleanly, 1 a model has a problem. */
  readonly exitCode: number;
}

/**
 * `tm check`: binds every selected model in an in-memory DuckDB against empty relations built from
 * contracts (compile/bind-check.ts). No target, no source file: it runs anywhere, in about a second.
 */
export async function check(options: CheckOptions): Promise<CheckOutcome> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const started = performance.now();
  const ctx = await loadProjectContext(options);
  const selected = new Set(selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'] }));
  // The selection's upstream models are bound too (their relations stand for them), but not reported.
  const upstream = [...selected].flatMap((id) => [...ancestors(ctx.graph, id)]).filter((id) => ctx.graph.nodes.get(id)?.kind === 'model');
  const models = topologicalOrder(ctx.graph, new Set([...selected, ...upstream])).map((id) => ctx.graph.nodes.get(id) as ModelNode);
  const templates = await createTemplateEnv(ctx.manifest);
  const now = parseNow(options.now);
  const compiledDir = path.join(ctx.targetDir, 'compiled');
  const engine = await openSourceEngine({ memoryLimit: '512MB', threads: 1, tempDirectory: path.join(os.tmpdir(), 'tm-check') });
  let results: ModelCheck[];
  try {
    const session = await engine.connect();
    results = await bindCheckModels({
      session, manifest: ctx.manifest, templates, models, sourceRelation, thisRowsTable,
      valuesOf: (model) => standInValues(model, now),
      compiledPathOf: async (model, sql) => {
        const file = path.join(compiledDir, model.path);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, sql);
        return path.relative(ctx.project.projectDir, file);
      },
    });
    session.close();
    const shown = new Set(models.filter((m) => selected.has(m.uniqueId)).map((m) => m.name));
    results = results.filter((r) => shown.has(r.model));
  } finally {
    engine.close();
  }
  const ms = Math.round(performance.now() - started);
  const failed = results.filter((r) => r.status === 'error');
  const exitCode = failed.length ? EXIT_FAILED : EXIT_OK;
  if (options.output === 'json') log(JSON.stringify({ models: results, errors: failed.length, ms }, null, 2));
  else for (const line of checkReport(results, ms)) log(line);
  return { models: results, ms, exitCode };
}

/** One line per model with its status and time, each problem placed (`file:line:col: message`), and a summary. */
export function checkReport(results: readonly ModelCheck[], ms: number): string[] {
  const width = Math.max(0, ...results.map((r) => r.model.length));
  const lines = results.flatMap((r) => {
    const head = `${r.status.toUpperCase().padEnd(7)} ${r.model.padEnd(width)}  ${r.ms} ms${r.reason ? `  (${r.reason})` : ''}`;
    const problems = r.problems.flatMap((p) => [
      `  ${p.file}${p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`}: ${p.message.replace(/\n/g, '\n  ')}`,
      ...(p.suggestion && !/Did you mean/.test(p.message) ? [`  did you mean '${p.suggestion}'?`] : []),
      ...p.context.map((c) => `  ${c}`),
    ]);
    return [head, ...problems];
  });
  const count = (s: ModelCheck['status']) => results.filter((r) => r.status === s).length;
  const parts = [`${count('ok')} ok`, `${count('error')} with errors`, ...(count('skipped') ? [`${count('skipped')} skipped`] : [])];
  return [...lines, `checked ${counted(results.length, 'model')} in ${(ms / 1000).toFixed(2)} s: ${parts.join(', ')}`];
}
