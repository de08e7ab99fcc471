import { describe, expect, it } from 'vitest';
import { dayBefore, earliest, hotStartOf, latest, sameInstant, snapshotOf } from './clock.js';

describe('stream clock words', () => {
  it('S is the clock truncated to the minute', () => {
    expect(snapshotOf('2020-10-31 23:59:58.838898')).toBe('2020-10-31 23:59:00');
    expect(snapshotOf('2020-10-31 23:59:00')).toBe('2020-10-31 23:59:00');
  });

  it('H = S - L on a first run', () => {
    expect(hotStartOf({ snapshot: '2020-11-10 10:30:00', lookbackMinutes: 15, maxCatchUpHours: 48 })).toBe('2020-11-10 10:15:00');
  });

  it('H = S_prev - L when that is earlier (a gap is filled), never before S - catch-up', () => {
    const base = { snapshot: '2020-11-10 10:30:00', lookbackMinutes: 15, maxCatchUpHours: 48 };
    expect(hotStartOf({ ...base, previousSnapshot: '2020-11-10 09:00:00' })).toBe('2020-11-10 08:45:00');
    expect(hotStartOf({ ...base, previousSnapshot: '2020-11-10 10:29:00' })).toBe('2020-11-10 10:14:00');
    expect(hotStartOf({ ...base, previousSnapshot: '2020-11-01 00:00:00' })).toBe('2020-11-08 10:30:00');
    // a previous snapshot after S (the clock went back): S - L
    expect(hotStartOf({ ...base, previousSnapshot: '2020-11-10 11:00:00' })).toBe('2020-11-10 10:15:00');
  });

  it('compares timestamp texts of any precision as instants', () => {
    expect(sameInstant('2020-01-01 00:00:01.5', '2020-01-01 00:00:01.500000')).toBe(true);
    expect(sameInstant(null, undefined)).toBe(true);
    expect(sameInstant('2020-01-01 00:00:01', null)).toBe(false);
    expect(latest(['2020-01-01 00:00:01.5', '2020-01-01 00:00:01.25', null])).toBe('2020-01-01 00:00:01.5');
    expect(earliest(['2020-01-01 00:00:01.5', '2020-01-01 00:00:01.25', undefined])).toBe('2020-01-01 00:00:01.25');
    expect(dayBefore('2020-03-01', 2)).toBe('2020-02-28');
  });
});
