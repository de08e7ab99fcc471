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
totals AS (
  SELECT event_date, count(*) AS total_events, count(DISTINCT session_id) AS unique_sessions,
         count(DISTINCT document_id) AS unique_documents
  FROM {{ref "stg_events"}}
  GROUP BY event_date
)
SELECT t.event_date, t.total_events, t.unique_sessions, t.unique_documents, p.peak_hour
FROM totals t JOIN peak p USING (event_date)
