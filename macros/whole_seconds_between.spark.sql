{{!--
  Spark variant of whole_seconds_between.sql: unix_micros for epoch_us, div for // (both truncate).
  Timestamps read from Parquet written without a zone are TIMESTAMP_NTZ, which unix_micros refuses:
  cast in the session's zone (UTC), which keeps the wall clock.
--}}
(unix_micros(CAST({{to}} AS TIMESTAMP)) - unix_micros(CAST({{from}} AS TIMESTAMP))) div 1000000
