import { createHash } from 'node:crypto';
import { quoteIdent } from '../core/sql-quote.js';
import type { IncrementalConfig, Manifest, ModelNode } from '../manifest/types.js';
import type { ModelProgress } from '../state/store.js';
import { hotStartOf, snapshotOf, timestampLiteral } from './clock.js';
import { sqlTimestamp } from './time.js';

/** Values every model sees, whatever the run: the wall clock and the run's start. */
export function baseValues(now: Date, startedAt: Date): Record<string, string> {
  return { now: sqlTimestamp(now), run_started_at: sqlTimestamp(startedAt) };
}

/** Values every model of a run with incremental models sees: C, S, and the earliest time any of them reads. */
export function clockValues(clock: string | undefined, windowStart: string | undefined): Record<string, string> {
  return {
    clock: timestampLiteral(clock),
    snapshot_ts: timestampLiteral(clock ? snapshotOf(clock) : undefined),
    window_start: timestampLiteral(windowStart),
  };
}

/** H of an incremental model at stream clock C, given its last committed progress. */
export function hotStartFor(config: IncrementalConfig, clock: string | undefined, previous: ModelProgress | undefined): string | undefined {
  if (!clock) return undefined;
  return hotStartOf({ snapshot: snapshotOf(clock), previousSnapshot: previous?.snapshotReached, lookbackMinutes: config.lookbackMinutes, maxCatchUpHours: config.maxCatchUpHours });
}

/** The values of one incremental model: C, S, H, L, S_prev, and the name of its stored rows in DuckDB. */
export function incrementalValues(model: ModelNode, config: IncrementalConfig, clock: string | undefined, previous: ModelProgress | undefined): Record<string, string> {
  return {
    clock: timestampLiteral(clock),
    snapshot_ts: timestampLiteral(clock ? snapshotOf(clock) : undefined),
    hot_start: timestampLiteral(hotStartFor(config, clock, previous)),
    previous_snapshot_ts: timestampLiteral(previous?.snapshotReached),
    lookback_minutes: String(config.lookbackMinutes),
    this_rows: quoteIdent(thisRowsTable(model)),
  };
}

export function thisRowsTable(model: ModelNode): string {
  return `__this_${model.name}`;
}

/** Fingerprint of what decides a model's rows besides its inputs: SQL, config, contract, vars and macros. */
export function modelFingerprint(model: ModelNode, manifest: Manifest): string {
  return createHash('sha1')
    .update(JSON.stringify([model.rawSql, model.config, model.columns, model.primaryKey, manifest.vars, manifest.macros.map((m) => m.text)]))
    .digest('hex')
    .slice(0, 16);
}
