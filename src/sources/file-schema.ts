import type { SqlSession } from '../engines/compute/types.js';
import { quoteFilePath } from '../core/sql-quote.js';
import type { SourceColumn } from '../manifest/types.js';
import type { ParquetColumn, SchemaMemo } from './schema-memo.js';
import type { ListedFile } from './types.js';

/** Coarse type families: a file may store a timestamp in ms or µs, an integer in 32 or 64 bits. */
export type TypeFamily = 'string' | 'integer' | 'float' | 'decimal' | 'timestamp' | 'date' | 'boolean' | 'other';

export function familyOfDeclared(type: string): TypeFamily {
  const t = type.toUpperCase();
  if (/^(VARCHAR|TEXT|STRING|CHAR)/.test(t)) return 'string';
  if (/^(TINYINT|SMALLINT|INT|INTEGER|BIGINT|HUGEINT|UBIGINT|UINTEGER)/.test(t)) return 'integer';
  if (/^(DOUBLE|FLOAT|REAL)/.test(t)) return 'float';
  if (/^(DECIMAL|NUMERIC)/.test(t)) return 'decimal';
  if (/^TIMESTAMP/.test(t)) return 'timestamp';
  if (t === 'DATE') return 'date';
  if (/^BOOL/.test(t)) return 'boolean';
  return 'other';
}

function familyOfParquet(c: ParquetColumn): TypeFamily {
  const logical = (c.logical_type ?? '').toUpperCase();
  const converted = (c.converted_type ?? '').toUpperCase();
  if (logical.includes('TIMESTAMP') || converted.startsWith('TIMESTAMP') || c.type === 'INT96') return 'timestamp';
  if (logical.includes('DATE') || converted === 'DATE') return 'date';
  if (logical.includes('DECIMAL') || converted === 'DECIMAL') return 'decimal';
  if (c.type === 'BYTE_ARRAY' || c.type === 'FIXED_LEN_BYTE_ARRAY') return logical.includes('STRING') || converted === 'UTF8' || converted === 'ENUM' || logical.includes('UTF8') ? 'string' : 'other';
  if (c.type === 'INT32' || c.type === 'INT64') return 'integer';
  if (c.type === 'FLOAT' || c.type === 'DOUBLE') return 'float';
  if (c.type === 'BOOLEAN') return 'boolean';
  return 'other';
}

export interface FileCheck {
  readonly path: string;
  /** Why the file cannot be used; undefined when it is fine. */
  readonly problem?: string;
  /** Columns the file has (by name). */
  readonly columns: ReadonlySet<string>;
}

/**
 * Checks each file's Parquet schema against the declared columns: readable, required columns present,
 * compatible types. One query for all files; per file only when that query fails (a corrupt file).
 * With a memo (`files` give the paths' identities, in the same order), schemas read before are not read again.
 */
export async function checkFileSchemas(
  duck: SqlSession,
  paths: readonly string[],
  columns: readonly SourceColumn[],
  partitionColumns: ReadonlySet<string>,
  memo?: { readonly schemas: SchemaMemo; readonly files: readonly ListedFile[] },
): Promise<FileCheck[]> {
  if (paths.length === 0) return [];
  const byFile = new Map<string, ParquetColumn[]>();
  const unreadable = new Map<string, string>();
  const known = new Map(paths.flatMap((p, i) => {
    const cols = memo?.schemas.get(memo.files[i]);
    return cols ? [[p, cols] as const] : [];
  }));
  const readSchemas = async (batch: readonly string[]) => {
    const rows = await duck.all<ParquetColumn & { file_name: string }>(
      `SELECT file_name, name, type, converted_type, logical_type::VARCHAR AS logical_type FROM parquet_schema([${batch.map(quoteFilePath).join(', ')}])`,
    );
    for (const { file_name, ...column } of rows) {
      const list = byFile.get(file_name) ?? [];
      list.push(column);
      byFile.set(file_name, list);
    }
  };
  const toRead = paths.filter((p) => !known.has(p));
  try {
    if (toRead.length) await readSchemas(toRead);
  } catch {
    for (const p of toRead) {
      try {
        await readSchemas([p]);
      } catch (err) {
        unreadable.set(p, firstLine((err as Error).message));
      }
    }
  }
  return paths.map((p, i) => {
    const reason = unreadable.get(p);
    if (reason !== undefined) return { path: p, problem: `cannot read Parquet: ${reason}`, columns: new Set<string>() };
    const schema = known.get(p) ?? byFile.get(p) ?? [];
    if (memo && !known.has(p)) memo.schemas.set(memo.files[i], schema);
    return checkColumns(p, schema, columns, partitionColumns);
  });
}

function checkColumns(p: string, schema: readonly ParquetColumn[], columns: readonly SourceColumn[], partitionColumns: ReadonlySet<string>): FileCheck {
  const cols = new Map(schema.filter((c) => c.name !== 'duckdb_schema' && c.name !== 'schema').map((c) => [c.name, c]));
  for (const col of columns) {
    if (partitionColumns.has(col.name)) continue;
    const found = cols.get(col.name);
    if (!found) {
      if (col.required) return { path: p, problem: `required column '${col.name}' is missing`, columns: new Set(cols.keys()) };
      continue;
    }
    const want = familyOfDeclared(col.type);
    const have = familyOfParquet(found);
    const compatible = want === have || want === 'other' || (want === 'float' && (have === 'integer' || have === 'decimal')) || (want === 'decimal' && have === 'integer');
    if (!compatible) {
      return { path: p, problem: `column '${col.name}' is ${have} (${found.type}${found.converted_type ? `/${found.converted_type}` : ''}), expected ${col.type}`, columns: new Set(cols.keys()) };
    }
  }
  return { path: p, columns: new Set(cols.keys()) };
}

export function firstLine(message: string): string {
  return message.split('\n')[0].replace(/^(IO|Invalid Input|Conversion|Binder|Parser) Error: /, '');
}
