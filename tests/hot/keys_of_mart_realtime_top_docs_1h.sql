{{!-- The primary key of mart_realtime_top_docs_1h is unique and never NULL (one row per key, whatever wrote it). --}}
SELECT snapshot_ts, rank, count(*) AS n_records
FROM {{ref "mart_realtime_top_docs_1h"}}
GROUP BY snapshot_ts, rank
HAVING count(*) > 1 OR snapshot_ts IS NULL OR rank IS NULL
