{{!--
  Spark variant of event_clinical_areas.sql (same rows): split takes a regular expression (',' is
  literal), explode stands for unnest, filter/transform/array_distinct for DuckDB's list functions.
--}}
SELECT e.dedup_key, e.event_ts, e.event_date, e.session_id,
       explode(array_distinct(filter(transform(split(e.clinical_areas, ','), a -> trim(a)), a -> a <> ''))) AS clinical_area
FROM {{events}} AS e
WHERE e.clinical_areas IS NOT NULL
