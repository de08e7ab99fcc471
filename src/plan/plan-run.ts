import { inputsOf, tempAncestors, type ModelInputs } from '../graph/temp-models.js';
import { traitsOf } from '../engines/compute/traits.js';
import { incrementalConfigOf, partitionColumnOf, relationOf } from '../manifest/kind-facts.js';
import type { IncrementalConfig, Manifest, ModelNode } from '../manifest/types.js';
import type { ListedFile } from '../sources/types.js';
import type { PartStat } from '../state/partition-state.js';
import type { ModelProgress, SeenFile } from '../state/store.js';
import { partitionedFingerprint, type PartitionedRead } from './changed-partitions.js';
import { dateOf, earliest, sameInstant, snapshotOf } from './clock.js';
import { describeDiff, diffFiles, isEmptyDiff } from './file-diff.js';
import { sqlTimestampText } from './time.js';
import type { FileSummary, ModelStep, RunPlan, SourceStep } from './types.js';
import type { DayBatches } from '../engines/compute/batches.js';
import { baseValues, clockValues, hotStartFor, incrementalValues, modelFingerprint, thisRowsTable } from './values.js';

/** tm's state in the target, as read before planning. */
export interface ObservedState {
  /** Last committed progress per incremental model. */
  readonly progress: ReadonlyMap<string, ModelProgress>;
  /** Files each incremental model has seen. */
  readonly seen: ReadonlyMap<string, readonly SeenFile[]>;
  /** Tables of incremental models (or of the ones they reconcile) that exist. */
  readonly existing: ReadonlySet<string>;
  /** Models that write and whose table's lock another process holds. */
  readonly locked: ReadonlySet<string>;
  /** Day stats of each partition-aware model. */
  readonly partStats?: ReadonlyMap<string, readonly PartStat[]>;
}

/** What the run found in its sources before planning. */
export interface ObservedSources {
  /** Nothing new anywhere the incremental models read: no row was read. */
  readonly idle: boolean;
  /** The stream clock (when idle: the newest clock the models reached, unchanged). */
  readonly clock?: string;
  /** Each active incremental model's earliest event time: its `source_since` evaluated at the clock. */
  readonly since: ReadonlyMap<string, string | undefined>;
  /** Files of each source in the partitions the run read. */
  readonly listed: ReadonlyMap<string, readonly ListedFile[]>;
  /** Valid events of each source read. */
  readonly validRows: ReadonlyMap<string, number>;
  readonly sources: readonly SourceStep[];
  /** Sources that partition-aware models read: which days were read, and what changed for each model. */
  readonly partitioned?: ReadonlyMap<string, PartitionedRead>;
}

export interface PlanInput {
  readonly manifest: Manifest;
  /** The selected models and the temp models they read, in run order. */
  readonly models: readonly ModelNode[];
  readonly now: Date;
  readonly startedAt: Date;
  readonly runId: string;
  readonly fullRefresh: boolean;
  readonly state: ObservedState;
  readonly sources: ObservedSources;
  /**
   * Source bytes (as listed) one DuckDB query of a partition-aware model may read: days beyond it are
   * computed in batches (a whole-stream aggregation at 10x the TripClick scale does not fit DuckDB's memory cap).
   */
  readonly batchBytes?: number;
  /** Models the run executes at once (`--threads`): the most DuckDB queries that may run side by side. */
  readonly threads?: number;
}

/** The model's last progress, unless it starts over (full refresh, or its table is gone). */
export function previousProgress(model: ModelNode, state: Omit<ObservedState, 'locked'>, fullRefresh: boolean): ModelProgress | undefined {
  return fullRefresh || !state.existing.has(relationOf(model)) ? undefined : state.progress.get(model.name);
}

/** A model whose only inputs are source files can tell from them alone whether it has something new. */
export function tracksFiles(inputs: ModelInputs, config: IncrementalConfig): boolean {
  return inputs.tables.size === 0 && inputs.sources.size > 0 && !config.reconciles;
}

/**
 * Decides, for each model, whether it builds, only records a check, or is skipped, and with which
 * values and state write. Pure: the state, the listings, the clock and the evaluated `source_since`
 * values come in; nothing is read or written here.
 */
export function planRun(input: PlanInput): RunPlan {
  const { manifest, models, sources } = input;
  const now = sqlTimestampText(input.now);
  const hasIncremental = models.some((m) => incrementalConfigOf(m) !== undefined);
  const runValues = {
    ...baseValues(input.now, input.startedAt),
    ...(hasIncremental ? clockValues(sources.clock, sources.idle ? sources.clock : earliest([...sources.since.values()])) : {}),
  };
  const decided = new Map<string, ModelStep>();
  for (const model of models) {
    // Locked by another process: skipped below, whatever its kind (a partition-aware model too), the same decision the temp models' idleness reads.
    if (input.state.locked.has(model.name)) continue;
    const config = incrementalConfigOf(model);
    if (config) decided.set(model.name, planIncremental(input, model, config, runValues, now));
    const column = partitionColumnOf(model);
    if (column) decided.set(model.name, planPartitioned(input, model, column, runValues, now));
  }
  const idleReader = (name: string) => input.state.locked.has(name) || (decided.get(name) !== undefined && decided.get(name)!.action !== 'build');
  const steps = models.map((model): ModelStep => {
    const step = decided.get(model.name);
    if (step) return step;
    const base = { kind: 'full' as const, model, values: runValues, relationName: model.name, recordsCheck: false };
    if (input.state.locked.has(model.name)) return { ...base, action: 'skip', reason: 'another tm process holds its lock' };
    if (model.config.materialized === 'temp' && onlyFeeds(manifest, model, models, idleReader)) {
      return { ...base, action: 'check', reason: 'not needed: its readers have nothing new' };
    }
    return { ...base, action: 'build', reason: model.config.materialized === 'temp' ? 'computed for this run' : 'full recompute' };
  });
  return {
    now, runId: input.runId, fullRefresh: input.fullRefresh, clock: sources.clock, idle: sources.idle, values: runValues, sources: sources.sources, steps,
    duckSlots: duckSlotsFor(steps, sources.sources, input),
  };
}

/**
 * DuckDB queries of models that may run at once. One, as a rule: DuckDB spreads a query over every core,
 * and queries side by side would split its memory cap. But a hot window of a few MB fits one row group,
 * which one core scans: when the run's DuckDB models read only source files, and all of them together
 * fit a batch's budget once per query at once, the queries run side by side, up to `threads`
 * (measured on the hot tier's 4 marts, 2 cores: 12-29 ms off a cycle of ~220 ms).
 */
function duckSlotsFor(steps: readonly ModelStep[], sources: readonly SourceStep[], input: PlanInput): number {
  const threads = input.threads ?? 1;
  const heavy = steps.filter((s) => s.action === 'build' && traitsOf(s.model.config.engine).heavyQueries);
  if (threads <= 1 || heavy.length < 2 || !input.batchBytes || heavy.some((s) => s.model.refs.length > 0)) return 1;
  const bytes = sources.reduce((n, s) => n + (s.read ? s.files.bytes : 0), 0);
  return bytes * threads <= input.batchBytes ? threads : 1;
}

function planIncremental(input: PlanInput, model: ModelNode, config: IncrementalConfig, runValues: Readonly<Record<string, string>>, now: string): ModelStep {
  const { manifest, state, sources, fullRefresh } = input;
  const relationName = relationOf(model);
  const tableExists = state.existing.has(relationName);
  const previous = previousProgress(model, state, fullRefresh);
  const clock = sources.clock;
  const values = { ...runValues, ...incrementalValues(model, config, clock, previous) };
  const base = { kind: 'incremental' as const, model, values, isIncremental: false, relationName, recordsCheck: false, hotStart: hotStartFor(config, clock, previous) };
  if (sources.idle) return { ...base, action: 'check', reason: 'no new files', recordsCheck: true };
  const check = (reason: string): ModelStep => ({ ...base, action: 'check', reason, recordsCheck: true });
  if (config.reconciles && !tableExists) return { ...base, action: 'check', reason: `nothing to reconcile: ${relationName} did not exist before this run (its first build reads all the data)` };

  const inputs = inputsOf(manifest, model);
  const since = sources.since.get(model.name);
  const sinceDate = since ? dateOf(since) : undefined;
  const files = filesOf(inputs, manifest, sources.listed, sinceDate);
  const diff = diffFiles(files, previous ? seenSince(state.seen.get(model.name) ?? [], sinceDate) : []);
  const fingerprint = modelFingerprint(model, manifest);
  const noEvents = [...inputs.sources].every((name) => (sources.validRows.get(name) ?? 0) === 0);

  let reason: string;
  if (!tracksFiles(inputs, config)) reason = 'reads other tables';
  else if (noEvents) return check('no valid events in the source window');
  else if (!previous || fullRefresh) reason = fullRefresh ? 'full refresh' : 'first run';
  else if (!isEmptyDiff(diff)) reason = describeDiff(diff);
  else if (!sameInstant(previous.clockReached, clock)) reason = 'clock moved';
  else if (previous.modelHash !== fingerprint) reason = 'model changed';
  else return check('no new files');

  const isIncremental = tableExists && !fullRefresh;
  return {
    ...base,
    action: 'build',
    reason,
    isIncremental,
    files: summarize(files),
    // A reconciliation never empties the table it rewrites, not even on a full refresh: its rows stay visible.
    thisRows: traitsOf(model.config.engine).importsTargetRows && model.values.includes('this_rows') ? { table: thisRowsTable(model), exists: isIncremental || (tableExists && config.reconciles !== undefined) } : undefined,
    stateWrite: {
      model: model.name,
      clockReached: clock ?? null,
      snapshotReached: clock ? snapshotOf(clock) : null,
      hotStart: base.hotStart ?? null,
      at: now,
      modelHash: fingerprint,
      runId: input.runId,
      resetFiles: !previous,
      forget: diff.removed.map((f) => f.uri),
      keepPartsFrom: sinceDate,
      add: previous ? diff.added : files,
    },
  };
}

/**
 * A partition-aware model: nothing changed -> check; its source read for some days -> recompute and
 * replace those days (every day read: they are whole and deduplicated, so rewriting an unchanged one
 * is exact too); its source read in full -> rebuild it all. The state records each day's files and stats.
 */
function planPartitioned(input: PlanInput, model: ModelNode, column: string, values: Readonly<Record<string, string>>, now: string): ModelStep {
  const { manifest, state, sources } = input;
  const inputs = inputsOf(manifest, model);
  const base = { kind: 'partitioned' as const, model, values, relationName: model.name, recordsCheck: false };
  const reads = [...inputs.sources].map((name) => sources.partitioned?.get(name));
  const change = reads[0]?.changes.get(model.name);
  if (!change || reads.some((r) => r === undefined)) return { ...base, action: 'build', reason: 'full recompute' };
  if (change.kind === 'none') return { ...base, action: 'check', reason: 'no changed files', recordsCheck: true };
  const files = filesOf(inputs, manifest, sources.listed, undefined);
  const seen = state.seen.get(model.name) ?? [];
  const write = {
    model: model.name, clockReached: sources.clock ?? null, snapshotReached: sources.clock ? snapshotOf(sources.clock) : null, hotStart: null,
    at: now, modelHash: partitionedFingerprint(model, manifest), runId: input.runId,
  };
  const read = reads[0]!;
  // Batches cut a heavy query (DuckDB's); a model computed in the target runs as one statement.
  const budget = traitsOf(model.config.engine).heavyQueries ? input.batchBytes : undefined;
  if (reads.length === 1 && read.parts !== undefined && change.kind === 'parts') {
    const parts = new Set(read.parts);
    const recomputed = files.filter((f) => parts.has(f.part));
    return {
      ...base, action: 'build', reason: `${change.reason}: ${read.parts.length} day${read.parts.length === 1 ? '' : 's'} to recompute`,
      partitions: { column, parts: read.parts },
      batches: batchesOf(column, recomputed, budget),
      files: summarize(recomputed),
      stateWrite: { ...write, resetFiles: false, forget: seen.filter((f) => parts.has(f.part)).map((f) => f.uri), add: recomputed },
      partitionState: { model: model.name, replaceAll: false, parts: read.parts, stats: read.stats },
    };
  }
  const why = change.kind === 'full' ? change.reason : `${change.reason} (source read in full: ${read.fullBecause ?? 'several sources'})`;
  return {
    ...base, action: 'build', reason: why, files: summarize(files), batches: batchesOf(column, files, budget),
    stateWrite: { ...write, resetFiles: true, forget: [], add: files },
    partitionState: { model: model.name, replaceAll: true, parts: [], stats: read.stats },
  };
}

/**
 * Batches of whole days, each reading at most `budget` bytes of files (a day larger than that is a batch
 * alone): their upper bounds, none when one batch holds every day.
 */
export function batchesOf(column: string, files: readonly { readonly size: number; readonly part: string }[], budget: number | undefined): DayBatches | undefined {
  if (!budget) return undefined;
  const bytes = new Map<string, number>();
  for (const f of files) if (f.part) bytes.set(f.part, (bytes.get(f.part) ?? 0) + f.size);
  const days = [...bytes.keys()].sort();
  const bounds: string[] = [];
  let sum = 0;
  days.forEach((day, i) => {
    if (sum > 0 && sum + bytes.get(day)! > budget) {
      bounds.push(days[i - 1]);
      sum = 0;
    }
    sum += bytes.get(day)!;
  });
  return bounds.length ? { column, bounds } : undefined;
}

/**
 * The plan once the reads it deferred ran: a partition-aware step records the stats of the days its
 * source's read found (the read runs after planning, so the planner left them empty).
 */
export function withReadStats(plan: RunPlan, manifest: Manifest, stats: ReadonlyMap<string, readonly PartStat[]>): RunPlan {
  if (!stats.size) return plan;
  const steps = plan.steps.map((step) => {
    if (step.kind !== 'partitioned' || !step.partitionState) return step;
    const [source] = inputsOf(manifest, step.model).sources;
    const read = stats.get(source);
    return read ? { ...step, partitionState: { ...step.partitionState, stats: read } } : step;
  });
  return { ...plan, steps };
}

/** True when every selected model that reads this temp model (directly or through temp models) has nothing to do. */
function onlyFeeds(manifest: Manifest, temp: ModelNode, models: readonly ModelNode[], idle: (name: string) => boolean): boolean {
  const readers = models.filter((m) => m.config.materialized !== 'temp' && tempAncestors(manifest, m).some((t) => t.name === temp.name));
  return readers.length > 0 && readers.every((m) => idle(m.name));
}

/** The model's files: those of its sources in the partitions it reads. */
export function filesOf(inputs: ModelInputs, manifest: Manifest, listed: ReadonlyMap<string, readonly ListedFile[]>, sinceDate: string | undefined): SeenFile[] {
  const out: SeenFile[] = [];
  for (const name of inputs.sources) {
    const source = manifest.sources.get(name);
    const files = listed.get(name);
    if (!source || !files) continue;
    for (const f of files) {
      const part = source.datePartition ? (f.partitions[source.datePartition] ?? '') : '';
      if (sinceDate && part && part < sinceDate) continue;
      out.push({ source: name, uri: f.uri, size: f.size, version: f.version, part });
    }
  }
  return out;
}

/** Seen files of a model restricted to the partitions it reads now. */
export function seenSince(seen: readonly SeenFile[], sinceDate: string | undefined): SeenFile[] {
  return sinceDate ? seen.filter((f) => !f.part || f.part >= sinceDate) : [...seen];
}

/** Counts, bytes and the date range of a set of files: what a plan prints instead of thousands of paths. */
export function summarize(files: readonly { readonly size: number; readonly part?: string }[]): FileSummary {
  const parts = files.map((f) => f.part ?? '').filter(Boolean).sort();
  return { count: files.length, bytes: files.reduce((n, f) => n + f.size, 0), firstPart: parts[0], lastPart: parts[parts.length - 1] };
}
