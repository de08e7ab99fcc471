{{!-- The primary key of mart_realtime_anomaly_sessions is unique and never NULL (one row per key, whatever wrote it). --}}
SELECT detected_ts, session_id, count(*) AS n_records
FROM {{ref "mart_realtime_anomaly_sessions"}}
GROUP BY detected_ts, session_id
HAVING count(*) > 1 OR detected_ts IS NULL OR session_id IS NULL
