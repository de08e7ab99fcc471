{#
  Valid click events, one row per dedup_key. Incremental: a run re-stages the keys of the rows loaded since the
  newest load it has seen (all their copies, so a late earlier copy still wins), delete+insert by key.
  _dbt_run_at marks the rows this run wrote: changed_days reads it.
#}
{{ config(
    materialized='incremental',
    unique_key='dedup_key',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['dedup_key'], 'unique': True}, {'columns': ['event_date']}],
) }}

select v.*, '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'::timestamp as _dbt_run_at
from (
  {% if is_incremental() %}
  {{ valid_events(where="dedup_key in (select dedup_key from " ~ source('curated', 'raw_events') ~ " where _loaded_at > (select coalesce(max(_loaded_at), '-infinity') from " ~ this ~ "))") }}
  {% else %}
  {{ valid_events() }}
  {% endif %}
) v
