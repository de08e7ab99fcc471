import { randomBytes } from 'node:crypto';
import { describePreparedSource, openLocationFor, prepareSources, ruleRenderer } from '../api/prepare-sources.js';
import type { ProjectContext } from '../api/project-context.js';
import type { RunExtension, RunOptions, RunPreparation } from '../api/run.js';
import { stateDirOf, type Runtime } from '../api/runtime.js';
import { sqlTimestamp, sqlTimestampText } from '../api/time.js';
import { createTemplateEnv, type TemplateEnv } from '../compile/template-env.js';
import { quoteIdent, type DuckSession } from '../engines/duckdb.js';
import type { TargetSession } from '../engines/target.js';
import { errorMessage, TmError } from '../errors.js';
import { elapsedSince, formatCount, type Log } from '../execute/progress.js';
import type { ModelHooks } from '../execute/run-models.js';
import type { Manifest, ModelNode, SourceNode } from '../manifest/types.js';
import { prepareSource, readParquetRows, type PreparedSource } from '../sources/prepare-source.js';
import type { ListedFile, SourceLocation } from '../sources/types.js';
import { openSourceCache, sourceCacheFile, type SourceCache } from '../sources/window-cache.js';
import {
  ensureState, readProgress, readSeenFilesOf, recordCheck, stateSchemaOf, writeModelState, type ModelProgress, type SeenFile,
} from '../state/store.js';
import { dateOf, dayBefore, earliest, hotStartOf, isIsoDate, latest, snapshotOf, timestampLiteral } from './clock.js';
import { diffFiles, isEmptyDiff } from './file-diff.js';
import { lockModels, type ModelLocks } from './locks.js';
import { filesOf, inputsOf, onlyFeedsSkipped, planModel, seenSince, tracksFiles, type Inputs, type ModelPlan } from './plan.js';
import { incrementalSettings, isIncrementalModel, modelFingerprint, renderConfigTemplate, type IncrementalSettings } from './settings.js';
import { prepareWindowedSource } from './source-window.js';

/**
 * The incremental tier of `tm run`, as a RunExtension. Once per run, for the selected incremental
 * models (upsert, snapshot, append):
 *  1. takes one advisory lock per model (skips, or with --wait waits for, models another process runs);
 *  2. reads each model's state from the target (clock and snapshot reached, files seen);
 *  3. when no file changed for any of them since their last run, reads no data at all: each model
 *     only records that it was checked (a row that was only invalid for being ahead of the wall
 *     clock counts from the next cycle that has a new file);
 *  4. else prepares their sources from only the date partitions their windows need, through a local
 *     cache (a source also read by a full-recompute model of the run is read in full instead),
 *     computes the stream clock C (one for the run), S, and per model H and `source_since`;
 *  5. runs the models with something new; their state commits with their rows (`beforeCommit`).
 */
export const incrementalExtension: RunExtension = { prepare: prepareIncremental };

interface PrepareContext {
  readonly project: ProjectContext;
  readonly runtime: Runtime;
  readonly models: readonly ModelNode[];
  readonly now: Date;
  readonly log: Log;
  readonly options: RunOptions;
  /** rel: the run's write locks (run-guard.ts), taken for all its models in one order. */
  readonly locks?: ModelLocks;
}

/** What the run knows about its incremental models before reading any data. */
interface RunFacts {
  readonly ctx: PrepareContext;
  readonly manifest: Manifest;
  readonly hb: TemplateEnv;
  readonly duck: DuckSession;
  readonly active: readonly ModelNode[];
  readonly locked: ReadonlySet<string>;
  readonly settings: ReadonlyMap<string, IncrementalSettings>;
  readonly inputs: ReadonlyMap<string, Inputs>;
  readonly progress: ReadonlyMap<string, ModelProgress>;
  readonly seen: ReadonlyMap<string, readonly SeenFile[]>;
  readonly existing: ReadonlySet<string>;
  readonly fingerprints: ReadonlyMap<string, string>;
  /** Sources the active models read, and whether each is read through the window cache. */
  readonly sources: readonly { readonly source: SourceNode; readonly windowed: boolean }[];
  readonly nowText: string;
  readonly runId: string;
}

async function prepareIncremental(ctx: PrepareContext): Promise<RunPreparation> {
  const { project, runtime, models, log, options } = ctx;
  const manifest = project.manifest;
  const incremental = models.filter(isIncrementalModel);
  if (!incremental.length) return {};
  const target = runtime.target;
  const hb = await templatesFor(manifest);
  const settings = new Map(incremental.map((m) => [m.name, incrementalSettings(m, manifest, hb)]));
  const stateId = await ensureState(target);
  const lockOf = (m: ModelNode) => settings.get(m.name)!.reconciles ?? m.name;
  const locks = ctx.locks ?? (await lockModels(target, incremental.map(lockOf), { wait: options.wait ?? false })); // rel: run-level locks
  const cleanups: (() => Promise<void>)[] = ctx.locks ? [] : [() => locks.release()]; // rel: the run releases its own
  const finish = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const active = incremental.filter((m) => locks.held.has(lockOf(m)));
    const locked = new Set(incremental.filter((m) => !locks.held.has(lockOf(m))).map((m) => m.name));
    for (const m of incremental.filter((x) => locked.has(x.name))) {
      log(`tm: ${m.name} is being run by another tm process (lock on ${lockOf(m)} held): skipped; --wait waits for it`);
    }
    const duck = await runtime.duck.connect();
    cleanups.push(async () => duck.close());
    const inputs = new Map(models.map((m) => [m.name, inputsOf(m, manifest)]));
    const fullSources = new Set(models.filter((m) => m.config.materialized !== 'temp' && !isIncrementalModel(m)).flatMap((m) => [...inputs.get(m.name)!.sources]));
    const sourceNames = [...new Set(active.flatMap((m) => [...inputs.get(m.name)!.sources]))];
    const stored = await readTargetState(runtime, active.map((m) => m.name), active.map(lockOf));
    const facts: RunFacts = {
      ctx, manifest, hb, duck, active, locked, settings, inputs, ...stored,
      fingerprints: new Map(active.map((m) => [m.name, modelFingerprint(m, manifest)])),
      sources: sourceNames.map((n) => manifest.sources.get(n)!).filter(Boolean).map((source) => ({
        source, windowed: !fullSources.has(source.name) && source.datePartition !== undefined && source.clockColumn !== undefined,
      })),
      nowText: sqlTimestampText(ctx.now),
      runId: randomBytes(4).toString('hex'),
    };
    const idle = options.fullRefresh ? undefined : await nothingNew(facts);
    const preparation = idle ? await idleRun(facts, idle) : await incrementalRun(facts, stateId, cleanups);
    return { ...preparation, finish };
  } catch (err) {
    await finish();
    throw err;
  }
}

/** The model's last progress, unless it starts over (full refresh, or its table is gone). */
function previousOf(f: RunFacts, m: ModelNode): ModelProgress | undefined {
  const relation = f.settings.get(m.name)!.reconciles ?? m.name;
  return f.ctx.options.fullRefresh || !f.existing.has(relation) ? undefined : f.progress.get(m.name);
}

function hotStartFor(f: RunFacts, m: ModelNode, clock: string | undefined): string | undefined {
  const s = f.settings.get(m.name)!;
  if (!clock) return undefined;
  return hotStartOf({ snapshot: snapshotOf(clock), previousSnapshot: previousOf(f, m)?.snapshotReached, lookbackMinutes: s.lookbackMinutes, maxCatchUpHours: s.maxCatchUpHours });
}

/** The template values of one model: C, S, H, L, S_prev, and its own stored rows in DuckDB. */
function valuesFor(f: RunFacts, m: ModelNode, clock: string | undefined): Record<string, string> {
  return {
    clock: timestampLiteral(clock),
    snapshot_ts: timestampLiteral(clock ? snapshotOf(clock) : undefined),
    hot_start: timestampLiteral(hotStartFor(f, m, clock)),
    previous_snapshot_ts: timestampLiteral(previousOf(f, m)?.snapshotReached),
    lookback_minutes: String(f.settings.get(m.name)!.lookbackMinutes),
    this_rows: quoteIdent(`__this_${m.name}`),
  };
}

/** Each model's first date partition for a given clock (its `source_since`, evaluated). */
async function sinceDates(f: RunFacts, models: readonly ModelNode[], clockOf: (m: ModelNode) => string | undefined): Promise<(string | undefined)[]> {
  const items = models.map((m) => ({ model: m, clock: clockOf(m) }));
  const known = items.filter((i) => i.clock);
  const values = await evaluateSince(f.duck, f.hb, f.manifest, known.map((i) => ({ model: i.model, values: valuesFor(f, i.model, i.clock) })));
  const byModel = new Map(known.map((i, k) => [i.model.name, values[k]]));
  return items.map((i) => byModel.get(i.model.name));
}

/**
 * The fast path of a timer loop: when every active model read only source files at its last run,
 * and no file of the partitions it reads is new, changed or gone, nothing needs to be read.
 */
async function nothingNew(f: RunFacts): Promise<Map<string, readonly ListedFile[]> | undefined> {
  if (!f.active.length || f.sources.some((s) => !s.windowed)) return undefined;
  for (const m of f.active) {
    const prev = previousOf(f, m);
    if (!prev?.clockReached || prev.modelHash !== f.fingerprints.get(m.name) || !tracksFiles(f.inputs.get(m.name)!, f.settings.get(m.name)!)) return undefined;
  }
  const since = await sinceDates(f, f.active, (m) => previousOf(f, m)!.clockReached ?? undefined);
  const listed = new Map<string, readonly ListedFile[]>();
  for (const { source } of f.sources) {
    const from = earliest(f.active.map((m, i) => (f.inputs.get(m.name)!.sources.has(source.name) ? since[i] : undefined)));
    const location = await openLocationFor(source, f.ctx.project.project.projectDir, stateDirOf(f.ctx.project.project.projectDir));
    listed.set(source.name, await listFrom(location, source, from ? dateOf(from) : undefined));
  }
  for (const [i, m] of f.active.entries()) {
    const sinceDate = since[i] ? dateOf(since[i]!) : undefined;
    const diff = diffFiles(filesOf(f.inputs.get(m.name)!, f.manifest, listed, sinceDate), seenSince(f.seen.get(m.name) ?? [], sinceDate));
    if (!isEmptyDiff(diff)) return undefined;
  }
  return listed;
}

function listFrom(location: SourceLocation, source: SourceNode, from: string | undefined): Promise<ListedFile[]> {
  const column = source.datePartition;
  if (!from || !column) return location.list();
  return location.list((p) => !(column in p) || !isIsoDate(p[column]) || p[column] >= from);
}

/** Nothing new anywhere: no data is read, each model records its check. */
async function idleRun(f: RunFacts, listed: ReadonlyMap<string, readonly ListedFile[]>): Promise<RunPreparation> {
  const sources = new Map<string, PreparedSource>();
  for (const { source } of f.sources) {
    // An empty relation stands for the source: every model that reads it is skipped.
    const location = await openLocationFor(source, f.ctx.project.project.projectDir, stateDirOf(f.ctx.project.project.projectDir));
    sources.set(source.name, await prepareSource(f.duck, source, location, {
      files: [], renderRule: ruleRenderer(f.manifest, source, { now: sqlTimestamp(f.ctx.now) }), reader: (d, src) => readParquetRows(d, src, [], []),
    }));
    f.ctx.log(`source ${source.name}: nothing new in ${formatCount(listed.get(source.name)?.length ?? 0)} files of the window; no data read`);
  }
  const clock = latest(f.active.map((m) => f.progress.get(m.name)?.clockReached));
  f.ctx.log(`tm: stream clock ${clock ?? '-'} unchanged, 0 of ${f.active.length + f.locked.size} incremental models to update`);
  const skipped = new Set(f.active.map((m) => m.name));
  await withSession(f.ctx.runtime, (s) => recordCheck(s, f.ctx.runtime.target.schema, [...skipped], f.nowText));
  return {
    values: runValues(clock, clock),
    sources,
    hooksFor: async (model) => {
      if (f.locked.has(model.name)) return lockedHooks();
      if (skipped.has(model.name)) return { skip: { status: 'success', reason: 'no new files (checked)' } };
      if (model.config.materialized === 'temp' && onlyFeedsSkipped(model, f.ctx.models, (n) => skipped.has(n) || f.locked.has(n))) return notNeeded();
      return {};
    },
  };
}

/** Something may be new: prepare the sources, compute the clock, plan each model. */
async function incrementalRun(f: RunFacts, stateId: string, cleanups: (() => Promise<void>)[]): Promise<RunPreparation> {
  const { ctx, manifest } = f;
  const projectDir = ctx.project.project.projectDir;
  const sources = new Map<string, PreparedSource>();
  const guessClock = latest([...f.progress.values()].map((p) => p.clockReached));
  for (const { source, windowed } of f.sources) {
    if (!windowed) {
      const prepared = await prepareSources(ctx.runtime.duck, manifest, [source], { projectDir, stateDir: stateDirOf(projectDir), values: { now: sqlTimestamp(ctx.now) }, log: ctx.log });
      sources.set(source.name, prepared.get(source.name)!);
      continue;
    }
    const readers = f.active.filter((m) => f.inputs.get(m.name)!.sources.has(source.name));
    const started = performance.now();
    const location = await openLocationFor(source, projectDir, stateDirOf(projectDir));
    const cache = await openCache(f, source, location, stateId, cleanups);
    const readBefore = cache.stats.filesRead;
    let result;
    try {
      result = await prepareWindowedSource({
        duck: f.duck, source: source as SourceNode & { datePartition: string }, location, cache,
        renderRule: ruleRenderer(manifest, source, { now: sqlTimestamp(ctx.now) }),
        earliestNeeded: async (clock) => earliest(await sinceDates(f, readers, () => clock)) ?? clock,
        guessClock,
      });
    } catch (err) {
      if (err instanceof TmError) throw err;
      throw new TmError(`source '${source.name}' (${source.location}): ${errorMessage(err).split('\n')[0]}`, 2, { cause: err });
    }
    sources.set(source.name, result.prepared);
    if (result.fromPart) await cache.evictBefore(f.duck, dayBefore(result.fromPart, 2));
    const window = result.fromPart ? `partitions from ${result.fromPart} (of ${formatCount(result.partitions)})` : 'all files';
    const where = cache.persistent ? 'the cache' : 'an in-memory cache (the cache file is in use by another process)';
    ctx.log(`${describePreparedSource(result.prepared, elapsedSince(started))}; ${window}, ${formatCount(cache.stats.filesRead - readBefore)} files read, the rest from ${where}`);
    for (const bad of result.prepared.unreadableFiles) ctx.log(`    skipped file ${bad.uri}: ${bad.reason}`);
  }

  // One stream clock for the run.
  const clock = latest(f.sources.map((s) => sources.get(s.source.name)?.clock));
  const since = await sinceDates(f, f.active, () => clock);
  const listed = new Map([...sources].map(([name, p]) => [name, p.files]));
  const plans = new Map<string, ModelPlan>();
  for (const [i, m] of f.active.entries()) {
    const settings = f.settings.get(m.name)!;
    const previous = previousOf(f, m);
    const sinceDate = since[i] ? dateOf(since[i]!) : undefined;
    const files = filesOf(f.inputs.get(m.name)!, manifest, listed, sinceDate);
    const diff = diffFiles(files, previous ? seenSince(f.seen.get(m.name) ?? [], sinceDate) : []);
    const relationName = settings.reconciles ?? m.name;
    plans.set(m.name, planModel(
      { model: m, settings, relationName, tableExists: f.existing.has(relationName), previous, values: valuesFor(f, m, clock), hotStart: hotStartFor(f, m, clock), sinceDate, files, diff },
      {
        clock, inputs: f.inputs.get(m.name)!, fingerprint: f.fingerprints.get(m.name)!, fullRefresh: ctx.options.fullRefresh ?? false,
        noEvents: [...f.inputs.get(m.name)!.sources].every((name) => (sources.get(name)?.validRows ?? 0) === 0),
        record: () => withSession(ctx.runtime, (s) => recordCheck(s, ctx.runtime.target.schema, m.name, f.nowText)),
      },
    ));
  }
  const moving = [...plans.values()].filter((p) => !p.skip).length;
  ctx.log(`tm: stream clock ${clock ?? '-'}${clock ? ` (snapshot ${snapshotOf(clock)})` : ''}, ${moving} of ${f.active.length + f.locked.size} incremental models to update`);

  const skipped = (name: string) => f.locked.has(name) || plans.get(name)?.skip !== undefined;
  const hooksFor = async (model: ModelNode): Promise<ModelHooks> => {
    if (f.locked.has(model.name)) return lockedHooks();
    const plan = plans.get(model.name);
    if (!plan) return model.config.materialized === 'temp' && onlyFeedsSkipped(model, ctx.models, skipped) ? notNeeded() : {};
    if (plan.skip) return { skip: plan.skip };
    const fresh = !plan.tableExists || (ctx.options.fullRefresh ?? false);
    const write = {
      resetFiles: !plan.previous,
      forget: plan.diff.removed.map((x) => x.uri),
      keepPartsFrom: plan.sinceDate,
      add: plan.previous ? plan.diff.added : plan.files,
    };
    return {
      values: plan.values,
      isIncremental: !fresh,
      relationName: plan.relationName === model.name ? undefined : plan.relationName,
      thisRows: model.config.engine === 'duckdb' && model.rawSql.includes('this_rows') ? { table: `__this_${model.name}`, exists: !fresh } : undefined,
      beforeCommit: (tx) =>
        writeModelState(tx, ctx.runtime.target.schema, {
          model: model.name,
          clockReached: clock ?? null,
          snapshotReached: clock ? snapshotOf(clock) : null,
          hotStart: plan.hotStart ?? null,
          at: f.nowText,
          modelHash: f.fingerprints.get(model.name)!,
          runId: f.runId,
          ...write,
        }),
      afterSuccess: async () => rememberWrite(ctx.runtime, model.name, f.runId, f.seen.get(model.name) ?? [], write),
    };
  };
  return { values: runValues(clock, earliest(since)), sources, hooksFor };
}

/** One template environment per parsed project (a `--every` loop keeps the project between cycles). */
const environments = new WeakMap<Manifest, Promise<TemplateEnv>>();

function templatesFor(manifest: Manifest): Promise<TemplateEnv> {
  let env = environments.get(manifest);
  if (!env) environments.set(manifest, (env = createTemplateEnv(manifest)));
  return env;
}

/** Values every model of the run sees: C, S, and the earliest time any incremental model reads. */
function runValues(clock: string | undefined, windowStart: string | undefined): Record<string, string> {
  return {
    clock: timestampLiteral(clock),
    snapshot_ts: timestampLiteral(clock ? snapshotOf(clock) : undefined),
    window_start: timestampLiteral(windowStart),
  };
}

function lockedHooks(): ModelHooks {
  return { skip: { status: 'skipped', reason: 'another tm process holds its lock' } };
}

function notNeeded(): ModelHooks {
  return { skip: { status: 'success', reason: 'not needed: its readers have nothing new' } };
}

/** Renders each model's `source_since` with its values and evaluates them all in one DuckDB query. */
async function evaluateSince(
  duck: DuckSession, hb: TemplateEnv, manifest: Manifest, items: readonly { model: ModelNode; values: Record<string, string> }[],
): Promise<(string | undefined)[]> {
  if (!items.length) return [];
  const exprs = items.map(({ model, values }) => {
    const since = model.config.extra.source_since;
    return renderConfigTemplate(hb, manifest, model, typeof since === 'string' ? since : '{{hot_start}}', values);
  });
  try {
    const rows = await duck.all<Record<string, string | null>>(`SELECT ${exprs.map((e, i) => `CAST((${e}) AS VARCHAR) AS c${i}`).join(', ')}`);
    return exprs.map((_, i) => rows[0]?.[`c${i}`] ?? undefined);
  } catch (err) {
    throw new TmError(`config source_since of ${items.map((i) => i.model.name).join(', ')} is not a valid timestamp expression: ${errorMessage(err).split('\n')[0]}`);
  }
}

/**
 * The files each model has seen, as this process last read or wrote them (a `--every` loop), keyed
 * by target and model; trusted only while the state row still carries the run id they belong to.
 */
const seenMemo = new Map<string, { readonly runId: string; readonly files: readonly SeenFile[] }>();

function memoKey(runtime: Runtime, model: string): string {
  const t = runtime.target;
  return `${t.kind}\n${t.label}\n${t.schema}\n${model}`;
}

/** What the state of `model` holds after a write: the files seen before, minus those forgotten, plus the new ones. */
function rememberWrite(runtime: Runtime, model: string, runId: string, before: readonly SeenFile[], w: { resetFiles: boolean; forget: readonly string[]; keepPartsFrom?: string; add: readonly SeenFile[] }): void {
  const gone = new Set([...w.forget, ...w.add.map((f) => f.uri)]);
  const kept = w.resetFiles ? [] : before.filter((f) => !gone.has(f.uri) && (!w.keepPartsFrom || !f.part || f.part >= w.keepPartsFrom));
  seenMemo.set(memoKey(runtime, model), { runId, files: [...kept, ...w.add] });
}

async function readTargetState(runtime: Runtime, models: readonly string[], tables: readonly string[]) {
  return withSession(runtime, async (session) => {
    const progress = await readProgress(session, runtime.target.schema, models);
    const seen = new Map<string, readonly SeenFile[]>();
    for (const m of models) {
      const memo = seenMemo.get(memoKey(runtime, m));
      const runId = progress.get(m)?.runId;
      if (memo && runId && memo.runId === runId) seen.set(m, memo.files);
    }
    const unknown = models.filter((m) => !seen.has(m));
    if (unknown.length) for (const [m, files] of await readSeenFilesOf(session, runtime.target.schema, unknown)) seen.set(m, files);
    const rows = await session.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')`,
      [runtime.target.schema, tables],
    );
    return { progress, seen, existing: new Set(rows.map((r) => r.name)) };
  });
}

async function withSession<T>(runtime: Runtime, work: (session: TargetSession) => Promise<T>): Promise<T> {
  const session = await runtime.target.acquire();
  try {
    return await work(session);
  } finally {
    await session.release();
  }
}

/** Caches attached to a DuckDB that outlives one run (`--every` keeps it): they stay attached between cycles. */
const attached = new WeakMap<object, Map<string, SourceCache>>();

/**
 * The source's cache file belongs to this target (kind, address, database, schema); TM_SOURCE_CACHE=off
 * keeps it in memory. A run that owns its DuckDB detaches the cache at the end; a kept DuckDB keeps it.
 */
async function openCache(f: RunFacts, source: SourceNode, location: SourceLocation, stateId: string, cleanups: (() => Promise<void>)[]): Promise<SourceCache> {
  const t = f.ctx.runtime.target;
  const identity = `${t.kind}\n${t.label}\n${t.database}\n${t.schema}\n${stateSchemaOf(t.schema)}`;
  const file = process.env.TM_SOURCE_CACHE === 'off' ? undefined : sourceCacheFile(stateDirOf(f.ctx.project.project.projectDir), source, identity);
  const kept = f.ctx.options.keep?.runtime === f.ctx.runtime;
  const key = `${file ?? 'memory'}\n${source.location}`;
  const byDuck = attached.get(f.ctx.runtime.duck) ?? new Map<string, SourceCache>();
  const reuse = kept ? byDuck.get(key) : undefined;
  if (reuse && reuse.stamp === stateId && reuse.persistent === (file !== undefined)) return reuse;
  if (reuse) {
    await reuse.close(f.duck);
    byDuck.delete(key);
  }
  const cache = await openSourceCache(f.duck, source, location, { file, stamp: stateId });
  if (kept && cache.persistent) {
    byDuck.set(key, cache);
    attached.set(f.ctx.runtime.duck, byDuck);
  } else cleanups.push(() => cache.close(f.duck));
  return cache;
}
