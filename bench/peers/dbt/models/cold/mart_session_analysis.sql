-- depends_on: {{ ref('changed_days') }}
{{ config(indexes=[{'columns': ['event_date']}]) }}

select session_id::varchar(50) as session_id, event_date, count(*)::int as click_count,
       count(distinct document_id)::int as unique_docs, min(event_ts) as first_click_ts, max(event_ts) as last_click_ts,
       -- exact difference in whole seconds, truncated (10.9 s -> 10)
       trunc(extract(epoch from max(event_ts) - min(event_ts)))::int as session_duration_sec
from {{ cold_events() }} e
group by session_id, event_date
