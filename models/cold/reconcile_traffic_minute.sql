{{!--
  Rewrites mart_realtime_traffic_minute for the reconciled days (those mart_hot_cold_drift recorded):
  every minute of the hot span with events, from all data. The stored rows of those days are deleted
  first (delete_where), so minutes with no events left lose their rows; nothing before a span is added.
--}}
WITH days AS (
  SELECT CAST(event_minute AS DATE) AS event_date, min(event_minute) AS span_start
  FROM {{this_rows}}
  WHERE event_minute < date_trunc('day', {{snapshot_ts}})
    AND CAST(event_minute AS DATE) IN (SELECT event_date FROM {{ref "mart_hot_cold_drift"}})
  GROUP BY 1
)
SELECT
  date_trunc('minute', e.event_ts) AS event_minute,
  count(*) AS total_clicks,
  count(DISTINCT e.session_id) AS unique_sessions,
  count(DISTINCT e.document_id) AS unique_docs,
  {{now}} AS updated_at
FROM {{ref "stg_events"}} e
JOIN days d ON e.event_date = d.event_date AND e.event_ts >= d.span_start
GROUP BY 1
