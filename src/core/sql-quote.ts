/**
 * SQL quoting, one place per dialect. DuckDB and PostgreSQL share standard SQL quoting: double quotes
 * for identifiers, doubled single quotes for literals. The literal form is only safe in PostgreSQL with
 * `standard_conforming_strings = on`, which every tm session sets (core/session-settings.ts).
 */

/** Quotes an identifier for DuckDB and PostgreSQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for DuckDB and PostgreSQL. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `"schema"."name"` for DuckDB and PostgreSQL. */
export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** The longest prefix of `name` within `maxBytes` bytes of UTF-8, cut on a character boundary (as PostgreSQL truncates names). */
export function truncateBytes(name: string, maxBytes: number): string {
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
}

/**
 * A file path as a DuckDB string literal naming exactly that file. DuckDB's file readers take every
 * path as a glob pattern: `x*.parquet` would read every `x...` file (also ones tm skips), so the glob
 * characters are escaped as one-character classes (`[*]`, `[?]`, `[[]`).
 */
export function quoteFilePath(file: string): string {
  return quoteLiteral(/[*?[]/.test(file) ? file.replace(/[*?[]/g, (c) => `[${c}]`) : file);
}
