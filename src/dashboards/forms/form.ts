/** One chart form: its Superset 3.1 chart type and params, its SQL on the mart, and what the page draws. */
import type { Relation, Row } from '../sql.js';
import type { ChartSpec } from '../../manifest/dashboard-types.js';

/** What the page gets for one chart: an ECharts option, a table, or the error of its query. */
export type ChartData =
  | { readonly kind: 'echarts'; readonly option: Readonly<Record<string, unknown>> }
  | { readonly kind: 'table'; readonly columns: readonly string[]; readonly rows: readonly (readonly unknown[])[] }
  | { readonly kind: 'error'; readonly message: string };

export interface FormModule {
  /** A chart type Superset 3.1 ships (and 4.x still has). */
  readonly vizType: string;
  /** Params of that chart type beyond the common ones (datasource, viz_type, adhoc_filters). */
  supersetParams(chart: ChartSpec, rel: Relation): Record<string, unknown>;
  /** One aggregated (or limited) query on the mart. */
  query(chart: ChartSpec, rel: Relation): string;
  /** The query's rows as the page draws them. */
  draw(chart: ChartSpec, rows: readonly Row[], rel: Relation): ChartData;
}

export const TOOLTIP_AXIS = { trigger: 'axis' } as const;
export const GRID = { left: 56, right: 24, top: 40, bottom: 40, containLabel: true } as const;
