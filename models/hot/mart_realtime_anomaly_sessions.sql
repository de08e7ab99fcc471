{{!--
  Sessions with bursts of clicks. Windows [m, m + 5 min) start on every minute; a window is hot for a
  session with >= anomaly_warning_clicks events in it; hot windows that overlap or touch form an
  episode. The run evaluates the sessions with events in [H, C] over their events from H - 60 min on,
  then folds each episode it finds with the stored rows ({{this_rows}}) of the session that overlap
  or touch it: the result keeps the earliest stored detected_ts, the widest window and the largest
  count. The upsert's delete_where removes the stored rows that a result row replaces.
--}}
WITH ev AS (
  SELECT session_id, event_ts FROM {{source "curated_stream"}}
  WHERE event_ts >= {{hot_start}} - INTERVAL 60 MINUTE AND event_ts <= {{clock}}
),
active AS (
  SELECT DISTINCT session_id FROM ev WHERE event_ts >= {{hot_start}}
),
per_minute AS (
  SELECT session_id, date_trunc('minute', event_ts) AS m, count(*) AS n
  FROM ev SEMI JOIN active USING (session_id)
  GROUP BY ALL
),
starts AS (
  -- windows that hold an event, not starting before the events read
  SELECT DISTINCT session_id, m - to_minutes(k) AS ws
  FROM per_minute, range(5) AS r(k)
  WHERE m - to_minutes(k) >= {{hot_start}} - INTERVAL 60 MINUTE
),
windows AS (
  SELECT s.session_id, s.ws, sum(p.n) AS n
  FROM starts s JOIN per_minute p ON p.session_id = s.session_id AND p.m >= s.ws AND p.m < s.ws + INTERVAL 5 MINUTE
  GROUP BY ALL
),
hot AS (
  SELECT session_id, ws, n, lag(ws) OVER (PARTITION BY session_id ORDER BY ws) AS prev_ws
  FROM windows
  WHERE n >= {{var "anomaly_warning_clicks"}}
),
episodes AS (
  -- hot windows overlap or touch when they start at most 5 minutes apart
  SELECT *, sum(CASE WHEN prev_ws IS NULL OR ws - prev_ws > INTERVAL 5 MINUTE THEN 1 ELSE 0 END)
              OVER (PARTITION BY session_id ORDER BY ws ROWS UNBOUNDED PRECEDING) AS episode
  FROM hot
),
found AS (
  SELECT session_id, min(ws) + INTERVAL 5 MINUTE AS detected_ts, min(ws) AS window_start,
         max(ws) + INTERVAL 5 MINUTE AS window_end, max(n) AS click_count, true AS is_new
  FROM episodes
  GROUP BY session_id, episode
),
stored AS (
  SELECT session_id, detected_ts, window_start, window_end, click_count, false AS is_new
  FROM {{this_rows}}
  WHERE session_id IN (SELECT session_id FROM found)
),
reach AS (
  SELECT *, max(window_end) OVER (PARTITION BY session_id ORDER BY window_start, window_end ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
  FROM (SELECT * FROM found UNION ALL SELECT * FROM stored)
),
islands AS (
  -- found episodes and stored rows that overlap or touch are one island
  SELECT *, sum(CASE WHEN window_start > reached THEN 1 ELSE 0 END)
              OVER (PARTITION BY session_id ORDER BY window_start, window_end ROWS UNBOUNDED PRECEDING) AS island
  FROM reach
),
merged AS (
  SELECT session_id,
         coalesce(min(detected_ts) FILTER (WHERE NOT is_new), min(detected_ts)) AS detected_ts,
         min(window_start) AS window_start, max(window_end) AS window_end, max(click_count) AS click_count
  FROM islands
  GROUP BY session_id, island
  HAVING bool_or(is_new)
)
SELECT detected_ts, session_id, window_start, window_end, click_count,
       CASE WHEN click_count >= {{var "anomaly_critical_clicks"}} THEN 'CRITICAL' ELSE 'WARNING' END AS severity
FROM merged
