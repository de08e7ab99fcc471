{{!-- Ranks follow click_count desc, then unique_sessions desc, then document_id asc; one row per document. --}}
SELECT snapshot_ts, rank, document_id, click_count, unique_sessions, expected_rank
FROM (
  SELECT *,
         row_number() OVER (PARTITION BY snapshot_ts ORDER BY click_count DESC, unique_sessions DESC, document_id) AS expected_rank,
         count(*) OVER (PARTITION BY snapshot_ts, document_id) AS copies
  FROM {{ref "mart_realtime_top_docs_1h"}}
) ranked
WHERE rank <> expected_rank OR copies > 1 OR unique_sessions NOT BETWEEN 1 AND click_count
