/** Dashboards as code: readonly data as declared in `dashboards/*.yml`, validated against model contracts. */

/** Chart forms a dashboard may use; each has one module in `forms/`. */
export const CHART_FORMS = ['line', 'bar', 'area', 'table', 'pie', 'heatmap', 'histogram', 'box_plot', 'big_number'] as const;
export type ChartForm = (typeof CHART_FORMS)[number];

export const TIME_GRAINS = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
export type TimeGrain = (typeof TIME_GRAINS)[number];

export const AGGREGATES = ['sum', 'avg', 'min', 'max', 'count', 'count_distinct'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** `sum(total_clicks)` (an aggregate of a contract column; `count(*)` too) or a SQL expression, checked when it first runs. */
export type Metric =
  | { readonly kind: 'aggregate'; readonly aggregate: Aggregate; readonly column: string | null; readonly label: string }
  | { readonly kind: 'sql'; readonly sql: string; readonly label: string };

export const FILTER_OPS = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'is null', 'is not null'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];
export type FilterValue = string | number | boolean;

export interface Filter {
  readonly column: string;
  readonly op: FilterOp;
  readonly value?: FilterValue | readonly FilterValue[];
}

/** Rows whose `column` lies within `last` (e.g. `6 hours`) of the column's largest value in the table, not of the wall clock. */
export interface RecentWindow {
  readonly column: string;
  /** A PostgreSQL interval: `6 hours`, `90 days`. */
  readonly last: string;
}

export interface OrderBy {
  /** A column, a metric label, or `x`'s name. */
  readonly by: string;
  readonly descending: boolean;
}

export interface GridPlace {
  /** 1-based row of the dashboard's 12-column grid; a row's charts sit left to right in declaration order. */
  readonly row: number;
  /** Columns wide, 1..12. */
  readonly width: number;
  /** Superset height units (8 px each); the page uses `height * 8` px. */
  readonly height: number;
}

export interface ChartSpec {
  /** Unique within its dashboard; `data-tm-chart` on the page. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The model read, as `ref` names it. */
  readonly model: string;
  readonly form: ChartForm;
  /** Category or time column (line, bar, area, heatmap x, box plot groups). */
  readonly x?: string;
  readonly timeGrain?: TimeGrain;
  /** Heatmap's second axis. */
  readonly y?: string;
  /** Distribution column (histogram, box plot) */
  readonly column?: string;
  /** Histogram bins. */
  readonly bins?: number;
  /** Table of raw rows (no metrics): these columns. */
  readonly columns: readonly string[];
  readonly metrics: readonly Metric[];
  readonly groupBy: readonly string[];
  /** Time series: keep only the `seriesLimit` groups with the largest first metric. */
  readonly seriesLimit?: number;
  readonly filters: readonly Filter[];
  /** Only the rows of the largest value of this column (the latest snapshot). */
  readonly latest?: string;
  readonly recent?: RecentWindow;
  readonly orderBy: readonly OrderBy[];
  readonly rowLimit?: number;
  readonly place: GridPlace;
  /** Where it is declared, for messages. */
  readonly line: number;
}

export interface DashboardNode {
  readonly kind: 'dashboard';
  /** `dashboard.<project>.<name>` */
  readonly uniqueId: string;
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** Project-relative YAML path. */
  readonly path: string;
  readonly line: number;
  /** Seconds between refreshes of a served page (and Superset's refresh frequency); 0 for none. */
  readonly refreshSeconds: number;
  readonly charts: readonly ChartSpec[];
  /** Models its charts read, sorted, distinct: its edges in the DAG. */
  readonly refs: readonly string[];
}
