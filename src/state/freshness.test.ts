import { describe, expect, it } from 'vitest';
import { model } from '../../test-support/manifest.js';
import type { ModelNode } from '../manifest/types.js';
import type { ModelProgress } from './store.js';
import { freshnessOf } from './freshness.js';

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
