/** Superset's ad-hoc metric and filter objects (form data), as its explore view writes them. */
import { metricExpression } from '../sql.js';
import type { Metric } from '../../manifest/dashboard-types.js';

export function adhocMetric(metric: Metric): Record<string, unknown> {
  if (metric.kind === 'aggregate' && metric.column !== null) {
    return {
      expressionType: 'SIMPLE',
      column: { column_name: metric.column },
      aggregate: metric.aggregate.toUpperCase(),
      sqlExpression: null,
      label: metric.label,
      hasCustomLabel: true,
      optionName: `metric_${metric.label}`,
    };
  }
  return { expressionType: 'SQL', sqlExpression: metricExpression(metric), label: metric.label, hasCustomLabel: true, optionName: `metric_${metric.label}` };
}

/** A WHERE condition in SQL: the very condition the page's query uses, so both show the same rows. */
export function adhocSqlFilter(sql: string, index: number): Record<string, unknown> {
  return { expressionType: 'SQL', sqlExpression: sql, clause: 'WHERE', subject: null, operator: null, comparator: null, filterOptionName: `filter_tm_${index}` };
}

const GRAIN_ISO: Readonly<Record<string, string>> = { minute: 'PT1M', hour: 'PT1H', day: 'P1D', week: 'P1W', month: 'P1M', quarter: 'P3M', year: 'P1Y' };

export function timeGrainSqla(grain: string | undefined): string | undefined {
  return grain === undefined ? undefined : GRAIN_ISO[grain];
}
