{{!-- Clicks per clinical area in [S - 24 h, S) against the 24 hours before; one row per area seen in either. --}}
WITH last_48h AS (
  SELECT dedup_key, event_ts, event_date, session_id, clinical_areas
  FROM {{source "curated_stream"}}
  WHERE event_ts >= {{snapshot_ts}} - INTERVAL 48 HOUR AND event_ts < {{snapshot_ts}}
),
areas AS (
  {{> event_clinical_areas events="last_48h"}}
),
windowed AS (
  SELECT clinical_area, session_id, event_ts >= {{snapshot_ts}} - INTERVAL 24 HOUR AS is_current
  FROM areas
  WHERE length(clinical_area) <= 100
),
counts AS (
  SELECT
    clinical_area,
    count(*) FILTER (WHERE is_current) AS cur,
    count(*) FILTER (WHERE NOT is_current) AS prev,
    count(DISTINCT session_id) FILTER (WHERE is_current) AS unique_sessions
  FROM windowed
  GROUP BY clinical_area
),
scaled AS (
  -- (cur - prev) * 100 / prev rounded to 2 decimals, halves away from zero, in integers: exact
  SELECT *, CAST(cur - prev AS BIGINT) * 10000 AS n FROM counts
)
SELECT
  {{snapshot_ts}} AS snapshot_ts,
  clinical_area,
  cur AS click_count,
  unique_sessions,
  CASE WHEN prev = 0 THEN NULL
       ELSE CAST(sign(n) * ((abs(n) * 2 + prev) // (2 * prev)) AS DECIMAL(18, 0)) * 0.01
  END AS trend_pct
FROM scaled
