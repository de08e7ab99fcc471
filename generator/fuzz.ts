/**
 * A fuzzed curated stream: good files among many kinds of broken ones, for the fault tests and the
 * fuzz bench. Each file's kind is known, so a test can say what a run must do with it:
 *
 * - good files (`good`, `extra_columns`, `huge_strings`, `duplicated_keys`): their valid rows count,
 *   exactly once (`duplicated_keys` repeats keys of other good files, identical copies);
 * - unreadable files (`truncated`, `random_bytes`, `zero_length`, `wrong_types`, `missing_column`,
 *   `nan_infinity`, `non_utf8`): skipped, one line each naming the file and why;
 * - rule-breaking files (`nulls_everywhere`, `year_1`, `year_9999`): readable, every row excluded
 *   by a contract rule and quarantined.
 *
 * Files go to `<out>/event_date=YYYY-MM-DD/<kind>-NNNN.parquet`. Written with DuckDB, one COPY each.
 */
import { mkdir, open, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from './parquet-writer.js';
import { mulberry32 } from './random.js';

export const GOOD_KINDS = ['good', 'extra_columns', 'huge_strings', 'duplicated_keys'] as const;
export const UNREADABLE_KINDS = ['truncated', 'random_bytes', 'zero_length', 'wrong_types', 'missing_column', 'nan_infinity', 'non_utf8'] as const;
export const RULE_BREAKING_KINDS = ['nulls_everywhere', 'year_1', 'year_9999'] as const;
export type FuzzKind = (typeof GOOD_KINDS)[number] | (typeof UNREADABLE_KINDS)[number] | (typeof RULE_BREAKING_KINDS)[number];

export interface FuzzFile {
  readonly path: string;
  readonly day: string;
  readonly kind: FuzzKind;
  /** Rows written (0 for files that are not Parquet). */
  readonly rows: number;
}

export interface FuzzOptions {
  readonly out: string;
  /** Good files (about a third of them `duplicated_keys`, `extra_columns` or `huge_strings`). */
  readonly goodFiles: number;
  /** Broken files, spread over the unreadable and rule-breaking kinds. */
  readonly badFiles: number;
  /** Days the files spread over, from `firstDay`. */
  readonly days?: number;
  readonly firstDay?: string;
  readonly rowsPerFile?: number;
  readonly seed?: number;
  /** Broken kinds to write (default: every one). */
  readonly badKinds?: readonly FuzzKind[];
}

const COLUMNS = "dedup_key, event_ts, session_id, document_id, url, title, doi, clinical_areas, keywords";

function dayOf(first: string, offset: number): string {
  return new Date(Date.parse(`${first}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
}

/** Writes the stream; returns every file with its kind. */
export async function generateFuzzStream(options: FuzzOptions): Promise<FuzzFile[]> {
  const rnd = mulberry32(options.seed ?? 7);
  const days = options.days ?? 3;
  const firstDay = options.firstDay ?? '2020-03-01';
  const perFile = options.rowsPerFile ?? 20;
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await instance.connect();
  await con.run("SET TimeZone='UTC'");
  const files: FuzzFile[] = [];
  let seq = 0;
  /** Keys of good files, some repeated by `duplicated_keys` files (identical rows). */
  const goodRowsSql: { day: string; sql: string }[] = [];
  const write = async (kind: FuzzKind, day: string, select: string, rows: number) => {
    const dir = path.join(options.out, `event_date=${day}`);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${kind}-${String(seq++).padStart(5, '0')}.parquet`);
    if (select) await con.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION uncompressed)`);
    files.push({ path: file, day, kind, rows });
    return file;
  };
  /** `n` valid events of `day`, keys `<prefix>-<i>`, document and session from the row number. */
  const events = (day: string, prefix: string, n: number, extra = '', title = "'Document ' || (i % 17)") => `
    SELECT '${prefix}-' || i AS dedup_key, TIMESTAMP '${day} 00:00:00' + to_seconds(((i * 7919) % 86000)::BIGINT) AS event_ts,
      's' || (i % 13) AS session_id, CAST(1 + (i % 17) AS INTEGER) AS document_id, '' AS url, ${title} AS title, '' AS doi,
      CASE i % 3 WHEN 0 THEN 'Cardiology' WHEN 1 THEN ' Oncology ,Surgery' ELSE NULL END AS clinical_areas, '' AS keywords${extra}
    FROM range(${n}) t(i)`;

  for (let g = 0; g < options.goodFiles; g++) {
    const day = dayOf(firstDay, Math.floor(rnd() * days));
    const pick = rnd();
    if (pick < 0.1 && goodRowsSql.length) {
      // Rows of up to three earlier good files again: the same events, delivered twice.
      const copies = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => goodRowsSql[Math.floor(rnd() * goodRowsSql.length)]);
      const source = copies[0];
      await write('duplicated_keys', source.day, `SELECT * FROM (${copies.filter((c) => c.day === source.day).map((c) => c.sql).join(' UNION ALL ')})`, perFile);
      continue;
    }
    const prefix = `g${g}`;
    if (pick < 0.2) {
      await write('extra_columns', day, events(day, prefix, perFile, ", 42 AS extra_number, 'x' AS extra_text"), perFile);
    } else if (pick < 0.25) {
      await write('huge_strings', day, events(day, prefix, perFile, '', "repeat('T', 200000)"), perFile);
    } else {
      const sql = events(day, prefix, perFile);
      await write('good', day, sql, perFile);
      goodRowsSql.push({ day, sql });
    }
  }

  const kinds = options.badKinds ?? [...UNREADABLE_KINDS, ...RULE_BREAKING_KINDS];
  for (let b = 0; b < options.badFiles; b++) {
    const kind = kinds[b % kinds.length];
    const day = dayOf(firstDay, Math.floor(rnd() * days));
    const prefix = `b${b}`;
    switch (kind) {
      case 'truncated': {
        const file = await write(kind, day, events(day, prefix, perFile), 0);
        const size = (await readFile(file)).length;
        await truncate(file, Math.max(1, Math.floor(size * (0.2 + 0.6 * rnd()))));
        break;
      }
      case 'random_bytes': {
        const file = await write(kind, day, '', 0);
        await writeFile(file, Buffer.from(Array.from({ length: 64 + Math.floor(rnd() * 4000) }, () => Math.floor(rnd() * 256))));
        break;
      }
      case 'zero_length':
        await writeFile(await write(kind, day, '', 0), '');
        break;
      case 'wrong_types':
        await write(kind, day, `SELECT dedup_key, CAST(event_ts AS VARCHAR) AS event_ts, session_id, 'doc-' || document_id AS document_id, url, title, doi, clinical_areas, keywords FROM (${events(day, prefix, perFile)})`, 0);
        break;
      case 'missing_column':
        await write(kind, day, `SELECT dedup_key, event_ts, document_id, url, title, doi, clinical_areas, keywords FROM (${events(day, prefix, perFile)})`, 0);
        break;
      case 'nan_infinity':
        await write(kind, day, `SELECT dedup_key, event_ts, session_id, CASE WHEN document_id % 2 = 0 THEN 'NaN'::DOUBLE ELSE 'Infinity'::DOUBLE END AS document_id, url, title, doi, clinical_areas, keywords FROM (${events(day, prefix, perFile)})`, 0);
        break;
      case 'non_utf8': {
        // A marker string written plainly (uncompressed), then overwritten in place with bytes that are not UTF-8.
        const file = await write(kind, day, events(day, prefix, perFile, '', "'ZZZZZZZZ'"), 0);
        const bytes = await readFile(file);
        const marker = Buffer.from('ZZZZZZZZ');
        for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + marker.length)) Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28]).copy(bytes, at);
        const handle = await open(file, 'w');
        await handle.write(bytes);
        await handle.close();
        break;
      }
      case 'nulls_everywhere':
        await write(kind, day, `SELECT ${COLUMNS.split(', ').map((c) => `CAST(NULL AS ${c === 'event_ts' ? 'TIMESTAMP' : c === 'document_id' ? 'INTEGER' : 'VARCHAR'}) AS ${c}`).join(', ')} FROM range(${perFile})`, perFile);
        break;
      case 'year_1':
        await write(kind, day, `SELECT dedup_key, TIMESTAMP '0001-01-01 00:00:00' + to_seconds(i) AS event_ts, session_id, document_id, url, title, doi, clinical_areas, keywords FROM (SELECT *, row_number() OVER () AS i FROM (${events(day, prefix, perFile)}))`, perFile);
        break;
      case 'year_9999':
        await write(kind, day, `SELECT dedup_key, TIMESTAMP '9999-12-31 00:00:00' AS event_ts, session_id, document_id, url, title, doi, clinical_areas, keywords FROM (${events(day, prefix, perFile)})`, perFile);
        break;
      default:
        throw new Error(`not a broken kind: ${kind}`);
    }
  }
  con.closeSync();
  instance.closeSync();
  return files;
}
