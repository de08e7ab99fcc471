-- depends_on: {{ ref('changed_days') }}
{{ config(indexes=[{'columns': ['event_date']}]) }}

with areas as (
  {{ event_clinical_areas(cold_events()) }}
)
select event_date, clinical_area::varchar(100) as clinical_area, count(*)::int as search_count,
       count(distinct session_id)::int as unique_sessions
from areas
-- a name longer than the column is not an area (left out, not cut)
where length(clinical_area) <= 100
group by 1, 2
