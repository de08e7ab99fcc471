SELECT
  event_date,
  document_id,
  -- title of the document's latest event that day (ties: larger dedup_key), cut to 500 characters
  left(first(title ORDER BY event_ts DESC, dedup_key DESC), 500) AS title,
  count(*) AS view_count,
  count(DISTINCT session_id) AS unique_sessions
FROM {{ref "stg_events"}}
GROUP BY event_date, document_id
