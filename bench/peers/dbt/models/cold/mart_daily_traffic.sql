-- depends_on: {{ ref('changed_days') }}
with events as {{ cold_events() }},
hourly as (
  select event_date, extract(hour from event_ts)::int as event_hour, count(*) as events from events group by 1, 2
),
peak as (
  -- the hour with the most events; the earliest such hour on a tie
  select distinct on (event_date) event_date, event_hour as peak_hour from hourly order by event_date, events desc, event_hour
),
totals as (
  select event_date, count(*)::int as total_events, count(distinct session_id)::int as unique_sessions,
         count(distinct document_id)::int as unique_documents
  from events group by event_date
)
select t.event_date, t.total_events, t.unique_sessions, t.unique_documents, p.peak_hour
from totals t join peak p using (event_date)
