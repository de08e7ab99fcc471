/** box_plot: min, quartiles (percentile_cont, in SQL) and max of `column`, one box per x value (or one box). */
import { adhocMetric } from '../superset/adhoc.js';
import { displaySql, ident, limitOf, whereClause } from '../sql.js';
import type { FormModule } from './form.js';

const STATS = ['min', 'q1', 'median', 'q3', 'max'] as const;

export const boxPlotForm: FormModule = {
  vizType: 'box_plot',
  supersetParams: (chart, rel) => ({
    // Superset's box plot takes a metric per "distribute across" group: one value per row of the mart (its key).
    columns: rel.model.primaryKey.filter((c) => c !== chart.x),
    groupby: chart.x === undefined ? [] : [chart.x],
    metrics: [adhocMetric({ kind: 'aggregate', aggregate: 'max', column: chart.column as string, label: chart.column as string })],
    whiskerOptions: 'Min/max (no outliers)',
    row_limit: 1_000_000,
  }),
  query: (chart, rel) => {
    const c = ident(chart.column as string);
    const x = chart.x === undefined ? `'all'` : displaySql(rel.model, chart.x);
    const q = (p: number): string => `percentile_cont(${p}) WITHIN GROUP (ORDER BY ${c})::float8`;
    return (
      `SELECT ${x} AS "group", min(${c})::float8 AS "min", ${q(0.25)} AS "q1", ${q(0.5)} AS "median", ${q(0.75)} AS "q3", max(${c})::float8 AS "max", count(*)::float8 AS "n" ` +
      `FROM ${rel.table}${whereClause(chart, rel.table, [`${c} IS NOT NULL`])} GROUP BY 1 ORDER BY ${chart.x === undefined ? '1' : `min(${ident(chart.x)})`} LIMIT ${limitOf(chart, 500)}`
    );
  },
  draw: (chart, rows) => ({
    kind: 'echarts',
    option: {
      tooltip: { trigger: 'item' },
      grid: { left: 56, right: 24, top: 24, bottom: 40, containLabel: true },
      xAxis: { type: 'category', data: rows.map((r) => String(r.group)), name: chart.x ?? '', nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'value', name: chart.column },
      series: [{ name: chart.column, type: 'boxplot', data: rows.map((r) => STATS.map((s) => r[s])) }],
    },
  }),
};
