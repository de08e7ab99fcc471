import { renderConfigTemplate } from '../compile/render-model.js';
import { createTemplateEnv, type TemplateEnv } from '../compile/template-env.js';
import type { ComputeEngine, SqlSession } from '../engines/compute/types.js';
import { traitsOf } from '../engines/compute/traits.js';
import { withSession, type Target } from '../engines/target.js';
import { errorMessage, TmError } from '../core/errors.js';
import { elapsedSince, formatCount, type Log } from '../core/progress.js';
import { inputsOf } from '../graph/temp-models.js';
import type { Manifest, ModelNode, SourceNode } from '../manifest/types.js';
import { clockOfPartialRead, type PartitionedRead } from '../plan/changed-partitions.js';
import { dateOf, dayBefore, earliest, isIsoDate, latest } from '../plan/clock.js';
import { diffFiles, isEmptyDiff } from '../plan/file-diff.js';
import { incrementalConfigOf, partitionColumnOf, relationOf, sourceDaysOf } from '../manifest/kind-facts.js';
import { filesOf, previousProgress, seenSince, summarize, tracksFiles, type ObservedSources, type ObservedState } from '../plan/plan-run.js';
import { sqlTimestamp } from '../plan/time.js';
import type { SourceStep } from '../plan/types.js';
import { incrementalValues, modelFingerprint } from '../plan/values.js';
import { stateDirOf } from '../project/state-dir.js';
import { prepareSource, readParquetRows, type PreparedSource } from '../sources/prepare-source.js';
import { asSourceError, describePreparedSource, openLocationFor, prepareSources, ruleRenderer } from '../sources/prepare-sources.js';
import type { ListedFile, SourceLocation } from '../sources/types.js';
import { openSourceCache, sourceCacheFile, type SourceCache } from '../sources/window-cache.js';
import { prepareWindowedSource } from './windowed-source.js';
import { lockModels } from '../state/locks.js';
import { ensurePartitionState, readPartStats } from '../state/partition-state.js';
import { ensureState, readStateId, stateSchemaOf } from '../state/store.js';
import { readStoredState } from '../state/target-state.js';
import { logDaysRead, readDays, type DaysRead } from '../sources/read-days.js';
import type { PlannedRead } from '../sources/read-planned.js';
import { observePartitionedSource, readsByDays } from './partitions.js';

export interface ObserveInput {
  readonly manifest: Manifest;
  readonly projectDir: string;
  readonly target: Target;
  /** The engine that reads sources (the hot window's rows, read here for the clock). */
  readonly engine: ComputeEngine;
  /** The selected models and the temp models they read, in run order. */
  readonly models: readonly ModelNode[];
  readonly now: Date;
  readonly log: Log;
  readonly fullRefresh: boolean;
  /** Wait for models another process holds instead of skipping them. */
  readonly wait: boolean;
  /** Read, never write: no state tables are created (a dry run). */
  readonly readOnly: boolean;
  /** The runtime outlives this run (`--every`): window caches stay attached to its DuckDB. */
  readonly keptRuntime: boolean;
}

/**
 * What the planner needs, read from the target and the sources' listings. The sources only the active
 * incremental models read are read already, their window (`prepared`: the stream clock needs their rows).
 * The others are `deferred`: plain data saying what to read, carried out once the run is planned (never by
 * a dry run); of such a source that incremental models read too, only the newest partitions were read, for the clock.
 */
export interface RunObservation {
  readonly state: ObservedState;
  readonly sources: ObservedSources;
  readonly prepared: ReadonlyMap<string, PreparedSource>;
  readonly deferred: readonly PlannedRead[];
  /** Lets go of the locks and of what the observation opened; call once the models ran. */
  release(): Promise<void>;
}

/**
 * Everything a run reads before it plans: the locks of its models that write (skipped when another
 * process holds one), their state, the files of their sources, and for the incremental models the stream
 * clock and each model's `source_since` (their sources' window is read for it). When no file changed since
 * the models' last runs, no row is read at all; the rows of other sources are never read here.
 */
export async function observeRun(input: ObserveInput): Promise<RunObservation> {
  const { target, models, manifest } = input;
  const incremental = models.filter((m) => incrementalConfigOf(m) !== undefined);
  const cleanups: (() => Promise<void>)[] = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    // Partition-aware models keep state too: the files and stats of each day they hold.
    const partitioned = models.filter((m) => partitionColumnOf(m) !== undefined);
    const stateful = incremental.length + partitioned.length > 0;
    const stateId = stateful ? (input.readOnly ? await readStateId(target) : await ensureState(target)) : undefined;
    if (partitioned.length && !input.readOnly) await ensurePartitionState(target);
    // Every model that writes takes its table's lock, all in one sorted pass: two runs never write one
    // table at once, and runs that wait (--wait) cannot deadlock.
    const writers = models.filter((m) => m.config.materialized !== 'temp');
    const locks = await lockModels(target, writers.map(relationOf), { wait: input.wait });
    cleanups.push(() => locks.release());
    const locked = new Set(writers.filter((m) => !locks.held.has(relationOf(m))).map((m) => m.name));
    const active = incremental.filter((m) => !locked.has(m.name));
    for (const m of writers.filter((x) => locked.has(x.name))) {
      input.log(`tm: ${m.name} is being run by another tm process (lock on ${relationOf(m)} held): skipped; --wait waits for it`);
    }
    const stored = await readStoredState(target, [...active, ...partitioned].map((m) => m.name), [...active.map(relationOf), ...partitioned.map((m) => m.name)]);
    const partStats = partitioned.length ? await withSession(target, (s) => readPartStats(s, target.schema, partitioned.map((m) => m.name))) : undefined;
    const state: ObservedState = { ...stored, locked, partStats };
    const duck = await input.engine.connect();
    cleanups.push(async () => duck.close());
    const hb = await templatesFor(manifest);
    const run: RunContext = { input, state, active, duck, hb, stateId, cleanups };
    const sources = sourcesToRead(manifest, models, active, locked);
    const activeSources = sources.filter((s) => s.forActive);
    const idle = active.length && !input.fullRefresh ? await nothingNew(run, activeSources) : undefined;
    const observed = idle ? await idleSources(run, activeSources, sources.filter((s) => !s.forActive), idle) : await readSources(run, sources);
    return { state, ...observed, release };
  } catch (err) {
    await release();
    throw err;
  }
}

interface RunContext {
  readonly input: ObserveInput;
  readonly state: ObservedState;
  /** Incremental models whose lock this run holds. */
  readonly active: readonly ModelNode[];
  readonly duck: SqlSession;
  readonly hb: TemplateEnv;
  readonly stateId?: string;
  readonly cleanups: (() => Promise<void>)[];
}

interface SourceToRead {
  readonly source: SourceNode;
  /** Read through the window cache, only the partitions the incremental models need. */
  readonly windowed: boolean;
  /** Read by an active incremental model. */
  readonly forActive: boolean;
}

/**
 * Sources the run's models read (not those only locked models read). A source that only the active
 * incremental models read from their `source_since` on, directly or through temp models, is windowed
 * (when it has a date partition and a clock); any other is read in full or by days: one a full-recompute
 * model also reads, or one an incremental model reads by the days a table holds (`source_days_of`), which
 * are whole days, older than the window, whatever else the run selects.
 */
function sourcesToRead(manifest: Manifest, models: readonly ModelNode[], active: readonly ModelNode[], locked: ReadonlySet<string>): SourceToRead[] {
  const live = models.filter((m) => !locked.has(m.name));
  const wholeDays = (m: ModelNode) => m.config.materialized !== 'temp' && (!incrementalConfigOf(m) || sourceDaysOf(m) !== undefined);
  const full = new Set(live.filter(wholeDays).flatMap((m) => [...inputsOf(manifest, m).sources]));
  const windowable = new Set(active.flatMap((m) => [...inputsOf(manifest, m).sources]));
  const names = new Set([...windowable, ...live.filter((m) => traitsOf(m.config.engine).readsSources).flatMap((m) => m.sources)]);
  return [...names].flatMap((n) => {
    const source = manifest.sources.get(n);
    if (!source) return [];
    const windowed = windowable.has(n) && !full.has(n) && source.datePartition !== undefined && source.clockColumn !== undefined;
    return [{ source, windowed, forActive: windowable.has(n) }];
  });
}

/**
 * The fast path of a timer loop: when every active model read only source files at its last run,
 * and no file of the partitions it reads is new, changed or gone, nothing needs to be read.
 */
async function nothingNew(run: RunContext, sources: readonly SourceToRead[]): Promise<Map<string, ListedWindow> | undefined> {
  const { input, state, active } = run;
  const manifest = input.manifest;
  if (sources.some((s) => !s.windowed)) return undefined;
  for (const m of active) {
    const prev = previousProgress(m, state, false);
    if (!prev?.clockReached || prev.modelHash !== modelFingerprint(m, manifest) || !tracksFiles(inputsOf(manifest, m), incrementalConfigOf(m)!)) return undefined;
  }
  const since = await sinceOf(run, (m) => previousProgress(m, state, false)!.clockReached ?? undefined);
  const listed = new Map<string, ListedWindow>();
  for (const { source } of sources) {
    const from = earliest(active.map((m) => (inputsOf(manifest, m).sources.has(source.name) ? since.get(m.name) : undefined)));
    const fromPart = from ? dateOf(from) : undefined;
    const location = await locationOf(run, source);
    listed.set(source.name, { location, fromPart, files: await listFrom(location, source, fromPart) });
  }
  const files = new Map([...listed].map(([name, w]) => [name, w.files]));
  for (const m of active) {
    const sinceText = since.get(m.name);
    const sinceDate = sinceText ? dateOf(sinceText) : undefined;
    const diff = diffFiles(filesOf(inputsOf(manifest, m), manifest, files, sinceDate), seenSince(state.seen.get(m.name) ?? [], sinceDate));
    if (!isEmptyDiff(diff)) return undefined;
  }
  return listed;
}

/** A source's files from the first date partition its readers need, and where they were listed. */
interface ListedWindow {
  readonly location: SourceLocation;
  readonly fromPart?: string;
  readonly files: readonly ListedFile[];
}

/**
 * Nothing new for the incremental models: an empty relation stands for each of their sources, and
 * the clock stays where it was. Sources only other models read (`others`) are read in full.
 */
async function idleSources(
  run: RunContext, sources: readonly SourceToRead[], others: readonly SourceToRead[], listed: ReadonlyMap<string, ListedWindow>,
): Promise<Omit<RunObservation, 'state' | 'release'>> {
  const { input } = run;
  const prepared = new Map<string, PreparedSource>();
  const steps: SourceStep[] = [];
  const deferred: PlannedRead[] = [];
  for (const { source } of others) {
    const full = await deferFull(run, source);
    deferred.push(full.read);
    steps.push(full.step);
  }
  for (const { source } of sources) {
    const window = listed.get(source.name);
    const location = window?.location ?? (await locationOf(run, source));
    prepared.set(source.name, await prepareSource(run.duck, source, location, {
      files: [], renderRule: ruleRenderer(input.manifest, source, { now: sqlTimestamp(input.now) }), reader: (d, src) => readParquetRows(d, src, [], []),
    }));
    const files = window?.files ?? [];
    input.log(`source ${source.name}: nothing new in ${formatCount(files.length)} files of the window; no data read`);
    steps.push({ name: source.name, windowed: true, fromPart: window?.fromPart, files: summarize(files.map((f) => ({ size: f.size, part: partOf(source, f) }))), read: false });
  }
  const clock = latest(run.active.map((m) => run.state.progress.get(m.name)?.clockReached));
  const files = new Map([...listed].map(([name, w]) => [name, w.files]));
  for (const read of deferred) if (read.kind === 'full') files.set(read.source, read.files);
  return { sources: { idle: true, clock, since: new Map(), listed: files, validRows: new Map(), sources: steps }, prepared, deferred };
}

/**
 * Prepares the sources the incremental models read (windowed ones through the cache), then takes one stream
 * clock and each model's `source_since`. The other sources are listed, and their reads deferred.
 */
async function readSources(run: RunContext, sources: readonly SourceToRead[]): Promise<Omit<RunObservation, 'state' | 'release'>> {
  const { input, state } = run;
  const { manifest, log } = input;
  const prepared = new Map<string, PreparedSource>();
  const deferred: PlannedRead[] = [];
  const steps: SourceStep[] = [];
  const guessClock = latest([...state.progress.values()].map((p) => p.clockReached));
  const partitionedReads = new Map<string, PartitionedRead>();
  const fullListings = new Map<string, readonly ListedFile[]>();
  const clockReads = new Map<string, PreparedSource>();
  for (const { source, windowed, forActive } of sources) {
    // The incremental models need the clock before planning. A source that other models read whole is read
    // once the run is planned; only its newest partitions are read now, as the hot tier's window, for the clock.
    const clockOnly = !windowed && forActive && source.datePartition !== undefined && source.clockColumn !== undefined;
    if (clockOnly) clockReads.set(source.name, await readClockWindow(run, source, guessClock));
    const defer = !forActive || clockOnly;
    const allReaders = input.models.filter((m) => m.config.materialized !== 'temp' && !state.locked.has(m.name) && inputsOf(manifest, m).sources.has(source.name));
    if (!windowed && readsByDays(allReaders)) {
      const location = await locationOf(run, source);
      const stateDir = stateDirOf(input.projectDir);
      const { read, changes } = await observePartitionedSource({
        session: run.duck, target: input.target, manifest, source, location, readers: allReaders, state, now: input.now,
        fullRefresh: input.fullRefresh, readOnly: input.readOnly, stateDir, cleanups: run.cleanups,
      });
      fullListings.set(source.name, read.listed);
      steps.push(daysStep(source, read));
      const parts = read.fullBecause === undefined ? read.days : undefined;
      if (defer) {
        deferred.push({ kind: 'days', read });
        partitionedReads.set(source.name, { parts, stats: [], changes, fullBecause: read.fullBecause });
        continue;
      }
      // An incremental model reads it too: its rows give the clock, so they are read before planning.
      const started = performance.now();
      const done = await readDays(read, { session: run.duck, source, location, stateDir, readOnly: input.readOnly, renderRule: ruleRenderer(manifest, source, { now: sqlTimestamp(input.now) }) });
      const clock = parts ? clockAfterDaysRead(source, read, done.prepared.clock, allReaders, state) : done.prepared.clock;
      prepared.set(source.name, { ...done.prepared, clock });
      logDaysRead(log, read, done.prepared, elapsedSince(started));
      partitionedReads.set(source.name, { parts, stats: done.stats, changes, fullBecause: read.fullBecause });
      continue;
    }
    if (!windowed) {
      const full = defer ? await deferFull(run, source) : await readInFull(run, source);
      if ('prepared' in full) prepared.set(source.name, full.prepared);
      else {
        deferred.push(full.read);
        fullListings.set(source.name, full.read.files);
      }
      steps.push(full.step);
      continue;
    }
    const readers = run.active.filter((m) => inputsOf(manifest, m).sources.has(source.name));
    const started = performance.now();
    const location = await locationOf(run, source);
    const { cache, file } = await openCache(run, source, location);
    const readBefore = cache.stats.filesRead;
    let result;
    try {
      result = await prepareWindowedSource({
        duck: run.duck, source: source as SourceNode & { datePartition: string }, location, cache,
        renderRule: ruleRenderer(manifest, source, { now: sqlTimestamp(input.now) }),
        earliestNeeded: async (clock) => earliest([...(await sinceOf(run, () => clock, readers)).values()]) ?? clock,
        guessClock,
      });
    } catch (err) {
      throw asSourceError(source, err);
    }
    prepared.set(source.name, result.prepared);
    if (result.fromPart) await cache.evictBefore(run.duck, dayBefore(result.fromPart, 2));
    const window = result.fromPart ? `partitions from ${result.fromPart} (of ${formatCount(result.partitions)})` : 'all files';
    const where = cache.persistent ? 'the cache' : file ? 'an in-memory cache (the cache file is in use by another process)' : 'an in-memory cache';
    log(`${describePreparedSource(result.prepared, elapsedSince(started))}; ${window}, ${formatCount(cache.stats.filesRead - readBefore)} files read, the rest from ${where}`);
    for (const bad of result.prepared.unreadableFiles) log(`    skipped file ${bad.uri}: ${bad.reason}`);
    steps.push({
      name: source.name, windowed: true, fromPart: result.fromPart, partitions: result.partitions, read: true,
      files: summarize(result.prepared.files.map((f) => ({ size: f.size, part: partOf(source, f) }))),
    });
  }
  // One stream clock for the run: the newest valid event the incremental models can see.
  const read = new Map([...prepared, ...clockReads]);
  const clock = latest(sources.filter((s) => s.forActive).map((s) => read.get(s.source.name)?.clock));
  const since = await sinceOf(run, () => clock);
  return {
    sources: {
      idle: false, clock, since,
      listed: new Map([...[...prepared].map(([name, p]) => [name, fullListings.get(name) ?? p.files] as const), ...fullListings]),
      validRows: new Map([...read].map(([name, p]) => [name, p.validRows])),
      sources: steps,
      partitioned: partitionedReads,
    },
    prepared,
    deferred,
  };
}

/**
 * The stream clock of a source read whole after planning: its newest partitions, from the first day the
 * incremental models read at that clock (as `prepareWindowedSource` finds it), through a cache kept in
 * memory for this read only (the hot tier's cache file keeps its own window).
 */
async function readClockWindow(run: RunContext, source: SourceNode, guessClock: string | undefined): Promise<PreparedSource> {
  const { manifest, log, now } = run.input;
  const readers = run.active.filter((m) => inputsOf(manifest, m).sources.has(source.name));
  const started = performance.now();
  const location = await locationOf(run, source);
  const cache = await openSourceCache(run.duck, source, location, { stamp: 'clock' });
  try {
    const result = await prepareWindowedSource({
      duck: run.duck, source: source as SourceNode & { datePartition: string }, location, cache,
      renderRule: ruleRenderer(manifest, source, { now: sqlTimestamp(now) }),
      earliestNeeded: async (clock) => earliest([...(await sinceOf(run, () => clock, readers)).values()]) ?? clock,
      guessClock,
    });
    const window = result.fromPart ? `partitions from ${result.fromPart} (of ${formatCount(result.partitions)})` : 'all files';
    log(`source ${source.name}: clock ${result.prepared.clock ?? '-'} from ${window}, ${formatCount(cache.stats.filesRead)} files read for the clock in ${elapsedSince(started).toFixed(2)}s`);
    return result.prepared;
  } catch (err) {
    throw asSourceError(source, err);
  } finally {
    // Its rows served the clock only: the models read the source as the planned read prepares it.
    await cache.close(run.duck);
  }
}

/** Every file of the source, checked, flagged and deduplicated in DuckDB. */
async function readInFull(run: RunContext, source: SourceNode): Promise<{ prepared: PreparedSource; step: SourceStep }> {
  const { manifest, log, engine, now, projectDir } = run.input;
  const one = await prepareSources(engine, manifest, [source], { projectDir, stateDir: stateDirOf(projectDir), values: { now: sqlTimestamp(now) }, log });
  const prepared = one.get(source.name)!;
  return { prepared, step: fullStep(source, prepared.files) };
}

/** Every file of the source, to be read once the run is planned: only listed now. */
async function deferFull(run: RunContext, source: SourceNode): Promise<{ read: PlannedRead & { kind: 'full' }; step: SourceStep }> {
  let files: ListedFile[];
  try {
    files = await (await locationOf(run, source)).list();
  } catch (err) {
    throw asSourceError(source, err);
  }
  return { read: { kind: 'full', source: source.name, files }, step: fullStep(source, files) };
}

function fullStep(source: SourceNode, files: readonly ListedFile[]): SourceStep {
  return { name: source.name, windowed: false, files: summarize(files.map((f) => ({ size: f.size, part: partOf(source, f) }))), read: true };
}

function daysStep(source: SourceNode, read: DaysRead): SourceStep {
  const summary = (files: readonly ListedFile[]) => summarize(files.map((f) => ({ size: f.size, part: partOf(source, f) })));
  const full = read.fullBecause !== undefined;
  return {
    name: source.name, windowed: false, read: full || read.days.length > 0, files: summary(full ? read.listed : read.files),
    days: full ? undefined : read.days, listed: summary(read.listed),
  };
}

/**
 * The clock after reading some days only: the newest valid event of the days read, or of the days kept
 * (their stats in the partition-aware readers' state) that are still listed.
 */
function clockAfterDaysRead(source: SourceNode, read: DaysRead, readClock: string | undefined, readers: readonly ModelNode[], state: ObservedState): string | undefined {
  const days = new Set(read.days);
  const kept = readers.filter((m) => partitionColumnOf(m) !== undefined).flatMap((m) => state.partStats?.get(m.name) ?? []).filter((s) => !days.has(s.part));
  const listedParts = new Set(read.listed.map((f) => partOf(source, f) ?? ''));
  return clockOfPartialRead(readClock, kept.filter((s) => listedParts.has(s.part)));
}

function partOf(source: SourceNode, file: ListedFile): string | undefined {
  return source.datePartition ? file.partitions[source.datePartition] : undefined;
}

/** Each model's `source_since` at the clock `clockOf` gives it, evaluated in one DuckDB query. */
async function sinceOf(run: RunContext, clockOf: (m: ModelNode) => string | undefined, models: readonly ModelNode[] = run.active): Promise<Map<string, string | undefined>> {
  const manifest = run.input.manifest;
  const known = models.flatMap((model) => {
    const clock = clockOf(model);
    if (!clock) return [];
    const config = incrementalConfigOf(model)!;
    const values = incrementalValues(model, config, clock, previousProgress(model, run.state, run.input.fullRefresh));
    return [{ model, expr: renderConfigTemplate(run.hb, manifest, model, config.sourceSince, values) }];
  });
  const out = new Map<string, string | undefined>(models.map((m) => [m.name, undefined]));
  if (!known.length) return out;
  let row: Record<string, string | null> | undefined;
  try {
    [row] = await run.duck.all<Record<string, string | null>>(`SELECT ${known.map((k, i) => `CAST((${k.expr}) AS VARCHAR) AS c${i}`).join(', ')}`);
  } catch (err) {
    throw new TmError(`config source_since of ${known.map((k) => k.model.name).join(', ')} is not a valid timestamp expression: ${errorMessage(err).split('\n')[0]}`);
  }
  known.forEach((k, i) => out.set(k.model.name, row?.[`c${i}`] ?? undefined));
  return out;
}

function listFrom(location: SourceLocation, source: SourceNode, from: string | undefined): Promise<ListedFile[]> {
  const column = source.datePartition;
  if (!from || !column) return location.list();
  return location.list((p) => !(column in p) || !isIsoDate(p[column]) || p[column] >= from);
}

function locationOf(run: RunContext, source: SourceNode): Promise<SourceLocation> {
  const projectDir = run.input.projectDir;
  return openLocationFor(source, projectDir, stateDirOf(projectDir));
}

/** One template environment per parsed project and engine (a `--every` loop keeps the project between cycles). */
const environments = new WeakMap<Manifest, Map<string, Promise<TemplateEnv>>>();

export function templatesFor(manifest: Manifest, engineName = 'duckdb'): Promise<TemplateEnv> {
  let envs = environments.get(manifest);
  if (!envs) environments.set(manifest, (envs = new Map()));
  let env = envs.get(engineName);
  if (!env) envs.set(engineName, (env = createTemplateEnv(manifest, engineName)));
  return env;
}

/** Caches attached to a DuckDB that outlives one run (`--every` keeps it): they stay attached between cycles. */
const attached = new WeakMap<object, Map<string, SourceCache>>();

/**
 * The source's cache file belongs to this target (kind, address, database, schema) and its state id;
 * TM_SOURCE_CACHE=off, or a target without state yet (a dry run), keeps it in memory. A run that owns
 * its DuckDB detaches the cache at the end; a kept DuckDB keeps it.
 */
async function openCache(run: RunContext, source: SourceNode, location: SourceLocation): Promise<{ cache: SourceCache; file?: string }> {
  const { target: t, engine, projectDir } = run.input;
  const identity = `${t.kind}\n${t.label}\n${t.database}\n${t.schema}\n${stateSchemaOf(t.schema)}`;
  const stamp = run.stateId ?? 'no-state';
  const file = process.env.TM_SOURCE_CACHE === 'off' || !run.stateId ? undefined : sourceCacheFile(stateDirOf(projectDir), source, identity);
  const key = `${file ?? 'memory'}\n${source.location}`;
  const byDuck = attached.get(engine) ?? new Map<string, SourceCache>();
  const reuse = run.input.keptRuntime ? byDuck.get(key) : undefined;
  if (reuse && reuse.stamp === stamp && reuse.persistent === (file !== undefined)) return { cache: reuse, file };
  if (reuse) {
    await reuse.close(run.duck);
    byDuck.delete(key);
  }
  const cache = await openSourceCache(run.duck, source, location, { file, stamp });
  if (run.input.keptRuntime && cache.persistent) {
    byDuck.set(key, cache);
    attached.set(engine, byDuck);
  } else run.cleanups.push(() => cache.close(run.duck));
  return { cache, file };
}

