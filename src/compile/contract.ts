import { quoteIdent } from '../core/sql-quote.js';
import { TmError } from '../core/errors.js';
import type { ModelNode } from '../manifest/types.js';
import { duckTypeFor } from '../engines/type-map.js';

/**
 * Wraps a model's query so its output has exactly the contract's columns, cast to the declared types.
 * DuckDB's CAST fails on overflow (a BIGINT count that does not fit INT), so nothing wraps silently.
 */
export function enforceContract(model: ModelNode, sql: string, actualColumns: readonly string[]): string {
  const declared = model.columns.map((c) => c.name);
  const missing = declared.filter((c) => !actualColumns.includes(c));
  const extra = actualColumns.filter((c) => !declared.includes(c));
  if (missing.length || extra.length) {
    const parts = [
      missing.length ? `missing ${missing.map((c) => `'${c}'`).join(', ')}` : '',
      extra.length ? `not in the contract ${extra.map((c) => `'${c}'`).join(', ')}` : '',
    ].filter(Boolean);
    throw new TmError(`model '${model.name}' (${model.path}): output columns do not match its contract: ${parts.join('; ')} (declared in ${model.yamlPath ?? 'its YAML'})`, 1);
  }
  const casts = model.columns.map((c) => `CAST(${quoteIdent(c.name)} AS ${duckTypeFor(c.type)}) AS ${quoteIdent(c.name)}`);
  return `SELECT ${casts.join(', ')}\nFROM (\n${sql}\n) AS __tm_model`;
}
