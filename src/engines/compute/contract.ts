import { TmError } from '../../core/errors.js';
import type { ModelNode } from '../../manifest/types.js';
import type { DescribedColumn, SqlDialect } from './types.js';

/**
 * Wraps a model's query so its output has exactly the contract's columns, cast to the declared types in
 * the engine's dialect without losing a value (lossless-cast.ts): a value that does not fit fails the query,
 * before any write.
 */
export function enforceContract(model: ModelNode, sql: string, described: readonly DescribedColumn[], dialect: SqlDialect): string {
  const actualColumns = described.map((d) => d.name);
  const typeOf = new Map(described.map((d) => [d.name, d.type]));
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
  const casts = model.columns.map((c) => `${dialect.castToContract(c.name, typeOf.get(c.name) ?? '', c.type)} AS ${dialect.quoteIdent(c.name)}`);
  return `SELECT ${casts.join(', ')}\nFROM (\n${sql}\n) AS __tm_model`;
}
