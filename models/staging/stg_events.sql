{{!-- The valid, deduplicated click events, with only the columns the marts read; kept in DuckDB for this run. --}}
SELECT dedup_key, event_ts, event_date, session_id, CAST(document_id AS INTEGER) AS document_id, title, clinical_areas
FROM {{source "curated_stream"}}
