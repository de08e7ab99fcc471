{{!-- A minute's distinct sessions and documents are between 1 and its clicks; minutes are whole minutes. --}}
SELECT event_minute, total_clicks, unique_sessions, unique_docs
FROM {{ref "mart_realtime_traffic_minute"}}
WHERE total_clicks < 1
   OR unique_sessions NOT BETWEEN 1 AND total_clicks
   OR unique_docs NOT BETWEEN 1 AND total_clicks
   OR event_minute <> date_trunc('minute', event_minute)
