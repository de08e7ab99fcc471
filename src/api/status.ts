import { EXIT_FAILED, EXIT_OK } from '../core/errors.js';
import { selectNodes } from '../graph/select.js';
import type { ModelNode } from '../manifest/types.js';
import { loadTargetConfig } from '../project/load-profile.js';
import { readAllProgress, stateExists } from '../state/store.js';
import { loadProjectContext, type CommonOptions } from './project-context.js';
import { openTarget } from './runtime.js';
import { incrementalConfigOf } from '../manifest/kind-facts.js';
import { parseNow } from '../plan/time.js';
import { freshnessOf } from '../state/freshness.js';

export interface StatusOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  /** Wall clock to measure ages against (`--now`). */
  readonly now?: string;
}

export interface ModelFreshness {
  readonly name: string;
  /** Wall-clock time of the last successful run or check, UTC text; null when it never succeeded. */
  readonly lastSuccessAt: string | null;
  readonly ageSeconds: number | null;
  /** Stream clock the model reached. */
  readonly clockReached: string | null;
  readonly slaMinutes: number | null;
  readonly state: 'ok' | 'late' | 'never' | 'no sla';
}

export interface StatusOutcome {
  readonly exitCode: number;
  readonly models: readonly ModelFreshness[];
}

/**
 * `tm status`: per incremental model (or model with `sla_minutes`), the last success, its age and
 * the clock reached, against the model's SLA. Exit 1 when a model is late or never succeeded.
 */
export async function status(options: StatusOptions): Promise<StatusOutcome> {
  const ctx = await loadProjectContext(options);
  const ids = selectNodes(ctx.graph, { select: options.select, exclude: options.exclude, kinds: ['model'] });
  const models = ids
    .map((id) => ctx.graph.nodes.get(id) as ModelNode)
    .filter((m) => incrementalConfigOf(m) !== undefined || m.config.sla_minutes !== undefined)
    .filter((m) => incrementalConfigOf(m)?.reconciles === undefined);
  const config = await loadTargetConfig(ctx.project.projectDir, options.target);
  const target = await openTarget(config, 1);
  let progress: Awaited<ReturnType<typeof readAllProgress>> = [];
  try {
    const session = await target.acquire();
    try {
      if (await stateExists(session, target.schema)) progress = await readAllProgress(session, target.schema);
    } finally {
      await session.release();
    }
  } finally {
    await target.close();
  }
  const now = parseNow(options.now).getTime();
  const byName = new Map(progress.map((p) => [p.model, p]));
  const rows: ModelFreshness[] = models.map((m) => {
    const f = freshnessOf(m, byName.get(m.name), now);
    return { name: m.name, lastSuccessAt: f.last_success_at, ageSeconds: f.age_s, clockReached: f.clock_reached, slaMinutes: f.sla_minutes, state: f.state };
  });
  const breached = rows.some((r) => r.state === 'late' || r.state === 'never');
  return { exitCode: breached ? EXIT_FAILED : EXIT_OK, models: rows };
}

/** `1h 02m`, `4m 05s`, `12s`. */
export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d ${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}
