import { quoteIdent } from '../core/sql-quote.js';
import { TmError } from '../core/errors.js';
import { applyBatch, countOf } from './batch.js';
import type { MaterializationStrategy } from './types.js';

/**
 * A table of snapshots keyed by `snapshot_key`: the run replaces the rows of its own snapshot value(s)
 * (those in its rows, and the run's `snapshot_ts` when set, so an empty snapshot clears an old one)
 * and leaves other snapshots alone; `retention` deletes old ones.
 */
export const snapshot: MaterializationStrategy = {
  lives: 'target',
  apply: (input) =>
    applyBatch(input, async ({ tx, stage, columns }) => {
      const column = input.model.config.snapshot_key;
      if (!column) throw new TmError(`model '${input.model.name}' (snapshot) needs config snapshot_key`);
      const k = quoteIdent(column);
      const own = input.values.snapshot_ts ? ` OR ${k} = ${input.values.snapshot_ts}` : '';
      const deleted = await countOf(tx, `DELETE FROM ${input.relation.qualified} WHERE ${k} IN (SELECT DISTINCT ${k} FROM ${stage})${own}`);
      const cols = columns.map(quoteIdent).join(', ');
      const rows = await countOf(tx, `INSERT INTO ${input.relation.qualified} (${cols}) SELECT ${cols} FROM ${stage}`);
      return { rows, deleted, summary: `SNAPSHOT ${rows}` };
    }),
};
