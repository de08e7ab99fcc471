import type { FreshnessSpec, LagName, LagThresholds, ModelNode, SourceNode } from '../manifest/types.js';
import type { SourceObservation } from './source-state.js';
import type { ModelProgress } from '../state/store.js';

/** A model's freshness against its SLA at a given time: what `tm status` reports and `tm docs` shows. */
export interface Freshness {
  readonly last_success_at: string | null;
  readonly age_s: number | null;
  readonly clock_reached: string | null;
  readonly sla_minutes: number | null;
  readonly state: 'ok' | 'late' | 'never' | 'no sla';
}

/** State timestamps are UTC text without a zone (`YYYY-MM-DD HH:MM:SS[.ffffff]`). */
export function utcMillis(text: string): number {
  return new Date(`${text.replace(' ', 'T')}${/[zZ+]/.test(text.slice(10)) ? '' : 'Z'}`).getTime();
}

export function freshnessOf(model: ModelNode, progress: ModelProgress | undefined, nowMs: number): Freshness {
  const sla = model.config.sla_minutes ?? null;
  const last = progress?.lastSuccessAt ?? null;
  const age = last ? Math.max(0, Math.round((nowMs - utcMillis(last)) / 1000)) : null;
  const state = sla === null ? 'no sla' : age === null ? 'never' : age > sla * 60 ? 'late' : 'ok';
  return { last_success_at: last, age_s: age, clock_reached: progress?.clockReached ?? null, sla_minutes: sla, state };
}

/** One lag at a given time, against its thresholds: `none` without a threshold, `error` when never measured but watched. */
export interface LagReading {
  readonly seconds: number | null;
  readonly state: 'ok' | 'warn' | 'error' | 'none';
  readonly warn_after_s?: number;
  readonly error_after_s?: number;
}

export type Lags = Readonly<Record<LagName, LagReading>>;

/**
 * What data lag is measured against: the wall clock (`now`), or the newest event the sources hold
 * (`stream`: a replay of old data, or a stream that runs behind the wall clock, is not an alarm).
 */
export type RelativeTo = 'now' | 'stream';

const secondsBetween = (fromText: string | null, toMs: number | null): number | null =>
  fromText === null || toMs === null ? null : Math.max(0, Math.round((toMs - utcMillis(fromText)) / 1000));

function reading(seconds: number | null, t: LagThresholds | undefined): LagReading {
  if (!t) return { seconds, state: 'none' };
  const state = seconds === null ? 'error'
    : t.error_after_s !== undefined && seconds > t.error_after_s ? 'error'
    : t.warn_after_s !== undefined && seconds > t.warn_after_s ? 'warn' : 'ok';
  return { seconds, state, warn_after_s: t.warn_after_s, error_after_s: t.error_after_s };
}

const newestOf = (texts: readonly (string | null)[]): string | null =>
  texts.reduce<string | null>((a, b) => (b === null || (a !== null && utcMillis(a) >= utcMillis(b)) ? a : b), null);

/**
 * A model's three lags: pipeline (since its last successful run or check), data (since the stream
 * clock C it reached) and arrival (since the newest file of its sources). `sources`: what runs saw of
 * the sources upstream of it. An `sla_minutes` without `freshness.pipeline_lag` is the pipeline lag's error_after.
 */
export function modelLags(model: ModelNode, progress: ModelProgress | undefined, sources: readonly SourceObservation[], nowMs: number, relativeTo: RelativeTo): Lags {
  const spec: FreshnessSpec = model.config.freshness ?? {};
  const sla = model.config.sla_minutes;
  const pipeline = spec.pipeline_lag ?? (sla === undefined ? undefined : { error_after_s: sla * 60 });
  const streamNewest = newestOf(sources.map((s) => s.newestEvent));
  const dataRef = relativeTo === 'stream' ? (streamNewest === null ? null : utcMillis(streamNewest)) : nowMs;
  return {
    pipeline_lag: reading(secondsBetween(progress?.lastSuccessAt ?? null, nowMs), pipeline),
    data_lag: reading(secondsBetween(progress?.clockReached ?? null, dataRef), spec.data_lag),
    arrival_lag: reading(secondsBetween(newestOf(sources.map((s) => s.newestFileAt)), nowMs), spec.arrival_lag),
  };
}

/** A source's three lags: since a run last listed it, since its newest valid event (0 relative to the stream), since its newest file. */
export function sourceLags(source: SourceNode, seen: SourceObservation | undefined, nowMs: number, relativeTo: RelativeTo): Lags {
  const spec: FreshnessSpec = source.freshness ?? {};
  const newestEvent = seen?.newestEvent ?? null;
  return {
    pipeline_lag: reading(secondsBetween(seen?.listedAt ?? null, nowMs), spec.pipeline_lag),
    data_lag: reading(secondsBetween(newestEvent, relativeTo === 'stream' && newestEvent !== null ? utcMillis(newestEvent) : nowMs), spec.data_lag),
    arrival_lag: reading(secondsBetween(seen?.newestFileAt ?? null, nowMs), spec.arrival_lag),
  };
}

/** The worst state among the lags: `error` and `warn` turn `tm status` to exit 1. */
export function worstLag(lags: Lags): LagReading['state'] {
  const states = Object.values(lags).map((l) => l.state);
  return states.includes('error') ? 'error' : states.includes('warn') ? 'warn' : states.includes('ok') ? 'ok' : 'none';
}
