import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_NOW, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { spawnTm, type Proc } from '../test-support/processes.js';

/**
 * A run stopped by SIGINT or SIGTERM, exiting at once on a second signal, or failing its quarantine still
 * writes target/run_results.json: what committed, what did not, and why the run stopped.
 */
describe('run_results.json of an interrupted run', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const running: Proc[] = [];
  const resultsFile = () => path.join(project.dir, 'target', 'run_results.json');
  type Results = { command: string; error?: string; results: { name: string; status: string; message?: string }[]; sources: unknown[] };
  const readResults = async () => JSON.parse(await readFile(resultsFile(), 'utf8')) as Results;
  const env = (more: Record<string, string> = {}) => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, ...more });
  const coldArgs = ['run', '--project-dir', '', '--target', 'prod', '--select', 'cold', '--now', FIXTURE_NOW, '--threads', '1', '--full-refresh'];
  const args = () => coldArgs.map((a, i) => (i === 2 ? project.dir : a));

  beforeAll(async () => {
    const fresh = await freshSchema('interrupted');
    schema = fresh.schema;
    drop = async () => {
      await queryRows(`DROP SCHEMA IF EXISTS ${fresh.schema}_tm_audit CASCADE`);
      await fresh.drop();
    };
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
      const p = spawnTm(args(), env({ TM_PAUSE_AT: 'before-copy:mart_daily_traffic' }));
      running.push(p);
      await p.waitFor(/tm-paused before-copy mart_daily_traffic/);
      p.child.kill(signal);
      const { code } = await p.exited;
      const out = p.output();
      expect(code, out).toBe(signal === 'SIGINT' ? 130 : 143);
      const committed = /models committed: ([^;]+);/.exec(out)?.[1].split(', ') ?? [];
      const results = await readResults();
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

  it('SIGTERM while the sources are about to be read: every model listed as not committed, and why', async () => {
    await rm(resultsFile(), { force: true });
    const p = spawnTm(args(), env({ TM_PAUSE_AT: 'before-read:curated_stream' }));
    running.push(p);
    await p.waitFor(/tm-paused before-read curated_stream/);
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code, p.output()).toBe(143);
    const results = await readResults();
    expect(results.error).toBe('interrupted (SIGTERM)');
    expect(results.results.map((r) => r.status)).toEqual(Array(7).fill('skipped'));
    for (const r of results.results) expect(r.message).toBe('not committed: interrupted (SIGTERM)');
  });

  it('a second signal (the process exits at once): the file lists the models committed so far', async () => {
    await rm(resultsFile(), { force: true });
    const p = spawnTm(args(), env({ TM_PAUSE_AT: 'before-copy:mart_daily_traffic' }));
    running.push(p);
    await p.waitFor(/tm-paused before-copy mart_daily_traffic/);
    p.child.kill('SIGINT');
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    const out = p.output();
    expect(code, out).toBe(130);
    expect(out).not.toMatch(/Finished \d+ models/);
    const results = await readResults();
    expect(results.error).toMatch(/^interrupted \(SIGINT\): the process exited before the run finished/);
    const committed = /models committed: ([^;]+);/.exec(out)?.[1].split(', ') ?? [];
    expect(committed.length, out).toBeGreaterThan(0);
    expect(results.results.filter((r) => r.status === 'success').map((r) => r.name).sort()).toEqual([...committed].sort());
    expect(results.results.find((r) => r.name === 'mart_daily_traffic')?.status).toBe('skipped');
    expect(results.results).toHaveLength(7);
  });

  it('a failed quarantine: the file holds the models\' results and the quarantine\'s error', async () => {
    const first = await runCli(args(), { env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const audit = `${schema}_tm_audit`;
    await queryRows(`CREATE FUNCTION ${audit}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'quarantine refused by the test'; END $$`);
    await queryRows(`CREATE TRIGGER refuse BEFORE INSERT OR DELETE ON ${audit}.quarantine_curated_stream FOR EACH STATEMENT EXECUTE FUNCTION ${audit}.refuse()`);
    try {
      await rm(resultsFile(), { force: true });
      const failed = await runCli(args(), { env: env() });
      expect(failed.code, failed.stdout + failed.stderr).not.toBe(0);
      const results = await readResults();
      expect(results.error).toMatch(/quarantine refused by the test/);
      expect(results.results.map((r) => r.status)).toEqual(Array(7).fill('success'));
      expect(results.sources).toHaveLength(1);
    } finally {
      await queryRows(`DROP TRIGGER refuse ON ${audit}.quarantine_curated_stream`);
    }
  });
});
