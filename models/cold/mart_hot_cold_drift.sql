{{!--
  Per full UTC day before date(S) that still has hot minute rows: the hot tier's count against the
  day's events from all data, over the span the hot tier was responsible for (from the day's earliest
  hot row to the end of the day). Reads the minute table before reconcile_traffic_minute rewrites it;
  hot_clicks of a day reconciled before is kept ({{this_rows}}).
--}}
WITH days AS (
  SELECT CAST(event_minute AS DATE) AS event_date, min(event_minute) AS span_start, sum(total_clicks) AS hot_clicks
  FROM {{ref "mart_realtime_traffic_minute"}}
  WHERE event_minute < date_trunc('day', {{snapshot_ts}})
  GROUP BY 1
),
cold AS (
  SELECT d.event_date, count(e.dedup_key) AS cold_clicks
  FROM days d LEFT JOIN {{ref "stg_events"}} e ON e.event_date = d.event_date AND e.event_ts >= d.span_start
  GROUP BY 1
)
SELECT
  d.event_date,
  coalesce(before.hot_clicks, d.hot_clicks) AS hot_clicks,
  c.cold_clicks,
  c.cold_clicks - coalesce(before.hot_clicks, d.hot_clicks) AS drift_clicks,
  {{now}} AS reconciled_at
FROM days d
JOIN cold c USING (event_date)
LEFT JOIN {{this_rows}} AS before USING (event_date)
