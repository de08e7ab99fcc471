{{!-- For each reconciled day that still has minute rows (retention deletes whole days): its minutes sum
      to mart_hot_cold_drift.cold_clicks, and, when the span starts at midnight (it covers the whole day),
      to mart_daily_traffic.total_events. The cold run rewrites the minutes after it records the drift,
      so the test runs after that rewrite (the ref in the SQL comment below makes the dependency). --}}
-- depends_on: {{ref "reconcile_traffic_minute"}}
WITH minutes AS (
  SELECT CAST(event_minute AS DATE) AS event_date, sum(total_clicks) AS minute_clicks, min(event_minute) AS span_start
  FROM {{ref "mart_realtime_traffic_minute"}}
  GROUP BY 1
)
SELECT d.event_date, m.minute_clicks, d.cold_clicks, t.total_events, m.span_start
FROM {{ref "mart_hot_cold_drift"}} d
JOIN minutes m USING (event_date)
LEFT JOIN {{ref "mart_daily_traffic"}} t USING (event_date)
WHERE m.minute_clicks <> d.cold_clicks
   OR (m.span_start = CAST(d.event_date AS TIMESTAMP) AND m.minute_clicks IS DISTINCT FROM t.total_events)
