import { TmError } from '../../core/errors.js';
import type { ModelNode } from '../../manifest/types.js';
import type { SqlDialect } from './types.js';

/**
 * Wraps a model's query so its output has exactly the contract's columns, cast to the declared types in
 * the engine's dialect. DuckDB's CAST fails on overflow (a BIGINT count that does not fit INT), so nothing
 * wraps silently.
 */
export function enforceContract(model: ModelNode, sql: string, actualColumns: readonly string[], dialect: SqlDialect): string {
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
  const q = dialect.quoteIdent;
  const casts = model.columns.map((c) => `CAST(${q(c.name)} AS ${dialect.typeFor(c.type)}) AS ${q(c.name)}`);
  return `SELECT ${casts.join(', ')}\nFROM (\n${sql}\n) AS __tm_model`;
}
