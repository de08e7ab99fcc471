/** heatmap: one metric per (x, y) cell; Superset 3.1 has only the legacy `heatmap` (ECharts' heatmap_v2 came in 4.1). */
import { adhocMetric } from '../superset/adhoc.js';
import { asNumber, displaySql, ident, limitOf, metricSql, whereClause } from '../sql.js';
import type { FormModule } from './form.js';

export const heatmapForm: FormModule = {
  vizType: 'heatmap',
  supersetParams: (chart) => ({
    all_columns_x: chart.x,
    all_columns_y: chart.y,
    metric: adhocMetric(chart.metrics[0]),
    linear_color_scheme: 'blue_white_yellow',
    xscale_interval: null,
    yscale_interval: null,
    canvas_image_rendering: 'pixelated',
    normalize_across: 'heatmap',
    left_margin: 'auto',
    bottom_margin: 'auto',
    show_legend: true,
    show_perc: false,
    show_values: false,
    sort_x_axis: 'alpha_asc',
    sort_y_axis: 'alpha_asc',
    row_limit: limitOf(chart, 10_000),
  }),
  query: (chart, rel) => {
    const [x, y] = [chart.x as string, chart.y as string];
    const metric = chart.metrics[0];
    // Ordered by the stored values, so numbers and dates keep their order on the axes.
    return `SELECT ${displaySql(rel.model, x, chart.timeGrain)} AS ${ident(x)}, ${displaySql(rel.model, y)} AS ${ident(y)}, ${metricSql(metric)} AS ${ident(metric.label)} FROM ${rel.table}${whereClause(chart, rel.table)} GROUP BY 1, 2 ORDER BY min(${ident(x)}), min(${ident(y)}) LIMIT ${limitOf(chart, 10_000)}`;
  },
  draw: (chart, rows) => {
    const [x, y] = [chart.x as string, chart.y as string];
    const label = chart.metrics[0].label;
    const xs = [...new Set(rows.map((r) => String(r[x])))];
    const ys = [...new Set(rows.map((r) => r[y]))].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1)).map(String);
    const values = rows.map((r) => asNumber(r[label]) ?? 0);
    return {
      kind: 'echarts',
      option: {
        tooltip: { position: 'top' },
        // Axis names beside their axes (not above the grid, where a title cuts them), the colour scale on the right.
        grid: { left: 48, right: 96, top: 12, bottom: 40, containLabel: true },
        xAxis: { type: 'category', data: xs, name: x, nameLocation: 'middle', nameGap: 28, splitArea: { show: true } },
        yAxis: { type: 'category', data: ys, name: y, nameLocation: 'middle', nameGap: 32, splitArea: { show: true } },
        visualMap: { min: Math.min(0, ...values), max: Math.max(1, ...values), calculable: true, orient: 'vertical', right: 0, top: 'middle', itemHeight: 120 },
        series: [{ name: label, type: 'heatmap', data: rows.map((r) => [String(r[x]), String(r[y]), asNumber(r[label])]) }],
      },
    };
  },
};
