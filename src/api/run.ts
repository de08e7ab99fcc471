import type { EngineName, EngineTable } from '../engines/compute/types.js';
import path from 'node:path';
import { maskSecrets } from '../compile/secrets.js';
import { randomBytes } from 'node:crypto';
import { runFreshness, type LagSummary, type RunFreshness } from '../artifacts/run-freshness.js';
import { sourceSummary, writeRunResults, writeRunResultsSync, type NodeResult, type RunResults } from '../artifacts/run-results.js';
import { renderModelSql } from '../compile/render-model.js';
import type { TemplateEnv } from '../compile/template-env.js';
import { errorMessage, EXIT_FAILED, EXIT_OK } from '../core/errors.js';
import { cancelRequested, committedModels, startRunRecord } from '../core/cancel.js';
import { beforeForcedExit } from '../core/signals.js';
import { elapsedSince, type Log } from '../core/progress.js';
import { executePlan, type TestRunner } from '../execute/run-plan.js';
import { topologicalOrder } from '../graph/build-graph.js';
import { selectNodes } from '../graph/select.js';
import type { StateComparison } from '../graph/state-selection.js';
import { tempAncestors } from '../graph/temp-models.js';
import { qualified } from '../engines/target.js';
import type { ModelNode } from '../manifest/types.js';
import { snapshotOf } from '../plan/clock.js';
import { explainPlan } from '../plan/explain.js';
import { incrementalConfigOf, partitionColumnOf, relationOf } from '../manifest/kind-facts.js';
import { planRun, withReadStats } from '../plan/plan-run.js';
import { parseNow, sqlTimestampText } from '../plan/time.js';
import { addsToStoredRows, stateWriteOf, type RunPlan } from '../plan/types.js';
import { quarantineExcludedRows } from '../quality/quarantine.js';
import { sourceRelation, type PreparedSource } from '../sources/prepare-source.js';
import { readPlannedSources, type ReadSources } from '../sources/read-planned.js';
import { stateDirOf } from '../project/state-dir.js';
import { changeLines, type ModelChange } from '../state/change-category.js';
import { recordFingerprints } from '../state/fingerprints.js';
import { rememberSeenFiles } from '../state/seen-memo.js';
import { recordSourceObservations, type SourceObservation } from '../state/source-state.js';
import { observeRun, templatesFor, type RunObservation } from '../observe/observe-run.js';
import { loadProjectContext, projectDirOf, type CommonOptions, type ProjectContext } from './project-context.js';
import { openRuntime, type Runtime } from './runtime.js';
import { counted } from '../core/plural.js';
import { failedModelsRecap } from '../execute/run-recap.js';
import { changesOf, stateFrom } from './state-selection.js';
import { copyDeferredState, deferredRefs, deferTarget } from './defer.js';

export interface RunOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  /** `--state-from`: the target `state:` criteria compare with. */
  readonly stateFrom?: string;
  /** `--defer-to`: refs to models not run and not built in this target read that target's relations. */
  readonly deferTo?: string;
  readonly threads?: number;
  readonly fullRefresh?: boolean;
  /** Wall clock override (`--now`), for tests and backfills. */
  readonly now?: string;
  /** Wait for models that another tm process is running (advisory locks) instead of skipping them. */
  readonly wait?: boolean;
  /** Print the plan and stop: nothing is written to the target. */
  readonly dryRun?: boolean;
  /** With `dryRun`: print each model's SQL under its step. */
  readonly showSql?: boolean;
  /** A parsed project and open connections to use and leave open (`--every` keeps them from one cycle to the next). */
  readonly keep?: { readonly context?: ProjectContext; readonly runtime?: Runtime };
}

export interface RunOutcome {
  readonly exitCode: number;
  readonly results: readonly NodeResult[];
  /** What the run decided to do (also for a dry run). */
  readonly plan?: RunPlan;
  /** The lags of its models and sources once it ran (not for a dry run). */
  readonly freshness?: RunFreshness;
}

/** A run loaded, observed and planned, its connections open: what `tm run` and `tm build` carry out. */
export interface PlannedRun {
  readonly options: RunOptions;
  readonly ctx: ProjectContext;
  readonly runtime: Runtime;
  readonly observation: RunObservation;
  readonly plan: RunPlan;
  readonly templates: TemplateEnv;
  /** The template environment of each engine the selected models run on (its macro variants). */
  readonly engineTemplates: ReadonlyMap<EngineName, TemplateEnv>;
  readonly threads: number;
  readonly log: Log;
  readonly startedAt: Date;
  readonly started: number;
  /** `--defer-to`: refs read from another schema (ref name -> schema). */
  readonly deferred: ReadonlyMap<string, string>;
  /** `--state-from`: what `state:` criteria compared with (tests are selected with it too). */
  readonly state: StateComparison | undefined;
  /** `--state-from`: per model new or modified, its change category (the dry run prints them). */
  readonly changes: ReadonlyMap<string, ModelChange>;
  /** What the run saw of the sources it listed (recorded in the state unless a dry run). */
  readonly seen: readonly SourceObservation[];
  /**
   * Reads the sources the observation deferred (once; never for a dry run): every source the run reads,
   * prepared, and the plan with the stats of the days read.
   */
  readonly ingest: (plan: RunPlan) => Promise<IngestedRun>;
}

/** A planned run once its sources are read. */
export interface IngestedRun {
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly plan: RunPlan;
}

const defaultLog: Log = (line) => process.stdout.write(line + '\n');

/** `tm run`: load -> plan -> execute -> artifacts (`--dry-run`: load -> plan -> print). */
export async function run(options: RunOptions): Promise<RunOutcome> {
  const planned = await openPlannedRun(options);
  try {
    if (options.dryRun) return { exitCode: EXIT_OK, results: [], plan: printPlan(planned) };
    const { results, freshness } = await executeRun(planned, { command: 'run' });
    return { exitCode: exitCodeOf(results), results, plan: planned.plan, freshness };
  } finally {
    await closePlannedRun(planned);
  }
}

/** Load the project, select, open the connections, observe the target and the sources, plan. */
export async function openPlannedRun(options: RunOptions): Promise<PlannedRun> {
  const log = options.log ?? defaultLog;
  const started = performance.now();
  const startedAt = new Date();
  startRunRecord();
  const { ctx, models, now, runtime, state, changes } = await loadWhileConnecting(options, log);
  try {
    const threads = Math.max(1, Math.min(options.threads ?? runtime.config.threads, runtime.target.maxSessions));
    log(`tm: project ${ctx.project.name}, target ${runtime.config.name} (${runtime.target.label}, schema ${runtime.target.schema}), ${models.length} model${models.length === 1 ? '' : 's'} selected, ${threads} thread${threads === 1 ? '' : 's'}`);
    const other = options.deferTo ? await deferTarget(ctx.project.projectDir, runtime.config, options.deferTo) : undefined;
    const deferred = other ? await deferredRefs(runtime.config, runtime.target, other, models) : new Map<string, string>();
    for (const [ref, schema] of deferred) log(`tm: ref ${ref} reads ${qualified(schema, ref)} (--defer-to ${options.deferTo}: not selected, not built in ${runtime.target.schema})`);
    if (other && !options.fullRefresh) {
      const incremental = models.filter((m) => (incrementalConfigOf(m) !== undefined && relationOf(m) === m.name) || partitionColumnOf(m) !== undefined);
      await copyDeferredState(runtime.target, other.schema, incremental, options.dryRun ?? false, log);
    }
    const observation = await observeRun({
      manifest: ctx.manifest, projectDir: ctx.project.projectDir, target: runtime.target, engine: runtime.engines.sources, models, now, log, fullRefresh: options.fullRefresh ?? false, wait: options.wait ?? false,
      readOnly: options.dryRun ?? false, keptRuntime: options.keep?.runtime === runtime,
    });
    try {
      const plan = planRun({
        manifest: ctx.manifest, models, now, startedAt, runId: randomBytes(4).toString('hex'), fullRefresh: options.fullRefresh ?? false,
        state: observation.state, sources: observation.sources, batchBytes: runtime.config.duckdb.batchInputBytes, threads,
      });
      logClock(plan, log);
      const seen = sourceObservations(observation, plan.now);
      if (!options.dryRun) await recordSourceObservations(runtime.target, seen);
      let read: Promise<ReadSources> | undefined;
      const ingest = async (current: RunPlan): Promise<IngestedRun> => {
        const done = await (read ??= readDeferred(ctx, runtime, observation, current, log));
        return { sources: new Map([...observation.prepared, ...done.prepared]), plan: withReadStats(current, ctx.manifest, done.stats) };
      };
      const engineNames = [...new Set(models.map((m) => m.config.engine))];
      const engineTemplates = new Map(await Promise.all(engineNames.map(async (e) => [e, await templatesFor(ctx.manifest, e)] as const)));
      return { options, ctx, runtime, observation, plan, templates: await templatesFor(ctx.manifest), engineTemplates, threads, log, startedAt, started, seen, ingest, deferred, state, changes };
    } catch (err) {
      await observation.release();
      throw err;
    }
  } catch (err) {
    if (!options.keep?.runtime) await runtime.close();
    throw err;
  }
}

/**
 * The project is parsed (CPU) while the target's sessions and DuckDB open (waits on PostgreSQL and on
 * DuckDB's threads): measured ~50 ms off a fresh `tm run`. The target is written to (its schema, the
 * run registry) only once the project has loaded; a project, selection or `--now` error wins over a
 * connection error.
 */
async function loadWhileConnecting(options: RunOptions, log: Log): Promise<{ ctx: ProjectContext; models: ModelNode[]; now: Date; runtime: Runtime; state: StateComparison | undefined; changes: ReadonlyMap<string, ModelChange> }> {
  const kept = options.keep?.runtime;
  const loading = (async () => {
    const ctx = options.keep?.context ?? (await loadProjectContext(options));
    const compared = await stateFrom(options, ctx);
    const state = compared?.comparison;
    const changes = compared ? changesOf(ctx.manifest, compared) : new Map<string, ModelChange>();
    return { ctx, models: selectedModels(ctx, options, state), now: parseNow(options.now), state, changes };
  })();
  const opening = kept ? Promise.resolve(kept) : openRuntime(projectDirOf(options), options.target, options.threads, { write: !options.dryRun, log, writesAfter: loading });
  opening.catch(() => undefined); // awaited below; until then a failure must not count as unhandled
  try {
    const loaded = await loading;
    return { ...loaded, runtime: await opening };
  } catch (err) {
    // Reported at once, not after the connection attempt (up to its 10 s timeout on an unreachable
    // host); what it opened closes in the background, and the process ends once that is done.
    if (!kept) void opening.then((r) => r.close(), () => undefined);
    throw err;
  }
}

/**
 * Reaches the remote engines the plan's models run on (Spark) before any source is read or model built:
 * one that cannot be reached fails the run (exit 2) with every mart as it was.
 */
async function readyEngines(engines: EngineTable, plan: RunPlan, log: Log): Promise<void> {
  const names = new Set(plan.steps.filter((s) => s.action === 'build').map((s) => s.model.config.engine));
  for (const name of names) {
    const detail = await engines.get(name).ready?.();
    if (detail) log(`tm: ${detail}`);
  }
}

/**
 * Read the deferred sources, quarantine, execute the plan (its tests run by `tests`), remember what was seen,
 * write run_results.json. The file is written however the run ends: finished, failed (an engine out of
 * reach, a source read or the quarantine), interrupted, or exiting at once (the signal deadline) with the
 * models committed so far.
 */
export async function executeRun(planned: PlannedRun, extra: { readonly command: string; readonly tests?: TestRunner; readonly extraResults?: () => readonly NodeResult[] }): Promise<{ results: NodeResult[]; freshness: RunFreshness }> {
  const { ctx, runtime, observation, log } = planned;
  let sources: ReadonlyMap<string, PreparedSource> = observation.prepared;
  let quarantined: ReadonlyMap<string, unknown> | undefined;
  let modelResults: readonly NodeResult[] | undefined;
  let lags: RunFreshness | undefined;
  const document = (error?: string): RunResults => ({
    command: extra.command,
    target: runtime.config.name,
    started_at: planned.startedAt.toISOString(),
    elapsed_s: elapsedSince(planned.started),
    results: [...(modelResults?.map((r) => ({ ...r, ...lagFields(lags?.models.get(r.name)) })) ?? notRun(planned.plan, error ?? 'not run')), ...(extra.extraResults?.() ?? [])],
    sources: [...sources.values()].map((s) => ({ ...sourceSummary(s), quarantine: quarantined?.get(s.name), ...lagFields(lags?.sources.get(s.name)) })),
    ...(error !== undefined ? { error } : {}),
  });
  const unregister = beforeForcedExit(() => writeRunResultsSync(ctx.targetDir, document(`interrupted (${cancelRequested() ?? 'signal'}): the process exited before the run finished`)));
  try {
    await readyEngines(runtime.engines, planned.plan, log);
    const ingested = await planned.ingest(planned.plan);
    sources = ingested.sources;
    const plan = ingested.plan;
    // The excluded rows go to the quarantine table while the models run, on sessions of their own: neither
    // reads what the other writes, and the quarantine's round trips (~25 ms of a hot cycle) no longer hold
    // the marts back. A failed quarantine still fails the run, once the models are done.
    const [quarantine, models] = await Promise.allSettled([
      quarantineExcludedRows(runtime.target, runtime.engines.sources, ctx.manifest, sources, plan.values.run_started_at, log),
      executePlan({
        plan, manifest: ctx.manifest, graph: ctx.graph, target: runtime.target, engines: runtime.engines, templates: planned.templates,
        engineTemplates: async (engine) => planned.engineTemplates.get(engine) ?? templatesFor(ctx.manifest, engine),
        sources, threads: planned.threads, compiledDir: path.join(ctx.targetDir, 'compiled'), log, tests: extra.tests, deferred: planned.deferred,
      }),
    ]);
    if (models.status === 'rejected') throw models.reason;
    modelResults = models.value;
    if (quarantine.status === 'rejected') throw quarantine.reason;
    quarantined = quarantine.value;
    const done = modelResults;
    for (const [i, step] of plan.steps.entries()) {
      const write = stateWriteOf(step);
      if (write && done[i]?.status === 'success') rememberSeenFiles(runtime.target, observation.state.seen.get(step.model.name) ?? [], write);
    }
    // The definition each model last ran with here (built, or checked with nothing to do), for `state:modified` from another target.
    // A failure to record them costs a false `modified` later, not the run: said in one line.
    const ran = plan.steps.filter((_, i) => done[i]?.status === 'success').map((step) => step.model);
    await recordFingerprints(runtime.target, ctx.manifest, ran, plan.runId).catch((err: unknown) => log(`tm: could not record the models' fingerprints: ${errorMessage(err)}`));
    lags = runFreshness(plan, done, observation.state.progress, planned.seen, ctx.graph);
    const results = document();
    await writeRunResults(ctx.targetDir, results);
    log(summaryLine('model', done, results.elapsed_s));
    for (const line of failedModelsRecap(done, plan.steps.map((s) => s.model))) log(line);
    return { results: [...results.results], freshness: lags };
  } catch (err) {
    const signal = cancelRequested();
    await writeRunResults(ctx.targetDir, document(signal ? `interrupted (${signal})` : errorMessage(err))).catch(() => undefined);
    throw err;
  } finally {
    unregister();
  }
}

/** The plan's models when the run stopped before their results: those committed so far, and the others not run. */
function notRun(plan: RunPlan, why: string): NodeResult[] {
  const committed = new Set(committedModels());
  return plan.steps.map((step) => committed.has(step.model.name)
    ? { unique_id: step.model.uniqueId, name: step.model.name, kind: 'model', status: 'success', execution_time_s: 0, message: `committed before the run stopped: ${why}` }
    : { unique_id: step.model.uniqueId, name: step.model.name, kind: 'model', status: 'skipped', execution_time_s: 0, message: `not committed: ${why}` });
}

/** The execution's first step: the source reads the plan deferred. */
function readDeferred(ctx: ProjectContext, runtime: Runtime, observation: RunObservation, plan: RunPlan, log: Log): Promise<ReadSources> {
  const projectDir = ctx.project.projectDir;
  return readPlannedSources(observation.deferred, {
    engine: runtime.engines.sources, manifest: ctx.manifest, projectDir, stateDir: stateDirOf(projectDir), values: { now: plan.values.now }, log,
  });
}

export async function closePlannedRun(planned: PlannedRun): Promise<void> {
  try {
    await planned.observation.release();
  } finally {
    if (!planned.options.keep?.runtime) await planned.runtime.close();
  }
}

/** The dry run's output: the plan, and with `--show-sql` each model's SQL as it would run. */
export function printPlan(planned: PlannedRun): RunPlan {
  const { plan, ctx, runtime, observation, options } = planned;
  const sql = new Map<string, string>();
  if (options.showSql) {
    for (const step of plan.steps.filter((s) => s.action === 'build')) {
      sql.set(step.model.name, maskSecrets(ctx.manifest, renderModelSql(planned.engineTemplates.get(step.model.config.engine) ?? planned.templates, {
        model: step.model, manifest: ctx.manifest, schema: runtime.target.schema, relationName: step.relationName, isIncremental: addsToStoredRows(step),
        values: step.values, sourceRelation: (name) => observation.prepared.get(name)?.relation ?? sourceRelation(name), deferred: planned.deferred,
      })));
    }
  }
  for (const line of explainPlan(plan, { sql })) planned.log(line);
  if (options.stateFrom) {
    // What each planned model changed against the --state-from target: breaking changes rebuild their descendants and break charts.
    const built = plan.steps.filter((s) => s.model.config.materialized !== 'temp').map((s) => s.model.name);
    const width = Math.max(0, ...built.map((n) => n.length));
    planned.log(`Changes against ${options.stateFrom}:`);
    for (const name of built) for (const line of changeLines(name.padEnd(width), planned.changes.get(name), options.stateFrom)) planned.log(`  ${line}`);
  }
  planned.log('Dry run: nothing was written to the target.');
  return plan;
}

const lagFields = (lags: LagSummary | undefined): Partial<LagSummary> => lags ?? {};

/** What this run saw of each source it listed: the newest file's time, the newest valid event it read. */
function sourceObservations(observation: RunObservation, listedAt: string): SourceObservation[] {
  return [...observation.sources.listed].map(([source, files]) => {
    const newest = files.reduce((max, f) => Math.max(max, f.modifiedMs ?? -Infinity), -Infinity);
    return {
      source, listedAt, newestEvent: observation.prepared.get(source)?.clock ?? null,
      newestFileAt: Number.isFinite(newest) ? sqlTimestampText(new Date(newest)) : null,
    };
  });
}

export function exitCodeOf(results: readonly NodeResult[]): number {
  return results.some((r) => r.status === 'error' || r.status === 'fail') ? EXIT_FAILED : EXIT_OK;
}

/** The selected models, and the `temp` models they read (those live only for a run, so they run with their readers), in run order. */
function selectedModels(ctx: ProjectContext, options: RunOptions, state: StateComparison | undefined): ModelNode[] {
  const selected = selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'], state });
  const chosen = new Set(selected);
  for (const id of selected) for (const t of tempAncestors(ctx.manifest, ctx.graph.nodes.get(id) as ModelNode)) chosen.add(t.uniqueId);
  return topologicalOrder(ctx.graph, chosen).map((id) => ctx.graph.nodes.get(id) as ModelNode);
}

/** One line on the stream clock and how many incremental models move. */
function logClock(plan: RunPlan, log: Log): void {
  const incremental = plan.steps.filter((s) => incrementalConfigOf(s.model) !== undefined);
  if (!incremental.length) return;
  const moving = incremental.filter((s) => s.action === 'build').length;
  if (plan.idle) log(`tm: stream clock ${plan.clock ?? '-'} unchanged, 0 of ${incremental.length} incremental models to update`);
  else log(`tm: stream clock ${plan.clock ?? '-'}${plan.clock ? ` (snapshot ${snapshotOf(plan.clock)})` : ''}, ${moving} of ${incremental.length} incremental models to update`);
}

export function summaryLine(noun: string, results: readonly NodeResult[], seconds: number): string {
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const parts = [`${count('success')} OK`, `${counted(count('error'), 'error')}`, `${count('skipped')} skipped`];
  return `Finished ${counted(results.length, noun)} in ${seconds.toFixed(2)}s: ${parts.join(', ')}`;
}
