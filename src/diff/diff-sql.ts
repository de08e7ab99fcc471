import { quoteIdent } from '../core/sql-quote.js';

/**
 * One statement that compares two relations of one PostgreSQL database, matched on a key, and returns
 * a single JSON value: row counts, rows only on either side, changed rows, per column how many values
 * changed with a few examples, and (for a partition-aware model) the same per day, for the days that
 * differ. Only the differing rows are kept (a MATERIALIZED CTE, in the server); JavaScript receives
 * the counts and the examples.
 */
export interface DiffQuery {
  /** `"schema"."name"` of the relation in this target, and in the target compared with. */
  readonly here: string;
  readonly there: string;
  readonly key: readonly string[];
  /** Columns present on both sides, besides the key. */
  readonly columns: readonly string[];
  /** Key or compared columns whose types differ between the sides: compared as text. */
  readonly asText: ReadonlySet<string>;
  /** The model's day column (partition-aware models): counts per day. */
  readonly dayColumn?: string;
  /** Examples per column (and of keys only on one side). */
  readonly examples: number;
}

/** The JSON the statement returns. */
export interface DiffCounts {
  readonly rows_here: number;
  readonly rows_there: number;
  readonly totals: Counts;
  readonly days: readonly (Counts & { readonly day: string })[] | null;
  /** Per compared column (by position), examples of changed values. */
  readonly examples: Readonly<Record<string, readonly { readonly key: readonly unknown[]; readonly here: unknown; readonly there: unknown }[] | null>>;
  readonly only_here_keys: readonly (readonly unknown[])[] | null;
  readonly only_there_keys: readonly (readonly unknown[])[] | null;
}

export interface Counts {
  readonly only_here: number;
  readonly only_there: number;
  readonly changed: number;
  /** Per compared column, by position (`c0`, `c1`...): values changed in matched rows. */
  readonly [column: `c${number}`]: number;
}

export function diffSql(q: DiffQuery): string {
  const cast = (name: string, side: 'h' | 't') => `${side}.${quoteIdent(name)}${q.asText.has(name) ? '::text' : ''}`;
  const keys = q.key.map((k, i) => `COALESCE(${cast(k, 'h')}, ${cast(k, 't')}) AS k${i}`);
  const join = q.key.map((k) => `${cast(k, 'h')} = ${cast(k, 't')}`).join(' AND ');
  const differs = q.columns.map((c) => `${cast(c, 'h')} IS DISTINCT FROM ${cast(c, 't')}`);
  const day = q.dayColumn === undefined ? [] : [`COALESCE(h.${quoteIdent(q.dayColumn)}, t.${quoteIdent(q.dayColumn)})::text AS day`];
  const keyList = q.key.map((_, i) => `k${i}`).join(', ');
  const matched = 'NOT only_here AND NOT only_there';
  const counts = [
    'count(*) FILTER (WHERE only_here) AS only_here',
    'count(*) FILTER (WHERE only_there) AS only_there',
    `count(*) FILTER (WHERE ${matched}) AS changed`,
    ...q.columns.map((_, i) => `count(*) FILTER (WHERE d${i} AND ${matched}) AS c${i}`),
  ].join(', ');
  // A VALUES list, not json_build_object: a function takes at most 100 arguments, a table may have more columns.
  const examples = q.columns.map(
    (_, i) => `('c${i}', (SELECT json_agg(json_build_object('key', json_build_array(${keyList}), 'here', h${i}, 'there', t${i})) FROM (SELECT * FROM d WHERE d${i} AND ${matched} ORDER BY ${keyList} LIMIT ${q.examples}) x))`,
  );
  const sideKeys = (flag: string) => `(SELECT json_agg(json_build_array(${keyList})) FROM (SELECT ${keyList} FROM d WHERE ${flag} ORDER BY ${keyList} LIMIT ${q.examples}) x)`;
  const present = (relation: string) => `(SELECT *, true AS "__tm_present" FROM ${relation})`;
  return `WITH d AS MATERIALIZED (
  SELECT ${[...keys, ...day, 'h."__tm_present" IS NULL AS only_there', 't."__tm_present" IS NULL AS only_here',
    ...q.columns.flatMap((c, i) => [`h.${quoteIdent(c)} AS h${i}`, `t.${quoteIdent(c)} AS t${i}`, `${differs[i]} AS d${i}`])].join(',\n    ')}
  FROM ${present(q.here)} h FULL JOIN ${present(q.there)} t ON ${join}
  WHERE ${['h."__tm_present" IS NULL', 't."__tm_present" IS NULL', ...differs].join(' OR ')}
)
SELECT json_build_object(
  'rows_here', (SELECT count(*) FROM ${q.here}),
  'rows_there', (SELECT count(*) FROM ${q.there}),
  'totals', (SELECT row_to_json(a) FROM (SELECT ${counts} FROM d) a),
  'days', ${q.dayColumn === undefined ? 'NULL' : `(SELECT json_agg(a ORDER BY a.day) FROM (SELECT day, ${counts} FROM d GROUP BY day) a)`},
  'examples', ${examples.length ? `(SELECT json_object_agg(name, ex) FROM (VALUES ${examples.join(',\n    ')}) v(name, ex))` : `'{}'::json`},
  'only_here_keys', ${sideKeys('only_here')},
  'only_there_keys', ${sideKeys('only_there')}
) AS result`;
}
