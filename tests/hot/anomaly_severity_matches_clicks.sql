{{!-- severity follows click_count and the thresholds; a row exists only for a hot window (>= the warning threshold). --}}
SELECT detected_ts, session_id, click_count, severity
FROM {{ref "mart_realtime_anomaly_sessions"}}
WHERE click_count IS NULL
   OR click_count < {{var "anomaly_warning_clicks"}}
   OR severity IS DISTINCT FROM CASE WHEN click_count >= {{var "anomaly_critical_clicks"}} THEN 'CRITICAL' ELSE 'WARNING' END
