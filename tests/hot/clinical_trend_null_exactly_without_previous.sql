{{!-- trend_pct is NULL exactly when the previous 24 hours had no event of the area. A row exists only
      when either window has events, so: click_count = 0 means prev > 0, and trend_pct must be -100.00;
      trend_pct NULL means prev = 0, so the current window must have events. Never below -100. --}}
SELECT snapshot_ts, clinical_area, click_count, unique_sessions, trend_pct
FROM {{ref "mart_realtime_clinical_trend_24h"}}
WHERE (click_count = 0 AND trend_pct IS DISTINCT FROM -100.00)
   OR (trend_pct IS NULL AND click_count = 0)
   OR trend_pct < -100
   OR unique_sessions > click_count
   OR (click_count > 0 AND unique_sessions < 1)
