/** table: raw rows (columns, ordered and limited) or one row per group with metrics. */
import { adhocMetric } from '../superset/adhoc.js';
import { displaySql, ident, limitOf, metricSql, orderClause, whereClause } from '../sql.js';
import type { ChartSpec } from '../../manifest/dashboard-types.js';
import type { FormModule } from './form.js';

const isRaw = (chart: ChartSpec): boolean => chart.metrics.length === 0;

export const tableForm: FormModule = {
  vizType: 'table',
  supersetParams: (chart) =>
    isRaw(chart)
      ? {
          query_mode: 'raw',
          all_columns: chart.columns,
          order_by_cols: chart.orderBy.map((o) => JSON.stringify([o.by, !o.descending])),
          row_limit: limitOf(chart, 100),
          server_pagination: false,
          table_timestamp_format: 'smart_date',
        }
      : {
          query_mode: 'aggregate',
          groupby: chart.groupBy,
          metrics: chart.metrics.map(adhocMetric),
          ...(chart.orderBy.length > 0 ? { timeseries_limit_metric: adhocMetric(chart.metrics.find((m) => m.label === chart.orderBy[0].by) ?? chart.metrics[0]), order_desc: chart.orderBy[0].descending } : {}),
          row_limit: limitOf(chart, 100),
          server_pagination: false,
          table_timestamp_format: 'smart_date',
        },
  query: (chart, rel) => {
    const limit = limitOf(chart, 100);
    if (isRaw(chart)) {
      const columns = chart.columns.map((c) => `${displaySql(rel.model, c)} AS ${ident(c)}`).join(', ');
      // Ordered by the stored values (not their text), so dates and numbers sort as such.
      const order = chart.orderBy.length > 0 ? ` ORDER BY ${chart.orderBy.map((o) => `${rel.table}.${ident(o.by)} ${o.descending ? 'DESC' : 'ASC'} NULLS LAST`).join(', ')}` : '';
      return `SELECT ${columns} FROM ${rel.table}${whereClause(chart, rel.table)}${order} LIMIT ${limit}`;
    }
    const groups = chart.groupBy.map((g) => `${displaySql(rel.model, g)} AS ${ident(g)}`);
    const metrics = chart.metrics.map((m) => `${metricSql(m)} AS ${ident(m.label)}`);
    // Grouped by the stored columns (not their display casts): cheaper to hash, same groups.
    const groupBy = chart.groupBy.length > 0 ? ` GROUP BY ${chart.groupBy.map(ident).join(', ')}` : '';
    const fallback = chart.groupBy.length > 0 ? chart.groupBy.map((_, i) => i + 1).join(', ') : '1';
    return `SELECT ${[...groups, ...metrics].join(', ')} FROM ${rel.table}${whereClause(chart, rel.table)}${groupBy}${orderClause(chart, fallback)} LIMIT ${limit}`;
  },
  draw: (chart, rows) => {
    const columns = isRaw(chart) ? chart.columns : [...chart.groupBy, ...chart.metrics.map((m) => m.label)];
    return { kind: 'table', columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)) };
  },
};
