{{!-- Whole seconds from timestamp `from` to `to`, exact to the microsecond and truncated (10.9 s -> 10). --}}
(epoch_us({{to}}) - epoch_us({{from}})) // 1000000
