-- depends_on: {{ ref('changed_days') }}
{{ config(indexes=[{'columns': ['event_date']}]) }}

select event_date, document_id,
       -- title of the document's latest event that day (ties: larger dedup_key), cut to 500 characters
       left((array_agg(title order by event_ts desc, dedup_key collate "C" desc))[1], 500)::varchar(500) as title,
       count(*)::int as view_count, count(distinct session_id)::int as unique_sessions
from {{ cold_events() }} e
group by event_date, document_id
