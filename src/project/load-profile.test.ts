import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTargetConfig, sizeInBytes } from './load-profile.js';

describe('duckdb settings in profiles.yml', () => {
  let dir: string;
  const profile = (duckdb: string) => writeFile(path.join(dir, 'profiles.yml'), `duckdb:\n${duckdb}\ntargets:\n  dev: { type: pglite }\n`);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tm-profile-'));
  });
  afterAll(async () => {
    delete process.env.TM_TEST_BATCH;
    await rm(dir, { recursive: true, force: true });
  });

  it('sizes in DuckDB units: KB = 1000 bytes, KiB = 1024; anything else names the key', () => {
    expect(sizeInBytes('600MB', 'p', 'k')).toBe(600e6);
    expect(sizeInBytes('1.5 GiB', 'p', 'k')).toBe(1.5 * 2 ** 30);
    expect(sizeInBytes('2048', 'p', 'k')).toBe(2048);
    expect(() => sizeInBytes('lots', 'profiles.yml', 'duckdb.batch_input')).toThrow("profiles.yml: duckdb.batch_input must be a size such as 600MB or 2GB, got 'lots'");
  });

  it('batch_input defaults to a quarter of memory_limit, and takes env templates', async () => {
    await profile('  memory_limit: 600MB');
    expect((await loadTargetConfig(dir, undefined)).duckdb.batchInputBytes).toBe(150e6);
    process.env.TM_TEST_BATCH = '1KB';
    await profile(`  memory_limit: 600MB\n  batch_input: "{{ env 'TM_TEST_BATCH' default='150MB' }}"`);
    expect((await loadTargetConfig(dir, undefined)).duckdb.batchInputBytes).toBe(1000);
  });
});
