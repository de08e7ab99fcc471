/**
 * Rows an engine left as Parquet (Spark writes a model's result into an output folder), ready for the
 * target: the run's DuckDB reads them, checks and casts them to the model's contract, and streams them
 * into COPY. An engine whose store is not DuckDB returns this from `ComputeSession.compute`.
 */
import type { ModelNode } from '../../manifest/types.js';
import { quoteIdent, quoteLiteral } from '../../core/sql-quote.js';
import { copyDuckToTarget } from '../duck-transfer.js';
import type { DuckSession } from '../duckdb.js';
import { enforceContract } from './contract.js';
import { duckDbTraits } from './traits.js';
import type { ComputedRows } from './types.js';

/**
 * `files`: a Parquet file, a glob (`out/model/*.parquet`) or a list of files. The view reads them lazily, at
 * load time; a file whose columns do not match the contract fails here, naming the model.
 */
export async function parquetRows(duck: DuckSession, model: ModelNode, files: string | readonly string[]): Promise<ComputedRows> {
  const list = typeof files === 'string' ? quoteLiteral(files) : `[${files.map(quoteLiteral).join(', ')}]`;
  const read = `SELECT * FROM read_parquet(${list})`;
  const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE ${read}`);
  const view = `__tm_parquet_${model.name}`;
  await duck.run(`CREATE OR REPLACE VIEW ${quoteIdent(view)} AS ${enforceContract(model, read, described.map((d) => ({ name: d.column_name, type: d.column_type })), duckDbTraits.dialect)}`);
  return {
    loadInto: (into, table) => copyDuckToTarget(duck, view, into, table, model.columns.map((c) => c.name)),
    release: () => duck.run(`DROP VIEW IF EXISTS ${quoteIdent(view)}`).catch(() => undefined),
  };
}
