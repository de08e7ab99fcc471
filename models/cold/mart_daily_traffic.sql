WITH hourly AS (
  SELECT event_date, hour(event_ts) AS event_hour, count(*) AS events
  FROM {{ref "stg_events"}}
  GROUP BY ALL
),
peak AS (
  -- the hour with the most events; the earliest such hour on a tie (a filter over row_number, as
  -- Spark 4.0 has no QUALIFY; NULLS LAST spelled out, as Spark puts NULLs first when ascending)
  SELECT event_date, event_hour AS peak_hour
  FROM (
    SELECT event_date, event_hour,
           row_number() OVER (PARTITION BY event_date ORDER BY events DESC NULLS LAST, event_hour ASC NULLS LAST) AS hour_rank
    FROM hourly
  ) ranked
  WHERE hour_rank = 1
),
sessions AS (
  SELECT event_date, count(*) AS unique_sessions
  FROM (SELECT DISTINCT event_date, session_id FROM {{ref "stg_events"}}) AS day_sessions
  GROUP BY event_date
),
documents AS (
  SELECT event_date, count(*) AS unique_documents
  FROM (SELECT DISTINCT event_date, document_id FROM {{ref "stg_events"}}) AS day_documents
  GROUP BY event_date
)
SELECT h.event_date, h.total_events, s.unique_sessions, d.unique_documents, p.peak_hour
FROM (SELECT event_date, sum(events) AS total_events FROM hourly GROUP BY event_date) h
JOIN peak p USING (event_date)
JOIN sessions s USING (event_date)
JOIN documents d USING (event_date)
