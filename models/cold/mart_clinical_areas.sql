WITH areas AS (
  {{> event_clinical_areas events=(ref "stg_events")}}
)
SELECT event_date, clinical_area, count(*) AS search_count, count(DISTINCT session_id) AS unique_sessions
FROM areas
WHERE length(clinical_area) <= 100
GROUP BY event_date, clinical_area
