-- Two-level aggregation: distinct documents per session-day without a DISTINCT aggregate,
-- so the large grouping spills to disk under DuckDB's memory cap instead of failing.
WITH per_doc AS (
  SELECT session_id, event_date, document_id, count(*) AS clicks, min(event_ts) AS first_ts, max(event_ts) AS last_ts
  FROM {{ref "stg_events"}}
  GROUP BY session_id, event_date, document_id
)
SELECT
  session_id,
  event_date,
  sum(clicks) AS click_count,
  count(*) AS unique_docs,
  min(first_ts) AS first_click_ts,
  max(last_ts) AS last_click_ts,
  -- exact difference in whole seconds, truncated (10.9 s -> 10)
  {{> whole_seconds_between from="min(first_ts)" to="max(last_ts)"}} AS session_duration_sec
FROM per_doc
GROUP BY session_id, event_date
