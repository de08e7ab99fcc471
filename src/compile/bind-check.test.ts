import { describe, expect, it } from 'vitest';
import { typeMismatch } from './bind-check.js';

describe('typeMismatch: what a contract column cannot take from the query', () => {
  it('accepts what the lossless cast bridges: numbers among numbers, days and instants, anything into TEXT', () => {
    expect(typeMismatch('BIGINT', 'INT')).toBeUndefined();
    expect(typeMismatch('DOUBLE', 'NUMERIC(10,2)')).toBeUndefined();
    expect(typeMismatch('TIMESTAMP', 'DATE')).toBeUndefined();
    expect(typeMismatch('DATE', 'TIMESTAMP')).toBeUndefined();
    expect(typeMismatch('INTEGER', 'TEXT')).toBeUndefined();
    expect(typeMismatch('"NULL"', 'INT')).toBeUndefined();
  });
  it('refuses text into numbers, numbers into timestamps, anything but booleans into BOOLEAN', () => {
    expect(typeMismatch('VARCHAR', 'INT')).toBe('which does not cast to');
    expect(typeMismatch('BIGINT', 'TIMESTAMP')).toBe('which does not cast to');
    expect(typeMismatch('INTEGER', 'BOOLEAN')).toBe('which does not cast to');
    expect(typeMismatch('VARCHAR', 'VARCHAR(50)')).toBeUndefined();
  });
});
