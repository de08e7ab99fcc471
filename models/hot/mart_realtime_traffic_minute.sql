{{!-- Every minute of [H, C] that has events, recomputed from all visible events of the minute. --}}
SELECT
  date_trunc('minute', event_ts) AS event_minute,
  count(*) AS total_clicks,
  count(DISTINCT session_id) AS unique_sessions,
  count(DISTINCT document_id) AS unique_docs,
  {{now}} AS updated_at
FROM {{source "curated_stream"}}
WHERE event_ts >= {{hot_start}} AND event_ts <= {{clock}}
GROUP BY 1
