{{config severity="warn"}}
{{!-- The hot SLA (sla_minutes: 5 on mart_realtime_traffic_minute): its newest minute is at most
      5 minutes older than now (the wall clock, or --now for replays and backfills). --}}
SELECT max(event_minute) AS newest_minute, {{now}} AS checked_at
FROM {{ref "mart_realtime_traffic_minute"}}
HAVING max(event_minute) IS NULL OR max(event_minute) < {{now}} - INTERVAL '5 minutes'
