/**
 * SQL pieces every chart form shares. Queries run on the target (PostgreSQL or PGlite) and always
 * aggregate or limit there: the page never receives a whole table.
 */
import { quoteIdent } from '../core/sql-quote.js';
import { isTimeType, typeOf } from '../manifest/column-types.js';
import type { ModelNode } from '../manifest/types.js';
import type { ChartSpec, Filter, FilterValue, Metric } from '../manifest/dashboard-types.js';

/** The mart a chart reads: its schema-qualified table and its model (for column types). */
export interface Relation {
  readonly table: string;
  readonly model: ModelNode;
}

export const ident = quoteIdent;

export function literal(value: FilterValue): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replace(/'/g, "''")}'`;
}

/** The metric as SQL; aggregates come back as float8 so the driver gives numbers, not strings. */
export function metricSql(metric: Metric): string {
  if (metric.kind === 'sql') return `(${metric.sql})`;
  const column = metric.column === null ? '*' : ident(metric.column);
  const inner = metric.aggregate === 'count_distinct' ? `count(DISTINCT ${column})` : `${metric.aggregate}(${column})`;
  return `(${inner})::float8`;
}

/** The same metric as Superset writes it in a saved metric (its own SQL, without our cast). */
export function metricExpression(metric: Metric): string {
  if (metric.kind === 'sql') return metric.sql;
  const column = metric.column === null ? '*' : metric.column;
  return metric.aggregate === 'count_distinct' ? `COUNT(DISTINCT ${column})` : `${metric.aggregate.toUpperCase()}(${column})`;
}

export function filterSql(filter: Filter): string {
  const column = ident(filter.column);
  switch (filter.op) {
    case 'is null':
      return `${column} IS NULL`;
    case 'is not null':
      return `${column} IS NOT NULL`;
    case 'in':
    case 'not in':
      return `${column} ${filter.op.toUpperCase()} (${(filter.value as readonly FilterValue[]).map(literal).join(', ')})`;
    default:
      return `${column} ${filter.op === '!=' ? '<>' : filter.op} ${literal(filter.value as FilterValue)}`;
  }
}

/**
 * Every condition of the chart, each a SQL boolean over the table's columns. `latest` and `recent`
 * are measured from the table's own largest value (the stream's time), never from the wall clock.
 */
export function conditions(chart: ChartSpec, table: string): string[] {
  const out = chart.filters.map(filterSql);
  if (chart.latest !== undefined) out.push(`${ident(chart.latest)} = (SELECT max(${ident(chart.latest)}) FROM ${table})`);
  if (chart.recent !== undefined) {
    const column = ident(chart.recent.column);
    out.push(`${column} > (SELECT max(${column}) FROM ${table}) - INTERVAL ${literal(chart.recent.last)}`);
  }
  return out;
}

export function whereClause(chart: ChartSpec, table: string, extra: readonly string[] = []): string {
  const all = [...conditions(chart, table), ...extra];
  return all.length === 0 ? '' : ` WHERE ${all.map((c) => `(${c})`).join(' AND ')}`;
}

/** A time column as epoch milliseconds (a number for ECharts' time axis), truncated to the chart's grain. */
export function timeAxisSql(chart: ChartSpec, column: string): string {
  const value = chart.timeGrain === undefined ? ident(column) : `date_trunc('${chart.timeGrain}', ${ident(column)})`;
  return `(extract(epoch FROM ${value}) * 1000)::float8`;
}

/**
 * A column as the page shows it: numbers as float8, times as UTC text (`2020-03-01 10:00:00`), the
 * rest as text. PostgreSQL sessions of tm are pinned to UTC, and these columns are timestamps without zone.
 */
export function displaySql(model: ModelNode, column: string, grain?: string): string {
  const type = typeOf(model, column);
  const value = grain === undefined ? ident(column) : `date_trunc('${grain}', ${ident(column)})`;
  if (/^\s*date\b/i.test(type) && grain === undefined) return `${value}::text`;
  if (isTimeType(type)) return `to_char(${value}, 'YYYY-MM-DD HH24:MI:SS')`;
  if (/^\s*(smallint|int|integer|bigint|decimal|numeric|real|double|float)/i.test(type)) return `${value}::float8`;
  return `${value}::text`;
}

/** Series names: the group-by columns joined with ' / '. */
export function seriesKeySql(groupBy: readonly string[]): string {
  return groupBy.length === 1 ? `${ident(groupBy[0])}::text` : `concat_ws(' / ', ${groupBy.map((g) => `${ident(g)}::text`).join(', ')})`;
}

export function orderClause(chart: ChartSpec, fallback: string): string {
  if (chart.orderBy.length === 0) return ` ORDER BY ${fallback}`;
  return ` ORDER BY ${chart.orderBy.map((o) => `${ident(o.by)} ${o.descending ? 'DESC' : 'ASC'} NULLS LAST`).join(', ')}`;
}

/** Rows a chart may bring to the page at most, whatever it declares. */
export const MAX_ROWS = 10_000;

export function limitOf(chart: ChartSpec, fallback: number): number {
  return Math.min(chart.rowLimit ?? fallback, MAX_ROWS);
}

/** A row from the target: numbers, strings (text, times, numerics of SQL metrics) or NULL. */
export type Row = Readonly<Record<string, unknown>>;

/** Numeric strings (numeric/bigint results of SQL metrics) as numbers; NULL stays null. */
export function asNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}
