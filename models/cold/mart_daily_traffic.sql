WITH hourly AS (
  SELECT event_date, hour(event_ts) AS event_hour, count(*) AS events
  FROM {{ref "stg_events"}}
  GROUP BY ALL
),
peak AS (
  -- the hour with the most events; the earliest such hour on a tie
  SELECT event_date, event_hour AS peak_hour
  FROM hourly
  QUALIFY row_number() OVER (PARTITION BY event_date ORDER BY events DESC, event_hour ASC) = 1
),
sessions AS (
  SELECT event_date, count(*) AS unique_sessions
  FROM (SELECT DISTINCT event_date, session_id FROM {{ref "stg_events"}})
  GROUP BY event_date
),
documents AS (
  SELECT event_date, count(*) AS unique_documents
  FROM (SELECT DISTINCT event_date, document_id FROM {{ref "stg_events"}})
  GROUP BY event_date
)
SELECT h.event_date, h.total_events, s.unique_sessions, d.unique_documents, p.peak_hour
FROM (SELECT event_date, sum(events) AS total_events FROM hourly GROUP BY event_date) h
JOIN peak p USING (event_date)
JOIN sessions s USING (event_date)
JOIN documents d USING (event_date)
