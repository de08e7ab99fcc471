import { describe, expect, it } from 'vitest';
import { model, source } from '../../test-support/manifest.js';
import type { FreshnessSpec, ModelNode } from '../manifest/types.js';
import type { SourceObservation } from './source-state.js';
import type { ModelProgress } from './store.js';
import { freshnessOf, modelLags, sourceLags, worstLag } from './freshness.js';

const withSla = (sla: number | undefined): ModelNode => {
  const m = model('hot_minute');
  return { ...m, config: { ...m.config, materialized: 'upsert', sla_minutes: sla } };
};
const progress = (lastSuccessAt: string | null): ModelProgress => ({
  model: 'hot_minute', clockReached: '2026-01-05 11:58:00', snapshotReached: null, hotStart: null, lastSuccessAt,
  lastChangeAt: null, modelHash: null, filesSeen: 3, runId: 'abc',
});
const now = Date.parse('2026-01-05T12:00:00Z');

describe('freshness on the docs page', () => {
  it('measures the age of the last success (UTC text) against the SLA', () => {
    expect(freshnessOf(withSla(5), progress('2026-01-05 11:57:30'), now)).toEqual({
      last_success_at: '2026-01-05 11:57:30', age_s: 150, clock_reached: '2026-01-05 11:58:00', sla_minutes: 5, state: 'ok',
    });
    expect(freshnessOf(withSla(2), progress('2026-01-05 11:57:30.250000'), now)).toMatchObject({ age_s: 150, state: 'late' });
  });

  it('says never without a success, and no sla without one', () => {
    expect(freshnessOf(withSla(5), undefined, now)).toMatchObject({ last_success_at: null, age_s: null, state: 'never' });
    expect(freshnessOf(withSla(undefined), progress('2026-01-05 11:00:00'), now)).toMatchObject({ age_s: 3600, state: 'no sla' });
  });
});

describe('the three lags', () => {
  const watched = (freshness: FreshnessSpec): ModelNode => {
    const m = model('hot_minute');
    return { ...m, config: { ...m.config, materialized: 'upsert', freshness } };
  };
  const seen = (newestEvent: string | null, newestFileAt: string | null): SourceObservation => ({ source: 'clicks', newestEvent, newestFileAt, listedAt: '2026-01-05 11:59:00' });

  it('pipeline lag from the last success, data lag from the clock reached, arrival lag from the newest file, each against its thresholds', () => {
    const lags = modelLags(watched({ data_lag: { warn_after_s: 60, error_after_s: 300 }, arrival_lag: { warn_after_s: 600 } }), progress('2026-01-05 11:59:50'), [seen('2026-01-05 11:58:00', '2026-01-05 11:40:00')], now, 'now');
    expect(lags).toEqual({
      pipeline_lag: { seconds: 10, state: 'none' },
      data_lag: { seconds: 120, state: 'warn', warn_after_s: 60, error_after_s: 300 },
      arrival_lag: { seconds: 1200, state: 'warn', warn_after_s: 600, error_after_s: undefined },
    });
    expect(worstLag(lags)).toBe('warn');
    const stalled = modelLags(watched({ data_lag: { error_after_s: 60 } }), progress('2026-01-05 11:59:50'), [], now + 3_600_000, 'now');
    expect(stalled.data_lag).toMatchObject({ seconds: 3720, state: 'error' });
    expect(worstLag(stalled)).toBe('error');
  });

  it('relative to the stream, data lag is measured against the sources\' newest event (a replay of old data is not late)', () => {
    const replay = [seen('2020-11-10 10:00:00', '2026-01-05 11:59:00'), { ...seen('2020-11-10 10:03:00', null), source: 'other' }];
    const m = watched({ data_lag: { error_after_s: 60 } });
    const old = { ...progress('2026-01-05 11:59:00'), clockReached: '2020-11-10 10:02:30' };
    expect(modelLags(m, old, replay, now, 'stream').data_lag).toMatchObject({ seconds: 30, state: 'ok' });
    expect(modelLags(m, old, replay, now, 'now').data_lag.state).toBe('error');
    expect(sourceLags(source('clicks'), replay[0], now, 'stream').data_lag.seconds).toBe(0);
  });

  it('a watched lag never measured is an error; sla_minutes is the pipeline lag\'s error_after', () => {
    expect(modelLags(watched({ data_lag: { warn_after_s: 60 } }), undefined, [], now, 'now').data_lag).toMatchObject({ seconds: null, state: 'error' });
    expect(modelLags(withSla(5), progress('2026-01-05 11:54:00'), [], now, 'now').pipeline_lag).toMatchObject({ seconds: 360, state: 'error', error_after_s: 300 });
    expect(worstLag(modelLags(withSla(undefined), progress('2026-01-05 11:54:00'), [], now, 'now'))).toBe('none');
  });
});
