{{!-- A session has one row per day it clicked on: a day's total_events is the sum of its sessions'
      click_count, and its unique_sessions the number of its session rows. --}}
WITH sessions AS (
  SELECT event_date, sum(click_count) AS clicks, count(*) AS sessions
  FROM {{ref "mart_session_analysis"}}
  GROUP BY event_date
)
SELECT coalesce(t.event_date, s.event_date) AS event_date, t.total_events, s.clicks, t.unique_sessions, s.sessions
FROM {{ref "mart_daily_traffic"}} t
FULL JOIN sessions s ON s.event_date = t.event_date
WHERE t.total_events IS DISTINCT FROM s.clicks OR t.unique_sessions IS DISTINCT FROM s.sessions
