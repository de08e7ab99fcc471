/** Runs every chart's query on the target, a few at a time; a failed chart keeps its error, the others still draw. */
import { qualified, transaction, type Target, type TargetSession } from '../engines/target.js';
import { errorMessage } from '../core/errors.js';
import type { Manifest } from '../manifest/types.js';
import { FORMS } from './forms/index.js';
import type { ChartData } from './forms/form.js';
import type { Relation } from './sql.js';
import type { ChartSpec, DashboardNode } from '../manifest/dashboard-types.js';

export interface ChartResult {
  readonly dashboard: string;
  readonly chart: string;
  readonly data: ChartData;
  readonly rows: number;
  readonly seconds: number;
}

export function relationOf(manifest: Manifest, schema: string, chart: ChartSpec): Relation {
  const model = manifest.models.get(chart.model);
  if (model === undefined) throw new Error(`chart '${chart.name}' reads '${chart.model}', which is not a model`); // checked at load
  return { table: qualified(schema, model.name), model };
}

/** A chart query may run this long (a dashboard page waits for all of its charts). */
export const CHART_TIMEOUT_MS = 60_000;

/**
 * A chart's SQL (its metrics are the author's SQL, and `serve` runs it on every view): one statement
 * (`query` uses the extended protocol), in a read-only transaction, under a statement timeout.
 */
async function readOnly(session: TargetSession, sql: string): Promise<Record<string, unknown>[]> {
  return transaction(session, async (tx) => {
    await tx.exec(`SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${CHART_TIMEOUT_MS}`);
    return tx.query(sql);
  });
}

/**
 * When the client leaves (serve), the query this session is running is cancelled too, from a connection
 * of its own (the pool's may all be busy with charts). PGlite runs one query at a time in-process: there
 * the charts not yet started are skipped, as everywhere. The returned `stop` waits for a cancel under way,
 * so the session goes back to the pool only once nothing can cancel another request's query on it.
 */
async function cancelOnAbort(target: Target, session: TargetSession, signal: AbortSignal | undefined): Promise<() => Promise<void>> {
  const openOwn = target.openDedicated;
  if (!signal || !openOwn) return async () => undefined;
  const [{ pid }] = await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  let cancelling: Promise<void> | undefined;
  const cancel = () => {
    cancelling = openOwn().then(async (own) => {
      try {
        await own.query('SELECT pg_cancel_backend($1)', [pid]);
      } finally {
        await own.close();
      }
    }).catch(() => undefined);
  };
  signal.addEventListener('abort', cancel, { once: true });
  return async () => {
    signal.removeEventListener('abort', cancel);
    await cancelling;
  };
}

export async function runCharts(manifest: Manifest, target: Target, dashboards: readonly DashboardNode[], signal?: AbortSignal): Promise<ChartResult[]> {
  const jobs = dashboards.flatMap((d) => d.charts.map((chart) => ({ dashboard: d.name, chart })));
  const results: ChartResult[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    const session = await target.acquire();
    const stopOnLeave = await cancelOnAbort(target, session, signal);
    try {
      await tuneSession(session);
      // A client that left (serve) stops the charts not yet started.
      for (let i = next++; i < jobs.length && !signal?.aborted; i = next++) {
        const { dashboard, chart } = jobs[i];
        const started = performance.now();
        const rel = relationOf(manifest, target.schema, chart);
        const form = FORMS[chart.form];
        let data: ChartData;
        let rows = 0;
        try {
          const found = await readOnly(session, form.query(chart, rel));
          rows = found.length;
          data = form.draw(chart, found, rel);
        } catch (err) {
          data = { kind: 'error', message: `chart '${chart.name}': ${errorMessage(err).split('\n')[0]}` };
        }
        results[i] = { dashboard, chart: chart.name, data, rows, seconds: (performance.now() - started) / 1000 };
      }
    } finally {
      await stopOnLeave();
      await session.release();
    }
  };
  // Enough sessions to overlap queries on PostgreSQL; PGlite has one.
  await Promise.all(Array.from({ length: Math.max(1, Math.min(target.maxSessions, 4, jobs.length)) }, worker));
  return signal?.aborted ? results.filter((r) => r !== undefined) : results;
}

/**
 * Chart queries are short aggregations: JIT compilation cost seconds for nothing (measured: 3 s of a
 * 22 s group-by on 5M rows), and a hash aggregate that spills at the default 4MB work_mem is slow.
 */
async function tuneSession(session: TargetSession): Promise<void> {
  for (const setting of ['SET jit = off', `SET work_mem = '64MB'`]) {
    await session.exec(setting).catch(() => undefined);
  }
}
