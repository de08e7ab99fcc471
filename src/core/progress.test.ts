import { describe, expect, it } from 'vitest';
import { formatCount, modelLine } from './progress.js';

describe('progress lines', () => {
  it('groups thousands with commas', () => {
    expect([0, 7, 999, 1000, 91234, 5008355, -1234567].map(formatCount)).toEqual(['0', '7', '999', '1,000', '91,234', '5,008,355', '-1,234,567']);
  });

  it('prints one line per model with status, detail and seconds', () => {
    expect(modelLine(2, 7, 'OK', 'mart_daily_traffic', 'CREATE 2,861 rows', 1.5)).toMatch(/^ {2}2 of 7 OK {4}mart_daily_traffic \.+ CREATE 2,861 rows in 1\.50s$/);
  });

  it('says how long a model waited for DuckDB, from half a second on', () => {
    expect(modelLine(4, 7, 'OK', 'mart_hot_cold_drift', 'UPSERT 0 rows', 12.54, 12.49)).toMatch(/ UPSERT 0 rows in 12\.54s \(12\.49s queued for DuckDB\)$/);
    expect(modelLine(4, 7, 'OK', 'mart_hot_cold_drift', 'UPSERT 0 rows', 0.3, 0.2)).toMatch(/ UPSERT 0 rows in 0\.30s$/);
  });
});
