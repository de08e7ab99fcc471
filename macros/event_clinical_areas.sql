{{!--
  One row per (event, clinical area): clinical_areas split on ',', names trimmed of spaces, empty
  names dropped, each name once per event, no case folding. The distinct is taken within each event's
  list (no global DISTINCT over all rows). Usage: {{> event_clinical_areas events=(ref "stg_events")}}
--}}
SELECT e.dedup_key, e.event_ts, e.event_date, e.session_id,
       unnest(list_distinct(list_filter(list_transform(string_split(e.clinical_areas, ','), a -> trim(a)), a -> a <> ''))) AS clinical_area
FROM {{events}} AS e
WHERE e.clinical_areas IS NOT NULL
