{# Clicks per clinical area in [S - 24 h, S) against the 24 hours before; one snapshot per S. #}
{{ config(unique_key='snapshot_ts', post_hook="{{ delete_before('snapshot_ts', var('snapshot_retention_hours') ~ ' hours') }}") }}

with clock as ({{ stream_clock() }}),
last_48h as (
  {{ valid_events(where="event_ts >= (select s from clock) - interval '48 hours' and event_ts < (select s from clock)") }}
),
areas as (
  {{ event_clinical_areas('last_48h') }}
),
counts as (
  select clinical_area,
         count(*) filter (where event_ts >= (select s from clock) - interval '24 hours') as cur,
         count(*) filter (where event_ts < (select s from clock) - interval '24 hours') as prev,
         count(distinct session_id) filter (where event_ts >= (select s from clock) - interval '24 hours') as unique_sessions
  from areas where length(clinical_area) <= 100
  group by clinical_area
)
select (select s from clock) as snapshot_ts, clinical_area::varchar(100) as clinical_area, cur::int as click_count,
       unique_sessions::int as unique_sessions,
       -- numeric arithmetic is exact; round() takes halves away from zero
       case when prev = 0 then null else round((cur - prev)::numeric * 100 / prev, 2) end::decimal(10, 2) as trend_pct
from counts
