{#
  The days whose events this run re-staged: what the incremental cold marts recompute. Empty on a full refresh
  (the marts are then rebuilt whole).
#}
{{ config(materialized='table') }}

select distinct event_date
from {{ ref('stg_events') }}
where _dbt_run_at = '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'::timestamp
{% if flags.FULL_REFRESH %} and false{% endif %}
