/**
 * A unit test's verdict: the model's relation against the expected rows, as multisets over the compared
 * columns (the expected rows' columns, less `ignore_columns`). Values compare as text, numbers as numbers
 * (`12.50` is `12.5`), timestamps without a `T` or trailing zeros of fractions.
 */
import type { FixtureRow } from '../manifest/types.js';

export interface RowsDiff {
  readonly columns: readonly string[];
  /** Expected rows the relation lacks (as many times as they are missing). */
  readonly missing: readonly FixtureRow[];
  /** Rows of the relation nobody expected. */
  readonly extra: readonly FixtureRow[];
  /** A missing and an extra row with the same key: the columns that differ, expected then actual. */
  readonly changed: readonly { readonly expected: FixtureRow; readonly actual: FixtureRow; readonly columns: readonly string[] }[];
}

function canonical(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (value instanceof Date) return canonical(value.toISOString());
  const text = String(value);
  if (typeof value === 'number' || /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) return `n:${Number(text)}`;
  const ts = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d*?)?0*(Z|\+00(:00)?)?$/.exec(text);
  if (ts) return `t:${ts[1]} ${ts[2]}${ts[3] && ts[3] !== '.' ? ts[3] : ''}`;
  if (typeof value === 'boolean' || text === 'true' || text === 'false') return `b:${text}`;
  return `s:${text}`;
}

const keyOf = (row: FixtureRow, columns: readonly string[]) => JSON.stringify(columns.map((c) => canonical(row[c])));

/**
 * Compares `actual` with `expected` over the expected rows' columns (or all of `allColumns` when none are
 * expected). A missing and an extra row that agree on `key` (the model's key, when compared) are one changed row.
 */
export function diffRows(expected: readonly FixtureRow[], actual: readonly FixtureRow[], allColumns: readonly string[], ignore: readonly string[], key: readonly string[] = []): RowsDiff {
  const named = expected.length ? [...new Set(expected.flatMap((r) => Object.keys(r)))] : allColumns;
  const columns = named.filter((c) => !ignore.includes(c));
  const pool = new Map<string, FixtureRow[]>();
  for (const row of actual) {
    const k = keyOf(row, columns);
    pool.set(k, [...(pool.get(k) ?? []), row]);
  }
  const missing: FixtureRow[] = [];
  for (const row of expected) {
    const matches = pool.get(keyOf(row, columns));
    if (matches?.length) matches.pop();
    else missing.push(row);
  }
  const extra = [...pool.values()].flat();
  const changed: RowsDiff['changed'][number][] = [];
  if (key.length && key.every((k) => columns.includes(k))) {
    for (const row of [...missing]) {
      const at = extra.findIndex((e) => keyOf(e, key) === keyOf(row, key));
      if (at < 0) continue;
      const [actualRow] = extra.splice(at, 1);
      missing.splice(missing.indexOf(row), 1);
      changed.push({ expected: row, actual: actualRow, columns: columns.filter((c) => canonical(row[c]) !== canonical(actualRow[c])) });
    }
  }
  return { columns, missing, extra, changed };
}

/** A value as YAML would show it: numbers (also the target's text of one) bare, the rest quoted. */
const shown = (value: unknown) => {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))) return String(value);
  return JSON.stringify(value instanceof Date ? value.toISOString() : value);
};

/** The diff as lines: each missing row with `-`, each extra row with `+`, each changed row with `~` and its columns' values. */
export function diffLines(diff: RowsDiff, key: readonly string[] = []): string[] {
  const show = (row: FixtureRow, columns = diff.columns) => `{ ${columns.map((c) => `${c}: ${shown(row[c])}`).join(', ')} }`;
  return [
    ...diff.missing.map((r) => `- missing  ${show(r)}`),
    ...diff.extra.map((r) => `+ extra    ${show(r)}`),
    ...diff.changed.map((c) => `~ changed  ${show(c.actual, key)}: ${c.columns.map((col) => `${col} ${shown(c.expected[col])} expected, got ${shown(c.actual[col])}`).join('; ')}`),
  ];
}
