import { EXIT_FAILED, EXIT_OK } from '../core/errors.js';
import { upstreamSources } from '../artifacts/run-freshness.js';
import { selectNodes } from '../graph/select.js';
import type { ModelNode, SourceNode } from '../manifest/types.js';
import { loadTargetConfig } from '../project/load-profile.js';
import { readAllProgress, stateExists, type ModelProgress } from '../state/store.js';
import { readSourceObservations, type SourceObservation } from '../state/source-state.js';
import { loadProjectContext, type CommonOptions, type ProjectContext } from './project-context.js';
import { openTarget } from './runtime.js';
import { incrementalConfigOf } from '../manifest/kind-facts.js';
import { parseNow } from '../plan/time.js';
import { freshnessOf, modelLags, sourceLags, worstLag, type Lags, type RelativeTo } from '../state/freshness.js';

export interface StatusOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  /** Wall clock to measure ages against (`--now`). */
  readonly now?: string;
  /** What data lag is measured against (`--relative-to`): the wall clock, or the sources' newest event. */
  readonly relativeTo?: RelativeTo;
}

export interface ModelFreshness {
  readonly name: string;
  /** Wall-clock time of the last successful run or check, UTC text; null when it never succeeded. */
  readonly lastSuccessAt: string | null;
  readonly ageSeconds: number | null;
  /** Stream clock the model reached. */
  readonly clockReached: string | null;
  readonly slaMinutes: number | null;
  /** The SLA's verdict on the pipeline lag (`no sla` without one). */
  readonly state: 'ok' | 'late' | 'never' | 'no sla';
  readonly lags: Lags;
  /** The worst of the lags against their thresholds (`freshness:` in YAML; `sla_minutes` is the pipeline lag's error_after). */
  readonly status: 'ok' | 'warn' | 'error' | 'none';
}

export interface SourceFreshness {
  readonly name: string;
  readonly lastListedAt: string | null;
  readonly newestEvent: string | null;
  readonly newestFileAt: string | null;
  readonly lags: Lags;
  readonly status: 'ok' | 'warn' | 'error' | 'none';
}

export interface StatusOutcome {
  readonly exitCode: number;
  readonly relativeTo: RelativeTo;
  readonly models: readonly ModelFreshness[];
  readonly sources: readonly SourceFreshness[];
}

const crossed = (status: string) => status === 'warn' || status === 'error';

/** Progress of every model and what runs saw of every source, read without creating anything. */
async function readFreshnessState(ctx: ProjectContext, targetName: string | undefined): Promise<{ progress: Map<string, ModelProgress>; seen: Map<string, SourceObservation> }> {
  const config = await loadTargetConfig(ctx.project.projectDir, targetName);
  const target = await openTarget(config, 1);
  try {
    const session = await target.acquire();
    try {
      if (!(await stateExists(session, target.schema))) return { progress: new Map(), seen: await readSourceObservations(session, target.schema) };
      const progress = await readAllProgress(session, target.schema);
      return { progress: new Map(progress.map((p) => [p.model, p])), seen: await readSourceObservations(session, target.schema) };
    } finally {
      await session.release();
    }
  } finally {
    await target.close();
  }
}

function sourceRow(source: SourceNode, seen: SourceObservation | undefined, nowMs: number, relativeTo: RelativeTo): SourceFreshness {
  const lags = sourceLags(source, seen, nowMs, relativeTo);
  return { name: source.name, lastListedAt: seen?.listedAt ?? null, newestEvent: seen?.newestEvent ?? null, newestFileAt: seen?.newestFileAt ?? null, lags, status: worstLag(lags) };
}

/**
 * `tm status`: per incremental model (or model with `sla_minutes` or `freshness`), its three lags
 * against their thresholds and the SLA, and the same for the sources they read. Exit 1 when a
 * threshold is crossed, the SLA breached or a watched model never succeeded.
 */
export async function status(options: StatusOptions): Promise<StatusOutcome> {
  const ctx = await loadProjectContext(options);
  const relativeTo = options.relativeTo ?? 'now';
  const ids = selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'] });
  const models = ids
    .map((id) => ctx.graph.nodes.get(id) as ModelNode)
    .filter((m) => incrementalConfigOf(m) !== undefined || m.config.sla_minutes !== undefined || m.config.freshness !== undefined)
    .filter((m) => incrementalConfigOf(m)?.reconciles === undefined);
  const { progress, seen } = await readFreshnessState(ctx, options.target);
  const now = parseNow(options.now).getTime();
  const rows: ModelFreshness[] = models.map((m) => {
    const f = freshnessOf(m, progress.get(m.name), now);
    const lags = modelLags(m, progress.get(m.name), upstreamSources(ctx.graph, m).flatMap((s) => seen.get(s) ?? []), now, relativeTo);
    return { name: m.name, lastSuccessAt: f.last_success_at, ageSeconds: f.age_s, clockReached: f.clock_reached, slaMinutes: f.sla_minutes, state: f.state, lags, status: worstLag(lags) };
  });
  const sourceNames = new Set(models.flatMap((m) => upstreamSources(ctx.graph, m)));
  const sources = [...sourceNames].sort().map((n) => sourceRow(ctx.manifest.sources.get(n)!, seen.get(n), now, relativeTo));
  const breached = rows.some((r) => r.state === 'late' || r.state === 'never' || crossed(r.status)) || sources.some((s) => crossed(s.status));
  return { exitCode: breached ? EXIT_FAILED : EXIT_OK, relativeTo, models: rows, sources };
}

/** `tm source freshness`: each selected source's lags against its thresholds (exit 1 when one is crossed). */
export async function sourceFreshness(options: StatusOptions): Promise<StatusOutcome> {
  const ctx = await loadProjectContext(options);
  const relativeTo = options.relativeTo ?? 'now';
  const ids = selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['source'] });
  const { seen } = await readFreshnessState(ctx, options.target);
  const now = parseNow(options.now).getTime();
  const sources = ids.map((id) => ctx.graph.nodes.get(id)).flatMap((n) => (n?.kind === 'source' ? [sourceRow(n, seen.get(n.name), now, relativeTo)] : []));
  return { exitCode: sources.some((s) => crossed(s.status)) ? EXIT_FAILED : EXIT_OK, relativeTo, models: [], sources };
}

/** `1h 02m`, `4m 05s`, `12s`. */
export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d ${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}
