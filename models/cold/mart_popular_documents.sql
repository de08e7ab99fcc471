-- Two-level aggregation (per document and session first), so distinct sessions need no DISTINCT aggregate.
WITH per_session AS (
  SELECT event_date, document_id, session_id, count(*) AS views,
         -- the session's latest event of the document: (event_ts, dedup_key) orders ties by the larger key
         max(struct_pack(ts := event_ts, k := dedup_key, title := title)) AS latest
  FROM {{ref "stg_events"}}
  GROUP BY event_date, document_id, session_id
)
SELECT
  event_date,
  document_id,
  -- title of the document's latest event that day (ties: larger dedup_key), cut to 500 characters
  left(max(latest).title, 500) AS title,
  sum(views) AS view_count,
  count(*) AS unique_sessions
FROM per_session
GROUP BY event_date, document_id
