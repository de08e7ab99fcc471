import { describe, expect, it } from 'vitest';
import { diffLines, diffRows } from './unit-diff.js';

describe('diffRows: expected rows against the relation, as multisets', () => {
  it('matches numbers and timestamps as the target prints them, ignoring the listed columns', () => {
    const expected = [{ d: '2020-11-10', n: 12.5, ts: '2020-11-10 10:05:00', updated_at: 'whenever' }];
    const actual = [{ d: '2020-11-10', n: '12.50', ts: '2020-11-10 10:05:00', updated_at: '2026-01-01 00:00:00' }];
    expect(diffRows(expected, actual, ['d', 'n', 'ts', 'updated_at'], ['updated_at'])).toEqual({ columns: ['d', 'n', 'ts'], missing: [], extra: [], changed: [] });
  });
  it('counts duplicates: a row expected twice and present once is missing once; an unexpected row is extra', () => {
    const diff = diffRows([{ k: 'a' }, { k: 'a' }], [{ k: 'a' }, { k: 'b' }], ['k'], []);
    expect(diff.missing).toEqual([{ k: 'a' }]);
    expect(diff.extra).toEqual([{ k: 'b' }]);
    expect(diffLines(diff)).toEqual(['- missing  { k: "a" }', '+ extra    { k: "b" }']);
  });
  it("pairs a missing and an extra row of the same key as one changed row, naming the columns that differ", () => {
    const diff = diffRows([{ k: 'a', v: 1, w: 'x' }, { k: 'b', v: 2, w: 'y' }], [{ k: 'a', v: '1', w: 'x' }, { k: 'b', v: '3', w: 'y' }], ['k', 'v', 'w'], [], ['k']);
    expect(diff.missing).toEqual([]);
    expect(diff.extra).toEqual([]);
    expect(diffLines(diff, ['k'])).toEqual(['~ changed  { k: "b" }: v 2 expected, got 3']);
  });
  it('compares every column when no row is expected', () => {
    expect(diffRows([], [{ k: 'a', v: null }], ['k', 'v'], []).extra).toEqual([{ k: 'a', v: null }]);
  });
});
