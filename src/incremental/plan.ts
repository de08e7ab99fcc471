import type { ModelHooks } from '../execute/run-models.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import type { ListedFile } from '../sources/types.js';
import type { ModelProgress, SeenFile } from '../state/store.js';
import { sameInstant } from './clock.js';
import { describeDiff, isEmptyDiff, type FileDiff } from './file-diff.js';
import type { IncrementalSettings } from './settings.js';

/** What a model reads: sources directly or through `temp` models, and other models' tables. */
export interface Inputs {
  readonly sources: ReadonlySet<string>;
  /** Models read other than `temp` ones: their rows are not files, so changes there cannot be seen. */
  readonly tables: ReadonlySet<string>;
}

/** What the run does with one incremental model. */
export interface ModelPlan {
  readonly model: ModelNode;
  readonly settings: IncrementalSettings;
  /** Table written: the model's, or the one it reconciles. */
  readonly relationName: string;
  readonly tableExists: boolean;
  /** Last committed progress (none on a first run, a full refresh, or when the table is gone). */
  readonly previous?: ModelProgress;
  readonly values: Readonly<Record<string, string>>;
  readonly hotStart?: string;
  /** First date partition the model reads. */
  readonly sinceDate?: string;
  /** The model's files now (partitions from sinceDate on). */
  readonly files: readonly SeenFile[];
  readonly diff: FileDiff;
  /** Why it runs, or why not. */
  readonly reason: string;
  readonly skip?: ModelHooks['skip'];
}

export interface PlanContext {
  readonly clock?: string;
  readonly inputs: Inputs;
  readonly fingerprint: string;
  readonly fullRefresh: boolean;
  /** None of the model's sources has a valid event in the window. */
  readonly noEvents: boolean;
  /** Records that the model was checked (nothing to do). */
  readonly record: () => Promise<void>;
}

/** Decides whether the model has work: new, changed or removed files, a moved clock, a changed model. */
export function planModel(base: Omit<ModelPlan, 'reason' | 'skip'>, ctx: PlanContext): ModelPlan {
  const checked = (reason: string): ModelPlan => ({ ...base, reason, skip: { status: 'success', reason: `${reason} (checked)`, record: ctx.record } });
  if (base.settings.reconciles && !base.tableExists) {
    return { ...base, reason: 'nothing to reconcile', skip: { status: 'success', reason: `nothing to reconcile: ${base.relationName} does not exist` } };
  }
  if (!tracksFiles(ctx.inputs, base.settings)) return { ...base, reason: 'reads other tables' };
  if (ctx.noEvents) return checked('no valid events in the source window');
  const prev = base.previous;
  if (!prev || ctx.fullRefresh) return { ...base, reason: ctx.fullRefresh ? 'full refresh' : 'first run' };
  if (!isEmptyDiff(base.diff)) return { ...base, reason: describeDiff(base.diff) };
  if (!sameInstant(prev.clockReached, ctx.clock)) return { ...base, reason: 'clock moved' };
  if (prev.modelHash !== ctx.fingerprint) return { ...base, reason: 'model changed' };
  return checked('no new files');
}

/** A model whose only inputs are source files can tell from them alone whether it has something new. */
export function tracksFiles(inputs: Inputs, settings: IncrementalSettings): boolean {
  return inputs.tables.size === 0 && inputs.sources.size > 0 && !settings.reconciles;
}

export function inputsOf(model: ModelNode, manifest: Manifest): Inputs {
  const sources = new Set<string>(model.sources);
  const tables = new Set<string>();
  const seen = new Set<string>();
  const visit = (refs: readonly string[]) => {
    for (const r of refs) {
      const m = manifest.models.get(r);
      if (!m || seen.has(r)) continue;
      seen.add(r);
      if (m.config.materialized === 'temp') {
        for (const s of m.sources) sources.add(s);
        visit(m.refs);
      } else tables.add(r);
    }
  };
  visit(model.refs);
  return { sources, tables };
}

/** True when every selected model that reads this temp model (directly or through temp models) has nothing to do. */
export function onlyFeedsSkipped(temp: ModelNode, models: readonly ModelNode[], skipped: (name: string) => boolean): boolean {
  const byName = new Map(models.map((m) => [m.name, m]));
  const readsThrough = (model: ModelNode): boolean => {
    const seen = new Set<string>();
    const visit = (refs: readonly string[]): boolean =>
      refs.some((r) => {
        if (r === temp.name) return true;
        const m = byName.get(r);
        if (!m || m.config.materialized !== 'temp' || seen.has(r)) return false;
        seen.add(r);
        return visit(m.refs);
      });
    return visit(model.refs);
  };
  const readers = models.filter((m) => m.config.materialized !== 'temp' && readsThrough(m));
  return readers.length > 0 && readers.every((m) => skipped(m.name));
}

/** The model's files: those of its sources in the partitions it reads. */
export function filesOf(inputs: Inputs, manifest: Manifest, listed: ReadonlyMap<string, readonly ListedFile[]>, sinceDate: string | undefined): SeenFile[] {
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
