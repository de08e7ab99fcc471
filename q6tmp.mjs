import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';
import { duckRawSql, sqlNow } from './dist/bench/sql.js';
rmSync('/tmp/q6.duckdb', { force: true });
const i = await DuckDBInstance.create('/tmp/q6.duckdb', { memory_limit: '1GB', preserve_insertion_order: 'false', temp_directory: '/tmp/q4duck' });
const c = await i.connect(); await c.run("SET TimeZone='UTC'");
const now = sqlNow(new Date());
const root = '/work/benchdata/tripclick';
const valid = `SELECT dedup_key, event_ts, event_date, session_id, CAST(document_id AS INTEGER) AS document_id, title, clinical_areas, _file
 FROM (SELECT dedup_key, event_ts, event_date, session_id, document_id, title, clinical_areas, filename AS _file FROM read_parquet('${root}/*/*.parquet', hive_partitioning = true, union_by_name = true, filename = true))
 WHERE dedup_key IS NOT NULL AND event_ts IS NOT NULL AND session_id IS NOT NULL AND document_id IS NOT NULL AND length(session_id) <= 50 AND event_date = CAST(event_ts AS DATE) AND event_ts <= TIMESTAMP '${now}' + INTERVAL 5 MINUTE`;
const steps = {
  stg_window: `CREATE OR REPLACE TABLE stg_a AS SELECT * EXCLUDE (_file) FROM (${valid}) QUALIFY row_number() OVER (PARTITION BY dedup_key ORDER BY event_ts, _file) = 1`,
  stg_twopass: `CREATE OR REPLACE TABLE stg_events AS WITH v AS (${valid}), d AS (SELECT dedup_key FROM v GROUP BY dedup_key HAVING count(*) > 1)
     SELECT * EXCLUDE (_file) FROM v ANTI JOIN d USING (dedup_key)
     UNION ALL
     SELECT * EXCLUDE (_file) FROM (SELECT v.* FROM v SEMI JOIN d USING (dedup_key)) QUALIFY row_number() OVER (PARTITION BY dedup_key ORDER BY event_ts, _file) = 1`,
  cnt: `SELECT (SELECT count(*) FROM stg_a), (SELECT count(*) FROM stg_events), (SELECT count(*) FROM (SELECT * FROM stg_a EXCEPT SELECT * FROM stg_events))`,
  session: `COPY (WITH s AS (SELECT session_id, event_date, document_id, count(*) AS n, min(event_ts) AS f, max(event_ts) AS l FROM stg_events GROUP BY ALL)
     SELECT session_id, event_date, sum(n)::INTEGER AS click_count, count(*) AS unique_docs, min(f) AS first_click_ts, max(l) AS last_click_ts, (epoch_us(max(l)) - epoch_us(min(f))) // 1000000 AS session_duration_sec FROM s GROUP BY session_id, event_date) TO '/tmp/q6-s.csv' (FORMAT csv)`,
  session_model: `COPY (SELECT session_id, event_date, count(*) AS click_count, count(DISTINCT document_id) AS unique_docs, min(event_ts), max(event_ts), (epoch_us(max(event_ts)) - epoch_us(min(event_ts))) // 1000000 FROM stg_events GROUP BY session_id, event_date) TO '/tmp/q6-s2.csv' (FORMAT csv)`,
  clinical: `COPY (WITH a AS (SELECT event_date, session_id, unnest(list_distinct(list_filter(list_transform(string_split(clinical_areas, ','), x -> trim(x)), x -> x <> '' AND length(x) <= 100))) AS clinical_area FROM stg_events),
     s AS (SELECT event_date, clinical_area, session_id, count(*) AS n FROM a GROUP BY ALL)
     SELECT event_date, clinical_area, sum(n)::INTEGER AS search_count, count(*) AS unique_sessions FROM s GROUP BY event_date, clinical_area) TO '/tmp/q6-c.csv' (FORMAT csv)`,
  popular: `COPY (WITH s AS (SELECT event_date, document_id, session_id, count(*) AS n, max(struct_pack(ts := event_ts, k := dedup_key, title := title)) AS latest FROM stg_events GROUP BY ALL)
     SELECT event_date, document_id, left(max(latest).title, 500) AS title, sum(n)::INTEGER AS view_count, count(*) AS unique_sessions FROM s GROUP BY event_date, document_id) TO '/tmp/q6-p.csv' (FORMAT csv)`,
};
for (const [k, q] of Object.entries(steps)) {
  const t = performance.now();
  try { const r = await c.runAndReadAll(q); if (k === 'cnt') console.log(r.getRowsJson()); } catch (e) { console.log(k, 'FAILED', e.message.split('\n')[0]); }
  console.log(k, ((performance.now()-t)/1000).toFixed(2), 'rss', (process.resourceUsage().maxRSS/1024).toFixed(0));
}
