/** What a contract's PostgreSQL type says to a chart: a time axis, a number. */
import type { ModelNode } from './types.js';

export function typeOf(model: ModelNode, column: string): string {
  return model.columns.find((c) => c.name === column)?.type ?? '';
}

export function isTimeType(type: string): boolean {
  return /^\s*(timestamp|date)\b/i.test(type);
}

export function isNumericType(type: string): boolean {
  return /^\s*(smallint|int|integer|bigint|int2|int4|int8|decimal|numeric|real|double|float)/i.test(type);
}
