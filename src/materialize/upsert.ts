import { quoteIdent } from '../core/sql-quote.js';
import { applyBatch, checkUniqueKeys, countOf, renderConfig } from './batch.js';
import type { MaterializationStrategy } from './types.js';

/**
 * INSERT ... ON CONFLICT (unique_key) DO UPDATE from a staging table loaded by COPY. Duplicate keys
 * within the run's rows are an error naming the key. Optional config `delete_where`: a condition on
 * the stored rows (alias `existing`; the run's rows are the table `{{incoming}}`) whose matches are
 * deleted first, for rows that the new ones replace or fold in.
 */
export const upsert: MaterializationStrategy = {
  lives: 'target',
  apply: (input) =>
    applyBatch(input, async (batch) => {
      const { tx, stage, columns, key } = batch;
      await checkUniqueKeys(batch);
      let deleted = 0;
      const kind = input.model.config.kind;
      const deleteWhere = kind.materialized === 'upsert' ? kind.deleteWhere : undefined;
      if (deleteWhere !== undefined) {
        const condition = renderConfig(input, deleteWhere, 'delete_where', { incoming: stage });
        deleted = await countOf(tx, `DELETE FROM ${input.relation.qualified} AS existing WHERE ${condition}`);
      }
      const cols = columns.map(quoteIdent).join(', ');
      const others = columns.filter((c) => !key.includes(c));
      const onConflict = others.length
        ? `DO UPDATE SET ${others.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`
        : 'DO NOTHING';
      const rows = await countOf(tx, `INSERT INTO ${input.relation.qualified} (${cols}) SELECT ${cols} FROM ${stage} ON CONFLICT (${key.map(quoteIdent).join(', ')}) ${onConflict}`);
      return { rows, deleted, summary: `UPSERT ${rows}` };
    }),
};
