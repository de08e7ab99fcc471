import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stream, traffic } from '../test-support/hot-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';

/**
 * mart_hot_cold_drift reads every day the minute table holds, through the temp model stg_events. Run
 * alone, its source must be read by those days, whole, as when the partition-aware cold marts run with
 * it, not the window from its default source_since (which starts today).
 */
describe('mart_hot_cold_drift run alone equals it run with the cold tier', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const schemas: Awaited<ReturnType<typeof freshSchema>>[] = [];
  let alone: Awaited<ReturnType<typeof freshSchema>>;
  let withCold: Awaited<ReturnType<typeof freshSchema>>;

  const tm = (schema: string, now: string, ...args: string[]) =>
    runCli(['run', '--target', 'prod', '--now', now, ...args], {
      cwd: project.dir, env: { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: data.dir },
    });

  const hot = async (now: string) => {
    for (const { schema } of [alone, withCold]) {
      const r = await tm(schema, now, '--select', 'hot');
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
  };

  beforeAll(async () => {
    project = await copyProject();
    data = await tempDir();
    alone = await freshSchema('drift_alone');
    withCold = await freshSchema('drift_cold');
    schemas.push(alone, withCold);
    // The hot tier runs in the morning of a day, then after midnight: the day is finished and its hot
    // rows run from 06:44, while the drift's own hot_start (its default source_since) is today's.
    const s = stream(data.dir);
    await s.write('2020-03-05', 'a.parquet', traffic('2020-03-05 06:00:00', 60, 60_000, 1));
    await hot('2020-03-05T07:00:00Z');
    await s.write('2020-03-05', 'b.parquet', traffic('2020-03-05 07:00:00', 17 * 60, 60_000, 2));
    await s.write('2020-03-06', 'c.parquet', traffic('2020-03-06 00:00:00', 110, 30_000, 3));
    await hot('2020-03-06T02:00:00Z');
  });

  afterAll(async () => {
    for (const s of schemas) await s.drop();
    await project?.remove();
    await data?.remove();
  });

  /** The drift with `select` after the hot runs; the drift rows of the schema. */
  const drift = async (schema: string, select: string): Promise<{ rows: Record<string, unknown>[]; output: string }> => {
    const cold = await tm(schema, '2020-03-06T02:00:00Z', '--select', select);
    expect(cold.code, cold.stdout + cold.stderr).toBe(0);
    const rows = await queryRows(`SELECT event_date::text AS day, hot_clicks::int, cold_clicks::int, drift_clicks::int FROM ${schema}.mart_hot_cold_drift ORDER BY 1`);
    return { rows, output: cold.stdout + cold.stderr };
  };

  it('counts the finished day from all its events, whatever else is selected', async () => {
    const one = await drift(alone.schema, 'mart_hot_cold_drift');
    const all = await drift(withCold.schema, 'cold');
    // 06:44 (the first run's H: S 06:59 - 15 min) to the day's end, a click a minute: the hot tier saw them all.
    expect(all.rows, all.output).toEqual([{ day: '2020-03-05', hot_clicks: 1036, cold_clicks: 1036, drift_clicks: 0 }]);
    expect(one.rows, one.output).toEqual(all.rows);
    // Read by the days the minute table holds (the finished day and today), not from the drift's hot_start.
    expect(one.output).toMatch(/source curated_stream: 3 files, 1,300 rows read.*2 changed days read of 3 files listed/);
  });

  it('leaves the hot tier reading its window through its cache: only the new file', async () => {
    await stream(data.dir).write('2020-03-06', 'd.parquet', traffic('2020-03-06 01:50:00', 5, 30_000, 4));
    const r = await tm(alone.schema, '2020-03-06T02:00:00Z', '--select', 'hot');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/source curated_stream: 4 files, 1,310 rows read.*partitions from 2020-03-04 \(of 2\), 1 files read, the rest from the cache/);
  });
});
