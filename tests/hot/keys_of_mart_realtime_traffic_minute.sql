{{!-- The primary key of mart_realtime_traffic_minute is unique and never NULL (one row per key, whatever wrote it). --}}
SELECT event_minute, count(*) AS n_records
FROM {{ref "mart_realtime_traffic_minute"}}
GROUP BY event_minute
HAVING count(*) > 1 OR event_minute IS NULL
