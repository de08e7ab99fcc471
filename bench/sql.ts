/**
 * SQL of the floor build of the four cold marts (shared/spec/marts.md section 4): the same results
 * computed by DuckDB alone (the project's model SQL, inlined), loaded with COPY, keys built after.
 * It follows the source contract of project.yml: rows breaking a rule are dropped, copies of a
 * dedup_key collapse to the valid copy with the earliest event_ts, then the smallest file path.
 * (The dbt-postgres build of the same marts is a real dbt project: bench/peers/dbt.)
 */

export interface MartSpec {
  readonly name: string;
  /** Columns and PostgreSQL types, as in the spec's DDL (and models/cold/schema.yml). */
  readonly columns: readonly (readonly [string, string])[];
  readonly primaryKey: readonly string[];
  readonly indexes: readonly (readonly string[])[];
  /** A numeric column whose sum is compared across the builds, besides the row count. */
  readonly checksum: string;
}

export const MARTS: readonly MartSpec[] = [
  {
    name: 'mart_session_analysis',
    columns: [
      ['session_id', 'VARCHAR(50)'], ['event_date', 'DATE'], ['click_count', 'INT'], ['unique_docs', 'INT'],
      ['first_click_ts', 'TIMESTAMP'], ['last_click_ts', 'TIMESTAMP'], ['session_duration_sec', 'INT'],
    ],
    primaryKey: ['session_id', 'event_date'],
    indexes: [['event_date']],
    checksum: 'session_duration_sec',
  },
  {
    name: 'mart_daily_traffic',
    columns: [['event_date', 'DATE'], ['total_events', 'INT'], ['unique_sessions', 'INT'], ['unique_documents', 'INT'], ['peak_hour', 'INT']],
    primaryKey: ['event_date'],
    indexes: [],
    checksum: 'peak_hour',
  },
  {
    name: 'mart_clinical_areas',
    columns: [['event_date', 'DATE'], ['clinical_area', 'VARCHAR(100)'], ['search_count', 'INT'], ['unique_sessions', 'INT']],
    primaryKey: ['event_date', 'clinical_area'],
    indexes: [['event_date']],
    checksum: 'unique_sessions',
  },
  {
    name: 'mart_popular_documents',
    columns: [['event_date', 'DATE'], ['document_id', 'INT'], ['title', 'VARCHAR(500)'], ['view_count', 'INT'], ['unique_sessions', 'INT']],
    primaryKey: ['event_date', 'document_id'],
    indexes: [['event_date']],
    checksum: 'unique_sessions',
  },
];

/** `YYYY-MM-DD HH:MM:SS.fff` (UTC) for a wall clock: the `now` of the "not in the future" rule. */
export function sqlNow(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

function sq(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------------
// DuckDB side

/** Every row of the stream, typed as the source contract declares, with the file path (dedup tie-break). */
export function duckRawSql(root: string): string {
  const glob = `${root.replace(/\/$/, '')}/*/*.parquet`;
  return `SELECT CAST(dedup_key AS VARCHAR) AS dedup_key, CAST(event_ts AS TIMESTAMP) AS event_ts, CAST(event_date AS DATE) AS event_date,
       CAST(session_id AS VARCHAR) AS session_id, CAST(document_id AS BIGINT) AS document_id, CAST(url AS VARCHAR) AS url,
       CAST(title AS VARCHAR) AS title, CAST(doi AS VARCHAR) AS doi, CAST(clinical_areas AS VARCHAR) AS clinical_areas,
       CAST(keywords AS VARCHAR) AS keywords, filename AS _file
  FROM read_parquet(${sq(glob)}, hive_partitioning = true, union_by_name = true, filename = true)`;
}

/** (c) stg_events in DuckDB: contract rules, dedup, the columns the marts read (models/staging/stg_events.sql). */
export function duckStgSql(root: string, now: string): string {
  return `CREATE OR REPLACE TABLE stg_events AS
SELECT dedup_key, event_ts, event_date, session_id, CAST(document_id AS INTEGER) AS document_id, title, clinical_areas
FROM (${duckRawSql(root)}) r
WHERE dedup_key IS NOT NULL AND event_ts IS NOT NULL AND session_id IS NOT NULL AND document_id IS NOT NULL
  AND length(session_id) <= 50 AND event_date = CAST(event_ts AS DATE)
  AND event_ts <= TIMESTAMP ${sq(now)} + INTERVAL 5 MINUTE
QUALIFY row_number() OVER (PARTITION BY dedup_key ORDER BY event_ts, _file) = 1`;
}

/**
 * (c) The four results as DuckDB computes them fastest within tm's 1GB memory limit (the meanings
 * of models/cold/*.sql, in the fastest form measured): clinical areas distinct per event with
 * list_distinct rather than a global DISTINCT; popular documents in one aggregation per (day,
 * document), the title of the latest event = max of (event_ts, dedup_key, title) (10 s against 15 s
 * for aggregating per session first).
 */
export const DUCK_MART_SQL: Readonly<Record<string, string>> = {
  mart_session_analysis: `SELECT session_id, event_date, count(*) AS click_count, count(DISTINCT document_id) AS unique_docs,
  min(event_ts) AS first_click_ts, max(event_ts) AS last_click_ts,
  (epoch_us(max(event_ts)) - epoch_us(min(event_ts))) // 1000000 AS session_duration_sec
FROM stg_events GROUP BY session_id, event_date`,
  mart_daily_traffic: `WITH hourly AS (
  SELECT event_date, hour(event_ts) AS event_hour, count(*) AS events FROM stg_events GROUP BY ALL
), peak AS (
  SELECT event_date, event_hour AS peak_hour FROM hourly
  QUALIFY row_number() OVER (PARTITION BY event_date ORDER BY events DESC, event_hour ASC) = 1
), totals AS (
  SELECT event_date, count(*) AS total_events, count(DISTINCT session_id) AS unique_sessions, count(DISTINCT document_id) AS unique_documents
  FROM stg_events GROUP BY event_date
)
SELECT t.event_date, t.total_events, t.unique_sessions, t.unique_documents, p.peak_hour FROM totals t JOIN peak p USING (event_date)`,
  mart_clinical_areas: `WITH areas AS (
  -- split on ',', trim spaces, drop empty names (and names over 100 characters), each name once per event
  SELECT event_date, session_id,
         unnest(list_distinct(list_filter(list_transform(string_split(clinical_areas, ','), x -> trim(x)), x -> x <> '' AND length(x) <= 100))) AS clinical_area
  FROM stg_events
)
SELECT event_date, clinical_area, count(*) AS search_count, count(DISTINCT session_id) AS unique_sessions FROM areas GROUP BY event_date, clinical_area`,
  mart_popular_documents: `SELECT event_date, document_id, left(max(struct_pack(ts := event_ts, k := dedup_key, title := title)).title, 500) AS title,
  count(*) AS view_count, count(DISTINCT session_id) AS unique_sessions
FROM stg_events GROUP BY event_date, document_id`,
};

// ---------------------------------------------------------------------------------------------
// PostgreSQL side

/** Typed, unindexed table for a mart (the floor's load target). */
export function pgCreateTableSql(m: MartSpec): string {
  return `CREATE TABLE ${m.name} (${m.columns.map(([c, t]) => `${c} ${t}`).join(', ')})`;
}

/** The mart's key and indexes, one statement each (built after the load). */
export function pgKeySql(m: MartSpec): string[] {
  return [
    `ALTER TABLE ${m.name} ADD PRIMARY KEY (${m.primaryKey.join(', ')})`,
    ...m.indexes.map((ix, i) => `CREATE INDEX ${m.name}_ix${i} ON ${m.name} (${ix.join(', ')})`),
  ];
}
