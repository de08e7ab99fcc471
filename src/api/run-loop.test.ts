import { describe, expect, it } from 'vitest';
import { CycleLog, parseDuration } from './run-loop.js';

describe('--every durations', () => {
  it('accepts ms, s, m, h and plain seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5')).toBe(1500);
  });

  it('refuses anything else with a clear message', () => {
    expect(() => parseDuration('soon')).toThrow(/--every 'soon' is not a duration/);
    expect(() => parseDuration('0s')).toThrow(/at least 10ms/);
  });
});

describe('the output of --every cycles', () => {
  const idleCycle = [
    'tm: project p, target prod (db, schema s), 4 models selected, 4 threads',
    'source events: 3 files, 10 rows read, 10 valid, 0 duplicates, 0 excluded in 0.01s',
    'tm: stream clock 2020-11-10 10:49:40 unchanged, 0 of 4 incremental models to update',
    '  1 of 4 OK    m1 ..... no new files in 0.00s',
    'Finished 4 models in 0.05s: 4 OK, 0 errors, 0 skipped',
  ];
  const play = (lines: readonly string[], idle: boolean, idleLine: string | undefined): string[] => {
    const out: string[] = [];
    const log = new CycleLog((l) => out.push(l));
    log.start(7);
    for (const l of lines) log.line(l);
    log.end(idle, idleLine);
    return out;
  };

  it('prints one line for an idle cycle, or nothing with --quiet', () => {
    expect(play(idleCycle, true, 'tm: <time> cycle 7 idle')).toEqual(['tm: <time> cycle 7 idle']);
    expect(play(idleCycle, true, undefined)).toEqual([]);
  });

  it('prints a cycle with work as a run prints, under a line with its time', () => {
    const working = idleCycle.map((l) => l.replace('unchanged, 0 of 4', '(snapshot x), 4 of 4'));
    const out = play(working, false, undefined);
    expect(out[0]).toMatch(/^tm: \d{4}-\d\d-\d\dT[\d:.]+Z cycle 7$/);
    expect(out.slice(1)).toEqual(working);
    // An idle plan whose cycle then failed shows everything it printed.
    expect(play(idleCycle, false, undefined).slice(1)).toEqual(idleCycle);
  });
});
