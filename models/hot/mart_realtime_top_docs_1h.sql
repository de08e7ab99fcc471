{{!-- The 20 most clicked documents of [S - 60 min, S), ranked 1..n without gaps. --}}
WITH last_hour AS (
  SELECT dedup_key, event_ts, session_id, CAST(document_id AS INTEGER) AS document_id, title
  FROM {{source "curated_stream"}}
  WHERE event_ts >= {{snapshot_ts}} - INTERVAL 60 MINUTE AND event_ts < {{snapshot_ts}}
),
docs AS (
  SELECT
    document_id,
    -- title of the document's latest event in the window (ties: larger dedup_key), cut to 500 characters
    left(first(title ORDER BY event_ts DESC, dedup_key DESC), 500) AS title,
    count(*) AS click_count,
    count(DISTINCT session_id) AS unique_sessions
  FROM last_hour
  GROUP BY document_id
)
SELECT
  {{snapshot_ts}} AS snapshot_ts,
  row_number() OVER (ORDER BY click_count DESC, unique_sessions DESC, document_id ASC) AS rank,
  document_id, title, click_count, unique_sessions
FROM docs
QUALIFY row_number() OVER (ORDER BY click_count DESC, unique_sessions DESC, document_id ASC) <= 20
