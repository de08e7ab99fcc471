{{!--
  Spark variant of latest_value.sql. Spark orders a NULL struct field below every value, DuckDB above:
  each field is preceded by its IS NULL flag (true > false) so the same row wins on both engines.
--}}
max(named_struct('ts_null', {{ts}} IS NULL, 'ts', {{ts}}, 'k_null', {{key}} IS NULL, 'k', {{key}}, 'v_null', {{value}} IS NULL, 'v', {{value}})).v
