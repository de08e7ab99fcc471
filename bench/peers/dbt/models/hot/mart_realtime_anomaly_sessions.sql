{#
  Sessions with click bursts: 5-minute windows starting on every minute, hot at >= anomaly_warning_clicks events,
  hot windows that overlap or touch form one episode. A run evaluates the sessions with events in [S - lookback, C]
  over their events from 60 minutes earlier, and folds each episode with the stored rows of its session that
  overlap or touch it (earliest detected_ts kept, windows widened, larger count). delete+insert replaces the row
  with that key; the post-hook deletes the other stored rows an episode absorbed, and rows past the retention.
#}
{{ config(
    unique_key=['detected_ts', 'session_id'],
    post_hook=[
      "delete from {{ this }} t where exists (select 1 from {{ this }} o where o.session_id = t.session_id and o.detected_ts < t.detected_ts and o.window_start <= t.window_end and o.window_end >= t.window_start)",
      "{{ delete_before('detected_ts', var('anomaly_retention_days') ~ ' days') }}",
    ],
) }}

with clock as ({{ stream_clock() }}),
bounds as (select c, s - interval '{{ var("hot_lookback_minutes") }} minutes' as h from clock),
ev as (
  select session_id, event_ts
  from ({{ valid_events(where="event_ts >= (select h from bounds) - interval '60 minutes' and event_ts <= (select c from bounds)") }}) v
),
active as (select distinct session_id from ev where event_ts >= (select h from bounds)),
per_minute as (
  select session_id, date_trunc('minute', event_ts) as m, count(*) as n
  from ev where session_id in (select session_id from active)
  group by 1, 2
),
starts as (
  -- windows that hold an event, not starting before the events read
  select distinct p.session_id, p.m - make_interval(mins => k) as ws
  from per_minute p cross join generate_series(0, 4) as k
  where p.m - make_interval(mins => k) >= (select h from bounds) - interval '60 minutes'
),
windows as (
  select s.session_id, s.ws, sum(p.n) as n
  from starts s join per_minute p on p.session_id = s.session_id and p.m >= s.ws and p.m < s.ws + interval '5 minutes'
  group by 1, 2
),
hot as (
  select session_id, ws, n, lag(ws) over (partition by session_id order by ws) as prev_ws
  from windows where n >= {{ var('anomaly_warning_clicks') }}
),
episodes as (
  select *, sum(case when prev_ws is null or ws - prev_ws > interval '5 minutes' then 1 else 0 end)
              over (partition by session_id order by ws rows unbounded preceding) as episode
  from hot
),
found as (
  select session_id, min(ws) + interval '5 minutes' as detected_ts, min(ws) as window_start,
         max(ws) + interval '5 minutes' as window_end, max(n) as click_count, true as is_new
  from episodes group by session_id, episode
),
stored as (
  {% if is_incremental() %}
  select session_id, detected_ts, window_start, window_end, click_count::bigint, false as is_new
  from {{ this }} where session_id in (select session_id from found)
  {% else %}
  select null::varchar, null::timestamp, null::timestamp, null::timestamp, null::bigint, false where false
  {% endif %}
),
reach as (
  select *, max(window_end) over (partition by session_id order by window_start, window_end
                                  rows between unbounded preceding and 1 preceding) as reached
  from (select * from found union all select * from stored) u
),
islands as (
  -- found episodes and stored rows that overlap or touch are one island
  select *, sum(case when window_start > reached then 1 else 0 end)
              over (partition by session_id order by window_start, window_end rows unbounded preceding) as island
  from reach
),
merged as (
  select session_id,
         coalesce(min(detected_ts) filter (where not is_new), min(detected_ts)) as detected_ts,
         min(window_start) as window_start, max(window_end) as window_end, max(click_count) as click_count
  from islands group by session_id, island
  having bool_or(is_new)
)
select detected_ts, session_id::varchar(50) as session_id, window_start, window_end, click_count::int as click_count,
       (case when click_count >= {{ var('anomaly_critical_clicks') }} then 'CRITICAL' else 'WARNING' end)::varchar(10) as severity
from merged
