import { ancestors, type ProjectGraph } from '../graph/build-graph.js';
import { LAGS, type LagName, type ModelNode } from '../manifest/types.js';
import { stateWriteOf, type RunPlan } from '../plan/types.js';
import { modelLags, sourceLags, utcMillis, worstLag, type Lags } from '../state/freshness.js';
import type { SourceObservation } from '../state/source-state.js';
import type { ModelProgress } from '../state/store.js';
import type { NodeResult } from './run-results.js';

/** A node's lags as `run_results.json` and the loop's alerts read them: seconds, and the worst state against the thresholds. */
export interface LagSummary {
  readonly pipeline_lag_s: number | null;
  readonly data_lag_s: number | null;
  readonly arrival_lag_s: number | null;
  readonly freshness: 'ok' | 'warn' | 'error' | 'none';
  /** The lags past a threshold (warn or error). */
  readonly crossed: readonly LagName[];
}

export interface RunFreshness {
  /** Per model of the run, as of the run's wall clock, once its results are in. */
  readonly models: ReadonlyMap<string, LagSummary>;
  readonly sources: ReadonlyMap<string, LagSummary>;
  /** What the run saw of each source it listed. */
  readonly seen: readonly SourceObservation[];
}

const summary = (lags: Lags): LagSummary => ({
  pipeline_lag_s: lags.pipeline_lag.seconds, data_lag_s: lags.data_lag.seconds, arrival_lag_s: lags.arrival_lag.seconds, freshness: worstLag(lags),
  crossed: LAGS.filter((l) => lags[l].state === 'warn' || lags[l].state === 'error'),
});

/** The sources upstream of a model, directly or through other models. */
export function upstreamSources(graph: ProjectGraph, model: ModelNode): string[] {
  return [...ancestors(graph, model.uniqueId)].map((id) => graph.nodes.get(id)).flatMap((n) => (n?.kind === 'source' ? [n.name] : []));
}

/**
 * The lags right after a run, from what it did rather than read back: a model that succeeded is as of
 * the run (its clock the one it wrote, or kept by a check); a failed or skipped one keeps its last progress.
 */
export function runFreshness(plan: RunPlan, results: readonly NodeResult[], previous: ReadonlyMap<string, ModelProgress>, seen: readonly SourceObservation[], graph: ProjectGraph): RunFreshness {
  const nowMs = utcMillis(plan.now);
  const byName = new Map(seen.map((s) => [s.source, s]));
  const models = new Map<string, LagSummary>();
  for (const [i, step] of plan.steps.entries()) {
    const before = previous.get(step.model.name);
    const ok = results[i]?.status === 'success' && step.action !== 'skip';
    const write = stateWriteOf(step);
    const after: ModelProgress | undefined = !ok ? before : {
      ...(before ?? { model: step.model.name, snapshotReached: null, hotStart: null, lastChangeAt: null, modelHash: null, filesSeen: 0, runId: null }),
      clockReached: step.action === 'build' && write ? write.clockReached : (before?.clockReached ?? null),
      lastSuccessAt: plan.now,
    };
    const upstream = upstreamSources(graph, step.model).flatMap((s) => byName.get(s) ?? []);
    models.set(step.model.name, summary(modelLags(step.model, after, upstream, nowMs, 'now')));
  }
  const sources = new Map<string, LagSummary>();
  for (const s of seen) {
    const node = graph.manifest.sources.get(s.source);
    if (node) sources.set(s.source, summary(sourceLags(node, s, nowMs, 'now')));
  }
  return { models, sources, seen };
}
