{{!--
  Aggregate: `value` of the group's row with the largest (ts, key, value), compared left to right; a NULL
  compares larger than any value (DuckDB's order inside structs). Usage:
  {{> latest_value ts="event_ts" key="dedup_key" value="title"}}
--}}
max(struct_pack(ts := {{ts}}, k := {{key}}, v := {{value}})).v
