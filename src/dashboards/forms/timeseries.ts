/** line, bar, area: metrics over x (a time column, truncated to the grain, or a category), one series per metric and group. */
import { isTimeType, typeOf } from '../../manifest/column-types.js';
import { adhocMetric, timeGrainSqla } from '../superset/adhoc.js';
import { asNumber, conditions, displaySql, ident, limitOf, metricSql, orderClause, seriesKeySql, timeAxisSql, whereClause, type Relation, type Row } from '../sql.js';
import type { ChartSpec, Metric } from '../../manifest/dashboard-types.js';
import { GRID, TOOLTIP_AXIS, type FormModule } from './form.js';

type SeriesForm = 'line' | 'bar' | 'area';

const VIZ_TYPES: Readonly<Record<SeriesForm, string>> = { line: 'echarts_timeseries_line', bar: 'echarts_timeseries_bar', area: 'echarts_area' };

function isTimeAxis(chart: ChartSpec, rel: Relation): boolean {
  return isTimeType(typeOf(rel.model, chart.x as string));
}

export function seriesForm(form: SeriesForm): FormModule {
  return {
    vizType: VIZ_TYPES[form],
    supersetParams: (chart, rel) => ({
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
      ...supersetShape(chart, rel),
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
      // Weekly points: how many days of the week have rows, so a partial first or last week is marked as such.
      const days = chart.timeGrain === 'week' && isTimeAxis(chart, rel) ? `, count(DISTINCT date_trunc('day', ${ident(x)}))::float8 AS "${DAYS}"` : '';
      return `SELECT ${xSql} AS ${ident(x)}${group}${metrics}${days} FROM ${rel.table}${whereClause(chart, rel.table, topSeries)} ${groupBy}${orderClause(chart, fallback)} LIMIT ${limitOf(chart, 5000)}`;
    },
    draw: (chart, rows, rel) => {
      const x = chart.x as string;
      const time = isTimeAxis(chart, rel);
      const grouped = chart.groupBy.length > 0;
      // Series in first-seen order: metric by metric, group by group.
      const series = new Map<string, { name: string; metric: Metric; data: unknown[][] }>();
      for (const row of rows) {
        for (const metric of chart.metrics) {
          const name = grouped ? (chart.metrics.length > 1 ? `${String(row.series)} · ${metric.label}` : String(row.series)) : metric.label;
          let s = series.get(name);
          if (s === undefined) series.set(name, (s = { name, metric, data: [] }));
          s.data.push([time ? row[x] : String(row[x]), asNumber(row[metric.label])]);
        }
      }
      const step = time && chart.timeGrain !== undefined ? GRAIN_MS[chart.timeGrain] : undefined;
      if (step !== undefined) for (const s of series.values()) s.data = withGaps(s.data, step, rows.map((r) => Number(r[x])), isAdditive(s.metric) ? 0 : null);
      const categories = time ? undefined : [...new Set(rows.map((r) => String(r[x])))];
      const integers = rows.every((r) => chart.metrics.every((m) => Number.isInteger(asNumber(r[m.label]) ?? 0)));
      return {
        kind: 'echarts',
        option: {
          tooltip: TOOLTIP_AXIS,
          legend: { type: 'scroll', top: 0 },
          grid: GRID,
          xAxis: time
            ? { type: 'time', name: `${x} (UTC)`, nameLocation: 'middle', nameGap: 28, minInterval: step, axisLabel: { hideOverlap: true, formatter: TIME_LABELS } }
            : { type: 'category', data: categories, name: x, nameLocation: 'middle', nameGap: 28, axisLabel: manyLabels(categories?.length ?? 0) },
          // Counts step by whole numbers (never 0.5 of a click).
          yAxis: { type: 'value', minInterval: integers ? 1 : undefined },
          series: [...series.values()].map((s, i) => ({
            ...(i === 0 && chart.timeGrain === 'week' ? { markArea: partialWeeks(rows, x) } : {}),
            name: s.name,
            type: form === 'bar' ? 'bar' : 'line',
            showSymbol: false,
            data: s.data,
            // Lines that often coincide (clicks = sessions = documents in a quiet minute) stay visible: later ones dashed.
            ...(form === 'line' ? { lineStyle: { type: LINE_TYPES[i % LINE_TYPES.length], width: i === 0 ? 2.5 : 1.5 }, z: 10 + i } : {}),
            ...(form === 'area' ? { areaStyle: {}, stack: grouped ? s.metric.label : undefined } : {}),
            // A few bars carry their values: a bar of 0 (a reconciled day without drift) is then seen, not missed.
            ...(form === 'bar' && s.data.length <= FEW_BARS ? { label: { show: true, position: 'top' } } : {}),
          })),
        },
      };
    },
  };
}

/**
 * What the page does, asked of Superset too: categories in the declared order (Superset sorts them by
 * name otherwise), and steps without rows filled with 0 where the metrics add up (Superset's own line
 * runs straight across them otherwise).
 */
function supersetShape(chart: ChartSpec, rel: Relation): Record<string, unknown> {
  if (!isTimeAxis(chart, rel)) {
    const order = chart.orderBy[0];
    return order === undefined ? {} : { x_axis_sort: order.by, x_axis_sort_asc: !order.descending };
  }
  const rule = chart.timeGrain === undefined ? undefined : RESAMPLE_RULES[chart.timeGrain];
  return rule !== undefined && chart.metrics.every(isAdditive) ? { resample_rule: rule, resample_method: 'zerofill' } : {};
}

/** pandas offsets of the fixed grains Superset resamples by (weeks left out: pandas' start on Sunday, PostgreSQL's on Monday). */
const RESAMPLE_RULES: Readonly<Partial<Record<string, string>>> = { minute: '1T', hour: '1H', day: '1D' };

const LINE_TYPES = ['solid', 'dashed', 'dotted'] as const;
const FEW_BARS = 12;

const DAYS = '__days';
const WEEK_MS = 7 * 86_400_000;

/** The first and last weeks when the data covers only some of their days: shaded and named, not read as a trend. */
function partialWeeks(rows: readonly Row[], x: string): Record<string, unknown> {
  const days = new Map<number, number>();
  for (const r of rows) days.set(Number(r[x]), Math.max(days.get(Number(r[x])) ?? 0, Number(r[DAYS])));
  const weeks = [...days.keys()].sort((a, b) => a - b);
  // Each point sits at its week's start: the first week's shading runs right of it, the last week's
  // over the segment leading to it (the axis ends at the last point).
  const areas: [number, number, number][] = [];
  const [first, last] = [weeks[0], weeks[weeks.length - 1]];
  if (first !== undefined && (days.get(first) ?? 7) < 7) areas.push([first, first + WEEK_MS, days.get(first) as number]);
  if (last !== undefined && last !== first && (days.get(last) ?? 7) < 7) areas.push([last - WEEK_MS, last, days.get(last) as number]);
  return {
    silent: true,
    itemStyle: { color: 'rgba(135,150,165,0.12)' },
    label: { position: 'insideTop', color: '#6b7785', fontSize: 11 },
    data: areas.map(([from, to, n]) => [{ name: `partial week (${n} d)`, xAxis: from }, { xAxis: to }]),
  };
}

/** One label per level of the time axis, the same in every chart: dates as `10-30` (`2021-01-01` at a new year), times as `14:00`. */
const TIME_LABELS = { year: '{yyyy}-{MM}-{dd}', month: '{MM}-{dd}', day: '{MM}-{dd}', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' } as const;

/** Fixed-length grains (month and longer vary): a daily series then never gets hour ticks. */
const GRAIN_MS: Readonly<Partial<Record<string, number>>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: WEEK_MS };

/** At most this many steps are filled in (a minute series over a week is 10 080). */
const MAX_FILLED_STEPS = 20_000;

/** Sums and counts of no rows are 0; an average of no rows is no value (a gap in the line). */
function isAdditive(metric: Metric): boolean {
  return metric.kind === 'aggregate' && ['sum', 'count', 'count_distinct'].includes(metric.aggregate);
}

/**
 * The steps of the chart's range with no row, as `fill` (0 or null), so a line does not run straight
 * across minutes without events as if traffic had been steady.
 */
function withGaps(data: unknown[][], step: number, xs: readonly number[], fill: 0 | null): unknown[][] {
  const finite = xs.filter(Number.isFinite);
  if (finite.length === 0) return data;
  const [lo, hi] = [Math.min(...finite), Math.max(...finite)];
  if ((hi - lo) / step > MAX_FILLED_STEPS) return data;
  const seen = new Set(data.map((p) => Number(p[0])));
  const out = [...data];
  for (let t = lo; t <= hi; t += step) if (!seen.has(t)) out.push([t, fill]);
  return out.sort((a, b) => Number(a[0]) - Number(b[0]));
}

/** Many categories: every label, turned, rather than one in ten. */
function manyLabels(count: number): Record<string, unknown> {
  return count > 8 ? { interval: 0, rotate: 40, fontSize: 11, hideOverlap: false } : { hideOverlap: true };
}

/** Only the `seriesLimit` groups with the largest first metric over the chart's rows. */
function seriesLimitCondition(chart: ChartSpec, table: string): string {
  const groups = chart.groupBy.map(ident).join(', ');
  const where = conditions(chart, table);
  const whereSql = where.length === 0 ? '' : ` WHERE ${where.map((c) => `(${c})`).join(' AND ')}`;
  return `(${groups}) IN (SELECT ${groups} FROM ${table}${whereSql} GROUP BY ${groups} ORDER BY ${metricSql(chart.metrics[0])} DESC, ${groups} LIMIT ${chart.seriesLimit})`;
}
