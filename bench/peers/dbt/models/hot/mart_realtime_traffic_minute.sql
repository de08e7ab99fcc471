{#
  Clicks per minute, near real time. Each run recomputes every minute of [H, C] that has events, H = S - lookback,
  or the newest stored minute - lookback when earlier (a missed cycle is filled), never before S - retention.
  delete+insert by minute; whole UTC days past the retention are deleted after.
#}
{{ config(
    unique_key='event_minute',
    post_hook="{{ delete_before('event_minute', var('hot_retention_hours') ~ ' hours', whole_days=true) }}",
) }}

with clock as ({{ stream_clock() }}),
bounds as (
  select c, greatest(
    s - interval '{{ var("hot_retention_hours") }} hours',
    least(s{% if is_incremental() %}, (select max(event_minute) from {{ this }}){% endif %}) - interval '{{ var("hot_lookback_minutes") }} minutes'
  ) as h
  from clock
)
select date_trunc('minute', event_ts) as event_minute, count(*)::int as total_clicks,
       count(distinct session_id)::int as unique_sessions, count(distinct document_id)::int as unique_docs,
       (now() at time zone 'UTC')::timestamp as updated_at
from ({{ valid_events(where="event_ts >= (select h from bounds) and event_ts <= (select c from bounds)") }}) e
group by 1
