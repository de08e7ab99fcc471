/** pie: one metric per group, largest first, at most row_limit slices. */
import { adhocMetric } from '../superset/adhoc.js';
import { asNumber, ident, limitOf, metricSql, seriesKeySql, whereClause } from '../sql.js';
import type { FormModule } from './form.js';

export const pieForm: FormModule = {
  vizType: 'pie',
  supersetParams: (chart) => ({
    groupby: chart.groupBy,
    metric: adhocMetric(chart.metrics[0]),
    row_limit: limitOf(chart, 20),
    sort_by_metric: true,
    show_labels: true,
    labels_outside: true,
    label_type: 'key_percent',
    show_legend: true,
    donut: false,
  }),
  query: (chart, rel) => {
    const metric = chart.metrics[0];
    return `SELECT ${seriesKeySql(chart.groupBy)} AS "name", ${metricSql(metric)} AS ${ident(metric.label)} FROM ${rel.table}${whereClause(chart, rel.table)} GROUP BY 1 ORDER BY 2 DESC NULLS LAST, 1 LIMIT ${limitOf(chart, 20)}`;
  },
  draw: (chart, rows) => ({
    kind: 'echarts',
    option: {
      tooltip: { trigger: 'item' },
      // Each slice is labelled with its name and share; a legend beside them only collided with the labels.
      legend: { show: false },
      series: [{ name: chart.metrics[0].label, type: 'pie', radius: ['0%', '62%'], center: ['50%', '52%'], label: { formatter: '{b}: {d}%' }, labelLayout: { hideOverlap: true }, data: rows.map((r) => ({ name: String(r.name), value: asNumber(r[chart.metrics[0].label]) })) }],
    },
  }),
};
