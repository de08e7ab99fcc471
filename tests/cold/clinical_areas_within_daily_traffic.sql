{{!-- An area's events are events of that day: search_count never exceeds the day's total_events,
      nor unique_sessions the day's unique_sessions. --}}
SELECT a.event_date, a.clinical_area, a.search_count, t.total_events, a.unique_sessions, t.unique_sessions AS day_sessions
FROM {{ref "mart_clinical_areas"}} a
JOIN {{ref "mart_daily_traffic"}} t USING (event_date)
WHERE a.search_count > t.total_events OR a.unique_sessions > t.unique_sessions
