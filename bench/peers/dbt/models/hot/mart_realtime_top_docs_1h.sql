{# The 20 most clicked documents of [S - 60 min, S), one snapshot per S (a run with the same S replaces it). #}
{{ config(unique_key='snapshot_ts', post_hook="{{ delete_before('snapshot_ts', var('snapshot_retention_hours') ~ ' hours') }}") }}

with clock as ({{ stream_clock() }}),
last_hour as (
  {{ valid_events(where="event_ts >= (select s from clock) - interval '60 minutes' and event_ts < (select s from clock)") }}
),
docs as (
  select document_id,
         -- title of the latest event in the window (ties: larger dedup_key), cut to 500 characters
         left((array_agg(title order by event_ts desc, dedup_key collate "C" desc))[1], 500) as title,
         count(*) as click_count, count(distinct session_id) as unique_sessions
  from last_hour group by document_id
),
ranked as (
  select *, row_number() over (order by click_count desc, unique_sessions desc, document_id) as rank from docs
)
select (select s from clock) as snapshot_ts, rank::int as rank, document_id, title::varchar(500) as title,
       click_count::int as click_count, unique_sessions::int as unique_sessions
from ranked where rank <= 20
