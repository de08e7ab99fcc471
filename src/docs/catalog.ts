import { qualified, type TargetSession } from '../engines/target.js';
import type { Freshness } from '../state/freshness.js';

export const CATALOG_SCHEMA = 'tm/catalog/v1';

/** A column as the database has it. */
export interface CatalogColumn {
  readonly name: string;
  /** `format_type` of the column: `integer`, `character varying(20)`, `numeric(12,2)`... */
  readonly type: string;
  readonly position: number;
  readonly nullable: boolean;
}

/** One relation of the target schema. */
export interface CatalogRelation {
  readonly schema: string;
  readonly name: string;
  readonly type: 'table' | 'view' | 'materialized view' | 'partitioned table' | 'foreign table';
  /** The manifest node the relation belongs to (`model.<project>.<name>`), null for other relations. */
  readonly node: string | null;
  readonly columns: readonly CatalogColumn[];
  /** `count(*)`: exact, not the planner's estimate. */
  readonly row_count: number;
  /** `pg_total_relation_size`: table, indexes and TOAST. */
  readonly size_bytes: number;
  readonly size: string;
}

const RELATION_TYPES: Readonly<Record<string, CatalogRelation['type']>> = {
  r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table',
};

/**
 * Reads the relations of `schema` that belong to the project's nodes from pg_catalog (the same on
 * PostgreSQL and PGlite): columns with their types as the database has them, an exact row count and
 * the size on disk. Other tables of the schema are not tm's to count (nor to show).
 */
export async function readCatalog(session: TargetSession, schema: string, nodeOf: (relation: string) => string | null): Promise<CatalogRelation[]> {
  const relations = await session.query<{ name: string; kind: string; size_bytes: string | number; size: string }>(
    `SELECT c.relname AS name, c.relkind::text AS kind, pg_total_relation_size(c.oid) AS size_bytes, pg_size_pretty(pg_total_relation_size(c.oid)) AS size
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     ORDER BY c.relname`,
    [schema],
  );
  const columns = await session.query<{ rel: string; name: string; type: string; position: number; nullable: boolean }>(
    `SELECT c.relname AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnum AS position, NOT a.attnotnull AS nullable
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const out: CatalogRelation[] = [];
  for (const r of relations) {
    const node = nodeOf(r.name);
    if (node === null) continue;
    const [count] = await session.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${qualified(schema, r.name)}`);
    out.push({
      schema,
      name: r.name,
      type: RELATION_TYPES[r.kind] ?? 'table',
      node,
      columns: columns.filter((c) => c.rel === r.name).map((c) => ({ name: c.name, type: c.type, position: Number(c.position), nullable: c.nullable })),
      row_count: Number(count.n),
      size_bytes: Number(r.size_bytes),
      size: r.size,
    });
  }
  return out;
}

/** `target/catalog.json`: the target's relations as the database has them, and model freshness. */
export interface Catalog {
  readonly metadata: { readonly schema: string; readonly generated_at: string; readonly target: string; readonly database_schema: string };
  readonly relations: Readonly<Record<string, CatalogRelation>>;
  /** Per model name with an SLA or incremental state: freshness when the catalog was read. */
  readonly freshness: Readonly<Record<string, Freshness>>;
}
