import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FIXTURE_NOW, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, repoRoot, runCli, tempDir, withPg } from '../test-support/harness.js';

const exec = promisify(execFile);

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
}
interface Workflow {
  readonly on: { readonly pull_request: { readonly types: readonly string[] } };
  readonly env: Record<string, string>;
  readonly jobs: Record<string, { readonly if: string; readonly steps: readonly Step[] }>;
}

/**
 * deploy/ci/tm-pull-request.yml as far as this machine allows: the YAML parses, every tm command in it
 * exists with the flags it uses, and its review and cleanup steps run in order against the local
 * PostgreSQL (`npx tm` is the built CLI; checkout, setup, npm ci and the GitHub comment are left out).
 */
describe('the pull-request recipe in deploy/ci/', () => {
  let workflow: Workflow;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let prod: Awaited<ReturnType<typeof freshSchema>>;
  const prSchema = `t_ci_pr_${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    workflow = parse(await readFile(path.join(repoRoot, 'deploy', 'ci', 'tm-pull-request.yml'), 'utf8')) as Workflow;
    project = await copyProject();
    await cp(path.join(repoRoot, 'dashboards'), path.join(project.dir, 'dashboards'), { recursive: true });
    tmp = await tempDir('tm-ci-');
    await writeColdFixture(tmp.dir);
    prod = await freshSchema('ci_prod');
    // `npx tm` runs the built CLI, as the project's installed tm-transform would.
    await mkdir(path.join(tmp.dir, 'bin'));
    await writeFile(path.join(tmp.dir, 'bin', 'npx'), `#!/bin/sh\n[ "$1" = tm ] || exit 127\nshift\nexec "${process.execPath}" "${path.join(repoRoot, 'bin', 'tm.js')}" "$@"\n`);
    await chmod(path.join(tmp.dir, 'bin', 'npx'), 0o755);
  });
  afterAll(async () => {
    await project?.remove();
    await tmp?.remove();
    await prod?.drop();
    await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${prod.schema}_tm_audit, ${prSchema}, ${prSchema}__tm_state, ${prSchema}_tm_audit CASCADE`));
  });

  const tmCommands = (): string[][] =>
    Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((s) => (s.run ?? '').split('\n')))
      .filter((line) => /^\s*npx tm /.test(line))
      .map((line) => line.trim().replace(/\s*>.*$/, '').split(/\s+/).slice(2));

  it('parses, runs on pull requests and drops the schema on close', () => {
    expect(workflow.on.pull_request.types).toEqual(['opened', 'synchronize', 'reopened', 'closed']);
    expect(workflow.jobs.review.if).toContain("!= 'closed'");
    expect(workflow.jobs.cleanup.if).toContain("== 'closed'");
    expect(tmCommands().map((c) => c[0])).toEqual(['ls', 'build', 'diff', 'ls']);
  });

  it('uses only commands and flags that tm --help lists', async () => {
    for (const command of tmCommands()) {
      const help = await runCli([command[0], '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      for (const flag of command.filter((w) => w.startsWith('--'))) expect(help.stdout, `${command[0]} ${flag}`).toContain(flag);
    }
  });

  it('its steps run in order against PostgreSQL: build what changed in the pr schema, diff it in Markdown, then drop the schemas', async () => {
    const env = { ...process.env, PATH: `${path.join(tmp.dir, 'bin')}:${process.env.PATH}`, TM_PG_URL: pgUrl, TM_PG_SCHEMA: prod.schema, TM_PR_SCHEMA: prSchema, TM_CURATED_PATH: tmp.dir };
    const built = await runCli(['run', '--project-dir', project.dir, '--target', 'prod', '--now', FIXTURE_NOW], { env });
    expect(built.code, built.stderr).toBe(0);
    const mart = path.join(project.dir, 'models', 'cold', 'mart_daily_traffic.sql');
    await writeFile(mart, (await readFile(mart, 'utf8')).replace('GROUP BY ALL', 'WHERE session_id <> \'s1\'\n  GROUP BY ALL'));
    await mkdir(path.join(project.dir, 'target'), { recursive: true });
    const steps = workflow.jobs.review.steps.filter((s) => s.run?.includes('npx tm'));
    for (const step of steps) {
      const r = await exec('sh', ['-ec', step.run!], { cwd: project.dir, env }).catch((err: { stdout: string; stderr: string }) => {
        throw new Error(`step '${step.name}' failed: ${err.stderr}${err.stdout}`);
      });
      if (step.name === 'What changed against prod') expect(r.stdout.trim()).toBe('mart_daily_traffic  non-breaking (body)');
    }
    expect((await queryRows<{ n: number }>(`SELECT count(*)::int AS n FROM ${prSchema}.mart_daily_traffic`))[0].n).toBe(2);
    const comment = await readFile(path.join(project.dir, 'target', 'diff.md'), 'utf8');
    expect(comment).toContain('### `mart_daily_traffic`: pr against prod');
    expect(comment).toMatch(/\| `total_events` \| 1 \|/);
    expect(comment).toContain('mart_daily_traffic  non-breaking (body)');

    const cleanup = workflow.jobs.cleanup.steps.map((s) => s.run!).join('\n');
    await exec('sh', ['-ec', cleanup], { env });
    const left = await queryRows<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${prSchema}%`]);
    expect(left).toEqual([]);
  });
});
