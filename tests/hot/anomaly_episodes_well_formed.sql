{{!-- An episode's first hot window ends at detected_ts, within [window_start + 5 min, window_end];
      episodes of one session never overlap or touch (they would be one row). --}}
SELECT a.detected_ts, a.session_id, a.window_start, a.window_end, b.detected_ts AS other_detected_ts
FROM {{ref "mart_realtime_anomaly_sessions"}} a
LEFT JOIN {{ref "mart_realtime_anomaly_sessions"}} b
  ON b.session_id = a.session_id AND b.detected_ts <> a.detected_ts
 AND b.window_start <= a.window_end AND b.window_end >= a.window_start
WHERE a.detected_ts < a.window_start + INTERVAL '5 minutes'
   OR a.detected_ts > a.window_end
   OR b.detected_ts IS NOT NULL
