WITH areas AS (
  {{> event_clinical_areas events=(ref "stg_events")}}
),
per_session AS (
  SELECT event_date, clinical_area, session_id, count(*) AS searches
  FROM areas
  WHERE length(clinical_area) <= 100
  GROUP BY event_date, clinical_area, session_id
)
SELECT event_date, clinical_area, sum(searches) AS search_count, count(*) AS unique_sessions
FROM per_session
GROUP BY event_date, clinical_area
