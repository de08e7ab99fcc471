/** line, bar, area: metrics over x (a time column, truncated to the grain, or a category), one series per metric and group. */
import { isTimeType, typeOf } from '../../manifest/column-types.js';
import { adhocMetric, timeGrainSqla } from '../superset/adhoc.js';
import { asNumber, conditions, displaySql, ident, limitOf, metricSql, orderClause, seriesKeySql, timeAxisSql, whereClause, type Relation } from '../sql.js';
import type { ChartSpec } from '../../manifest/dashboard-types.js';
import { GRID, TOOLTIP_AXIS, type FormModule } from './form.js';

type SeriesForm = 'line' | 'bar' | 'area';

const VIZ_TYPES: Readonly<Record<SeriesForm, string>> = { line: 'echarts_timeseries_line', bar: 'echarts_timeseries_bar', area: 'echarts_area' };

function isTimeAxis(chart: ChartSpec, rel: Relation): boolean {
  return isTimeType(typeOf(rel.model, chart.x as string));
}

export function seriesForm(form: SeriesForm): FormModule {
  return {
    vizType: VIZ_TYPES[form],
    supersetParams: (chart) => ({
      x_axis: chart.x,
      time_grain_sqla: timeGrainSqla(chart.timeGrain),
      metrics: chart.metrics.map(adhocMetric),
      groupby: chart.groupBy,
      time_range: 'No filter',
      order_desc: true,
      row_limit: limitOf(chart, 5000),
      truncate_metric: true,
      show_legend: true,
      rich_tooltip: true,
      x_axis_time_format: 'smart_date',
      ...(chart.seriesLimit === undefined ? {} : { series_limit: chart.seriesLimit, series_limit_metric: adhocMetric(chart.metrics[0]) }),
      ...(form === 'bar' ? { orientation: 'vertical' } : {}),
      ...(form === 'area' ? { stack: 'Stack', opacity: 0.6 } : {}),
    }),
    query: (chart, rel) => {
      const x = chart.x as string;
      const xSql = isTimeAxis(chart, rel) ? timeAxisSql(chart, x) : displaySql(rel.model, x);
      const group = chart.groupBy.length > 0 ? `, ${seriesKeySql(chart.groupBy)} AS "series"` : '';
      const metrics = chart.metrics.map((m) => `, ${metricSql(m)} AS ${ident(m.label)}`).join('');
      const topSeries = chart.seriesLimit === undefined ? [] : [seriesLimitCondition(chart, rel.table)];
      const groupBy = chart.groupBy.length > 0 ? 'GROUP BY 1, 2' : 'GROUP BY 1';
      const fallback = chart.groupBy.length > 0 ? '1, 2' : '1';
      return `SELECT ${xSql} AS ${ident(x)}${group}${metrics} FROM ${rel.table}${whereClause(chart, rel.table, topSeries)} ${groupBy}${orderClause(chart, fallback)} LIMIT ${limitOf(chart, 5000)}`;
    },
    draw: (chart, rows, rel) => {
      const x = chart.x as string;
      const time = isTimeAxis(chart, rel);
      const grouped = chart.groupBy.length > 0;
      // Series in first-seen order: metric by metric, group by group.
      const series = new Map<string, { name: string; metric: string; data: unknown[][] }>();
      for (const row of rows) {
        for (const metric of chart.metrics) {
          const name = grouped ? (chart.metrics.length > 1 ? `${String(row.series)} · ${metric.label}` : String(row.series)) : metric.label;
          let s = series.get(name);
          if (s === undefined) series.set(name, (s = { name, metric: metric.label, data: [] }));
          s.data.push([time ? row[x] : String(row[x]), asNumber(row[metric.label])]);
        }
      }
      const categories = time ? undefined : [...new Set(rows.map((r) => String(r[x])))];
      return {
        kind: 'echarts',
        option: {
          tooltip: TOOLTIP_AXIS,
          legend: { type: 'scroll', top: 0 },
          grid: GRID,
          xAxis: time ? { type: 'time', name: `${x} (UTC)`, nameLocation: 'middle', nameGap: 28 } : { type: 'category', data: categories, name: x, nameLocation: 'middle', nameGap: 28, axisLabel: { hideOverlap: true } },
          yAxis: { type: 'value' },
          series: [...series.values()].map((s) => ({
            name: s.name,
            type: form === 'bar' ? 'bar' : 'line',
            showSymbol: false,
            data: s.data,
            ...(form === 'area' ? { areaStyle: {}, stack: grouped ? s.metric : undefined } : {}),
          })),
        },
      };
    },
  };
}

/** Only the `seriesLimit` groups with the largest first metric over the chart's rows. */
function seriesLimitCondition(chart: ChartSpec, table: string): string {
  const groups = chart.groupBy.map(ident).join(', ');
  const where = conditions(chart, table);
  const whereSql = where.length === 0 ? '' : ` WHERE ${where.map((c) => `(${c})`).join(' AND ')}`;
  return `(${groups}) IN (SELECT ${groups} FROM ${table}${whereSql} GROUP BY ${groups} ORDER BY ${metricSql(chart.metrics[0])} DESC, ${groups} LIMIT ${chart.seriesLimit})`;
}
