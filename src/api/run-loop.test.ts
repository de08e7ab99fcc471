import { describe, expect, it } from 'vitest';
import { parseDuration } from './run-loop.js';

describe('--every durations', () => {
  it('accepts ms, s, m, h and plain seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5')).toBe(1500);
  });

  it('refuses anything else with a clear message', () => {
    expect(() => parseDuration('soon')).toThrow(/--every 'soon' is not a duration/);
    expect(() => parseDuration('0s')).toThrow(/at least 10ms/);
  });
});
