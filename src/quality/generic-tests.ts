/**
 * The built-in generic tests: test name -> its arguments and the query that returns the failing rows.
 * Each query is plain SQL that PostgreSQL and DuckDB both accept, so a test runs where its table lives.
 */
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import type { TestedNode } from './types.js';

export interface GenericSqlInput {
  /** FROM-able SQL of the tested relation (already filtered by `where`). */
  readonly relation: string;
  /** The tested column's name, when the test has one. */
  readonly column?: string;
  readonly args: Readonly<Record<string, unknown>>;
  /** FROM-able SQL of another model or source (the `to` of `relationships`). */
  readonly relationOf: (node: TestedNode) => string;
  /** SQL literal of the run's wall clock (`--now`). */
  readonly now: string;
}

export interface GenericTestDefinition {
  /** Arguments besides `column`. */
  readonly args: readonly string[];
  readonly column: 'required' | 'optional';
  /** What is wrong with the arguments, if anything (after `column` was checked). */
  readonly validate?: (args: Readonly<Record<string, unknown>>) => string | undefined;
  /** Extra parts of the generated name, after `<test>_<node>[_<column>]`. */
  readonly nameParts?: (args: Readonly<Record<string, unknown>>, column: string | undefined) => string[];
  /** Other relations the test reads. */
  readonly reads?: (args: Readonly<Record<string, unknown>>) => TestedNode[];
  readonly sql: (input: GenericSqlInput) => string;
}

export const genericTests: Readonly<Record<string, GenericTestDefinition>> = {
  not_null: {
    args: [],
    column: 'required',
    sql: ({ relation, column }) => `SELECT * FROM ${relation} AS t WHERE ${col(column)} IS NULL`,
  },

  // Like dbt: one failing row per duplicated key (with its count); NULLs are not compared.
  unique: {
    args: ['columns'],
    column: 'optional',
    validate: (args) => (args.columns === undefined ? undefined : problemOfList(args.columns, 'columns', 'column names', isName)),
    nameParts: (args) => (Array.isArray(args.columns) ? [args.columns.join('__')] : []),
    sql: ({ relation, column, args }) => {
      const keys = (Array.isArray(args.columns) ? (args.columns as string[]) : [column!]).map(quoteIdent);
      const notNull = keys.length === 1 ? ` WHERE ${keys[0]} IS NOT NULL` : '';
      return `SELECT ${keys.join(', ')}, count(*) AS n_records FROM ${relation} AS t${notNull} GROUP BY ${keys.join(', ')} HAVING count(*) > 1`;
    },
  },

  accepted_values: {
    args: ['values', 'quote'],
    column: 'required',
    validate: (args) =>
      problemOfList(args.values, 'values', 'strings, numbers or booleans', (v) => ['string', 'number', 'boolean'].includes(typeof v)) ??
      (args.quote === undefined || typeof args.quote === 'boolean' ? undefined : `'quote' must be true or false`),
    sql: ({ relation, column, args }) => {
      const values = (args.values as unknown[]).map((v) => (typeof v === 'string' && args.quote !== false ? quoteLiteral(v) : String(v)));
      return `SELECT * FROM ${relation} AS t WHERE ${col(column)} IS NOT NULL AND ${col(column)} NOT IN (${values.join(', ')})`;
    },
  },

  // `to` is a model name or `source:<name>`; NULLs in the column are not checked.
  relationships: {
    args: ['to', 'field'],
    column: 'required',
    validate: (args) =>
      typeof args.to !== 'string' || args.to === '' ? `'to' must name a model (or source:<name>)` : typeof args.field !== 'string' || !isName(args.field) ? `'field' must be a column name` : undefined,
    nameParts: (args, column) => [String(args.to).replace(/^source:/, ''), ...(args.field === column ? [] : [String(args.field)])],
    reads: (args) => [relationshipTarget(String(args.to))],
    sql: ({ relation, column, args, relationOf }) =>
      `SELECT * FROM ${relation} AS t WHERE ${col(column)} IS NOT NULL AND NOT EXISTS ` +
      `(SELECT 1 FROM ${relationOf(relationshipTarget(String(args.to)))} AS parent WHERE parent.${quoteIdent(String(args.field))} = t.${col(column)})`,
  },

  // `min`/`max`: numbers, or strings taken as SQL expressions (`"current_date"`); NULLs pass.
  accepted_range: {
    args: ['min', 'max', 'inclusive'],
    column: 'required',
    validate: (args) =>
      args.min === undefined && args.max === undefined ? `give 'min', 'max' or both` :
      [args.min, args.max].some((v) => v !== undefined && !isBound(v)) ? `'min' and 'max' must be numbers or SQL expressions (strings)` :
      args.inclusive !== undefined && typeof args.inclusive !== 'boolean' ? `'inclusive' must be true or false` : undefined,
    sql: ({ relation, column, args }) => {
      const strict = args.inclusive === false;
      const outside = [
        args.min === undefined ? undefined : `${col(column)} ${strict ? '<=' : '<'} ${bound(args.min)}`,
        args.max === undefined ? undefined : `${col(column)} ${strict ? '>=' : '>'} ${bound(args.max)}`,
      ].filter(Boolean);
      return `SELECT * FROM ${relation} AS t WHERE ${col(column)} IS NOT NULL AND (${outside.join(' OR ')})`;
    },
  },

  // A row fails unless the expression is TRUE: NULL fails too (write `x IS NULL OR ...` to allow it).
  expression: {
    args: ['expr'],
    column: 'optional',
    validate: (args) => (typeof args.expr === 'string' && args.expr.trim() !== '' ? undefined : `'expr' must be a SQL boolean expression`),
    sql: ({ relation, args }) => `SELECT * FROM ${relation} AS t WHERE (${String(args.expr)}) IS NOT TRUE`,
  },

  // One failing row (holding the count) when the table has fewer than `min` or more than `max` rows.
  row_count: {
    args: ['min', 'max'],
    column: 'optional',
    validate: (args) =>
      args.min === undefined && args.max === undefined ? `give 'min', 'max' or both` :
      [args.min, args.max].some((v) => v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) ? `'min' and 'max' must be whole numbers >= 0` : undefined,
    sql: ({ relation, args }) => {
      const outside = [
        args.min === undefined ? undefined : `count(*) < ${Number(args.min)}`,
        args.max === undefined ? undefined : `count(*) > ${Number(args.max)}`,
      ].filter(Boolean);
      return `SELECT count(*) AS row_count FROM ${relation} AS t HAVING ${outside.join(' OR ')}`;
    },
  },

  // One failing row when the newest value is older than now minus the age (or the table is empty).
  recency: {
    args: ['minutes', 'hours', 'days'],
    column: 'required',
    validate: (args) => {
      const given = ['minutes', 'hours', 'days'].filter((k) => args[k] !== undefined);
      if (given.length !== 1) return `give exactly one of 'minutes', 'hours', 'days' (a model's sla_minutes is the default)`;
      const n = args[given[0]];
      return typeof n === 'number' && Number.isFinite(n) && n > 0 ? undefined : `'${given[0]}' must be a number > 0`;
    },
    sql: ({ relation, column, args, now }) => {
      const unit = ['minutes', 'hours', 'days'].find((k) => args[k] !== undefined)!;
      const oldest = `${now} - INTERVAL '${Number(args[unit])} ${unit}'`;
      return `SELECT max(${col(column)}) AS newest, ${now} AS checked_at FROM ${relation} AS t HAVING max(${col(column)}) IS NULL OR max(${col(column)}) < ${oldest}`;
    },
  },
};

export const genericTestNames: readonly string[] = Object.keys(genericTests).sort();

/** `to` of relationships: `source:<name>` or a model name. */
export function relationshipTarget(to: string): TestedNode {
  return to.startsWith('source:') ? { kind: 'source', name: to.slice('source:'.length) } : { kind: 'model', name: to };
}

function col(column: string | undefined): string {
  return quoteIdent(column!);
}

function isName(v: unknown): boolean {
  return typeof v === 'string' && v !== '';
}

function isBound(v: unknown): boolean {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '');
}

function bound(v: unknown): string {
  return typeof v === 'number' ? String(v) : `(${String(v)})`;
}

function problemOfList(v: unknown, key: string, what: string, ok: (x: unknown) => boolean): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || !v.every(ok)) return `'${key}' must be a non-empty list of ${what}`;
  return undefined;
}
