import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { writeRunResults, type NodeResult } from '../artifacts/run-results.js';
import { createTemplateEnv, type TemplateEnv } from '../compile/template-env.js';
import { EXIT_FAILED, EXIT_OK } from '../errors.js';
import { elapsedSince, type Log } from '../execute/progress.js';
import { guardRun, type RunGuard } from '../execute/run-guard.js';
import { runModels, type ExtraNode, type ModelHooks } from '../execute/run-models.js';
import { topologicalOrder } from '../graph/build-graph.js';
import { selectNodes } from '../graph/select.js';
import type { ModelNode } from '../manifest/types.js';
import { incrementalExtension } from '../incremental/extension.js';
import type { ModelLocks } from '../incremental/locks.js';
import { quarantineExcludedRows } from '../quality/quarantine.js';
import type { PreparedSource } from '../sources/prepare-source.js';
import { loadProjectContext, type CommonOptions, type ProjectContext } from './project-context.js';
import { prepareSources, sourcesOf } from './prepare-sources.js';
import { openRuntime, stateDirOf, type Runtime } from './runtime.js';
import { parseNow, sqlTimestamp } from './time.js';

export interface RunOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly threads?: number;
  readonly fullRefresh?: boolean;
  /** Wall clock override (`--now`), for tests and backfills. */
  readonly now?: string;
  /** Wait for models that another tm process is running (advisory locks) instead of skipping them. */
  readonly wait?: boolean;
  /** A parsed project and open connections to use and leave open (`--every` keeps them from one cycle to the next). */
  readonly keep?: { readonly context?: ProjectContext; readonly runtime?: Runtime };
  /** Command named in run_results.json (`tm build` runs through here too). */
  readonly command?: string;
  /** More nodes to run among the models, once the sources are prepared (`tm build`: the tests). */
  readonly schedule?: (ctx: ScheduleContext) => Promise<{ readonly nodes: readonly ExtraNode[]; readonly results: () => readonly NodeResult[] }>;
}

export interface ScheduleContext {
  readonly project: ProjectContext;
  readonly runtime: Runtime;
  /** Selected model uniqueIds, in run order. */
  readonly selected: readonly string[];
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly values: Readonly<Record<string, string>>;
  readonly templates: TemplateEnv;
}

export interface RunOutcome {
  readonly exitCode: number;
  readonly results: readonly NodeResult[];
}

/** Extension point for run-level preparation (e.g. the incremental tier's clocks and locks). */
export interface RunExtension {
  readonly prepare?: (ctx: { project: ProjectContext; runtime: Runtime; models: readonly ModelNode[]; now: Date; log: Log; options: RunOptions; locks?: ModelLocks }) => Promise<RunPreparation>;
}

export interface RunPreparation {
  readonly values?: Readonly<Record<string, string>>;
  readonly hooksFor?: (model: ModelNode) => Promise<ModelHooks>;
  /** Sources the extension prepared itself (e.g. only the partitions of a time window); the others are prepared as usual. */
  readonly sources?: ReadonlyMap<string, PreparedSource>;
  /** Called once the models ran, or the run failed: release locks, close caches. */
  readonly finish?: () => Promise<void>;
}

const defaultLog: Log = (line) => process.stdout.write(line + '\n');

/** `tm run`: parse, select, prepare sources, run models in DAG order, write run_results.json. */
export async function run(options: RunOptions, extension: RunExtension = incrementalExtension): Promise<RunOutcome> {
  const log = options.log ?? defaultLog;
  const started = performance.now();
  const startedAt = new Date();
  const ctx = options.keep?.context ?? (await loadProjectContext(options));
  const selected = withTempAncestors(ctx, selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'] }));
  const models = selected.map((id) => ctx.graph.nodes.get(id) as ModelNode);
  const now = parseNow(options.now);
  const runtime = options.keep?.runtime ?? (await openRuntime(ctx.project.projectDir, options.target, options.threads, log)); // rel: log for cleanup lines
  const threads = Math.max(1, Math.min(options.threads ?? runtime.config.threads, runtime.target.maxSessions));
  log(`tm: project ${ctx.project.name}, target ${runtime.config.name} (${runtime.target.label}, schema ${runtime.target.schema}), ${models.length} model${models.length === 1 ? '' : 's'} selected, ${threads} thread${threads === 1 ? '' : 's'}`);
  let results: NodeResult[] = [];
  let extra: RunPreparation = {};
  let guard: RunGuard | undefined; // rel: write locks of every writing model, interrupt, committed models
  try {
    guard = await guardRun(runtime.target, models, { wait: options.wait ?? false, log }); // rel
    const baseValues = { now: sqlTimestamp(now), run_started_at: sqlTimestamp(startedAt) };
    extra = (await extension.prepare?.({ project: ctx, runtime, models, now, log, options, locks: guard.locks })) ?? {}; // rel: locks
    const values = { ...baseValues, ...(extra.values ?? {}) };
    const stateDir = stateDirOf(ctx.project.projectDir);
    const sources = new Map(extra.sources ?? []);
    const others = sourcesOf(ctx.manifest, models).filter((s) => !sources.has(s.name));
    for (const [name, prepared] of await prepareSources(runtime.duck, ctx.manifest, others, { projectDir: ctx.project.projectDir, stateDir, values, log })) {
      sources.set(name, prepared);
    }
    const quarantined = await quarantineExcludedRows(runtime.target, runtime.duck, ctx.manifest, sources, values.run_started_at, log);
    const templates = await createTemplateEnv(ctx.manifest);
    const scheduled = await options.schedule?.({ project: ctx, runtime, selected, sources, values, templates });
    const modelResults = await runModels({
      manifest: ctx.manifest,
      graph: ctx.graph,
      selected,
      target: runtime.target,
      duck: runtime.duck,
      templates,
      sources,
      threads,
      fullRefresh: options.fullRefresh ?? false,
      values,
      compiledDir: path.join(ctx.targetDir, 'compiled'),
      runId: randomBytes(3).toString('hex'),
      log,
      hooksFor: guard.hooksFor(extra.hooksFor), // rel
      extraNodes: scheduled?.nodes,
    });
    results = [...modelResults, ...(scheduled?.results() ?? [])];
    const seconds = elapsedSince(started);
    await writeRunResults(ctx.targetDir, {
      command: options.command ?? 'run',
      target: runtime.config.name,
      started_at: startedAt.toISOString(),
      elapsed_s: seconds,
      results,
      sources: [...sources.values()].map((s) => ({
        name: s.name, files: s.files.length, unreadable_files: s.unreadableFiles, rows_read: s.rowsRead,
        valid_rows: s.validRows, duplicates: s.duplicates, rows_excluded: s.excluded, clock: s.clock,
        excluded_by_file: s.excludedByFile, quarantine: quarantined.get(s.name),
      })),
    });
    log(summaryLine('models', modelResults, seconds));
  } finally {
    try {
      await extra.finish?.();
      await guard?.release(); // rel
    } finally {
      if (!options.keep?.runtime) await runtime.close();
    }
  }
  const failed = results.some((r) => r.status === 'error' || r.status === 'fail');
  return { exitCode: failed ? EXIT_FAILED : EXIT_OK, results };
}

/** `temp` models live only for a run in DuckDB, so the ones a selected model reads always run with it. */
function withTempAncestors(ctx: ProjectContext, selected: readonly string[]): string[] {
  const chosen = new Set(selected);
  const byName = ctx.manifest.models;
  const visit = (names: readonly string[]) => {
    for (const name of names) {
      const m = byName.get(name);
      if (m && m.config.materialized === 'temp' && !chosen.has(m.uniqueId)) {
        chosen.add(m.uniqueId);
        visit(m.refs);
      }
    }
  };
  for (const id of selected) visit((ctx.graph.nodes.get(id) as ModelNode).refs);
  return topologicalOrder(ctx.graph, chosen);
}

export function summaryLine(noun: string, results: readonly NodeResult[], seconds: number): string {
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const parts = [`${count('success')} OK`, `${count('error')} error`, `${count('skipped')} skipped`];
  return `Finished ${results.length} ${noun} in ${seconds.toFixed(2)}s: ${parts.join(', ')}`;
}
