import { quoteIdent } from '../core/sql-quote.js';
import { applyBatch, countOf } from './batch.js';
import type { MaterializationStrategy } from './types.js';

/** Insert-only, idempotent through the key: rows whose key is already stored are not inserted again. */
export const append: MaterializationStrategy = {
  lives: 'target',
  apply: (input) =>
    applyBatch(input, async ({ tx, stage, columns, key }) => {
      const cols = columns.map(quoteIdent).join(', ');
      // DISTINCT ON keeps one row per key within the batch too, so a replayed row never fails the run.
      const rows = await countOf(
        tx,
        `INSERT INTO ${input.relation.qualified} (${cols}) SELECT DISTINCT ON (${key.map(quoteIdent).join(', ')}) ${cols} FROM ${stage} ORDER BY ${key.map(quoteIdent).join(', ')} ON CONFLICT (${key.map(quoteIdent).join(', ')}) DO NOTHING`,
      );
      return { rows, summary: `APPEND ${rows}` };
    }),
};
