import { quoteIdent, quoteLiteral } from '../../core/sql-quote.js';

/** A query cut into batches of days: `column <= bounds[0]`, then `(bounds[i-1], bounds[i]]`, then the rest (NULL included). */
export interface DayBatches {
  readonly column: string;
  readonly bounds: readonly string[];
}

/**
 * The model's query once, or once per batch of days: each batch filters the model's output on its
 * partition column, a filter the engine pushes down to the source's scan, so one batch's aggregation holds
 * only its days. The batches together are exactly the model's rows (the last takes the rest and NULL).
 */
export function batchQueries(sql: string, batches: DayBatches | undefined): string[] {
  if (!batches?.bounds.length) return [sql];
  const column = quoteIdent(batches.column);
  const day = (d: string) => `DATE ${quoteLiteral(d)}`;
  const { bounds } = batches;
  const where = [
    `${column} <= ${day(bounds[0])}`,
    ...bounds.slice(1).map((b, i) => `${column} > ${day(bounds[i])} AND ${column} <= ${day(b)}`),
    `${column} > ${day(bounds[bounds.length - 1])} OR ${column} IS NULL`,
  ];
  return where.map((w) => `SELECT * FROM (${sql}) AS batch WHERE ${w}`);
}
