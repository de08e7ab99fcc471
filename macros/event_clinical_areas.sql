{{!--
  One row per (event, clinical area): clinical_areas split on ',', names trimmed of spaces, empty
  names dropped, each name once per event, no case folding. Usage: {{> event_clinical_areas events=(ref "stg_events")}}
--}}
SELECT DISTINCT e.dedup_key, e.event_ts, e.event_date, e.session_id, trim(a.area) AS clinical_area
FROM {{events}} AS e, unnest(string_split(e.clinical_areas, ',')) AS a(area)
WHERE trim(a.area) <> ''
