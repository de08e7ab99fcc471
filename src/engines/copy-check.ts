/**
 * Rows into PostgreSQL arrive as CSV that DuckDB writes and COPY FROM reads. Two rules keep that
 * exact: every text value is quoted (an unquoted `\.` alone on a line is PostgreSQL's end-of-data
 * marker, which would end the COPY early and silently), and the rows COPY loaded are compared with
 * the rows DuckDB wrote, so a difference fails the load before anything is swapped in. One documented
 * change: NUL characters, which PostgreSQL text cannot hold, are removed from text values.
 */
import { TmError, EXIT_FAILED } from '../core/errors.js';
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';

/** The part of a DuckDB session this needs (engines/duckdb.ts). */
interface DuckRows {
  all<R = Record<string, unknown>>(sql: string): Promise<R[]>;
}

/** Types whose CSV text can never be `\.` (numbers, booleans, times, UUIDs): left unquoted, which is cheaper to write and parse. */
const NEVER_TEXT = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*|BOOLEAN|DATE|TIME.*|TIMESTAMP.*|INTERVAL|UUID)$/;

/**
 * `COPY source TO dest` as headerless CSV, every value of a text-like column quoted (NULL stays an
 * empty unquoted field, which PostgreSQL reads as NULL; `""` stays the empty string). `source` is a
 * quoted table name or a parenthesized query. `chunked` writes files of bounded size into the folder
 * `dest`. Returns the rows written.
 */
export async function writeDuckCsv(duck: DuckRows, source: string, dest: string, chunked: boolean): Promise<number> {
  const columns = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
  const quoted = columns.filter((c) => !NEVER_TEXT.test(c.column_type)).map((c) => quoteIdent(c.column_name));
  const force = quoted.length ? `, FORCE_QUOTE (${quoted.join(', ')})` : '';
  const options = `FORMAT csv, HEADER false${force}${chunked ? `, FILE_SIZE_BYTES '32MB', OVERWRITE` : ', USE_TMP_FILE false'}`;
  // PostgreSQL text cannot hold a NUL character (a lake file can): it is removed from text values on the way in.
  const text = columns.filter((c) => c.column_type === 'VARCHAR').map((c) => quoteIdent(c.column_name));
  const from = text.length ? `(SELECT * REPLACE (${text.map((c) => `replace(${c}, chr(0), '') AS ${c}`).join(', ')}) FROM ${source})` : source;
  const rows = await duck.all<{ Count: string | number }>(`COPY ${from} TO ${quoteLiteral(dest)} (${options})`);
  return Number(rows[0]?.Count ?? 0);
}

/** Throws when COPY loaded another number of rows than were written; returns the rows loaded. */
export function checkCopiedRows(written: number, loaded: number, table: string, model: string | undefined): number {
  if (written === loaded) return loaded;
  const who = model ? `model '${model}'` : table;
  throw new TmError(`${who}: COPY into the target loaded ${loaded} of the ${written} rows computed; nothing was swapped in or applied`, EXIT_FAILED);
}
