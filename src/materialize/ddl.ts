import { createHash } from 'node:crypto';
import { quoteIdent, quoteLiteral, truncateBytes } from '../core/sql-quote.js';
import type { TargetSession } from '../engines/target.js';
import type { ModelNode } from '../manifest/types.js';

/** PostgreSQL cuts identifiers at 63 bytes: keep names unique by ending long ones with a hash. */
export function pgName(name: string): string {
  if (Buffer.byteLength(name) <= 63) return name;
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 8);
  // 54 bytes (cut on a character boundary) + `_` + 8 hex digits = 63.
  return `${truncateBytes(name, 54)}_${hash}`;
}

export function primaryKeyName(table: string): string {
  return pgName(`${table}_pkey`);
}

export function indexName(table: string, columns: readonly string[], unique = false): string {
  return pgName(`${table}__${columns.join('_')}${unique ? '_uidx' : '_idx'}`);
}

/** Columns from the model's contract; key columns are NOT NULL so that a primary key can be added without a scan. */
export function columnDefinitions(model: ModelNode): string {
  const keys = new Set([...model.primaryKey, ...(model.config.unique_key ?? [])]);
  return model.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${keys.has(c.name) ? ' NOT NULL' : ''}`).join(',\n  ');
}

export function createTableSql(table: string, model: ModelNode, options: { unlogged?: boolean; withKey?: boolean; tableName?: string } = {}): string {
  const key = options.withKey && model.primaryKey.length
    ? `,\n  CONSTRAINT ${quoteIdent(primaryKeyName(options.tableName ?? ''))} PRIMARY KEY (${model.primaryKey.map(quoteIdent).join(', ')})`
    : '';
  return `CREATE ${options.unlogged ? 'UNLOGGED ' : ''}TABLE ${table} (\n  ${columnDefinitions(model)}${key}\n)`;
}

/** Descriptions from YAML become table and column comments, so dashboard users see them. */
export function commentSql(table: string, model: ModelNode): string[] {
  const out: string[] = [];
  if (model.description) out.push(`COMMENT ON TABLE ${table} IS ${quoteLiteral(model.description)}`);
  for (const c of model.columns) {
    if (c.description) out.push(`COMMENT ON COLUMN ${table}.${quoteIdent(c.name)} IS ${quoteLiteral(c.description)}`);
  }
  return out;
}

export async function tableExists(session: TargetSession, schema: string, name: string): Promise<boolean> {
  const rows = await session.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')) AS ok`,
    [schema, name],
  );
  return rows[0]?.ok === true;
}

/**
 * Creates the schema when missing. IF NOT EXISTS alone races (two sessions both insert into
 * pg_namespace: 23505): the check comes first, so inside a transaction (where an error would abort it)
 * nothing is tried when the schema is there, and outside one a concurrent creation is no error.
 */
export async function ensureSchema(session: TargetSession, schema: string, options: { inTransaction?: boolean } = {}): Promise<void> {
  const [row] = await session.query<{ ok: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS ok`, [schema]);
  if (row?.ok) return;
  try {
    await session.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (err) {
    if (options.inTransaction || !['23505', '42P06'].includes((err as { code?: string }).code ?? '')) throw err;
  }
}
