/** big_number: one metric over the chart's rows, drawn as text. */
import { adhocMetric } from '../superset/adhoc.js';
import { asNumber, ident, metricSql, whereClause } from '../sql.js';
import type { FormModule } from './form.js';

export const bigNumberForm: FormModule = {
  vizType: 'big_number_total',
  supersetParams: (chart) => ({ metric: adhocMetric(chart.metrics[0]), subheader: chart.metrics[0].label, header_font_size: 0.4, subheader_font_size: 0.15 }),
  query: (chart, rel) => `SELECT ${metricSql(chart.metrics[0])} AS ${ident(chart.metrics[0].label)} FROM ${rel.table}${whereClause(chart, rel.table)}`,
  draw: (chart, rows) => {
    const value = asNumber(rows[0]?.[chart.metrics[0].label]);
    const text = value === null ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
    return {
      kind: 'echarts',
      option: {
        dataset: { source: [[chart.metrics[0].label], [value]] },
        graphic: [
          { type: 'text', left: 'center', top: '35%', style: { text, fontSize: 44, fontWeight: 'bold', fill: '#1f2d3d' } },
          { type: 'text', left: 'center', top: '65%', style: { text: chart.metrics[0].label, fontSize: 14, fill: '#6b7785' } },
        ],
      },
    };
  },
};
