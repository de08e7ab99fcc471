/**
 * Dashboards as project files: nodes of the DAG, checked against the models' contracts at load (one
 * line naming file, line, dashboard and chart; exit 2), and the compose file that deploys them.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, repoRoot, runCli } from '../test-support/harness.js';

describe('dashboards in the project', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  beforeAll(async () => {
    project = await copyProject();
    await cp(path.join(repoRoot, 'dashboards'), path.join(project.dir, 'dashboards'), { recursive: true });
  });
  afterAll(async () => {
    await project?.remove();
  });

  it('lists the models a dashboard reads with +dashboard:', async () => {
    const result = await runCli(['ls', '--select', '+dashboard:realtime', '--project-dir', project.dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n').sort()).toEqual([
      'mart_hot_cold_drift', 'mart_realtime_anomaly_sessions', 'mart_realtime_clinical_trend_24h', 'mart_realtime_top_docs_1h', 'mart_realtime_traffic_minute', 'stg_events',
    ]);
    const docs = await runCli(['ls', '--select', '+dashboard:documents', '--exclude', 'stg_events', '--project-dir', project.dir]);
    expect(docs.stdout.trim()).toBe('mart_popular_documents');
  });

  const cases: { name: string; chart: string; expected: RegExp }[] = [
    {
      name: 'an unknown model',
      chart: `model: mart_daily_trafic\n        form: line\n        x: event_date\n        metrics: [sum(total_events)]`,
      expected: /^Error: dashboards\/9-bad\.yml:6: dashboard 'bad', chart 'c1': model 'mart_daily_trafic' is not a model of the project \(did you mean 'mart_daily_traffic'\?\)$/,
    },
    {
      name: 'a column the contract lacks',
      chart: `model: mart_daily_traffic\n        form: line\n        x: event_date\n        metrics: [sum(total_event)]`,
      expected: /^Error: dashboards\/9-bad\.yml:9: dashboard 'bad', chart 'c1': column 'total_event' is not in the contract of 'mart_daily_traffic' \(did you mean 'total_events'\?\)/,
    },
    {
      name: 'an unknown form',
      chart: `model: mart_daily_traffic\n        form: lines\n        x: event_date\n        metrics: [sum(total_events)]`,
      expected: /^Error: dashboards\/9-bad\.yml:7: dashboard 'bad', chart 'c1': unknown form 'lines' \(did you mean 'line'\?\)/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} at load, naming file, line, dashboard and chart (exit 2)`, async () => {
      const bad = await copyProject();
      try {
        await mkdir(path.join(bad.dir, 'dashboards'));
        await writeFile(path.join(bad.dir, 'dashboards', '9-bad.yml'), `dashboards:\n  - name: bad\n    charts:\n      - name: c1\n        place: { row: 1, width: 6 }\n        ${c.chart}\n`);
        const result = await runCli(['ls', '--project-dir', bad.dir]);
        expect(result.code).toBe(2);
        expect(result.stderr.trim()).toMatch(c.expected);
      } finally {
        await bad.remove();
      }
    });
  }

  it('refuses a row wider than the 12-column grid', async () => {
    const bad = await copyProject();
    try {
      await mkdir(path.join(bad.dir, 'dashboards'));
      const chart = (name: string, width: number): string => `      - { name: ${name}, model: mart_daily_traffic, form: big_number, metrics: ["count(*)"], place: { row: 1, width: ${width} } }\n`;
      await writeFile(path.join(bad.dir, 'dashboards', 'wide.yml'), `dashboards:\n  - name: wide\n    charts:\n${chart('a', 8)}${chart('b', 5)}`);
      const result = await runCli(['dashboards', 'build', '--out', 'site', '--project-dir', bad.dir]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(`Error: dashboards/wide.yml:5: dashboard 'wide', chart 'b': row 1 is 13 columns wide, more than the grid's 12`);
    } finally {
      await bad.remove();
    }
  });

  it('refuses to export from PGlite without --database-uri (Superset cannot reach it)', async () => {
    const result = await runCli(['dashboards', 'export', '--out', 'bundle.zip', '--project-dir', project.dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`target 'dev' is PGlite, which Superset cannot connect to: pass --database-uri`);
    await rm(path.join(project.dir, 'bundle.zip'), { force: true });
  });

  it('has a compose file that docker-compose 1.29 validates without an engine or variables', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(MARTS_|SUPERSET_|TM_)/.test(k)));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('docker-compose', ['-f', path.join(repoRoot, 'deploy', 'compose.yml'), 'config'], { env }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 127) : 0, stdout, stderr });
      });
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/WARN/);
    for (const service of ['marts', 'superset', 'superset-db', 'superset-init', 'superset-import', 'tm-bootstrap', 'tm-hot', 'tm-cold']) expect(result.stdout).toContain(`  ${service}:`);
    expect(result.stdout).toContain('image: apache/superset:3.1');
    expect(result.stdout).toContain('image: postgres:15');
  });
});
