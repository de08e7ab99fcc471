import { quoteIdent } from '../core/sql-quote.js';
import { TmError } from '../core/errors.js';
import type { ModelNode } from '../manifest/types.js';
import { duckTypeFor } from '../engines/type-map.js';
import { losslessCast } from './contract-check.js';

/** A column of the model's query, as DuckDB's DESCRIBE names it. */
export interface DescribedColumn {
  readonly column_name: string;
  readonly column_type: string;
}

/**
 * Wraps a model's query so its output has exactly the contract's columns, cast to the declared types
 * without losing a value (contract-check.ts): a value that does not fit fails the query, before any write.
 */
export function enforceContract(model: ModelNode, sql: string, described: readonly DescribedColumn[]): string {
  const actualColumns = described.map((d) => d.column_name);
  const typeOf = new Map(described.map((d) => [d.column_name, d.column_type]));
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
  const casts = model.columns.map((c) => `${losslessCast(c.name, typeOf.get(c.name) ?? '', c.type, duckTypeFor(c.type))} AS ${quoteIdent(c.name)}`);
  return `SELECT ${casts.join(', ')}\nFROM (\n${sql}\n) AS __tm_model`;
}
