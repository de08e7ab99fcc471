/**
 * The dashboard page and the Superset bundle on real marts: a small generated stream run through the
 * hot and cold tiers into PostgreSQL by the real CLI, then `tm dashboards build|export|serve`, and the
 * page opened in the suite's Chromium in a non-UTC zone. Every figure a chart draws is compared with a
 * query on the mart written here, independently of the page's own SQL.
 */
import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateStream } from '../generator/generate.js';
import { connectBrowser, openPage } from '../test-support/browser.js';
import { copyProject, freshSchema, pgUrl, queryRows, repoRoot, runCli, tempDir } from '../test-support/harness.js';
import { unzip } from '../test-support/unzip.js';

type Option = Record<string, unknown> & { series?: { name: string; data: unknown[] }[]; xAxis?: { data?: string[] }[] };

describe('tm dashboards on the real PostgreSQL, in a real browser', () => {
  let schema: string;
  let dropSchema: () => Promise<void>;
  let emptySchema: Awaited<ReturnType<typeof freshSchema>>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let broken: Awaited<ReturnType<typeof copyProject>>;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let browser: Browser;
  let env: Record<string, string>;
  const site = (): string => path.join(work.dir, 'site');
  const t = (table: string): string => `${schema}.${table}`;

  beforeAll(async () => {
    ({ schema, drop: dropSchema } = await freshSchema('dash'));
    emptySchema = await freshSchema('dash_empty');
    project = await copyProject();
    broken = await copyProject();
    work = await tempDir();
    for (const dir of [project.dir, broken.dir]) await cp(path.join(repoRoot, 'dashboards'), path.join(dir, 'dashboards'), { recursive: true });
    const data = path.join(work.dir, 'stream');
    await generateStream({ out: data, days: 3, eventsPerDay: 3000, seed: 11, burstsPerDay: 4, force: true });
    env = { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: data };
    // A first hot run reaching back 25 hours, so the cold run has hot days to reconcile (drift rows).
    const hot = await runCli(['run', '--select', 'hot', '--target', 'prod', '--project-dir', project.dir, '--vars', '{"hot_lookback_minutes": 1500}'], { env });
    expect(hot.code, hot.stdout + hot.stderr).toBe(0);
    const cold = await runCli(['run', '--select', 'cold', '--target', 'prod', '--project-dir', project.dir], { env });
    expect(cold.code, cold.stdout + cold.stderr).toBe(0);
    const build = await runCli(['dashboards', 'build', '--target', 'prod', '--project-dir', project.dir, '--out', site()], { env });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(build.stdout).toMatch(/Wrote .*index\.html \([\d.]+ MB, 19 charts\)/);
    browser = await connectBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await dropSchema?.();
    await emptySchema?.drop();
    await project?.remove();
    await broken?.remove();
    await work?.remove();
  });

  async function open(url: string): Promise<{ page: Page; outside: string[]; close: () => Promise<void> }> {
    const opened = await openPage(browser, { timezoneId: 'America/Los_Angeles' });
    await opened.page.goto(url);
    await opened.page.waitForFunction(() => ((window as unknown as { tmDashboards?: { renders: number } }).tmDashboards?.renders ?? 0) >= 5);
    return opened;
  }

  /** The option ECharts holds for a chart (what it draws), or the table the page holds. */
  async function optionOf(page: Page, dashboard: string, chart: string): Promise<Option> {
    return page.evaluate(
      ([d, c]) => {
        const el = document.querySelector(`[data-tm-dashboard="${d}"] [data-tm-chart="${c}"] .tm-body`) as HTMLElement;
        const instance = (window as unknown as { echarts: { getInstanceByDom(e: HTMLElement): { getOption(): unknown } | undefined } }).echarts.getInstanceByDom(el);
        return JSON.parse(JSON.stringify(instance?.getOption() ?? null));
      },
      [dashboard, chart],
    );
  }

  async function tableOf(page: Page, dashboard: string, chart: string): Promise<{ columns: string[]; rows: unknown[][]; domRows: number }> {
    return page.evaluate(
      ([d, c]) => {
        const data = (window as unknown as { tmDashboards: { data: { dashboards: Record<string, { charts: Record<string, { columns: string[]; rows: unknown[][] }> }> } } }).tmDashboards.data;
        const table = data.dashboards[d].charts[c];
        const domRows = document.querySelectorAll(`[data-tm-dashboard="${d}"] [data-tm-chart="${c}"] tbody tr`).length;
        return { columns: table.columns, rows: table.rows, domRows };
      },
      [dashboard, chart],
    );
  }

  const ms = (ts: string): number => Date.parse(`${ts.replace(' ', 'T')}Z`);
  const num = (v: unknown): number => Number(v);

  it('draws every chart, offline, in a non-UTC time zone, with UTC axis labels', async () => {
    const { page, outside, close } = await open(`file://${site()}/index.html`);
    try {
      const states = await page.$$eval('[data-tm-chart]', (els) => els.map((e) => [e.getAttribute('data-tm-chart'), e.getAttribute('data-tm-form'), e.getAttribute('data-tm-state'), e.querySelector('svg, table') ? 'yes' : 'no']));
      expect(states).toHaveLength(19);
      for (const [name, , state, drawn] of states) expect([name, state, drawn]).toEqual([name, 'drawn', 'yes']);
      expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe('America/Los_Angeles');
      // The minute chart's time labels (HH:mm) lie within its UTC range; in Los Angeles time they would be 7-8 hours off.
      const [range] = await queryRows<{ lo: string; hi: string }>(`SELECT to_char(min(event_minute), 'YYYY-MM-DD HH24:MI') AS lo, to_char(max(event_minute), 'YYYY-MM-DD HH24:MI') AS hi FROM ${t('mart_realtime_traffic_minute')} WHERE event_minute > (SELECT max(event_minute) FROM ${t('mart_realtime_traffic_minute')}) - INTERVAL '6 hours'`);
      const labels = await page.$$eval('[data-tm-chart="clicks_per_minute"] svg text', (els) => els.map((e) => e.textContent ?? '').filter((s) => /^\d\d:\d\d$/.test(s)));
      expect(labels.length).toBeGreaterThan(2);
      const [lo, hi] = [ms(range.lo), ms(range.hi)];
      const day = range.hi.slice(0, 10);
      for (const label of labels) {
        const at = [ms(`${day} ${label}`), ms(`${day} ${label}`) - 86_400_000].find((x) => x >= lo - 60_000 && x <= hi + 60_000);
        expect(at, `label ${label} not within ${range.lo}..${range.hi} UTC`).toBeDefined();
      }
      expect((await optionOf(page, 'realtime', 'clicks_per_minute')).useUTC).toBe(true);
      expect(outside).toEqual([]);
    } finally {
      await close();
    }
  });

  it('draws what one SQL query on each mart says', async () => {
    const { page, close } = await open(`file://${site()}/index.html`);
    try {
      // Real-time: minutes of the last 6 hours of the stream (relative to its latest minute, not the wall clock).
      const minutes = await queryRows<{ m: string; c: number }>(`SELECT event_minute::text AS m, total_clicks AS c FROM ${t('mart_realtime_traffic_minute')} WHERE event_minute > (SELECT max(event_minute) - INTERVAL '6 hours' FROM ${t('mart_realtime_traffic_minute')}) ORDER BY event_minute`);
      expect(minutes.length).toBeGreaterThan(10);
      const perMinute = await optionOf(page, 'realtime', 'clicks_per_minute');
      // Minutes without events are drawn as 0 (not a straight line across them): every minute of the range, once.
      const drawnMinutes = (perMinute.series?.find((s) => s.name === 'clicks')?.data ?? []) as [number, number][];
      const counted = new Set(minutes.map((r) => ms(r.m)));
      expect(drawnMinutes.filter(([x]) => counted.has(x))).toEqual(minutes.map((r) => [ms(r.m), r.c]));
      expect(drawnMinutes.filter(([x]) => !counted.has(x)).map(([, y]) => y)).toEqual(new Array(drawnMinutes.length - minutes.length).fill(0));
      expect(drawnMinutes.length).toBe((ms(minutes[minutes.length - 1].m) - ms(minutes[0].m)) / 60_000 + 1);

      const top = await queryRows<Record<string, unknown>>(`SELECT rank, title, click_count, unique_sessions FROM ${t('mart_realtime_top_docs_1h')} WHERE snapshot_ts = (SELECT max(snapshot_ts) FROM ${t('mart_realtime_top_docs_1h')}) ORDER BY rank`);
      const topTable = await tableOf(page, 'realtime', 'top_docs_last_hour');
      expect(topTable.rows).toEqual(top.map((r) => [r.rank, r.title, r.click_count, r.unique_sessions]));
      expect(topTable.domRows).toBe(top.length);
      expect(top.length).toBeGreaterThan(0);

      const episodes = await queryRows<{ h: string; severity: string; n: string }>(`SELECT date_trunc('hour', detected_ts)::text AS h, severity, count(*) AS n FROM ${t('mart_realtime_anomaly_sessions')} GROUP BY 1, 2 ORDER BY 1, 2`);
      expect(episodes.length).toBeGreaterThan(0);
      const episodeSeries = (await optionOf(page, 'realtime', 'anomaly_episodes')).series ?? [];
      // Hours without an episode are drawn as 0 bars; the others are the mart's counts.
      const drawnEpisodes = episodeSeries.flatMap((s) => s.data.map((p) => [p as [number, number], s.name] as const)).filter(([[, y]]) => y !== 0).map(([[x, y], name]) => `${x} ${name} ${y}`).sort();
      expect(drawnEpisodes).toEqual(episodes.map((e) => `${ms(e.h)} ${e.severity} ${num(e.n)}`).sort());

      const drift = await queryRows<{ d: string; v: string }>(`SELECT event_date::text AS d, drift_clicks AS v FROM ${t('mart_hot_cold_drift')} ORDER BY 1`);
      expect(drift.length).toBeGreaterThan(0);
      const driftDays = new Set(drift.map((r) => ms(r.d)));
      const drawnDrift = ((await optionOf(page, 'realtime', 'hot_cold_drift')).series?.[0].data ?? []) as [number, number][];
      expect(drawnDrift.filter(([x]) => driftDays.has(x))).toEqual(drift.map((r) => [ms(r.d), num(r.v)]));

      // Daily traffic.
      const [total] = await queryRows<{ s: string }>(`SELECT sum(total_events) AS s FROM ${t('mart_daily_traffic')}`);
      expect((await optionOf(page, 'daily_traffic', 'total_events')).dataset).toEqual([expect.objectContaining({ source: [['events'], [num(total.s)]] })]);
      const peaks = await queryRows<{ d: string; h: number; e: number }>(`SELECT event_date::text AS d, peak_hour AS h, total_events AS e FROM ${t('mart_daily_traffic')} ORDER BY 1`);
      expect((await optionOf(page, 'daily_traffic', 'peak_hour_by_day')).series?.[0].data).toEqual(peaks.map((p) => [p.d, String(p.h), p.e]));

      // Clinical areas: pie slices, and the 8 series of the area chart are the 8 largest areas.
      const areas = await queryRows<{ a: string; s: string }>(`SELECT clinical_area AS a, sum(search_count) AS s FROM ${t('mart_clinical_areas')} GROUP BY 1 ORDER BY 2 DESC, 1`);
      const pie = (await optionOf(page, 'clinical_areas', 'area_share')).series?.[0].data as { name: string; value: number }[];
      expect(pie).toEqual(areas.slice(0, 12).map((a) => expect.objectContaining({ name: a.a, value: num(a.s) })));
      const areaSeries = ((await optionOf(page, 'clinical_areas', 'areas_over_time')).series ?? []).map((s) => s.name).sort();
      expect(areaSeries).toEqual(areas.slice(0, 8).map((a) => a.a).sort());

      // Sessions: the histogram's bins from the raw values, the box plot's quartiles from percentile_cont.
      const durations = (await queryRows<{ v: number }>(`SELECT session_duration_sec AS v FROM ${t('mart_session_analysis')}`)).map((r) => r.v);
      const [lo, hi] = [Math.min(...durations), Math.max(...durations)];
      const counts = new Array<number>(30).fill(0);
      for (const v of durations) counts[hi === lo ? 0 : Math.min(29, Math.floor(((v - lo) / (hi - lo)) * 30))]++;
      const histogram = await optionOf(page, 'sessions', 'duration_distribution');
      const drawnCounts = new Map((histogram.xAxis?.[0].data ?? []).map((label, i) => [label, histogram.series?.[0].data[i]]));
      expect([...drawnCounts.values()].reduce((a: number, b) => a + Number(b), 0)).toBe(durations.length);
      expect(counts.filter((c) => c > 0)).toEqual([...drawnCounts.values()]);
      const boxes = await queryRows<Record<string, number>>(
        `SELECT min(click_count)::float8 AS a, percentile_cont(0.25) WITHIN GROUP (ORDER BY click_count) AS b, percentile_cont(0.5) WITHIN GROUP (ORDER BY click_count) AS c, percentile_cont(0.75) WITHIN GROUP (ORDER BY click_count) AS d, max(click_count)::float8 AS e FROM ${t('mart_session_analysis')} GROUP BY event_date ORDER BY event_date`,
      );
      expect((await optionOf(page, 'sessions', 'clicks_per_session')).series?.[0].data).toEqual(boxes.map((b) => [b.a, b.b, b.c, b.d, b.e]));

      // Popular documents of the mart's last 30 days.
      const docs = await queryRows<{ id: number; title: string; v: string; n: string }>(`SELECT document_id AS id, max(title) AS title, sum(view_count) AS v, count(*) AS n FROM ${t('mart_popular_documents')} WHERE event_date > (SELECT max(event_date) FROM ${t('mart_popular_documents')}) - 30 GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 20`);
      expect((await tableOf(page, 'documents', 'top_documents')).rows).toEqual(docs.map((d) => [d.id, d.title, num(d.v), num(d.n)]));
    } finally {
      await close();
    }
  });

  it('shows a failing chart\'s error in its place, draws the others, and exits 1 naming it', async () => {
    await writeFile(
      path.join(broken.dir, 'dashboards', '9-broken.yml'),
      YAML.stringify({
        dashboards: [{
          name: 'broken',
          charts: [
            { name: 'bad_metric', model: 'mart_daily_traffic', form: 'big_number', metrics: [{ sql: 'sum(no_such_column)', label: 'x' }], place: { row: 1, width: 6 } },
            { name: 'good_metric', model: 'mart_daily_traffic', form: 'big_number', metrics: ['count(*) as days'], place: { row: 1, width: 6 } },
          ],
        }],
      }),
    );
    const out = path.join(work.dir, 'broken-site');
    const result = await runCli(['dashboards', 'build', '--target', 'prod', '--project-dir', broken.dir, '--out', out, '--select', 'broken', 'daily_traffic'], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain('1 chart failed: broken/bad_metric');
    const opened = await openPage(browser, { timezoneId: 'Asia/Kolkata' });
    try {
      await opened.page.goto(`file://${out}/index.html`);
      await opened.page.waitForFunction(() => (window as unknown as { tmDashboards?: { renders: number } }).tmDashboards?.renders === 2);
      expect(await opened.page.getAttribute('[data-tm-chart="bad_metric"]', 'data-tm-state')).toBe('failed');
      expect(await opened.page.textContent('[data-tm-chart="bad_metric"] .tm-error')).toContain('no_such_column');
      expect(await opened.page.getAttribute('[data-tm-chart="good_metric"]', 'data-tm-state')).toBe('drawn');
      expect(await opened.page.getAttribute('[data-tm-chart="events_per_day"]', 'data-tm-state')).toBe('drawn');
    } finally {
      await opened.close();
    }
  });

  it('exports a Superset v1 bundle with 3.1 keys only, stable uuids, positions, and no password', async () => {
    const file = path.join(work.dir, 'bundle.zip');
    const args = ['dashboards', 'export', '--target', 'prod', '--project-dir', project.dir, '--out', file, '--database-uri', 'postgresql://superset:s3cret-pw@marts:5432/marts'];
    const first = await runCli(args, { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).not.toContain('s3cret-pw');
    const bytes = await readFile(file);
    expect(bytes.includes('s3cret-pw')).toBe(false);
    const files = unzip(bytes);
    const roots = new Set([...files.keys()].map((f) => f.split('/')[0]));
    expect(roots.size).toBe(1);
    const docs = new Map([...files].map(([name, data]) => [name.split('/').slice(1).join('/'), YAML.parse(data.toString('utf8')) as Record<string, unknown>]));
    expect(docs.get('metadata.yaml')).toMatchObject({ version: '1.0.0', type: 'assets' });

    const allowed: Record<string, string[]> = {
      databases: ['database_name', 'sqlalchemy_uri', 'password', 'cache_timeout', 'expose_in_sqllab', 'allow_run_async', 'allow_ctas', 'allow_cvas', 'allow_dml', 'allow_csv_upload', 'extra', 'uuid', 'version'],
      datasets: ['table_name', 'main_dttm_col', 'description', 'default_endpoint', 'offset', 'cache_timeout', 'schema', 'sql', 'params', 'template_params', 'filter_select_enabled', 'fetch_values_predicate', 'extra', 'uuid', 'columns', 'metrics', 'version', 'database_uuid'],
      charts: ['slice_name', 'description', 'viz_type', 'params', 'query_context', 'cache_timeout', 'uuid', 'version', 'dataset_uuid'],
      dashboards: ['dashboard_title', 'description', 'css', 'slug', 'uuid', 'position', 'metadata', 'version', 'published'],
    };
    const of = (kind: string) => [...docs].filter(([name]) => name.startsWith(`${kind}/`)).map(([, doc]) => doc);
    for (const kind of Object.keys(allowed)) {
      expect(of(kind).length, kind).toBeGreaterThan(0);
      for (const doc of of(kind)) expect(Object.keys(doc).filter((k) => !allowed[kind].includes(k)), kind).toEqual([]);
    }
    const [database] = of('databases');
    expect(database.sqlalchemy_uri).toBe('postgresql+psycopg2://superset:XXXXXXXXXX@marts:5432/marts');
    expect(database).toHaveProperty('allow_csv_upload');
    expect(database).toHaveProperty('extra');
    for (const dataset of of('datasets')) {
      expect(dataset.database_uuid).toBe(database.uuid);
      for (const column of dataset.columns as Record<string, unknown>[]) {
        expect(Object.keys(column).filter((k) => !['column_name', 'verbose_name', 'is_dttm', 'is_active', 'type', 'groupby', 'filterable', 'expression', 'description', 'python_date_format', 'extra'].includes(k))).toEqual([]);
      }
    }
    expect(of('datasets').map((d) => d.table_name).sort()).toEqual(['mart_clinical_areas', 'mart_daily_traffic', 'mart_hot_cold_drift', 'mart_popular_documents', 'mart_realtime_anomaly_sessions', 'mart_realtime_clinical_trend_24h', 'mart_realtime_top_docs_1h', 'mart_realtime_traffic_minute', 'mart_session_analysis']);
    // Chart types of Superset 3.1 (heatmap and histogram as its legacy types: heatmap_v2/histogram_v2 came later).
    const vizTypes3_1 = ['echarts_timeseries_line', 'echarts_timeseries_bar', 'echarts_area', 'table', 'pie', 'big_number_total', 'box_plot', 'heatmap', 'histogram'];
    const datasetUuids = new Set(of('datasets').map((d) => d.uuid));
    const chartUuids = new Set<unknown>();
    for (const chart of of('charts')) {
      expect(vizTypes3_1).toContain(chart.viz_type);
      expect(datasetUuids.has(chart.dataset_uuid)).toBe(true);
      chartUuids.add(chart.uuid);
    }
    const placed = new Set<unknown>();
    for (const dashboard of of('dashboards')) {
      const position = dashboard.position as Record<string, { type: string; children?: string[]; meta?: { uuid?: string; chartId?: number; width?: number } }>;
      expect(position.DASHBOARD_VERSION_KEY).toBe('v2');
      const nodes = Object.values(position).filter((n) => typeof n === 'object');
      for (const node of nodes.filter((n) => n.type === 'CHART')) {
        expect(Number.isInteger(node.meta?.chartId)).toBe(true);
        placed.add(node.meta?.uuid);
      }
      for (const row of nodes.filter((n) => n.type === 'ROW')) {
        expect((row.children ?? []).reduce((w, id) => w + (position[id].meta?.width ?? 0), 0)).toBeLessThanOrEqual(12);
      }
    }
    expect(placed).toEqual(chartUuids);
    expect(chartUuids.size).toBe(19);

    // Re-export: the same uuids (and the same files but for metadata's timestamp), so a re-import overwrites.
    const second = await runCli(args, { env });
    expect(second.code).toBe(0);
    const again = unzip(await readFile(file));
    for (const [name, data] of files) if (!name.endsWith('metadata.yaml')) expect(again.get(name)?.toString('utf8'), name).toBe(data.toString('utf8'));
  });

  it('refuses an export whose marts are missing from the target, naming them (exit 2)', async () => {
    const result = await runCli(['dashboards', 'export', '--target', 'prod', '--project-dir', project.dir, '--out', path.join(work.dir, 'x.zip'), '--select', 'daily_traffic', 'sessions'], { env: { ...env, TM_PG_SCHEMA: emptySchema.schema } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('tables missing in target \'prod\'');
    expect(result.stderr).toContain('mart_daily_traffic, mart_session_analysis');
  });

  it('serves the page live and refreshes the real-time dashboard', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'tm.js'), 'dashboards', 'serve', '--target', 'prod', '--project-dir', project.dir, '--port', '0', '--refresh', '1'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /Serving dashboards at (\S+)/.exec(out);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const fresh = (await (await fetch(`${url}data/realtime.json`)).json()) as { refreshSeconds: number; charts: Record<string, { kind: string }> };
      expect(fresh.refreshSeconds).toBe(1);
      expect(Object.values(fresh.charts).map((c) => c.kind)).not.toContain('error');
      const { page, outside, close } = await open(url);
      try {
        // Five dashboards drawn, then the real-time one again after its refresh.
        await page.waitForFunction(() => (window as unknown as { tmDashboards: { renders: number } }).tmDashboards.renders >= 7, undefined, { timeout: 15_000 });
        expect(await page.getAttribute('[data-tm-chart="clicks_per_minute"]', 'data-tm-state')).toBe('drawn');
        expect(outside).toEqual([]);
      } finally {
        await close();
      }
    } finally {
      child.kill('SIGTERM');
    }
  });
});
