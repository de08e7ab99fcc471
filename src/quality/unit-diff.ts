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

/** Compares `actual` with `expected` over the expected rows' columns (or all of `allColumns` when none are expected). */
export function diffRows(expected: readonly FixtureRow[], actual: readonly FixtureRow[], allColumns: readonly string[], ignore: readonly string[]): RowsDiff {
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
  return { columns, missing, extra };
}

/** The diff as lines: each missing row with `-`, each extra row with `+`, over the compared columns. */
export function diffLines(diff: RowsDiff): string[] {
  const show = (row: FixtureRow) => `{ ${diff.columns.map((c) => `${c}: ${row[c] === null || row[c] === undefined ? 'null' : JSON.stringify(row[c] instanceof Date ? (row[c] as Date).toISOString() : row[c])}`).join(', ')} }`;
  return [...diff.missing.map((r) => `- missing  ${show(r)}`), ...diff.extra.map((r) => `+ extra    ${show(r)}`)];
}
