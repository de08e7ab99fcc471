import { projectError } from '../core/errors.js';
import { durationMs } from '../core/duration.js';
import { LAGS, type FreshnessSpec, type LagName, type LagThresholds } from '../manifest/types.js';
import { expectObj, isObj } from './yaml-file.js';

const PERIOD_S: Readonly<Record<string, number>> = { minute: 60, hour: 3600, day: 86_400 };

/**
 * `freshness:` of a model or source. Per lag, `{warn_after, error_after}`; at the top level the same
 * two keys are the data lag's (what dbt's source freshness measures: the newest loaded event). A
 * threshold is a duration (`90s`, `5m`, `2h`, `1d`; a bare number is minutes) or dbt's `{count, period}`.
 */
export function parseFreshness(v: unknown, file: string, where: string): FreshnessSpec | undefined {
  if (v === undefined || v === null) return undefined;
  const o = expectObj(v, file, where);
  const out: Partial<Record<LagName, LagThresholds>> = {};
  const top = thresholds(o, file, where);
  if (top) out.data_lag = top;
  for (const lag of LAGS) {
    if (o[lag] === undefined) continue;
    if (lag === 'data_lag' && top) throw projectError(file, `${where}: warn_after/error_after at the top level are the data lag's; set them there or under data_lag, not both`);
    const t = thresholds(expectObj(o[lag], file, `${where}.${lag}`), file, `${where}.${lag}`);
    if (t) out[lag] = t;
  }
  return Object.keys(out).length ? out : undefined;
}

function thresholds(o: Readonly<Record<string, unknown>>, file: string, where: string): LagThresholds | undefined {
  const warn = seconds(o.warn_after, file, `${where}.warn_after`);
  const error = seconds(o.error_after, file, `${where}.error_after`);
  if (warn === undefined && error === undefined) return undefined;
  if (warn !== undefined && error !== undefined && warn > error) throw projectError(file, `${where}: warn_after (${warn}s) is later than error_after (${error}s)`);
  return { warn_after_s: warn, error_after_s: error };
}

function seconds(v: unknown, file: string, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (isObj(v)) {
    const { count, period } = v;
    if (typeof count !== 'number' || count < 0 || typeof period !== 'string' || !PERIOD_S[period]) {
      throw projectError(file, `${where} must be {count: <number>, period: minute|hour|day}`);
    }
    return count * PERIOD_S[period];
  }
  const ms = typeof v === 'string' || typeof v === 'number' ? durationMs(v, 'm') : undefined;
  if (ms === undefined) throw projectError(file, `${where} '${String(v)}' is not a duration (e.g. 90s, 5m, 2h, 1d)`);
  return ms / 1000;
}
