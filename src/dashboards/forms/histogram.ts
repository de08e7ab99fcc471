/**
 * histogram: counts of `column` in `bins` equal-width bins between its min and max, computed in SQL
 * (width_bucket), so every bar is one reproducible query. The max falls into the last bin.
 */
import { ident, whereClause } from '../sql.js';
import type { FormModule } from './form.js';

const DEFAULT_BINS = 20;

export const histogramForm: FormModule = {
  vizType: 'histogram',
  supersetParams: (chart) => ({
    all_columns_x: [chart.column],
    link_length: chart.bins ?? DEFAULT_BINS,
    groupby: [],
    normalized: false,
    cumulative: false,
    row_limit: 1_000_000,
    x_axis_label: chart.column,
    y_axis_label: 'count',
  }),
  query: (chart, rel) => {
    const c = ident(chart.column as string);
    const bins = chart.bins ?? DEFAULT_BINS;
    // Two scans of the mart rather than a materialized CTE of every value: min/max first, then the bins.
    const where = whereClause(chart, rel.table, [`${c} IS NOT NULL`]);
    return (
      `WITH b AS (SELECT min(${c})::float8 AS lo, max(${c})::float8 AS hi FROM ${rel.table}${where}) ` +
      `SELECT bin, b.lo + (bin - 1) * (b.hi - b.lo) / ${bins} AS bin_start, b.lo + bin * (b.hi - b.lo) / ${bins} AS bin_end, count(*)::float8 AS "count" ` +
      `FROM (SELECT CASE WHEN b.hi = b.lo THEN 1 ELSE least(width_bucket(${c}::float8, b.lo, b.hi, ${bins}), ${bins}) END AS bin FROM ${rel.table}, b${where}) AS x, b ` +
      `GROUP BY bin, b.lo, b.hi ORDER BY bin`
    );
  },
  draw: (chart, rows) => {
    const first = rows[0];
    const digits = first === undefined ? 0 : decimalsFor(Number(first.bin_end) - Number(first.bin_start));
    const label = (start: unknown, end: unknown): string => `${fmt(start, digits)}–${fmt(end, digits)}`;
    return {
      kind: 'echarts',
      option: {
        tooltip: { trigger: 'axis' },
        grid: { left: 56, right: 24, top: 24, bottom: 40, containLabel: true },
        xAxis: { type: 'category', data: rows.map((r) => label(r.bin_start, r.bin_end)), name: chart.column, nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'value', name: 'count' },
        series: [{ name: 'count', type: 'bar', barCategoryGap: '2%', data: rows.map((r) => r.count) }],
      },
    };
  },
};

/** Decimals that tell neighbouring bin edges apart, no more: a width of 162.1 gives `0–162`, of 0.25 `0.25–0.5`. */
function decimalsFor(width: number): number {
  if (!(width > 0)) return 0;
  return Math.max(0, Math.min(6, 1 - Math.floor(Math.log10(width))));
}

function fmt(value: unknown, digits: number): string {
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, useGrouping: false });
}
