/**
 * PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and drops the rest without an
 * error: two models whose names share those bytes would write one table, two columns one column.
 * Both are errors at load, naming the two; a model name beyond 63 bytes is one too (tm looks its
 * table up by the full name, which PostgreSQL never stored).
 */
import { TmError } from '../core/errors.js';
import { truncateBytes } from '../core/sql-quote.js';
import type { ModelNode } from '../manifest/types.js';

export const PG_NAME_BYTES = 63;

/** The name as PostgreSQL stores it. */
const pgTruncated = (name: string): string => truncateBytes(name, PG_NAME_BYTES);

export function checkIdentifierLengths(models: readonly ModelNode[]): void {
  const tables = new Map<string, ModelNode>();
  for (const m of models) {
    const stored = pgTruncated(m.name);
    const other = tables.get(stored);
    if (other) throw new TmError(`${m.path}: models '${other.name}' (${other.path}) and '${m.name}' have the same first ${PG_NAME_BYTES} bytes, all PostgreSQL keeps of a table name: they would write one table; shorten one`);
    tables.set(stored, m);
  }
  for (const m of models) {
    if (pgTruncated(m.name) !== m.name) throw new TmError(`${m.path}: model name '${m.name}' is ${Buffer.byteLength(m.name)} bytes; PostgreSQL keeps ${PG_NAME_BYTES} of a table name: shorten it`);
    const columns = new Map<string, string>();
    for (const c of m.columns) {
      const col = pgTruncated(c.name);
      const same = columns.get(col);
      if (same !== undefined) throw new TmError(`${m.path}: model '${m.name}': columns '${same}' and '${c.name}' have the same first ${PG_NAME_BYTES} bytes, all PostgreSQL keeps of a column name; rename one`);
      columns.set(col, c.name);
    }
  }
}
