import { quoteIdent } from '../core/sql-quote.js';
import { transaction, type TargetSession } from '../engines/target.js';
import { TmError } from '../core/errors.js';
import { pausePoint } from '../core/pause-point.js';
import { writePartitionState } from '../state/partition-state.js';
import { writeModelState } from '../state/store.js';
import { countOf } from './batch.js';
import { pgName, tableExists } from './ddl.js';
import type { MaterializationStrategy, MaterializeInput, MaterializeResult } from './types.js';

/**
 * A partition-aware `replace` model whose changed days were recomputed: in one transaction, the rows
 * of those days are deleted and the new ones inserted into the existing table, and the model's state
 * is written. Readers see the old rows or the new ones (MVCC); the key, indexes, grants and
 * dependent views stay; the other days' rows are not touched. A failure or a kill leaves table and state as they were.
 */
export const replacePartitions: MaterializationStrategy = { lives: 'target', apply: (input) => replaceDays(input) };

async function replaceDays(input: MaterializeInput): Promise<MaterializeResult> {
  const { target, relation, model } = input;
  const partitions = input.partitions;
  if (!partitions) throw new TmError(`model '${model.name}': no days to replace`);
  const column = quoteIdent(partitions.column);
  const columns = model.columns.map((c) => quoteIdent(c.name)).join(', ');
  const session = await target.acquire();
  try {
    return await transaction(session, async (tx) => {
      if (!(await tableExists(tx, relation.schema, relation.name))) throw new TmError(`model '${model.name}': ${relation.qualified} is missing; run with --full-refresh`);
      const stage = quoteIdent(pgName(`tm_days_${model.name}_${input.runId}`));
      await tx.exec(`CREATE TEMP TABLE ${stage} (LIKE ${relation.qualified} INCLUDING DEFAULTS) ON COMMIT DROP`);
      const rows = await input.result.loadInto(tx, stage);
      const [{ n: outside }] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${stage} WHERE (${column} = ANY($1::date[])) IS NOT TRUE`, [partitions.parts]);
      if (outside > 0) {
        throw new TmError(`model '${model.name}': ${outside} rows have ${partitions.column} outside the days recomputed; with partition_by, a row of day D must come from the events of day D`, 1);
      }
      const deleted = await countOf(tx, `DELETE FROM ${relation.qualified} WHERE ${column} = ANY('{${partitions.parts.join(',')}}'::date[])`);
      await tx.exec(`INSERT INTO ${relation.qualified} (${columns}) SELECT ${columns} FROM ${stage}`);
      await writeStepState(tx, input);
      await pausePoint('before-commit', model.name);
      return { rows, deleted, summary: `${partitions.parts.length} day${partitions.parts.length === 1 ? '' : 's'}: DELETE ${deleted}, INSERT ${rows}` };
    });
  } catch (err) {
    const e = err as { code?: string; detail?: string; message?: string };
    if (e.code === '23505') throw new TmError(`model '${model.name}': its rows break the unique key: ${e.detail ?? e.message}`, 1, { cause: err });
    throw err;
  } finally {
    await session.release();
  }
}

/** The model's state (files seen, clock) and its day stats, written in the transaction that makes its rows visible. */
export async function writeStepState(tx: TargetSession, input: MaterializeInput): Promise<void> {
  if (input.state) await writeModelState(tx, input.target.schema, input.state);
  if (input.partitionState) await writePartitionState(tx, input.target.schema, input.partitionState);
}
