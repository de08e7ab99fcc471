import { describe, expect, it } from 'vitest';
import { TmError } from './errors.js';
import { faultMessage } from './fault-message.js';

describe('faultMessage: one line for a lost connection or a full disk, however the driver words it', () => {
  it('names a lost PostgreSQL connection, also wrapped in a TmError', () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(faultMessage(new TmError('models/a.sql: write EPIPE (compiled SQL: x)', 1, { cause: epipe }))).toBe('lost the connection to PostgreSQL: write EPIPE (the server restarted, or closed the connection)');
    expect(faultMessage(new Error('Client has encountered a connection error and is not queryable'))).toMatch(/^lost the connection to PostgreSQL: Client has/);
    expect(faultMessage(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toMatch(/^lost the connection/);
  });
  it('names the full folder: DuckDB spill, tm scratch, or any other', () => {
    expect(faultMessage(new Error('IO Error: Could not write file "/p/.tm/duckdb_tmp/run-ab12/duckdb_temp_storage-0.tmp": No space left on device')))
      .toBe("the disk is full: no space left in DuckDB's spill folder /p/.tm/duckdb_tmp/run-ab12 (writing duckdb_temp_storage-0.tmp)");
    expect(faultMessage(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/tmp/x/tm-run-ab12/models-1/a.csv' })))
      .toBe('the disk is full: no space left in the scratch folder /tmp/x/tm-run-ab12 (writing a.csv)');
    expect(faultMessage(new Error('IO Error: Could not write file "/mnt/spill/run-ab12/duckdb_temp_block-1.block": No space left on device')))
      .toBe("the disk is full: no space left in DuckDB's spill folder /mnt/spill/run-ab12 (writing duckdb_temp_block-1.block)");
    expect(faultMessage(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))).toMatch(/^the disk is full: no space left on device/);
  });
  it('leaves other errors alone', () => {
    expect(faultMessage(new Error('relation "x" does not exist'))).toBeUndefined();
    expect(faultMessage(new TmError('cannot connect to PostgreSQL at h:5432/db: connection refused'))).toBeUndefined();
  });
});
