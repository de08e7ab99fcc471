{#
  The source contract of the curated stream (tm's project.yml: rules and dedup), for every model that reads it.
  Rows breaking a rule are not events; copies of one dedup_key are one event: the valid copy with the earliest
  event_ts wins, then the smallest file path (byte order).
#}
{% macro contract_rules() -%}
  dedup_key is not null and event_ts is not null and session_id is not null and document_id is not null
  and length(session_id) <= 50 and event_date = event_ts::date
  and event_ts <= (now() at time zone 'UTC') + interval '5 minutes'
{%- endmacro %}

{# Valid, deduplicated events of the raw table; `where` narrows the rows read (a time window, a set of keys). #}
{% macro valid_events(where=none) -%}
  select distinct on (dedup_key)
         dedup_key, event_ts, event_date, session_id, document_id::int as document_id, title, clinical_areas, _loaded_at
  from {{ source('curated', 'raw_events') }}
  where {{ contract_rules() }}{% if where %} and ({{ where }}){% endif %}
  order by dedup_key, event_ts, _file collate "C"
{%- endmacro %}

{#
  The stream clock of a hot run: C = the newest valid event_ts, S = C truncated to the minute
  (one row: c, s). The index on raw_events(event_ts) makes it a short backward scan.
#}
{% macro stream_clock() -%}
  select c, date_trunc('minute', c) as s
  from (select max(event_ts) as c from {{ source('curated', 'raw_events') }} where {{ contract_rules() }}) m
{%- endmacro %}

{# One row per (event, clinical area): split on ',', trimmed, empty names dropped, each name once per event. #}
{% macro event_clinical_areas(events) -%}
  select distinct e.dedup_key, e.event_ts, e.event_date, e.session_id, trim(a.area) as clinical_area
  from {{ events }} as e cross join lateral unnest(string_to_array(e.clinical_areas, ',')) as a(area)
  where trim(a.area) <> ''
{%- endmacro %}

{#
  The events an incremental cold mart recomputes: those of the days this run re-staged (all of them on a first
  run or a full refresh). The mart's delete+insert on event_date then replaces exactly those days.
#}
{% macro cold_events() -%}
  (select * from {{ ref('stg_events') }}
   {% if is_incremental() %}where event_date in (select event_date from {{ ref('changed_days') }}){% endif %})
{%- endmacro %}

{#
  Post-hook of a hot mart: deletes the rows whose `column` is older than S - `retention` (e.g. '24 hours');
  with whole_days, a UTC day's rows go together, once the day ended more than `retention` before S.
#}
{% macro delete_before(column, retention, whole_days=false) -%}
  {%- set keep_after = "s - interval '" ~ retention ~ "'" -%}
  {%- if whole_days %}{% set keep_after = "date_trunc('day', " ~ keep_after ~ " - interval '1 microsecond')" %}{% endif -%}
  delete from {{ this }} where {{ column }} < (select {{ keep_after }} from ({{ stream_clock() }}) k)
{%- endmacro %}
