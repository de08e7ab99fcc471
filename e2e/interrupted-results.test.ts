import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_NOW, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, tempDir } from '../test-support/harness.js';
import { spawnTm, type Proc } from '../test-support/processes.js';

/** A run stopped by SIGINT or SIGTERM still writes target/run_results.json: what committed, what did not. */
describe('run_results.json of an interrupted run', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const running: Proc[] = [];
  const resultsFile = () => path.join(project.dir, 'target', 'run_results.json');

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('interrupted'));
    project = await copyProject();
    data = await tempDir();
    await writeColdFixture(data.dir);
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await drop?.();
    for (const d of [project, data]) await d?.remove();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} while a mart is paused before its COPY: the file lists the committed models, the interrupted one and those not started`, async () => {
      await rm(resultsFile(), { force: true });
      const p = spawnTm(
        ['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'cold', '--now', FIXTURE_NOW, '--threads', '1', '--full-refresh'],
        { TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TM_PAUSE_AT: 'before-copy:mart_daily_traffic' },
      );
      running.push(p);
      await p.waitFor(/tm-paused before-copy mart_daily_traffic/);
      p.child.kill(signal);
      const { code } = await p.exited;
      const out = p.output();
      expect(code, out).toBe(signal === 'SIGINT' ? 130 : 143);
      const committed = /models committed: ([^;]+);/.exec(out)?.[1].split(', ') ?? [];
      const results = JSON.parse(await readFile(resultsFile(), 'utf8')) as { command: string; results: { name: string; status: string; message?: string }[] };
      expect(results.command).toBe('run');
      const byName = new Map(results.results.map((r) => [r.name, r]));
      expect(byName.size, out).toBe(7);
      for (const m of committed) expect(byName.get(m)?.status, m).toBe('success');
      expect(byName.get('mart_daily_traffic')?.status).toBe('error');
      expect(byName.get('mart_daily_traffic')?.message).toMatch(/interrupted/);
      const notStarted = results.results.filter((r) => r.status === 'skipped');
      expect(notStarted.length, out).toBeGreaterThan(0);
      for (const r of notStarted) expect(r.message).toMatch(/interrupted|upstream/);
    });
  }
});
