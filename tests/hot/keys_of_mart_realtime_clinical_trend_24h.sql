{{!-- The primary key of mart_realtime_clinical_trend_24h is unique and never NULL (one row per key, whatever wrote it). --}}
SELECT snapshot_ts, clinical_area, count(*) AS n_records
FROM {{ref "mart_realtime_clinical_trend_24h"}}
GROUP BY snapshot_ts, clinical_area
HAVING count(*) > 1 OR snapshot_ts IS NULL OR clinical_area IS NULL
