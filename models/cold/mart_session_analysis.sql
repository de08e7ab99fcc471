SELECT
  session_id,
  event_date,
  count(*) AS click_count,
  count(DISTINCT document_id) AS unique_docs,
  min(event_ts) AS first_click_ts,
  max(event_ts) AS last_click_ts,
  -- exact difference in whole seconds, truncated (10.9 s -> 10)
  (epoch_us(max(event_ts)) - epoch_us(min(event_ts))) // 1000000 AS session_duration_sec
FROM {{ref "stg_events"}}
GROUP BY session_id, event_date
