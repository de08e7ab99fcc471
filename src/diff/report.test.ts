import { describe, expect, it } from 'vitest';
import { crossedThresholds, diffMarkdown, parseFailIf, type ModelDiff } from './report.js';

const diff: ModelDiff = {
  model: 'm', key: ['id'], here: { target: 'pr', relation: '"pr"."m"', rows: 1000 }, there: { target: 'prod', relation: '"prod"."m"', rows: 1000 },
  onlyHere: 0, onlyThere: 5, changed: 20, identical: 975, columnsOnlyHere: [], columnsOnlyThere: [],
  columns: [{ column: 'n', changed: 20, examples: [{ key: [1], here: 2, there: 'a|b' }] }], onlyHereKeys: [], onlyThereKeys: [[7]], seconds: 0.1,
};

describe('--fail-if', () => {
  it('reads a count, a fraction below 1 or a percentage of the rows there', () => {
    expect(parseFailIf('changed_rows>0.01')).toMatchObject({ metric: 'changed_rows', op: '>', fraction: 0.01 });
    expect(parseFailIf(' only_there_rows >= 5 ')).toMatchObject({ metric: 'only_there_rows', op: '>=', count: 5 });
    expect(parseFailIf('diff_rows>2.5%')).toMatchObject({ fraction: 0.025 });
    expect(() => parseFailIf('changed>1')).toThrow(/METRIC one of changed_rows/);
    expect(() => parseFailIf('changed_rows<1')).toThrow(/expected METRIC>VALUE/);
  });

  it('says which thresholds a diff crosses', () => {
    expect(crossedThresholds(diff, ['changed_rows>0.01', 'changed_rows>0.05', 'only_there_rows>=5', 'diff_rows>25', 'diff_rows>24'].map(parseFailIf))).toEqual([
      'm: changed_rows = 20 of 1000 rows (2.00%): crosses --fail-if changed_rows>0.01',
      'm: only_there_rows = 5: crosses --fail-if only_there_rows>=5',
      'm: diff_rows = 25: crosses --fail-if diff_rows>24',
    ]);
  });
});

describe('the Markdown comment', () => {
  it('escapes table cells', () => {
    const text = diffMarkdown(diff).join('\n');
    expect(text).toContain('| 0 | 5 | 20 (2.00%) | 975 |');
    expect(text).toContain('| `n` | 20 | 1: 2 → a\\|b |');
  });
});
