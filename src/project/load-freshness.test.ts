import { describe, expect, it } from 'vitest';
import { parseFreshness } from './load-freshness.js';

const parse = (v: unknown) => parseFreshness(v, 'models/hot/schema.yml', "model 'm': config.freshness");

describe('freshness thresholds in YAML', () => {
  it('reads durations, bare minutes and dbt\'s {count, period}; top-level warn_after/error_after are the data lag\'s', () => {
    expect(parse({ warn_after: '5m', error_after: 15 })).toEqual({ data_lag: { warn_after_s: 300, error_after_s: 900 } });
    expect(parse({ arrival_lag: { warn_after: '90s' }, pipeline_lag: { error_after: { count: 2, period: 'hour' } } })).toEqual({
      arrival_lag: { warn_after_s: 90, error_after_s: undefined },
      pipeline_lag: { warn_after_s: undefined, error_after_s: 7200 },
    });
    expect(parse(undefined)).toBeUndefined();
  });

  it('names the file and key of a wrong value', () => {
    expect(() => parse({ data_lag: { warn_after: 'soon' } })).toThrow(/models\/hot\/schema\.yml: .*config\.freshness\.data_lag\.warn_after 'soon' is not a duration/);
    expect(() => parse({ warn_after: '20m', error_after: '5m' })).toThrow(/warn_after \(1200s\) is later than error_after \(300s\)/);
    expect(() => parse({ warn_after: '5m', data_lag: { error_after: '9m' } })).toThrow(/set them there or under data_lag, not both/);
    expect(() => parse({ arrival_lag: { error_after: { count: 1, period: 'week' } } })).toThrow(/must be \{count: <number>, period: minute\|hour\|day\}/);
  });
});
