{{!-- Each snapshot ranks 1..n with no gap and no repeat, n at most 20. --}}
SELECT snapshot_ts, count(*) AS n, min(rank) AS first_rank, max(rank) AS last_rank, count(DISTINCT rank) AS distinct_ranks
FROM {{ref "mart_realtime_top_docs_1h"}}
GROUP BY snapshot_ts
HAVING min(rank) <> 1 OR max(rank) <> count(*) OR count(DISTINCT rank) <> count(*) OR count(*) > 20
