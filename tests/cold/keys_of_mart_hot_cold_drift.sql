{{!-- The primary key of mart_hot_cold_drift is unique and never NULL (one row per key, whatever wrote it). --}}
SELECT event_date, count(*) AS n_records
FROM {{ref "mart_hot_cold_drift"}}
GROUP BY event_date
HAVING count(*) > 1 OR event_date IS NULL
