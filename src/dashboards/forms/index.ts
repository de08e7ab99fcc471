/** Chart form -> its module: a lookup table, not a switch. */
import type { ChartForm } from '../../manifest/dashboard-types.js';
import { bigNumberForm } from './big-number.js';
import { boxPlotForm } from './box-plot.js';
import type { FormModule } from './form.js';
import { heatmapForm } from './heatmap.js';
import { histogramForm } from './histogram.js';
import { pieForm } from './pie.js';
import { tableForm } from './table.js';
import { seriesForm } from './timeseries.js';

export const FORMS: Readonly<Record<ChartForm, FormModule>> = {
  line: seriesForm('line'),
  bar: seriesForm('bar'),
  area: seriesForm('area'),
  table: tableForm,
  pie: pieForm,
  heatmap: heatmapForm,
  histogram: histogramForm,
  box_plot: boxPlotForm,
  big_number: bigNumberForm,
};
