import { describe, expect, it } from 'vitest';
import { ANY_FAILURE, parseThreshold, statusFor } from './thresholds.js';

describe('warn_if / error_if thresholds', () => {
  it('parses dbt comparisons', () => {
    expect(parseThreshold('>10')).toEqual({ op: '>', value: 10, text: '>10' });
    expect(parseThreshold(' != 0 ')).toEqual({ op: '!=', value: 0, text: '!=0' });
    expect(parseThreshold('<>3')).toEqual({ op: '!=', value: 3, text: '!=3' });
    expect(parseThreshold('==2')).toEqual({ op: '=', value: 2, text: '=2' });
    expect(parseThreshold('>=5')?.op).toBe('>=');
    for (const bad of ['10', '>', '> x', '>1.5', '=>1', '']) expect(parseThreshold(bad)).toBeUndefined();
  });

  it('grades like dbt: error_if first for error severity, then warn_if', () => {
    const gt2 = parseThreshold('>2')!;
    expect(statusFor(0, 'error', ANY_FAILURE, ANY_FAILURE)).toBe('pass');
    expect(statusFor(1, 'error', ANY_FAILURE, ANY_FAILURE)).toBe('fail');
    expect(statusFor(1, 'warn', ANY_FAILURE, ANY_FAILURE)).toBe('warn');
    expect(statusFor(2, 'error', ANY_FAILURE, gt2)).toBe('warn');
    expect(statusFor(3, 'error', ANY_FAILURE, gt2)).toBe('fail');
    // warn severity never fails, whatever error_if says
    expect(statusFor(3, 'warn', ANY_FAILURE, gt2)).toBe('warn');
    expect(statusFor(2, 'error', parseThreshold('>5')!, gt2)).toBe('pass');
  });
});
