import { describe, expect, it } from 'vitest';
import type { LagSummary, RunFreshness } from '../artifacts/run-freshness.js';
import { LoopAlerts, type CycleFacts } from './loop-alerts.js';

const lags = (arrival: number, crossed: boolean): LagSummary => ({ pipeline_lag_s: 0, data_lag_s: 0, arrival_lag_s: arrival, freshness: crossed ? 'warn' : 'ok', crossed: crossed ? ['arrival_lag'] : [] });
const cycle = (n: number, clock: string, newestFile: string, arrivalCrossed = false): CycleFacts => {
  const freshness: RunFreshness = {
    models: new Map(),
    sources: new Map([['clicks', lags(arrivalCrossed ? 900 : 5, arrivalCrossed)]]),
    seen: [{ source: 'clicks', newestEvent: clock, newestFileAt: newestFile, listedAt: '2026-01-05 12:00:00' }],
  };
  return { cycle: n, ok: true, clock, freshness };
};
const kinds = (alerts: readonly { alert: string; state: string }[]) => alerts.map((a) => `${a.alert}:${a.state}`);

describe('the loop\'s alerts', () => {
  it('fire when files arrive but the clock stays, once, and recover once when it moves', () => {
    const a = new LoopAlerts(2);
    expect(a.observe(cycle(1, '2026-01-05 11:00:00', '2026-01-05 11:00:01'))).toEqual([]);
    expect(a.observe(cycle(2, '2026-01-05 11:00:00', '2026-01-05 11:00:01'))).toEqual([]); // idle: no file, no alarm
    expect(a.observe(cycle(3, '2026-01-05 11:00:00.000', '2026-01-05 11:00:05'))).toEqual([]);
    const fired = a.observe(cycle(4, '2026-01-05 11:00:00', '2026-01-05 11:00:09'));
    expect(kinds(fired)).toEqual(['clock_stalled:firing']);
    expect(fired[0].message).toMatch(/stream clock stalled at 2026-01-05 11:00:00 while new files arrive \(2 cycles with new files/);
    expect(a.observe(cycle(5, '2026-01-05 11:00:00', '2026-01-05 11:00:12'))).toEqual([]);
    expect(kinds(a.observe(cycle(6, '2026-01-05 11:00:20', '2026-01-05 11:00:21')))).toEqual(['clock_stalled:recovered']);
  });

  it('fire after N failed cycles in a row and when a source crosses its arrival threshold; recover once', () => {
    const a = new LoopAlerts(3);
    const failed = (n: number): CycleFacts => ({ cycle: n, ok: false, error: 'source folder not found' });
    expect(a.observe(failed(1))).toEqual([]);
    expect(a.observe(failed(2))).toEqual([]);
    const third = a.observe(failed(3));
    expect(kinds(third)).toEqual(['cycles_failing:firing']);
    expect(third[0].message).toBe('3 cycles failed in a row (last: source folder not found)');
    expect(a.observe(failed(4))).toEqual([]);
    expect(kinds(a.observe(cycle(5, '2026-01-05 11:00:00', '2026-01-05 10:45:00', true)))).toEqual(['cycles_failing:recovered', 'no_new_files:firing']);
    expect(a.observe(cycle(6, '2026-01-05 11:00:00', '2026-01-05 10:45:00', true))).toEqual([]);
    expect(kinds(a.observe(cycle(7, '2026-01-05 11:01:00', '2026-01-05 11:01:00')))).toEqual(['no_new_files:recovered']);
  });
});
