/** The dashboard page: one self-contained HTML file (ECharts and the data inlined; no CDN, works offline). */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ChartData } from './forms/form.js';
import { PAGE_SCRIPT } from './page-script.js';
import type { ChartResult } from './run-charts.js';
import type { ChartSpec, DashboardNode } from '../manifest/dashboard-types.js';

export interface DashboardData {
  readonly title: string;
  readonly refreshSeconds: number;
  /** When the target was read (ISO, UTC). */
  readonly readAt: string;
  readonly charts: Readonly<Record<string, ChartData>>;
}

export interface PageData {
  readonly project: string;
  readonly dashboards: Readonly<Record<string, DashboardData>>;
}

/** What the page draws for one dashboard; ECharts options get UTC display and no animation. */
export function dashboardData(dashboard: DashboardNode, results: readonly ChartResult[], readAt: Date, refreshSeconds: number): DashboardData {
  const charts: Record<string, ChartData> = {};
  for (const r of results) {
    if (r.dashboard !== dashboard.name) continue;
    charts[r.chart] = r.data.kind === 'echarts' ? { kind: 'echarts', option: { useUTC: true, animation: false, ...r.data.option } } : r.data;
  }
  return { title: dashboard.title, refreshSeconds, readAt: readAt.toISOString(), charts };
}

let echartsSource: Promise<string> | undefined;
function loadEcharts(): Promise<string> {
  echartsSource ??= readFile(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8');
  return echartsSource;
}

export async function renderPage(dashboards: readonly DashboardNode[], data: PageData): Promise<string> {
  const nav = dashboards.map((d) => `<a href="#dashboard-${d.name}">${esc(d.title)}</a>`).join('');
  const sections = dashboards.map(renderDashboard).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.project)} dashboards</title>
<style>${CSS}</style>
<script>${(await loadEcharts()).replace(/<\/script/gi, '<\\/script')}</script>
</head><body>
<header class="tm-header"><h1>${esc(data.project)} dashboards</h1><nav>${nav}</nav><p class="tm-note">All times are UTC.</p></header>
<main>
${sections}
</main>
<script type="application/json" id="tm-data">${jsonForScript(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

function renderDashboard(d: DashboardNode): string {
  const rows = new Map<number, ChartSpec[]>();
  for (const chart of d.charts) rows.set(chart.place.row, [...(rows.get(chart.place.row) ?? []), chart]);
  const grid = [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, charts]) => `<div class="tm-row">${charts.map(renderChart).join('')}</div>`)
    .join('\n');
  return `<section class="tm-dashboard" id="dashboard-${d.name}" data-tm-dashboard="${d.name}">
<h2>${esc(d.title)}</h2><p class="tm-desc">${esc(d.description)} <span class="tm-stamp"></span></p>
${grid}
</section>`;
}

function renderChart(c: ChartSpec): string {
  const px = c.place.height * 8;
  return `<figure class="tm-chart" data-tm-chart="${c.name}" data-tm-form="${c.form}" style="grid-column: span ${c.place.width}; height: ${px}px">` +
    `<figcaption title="${esc(c.description)}">${esc(c.title)}</figcaption><div class="tm-body"></div></figure>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] as string);
}

/** JSON inside <script>: no `</script>` or `<!--` can close or confuse it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2d3d;background:#f3f5f7}
.tm-header{padding:12px 24px;background:#20344a;color:#fff;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
.tm-header h1{font-size:18px;margin:0}.tm-header nav a{color:#cfe3ff;margin-right:16px;text-decoration:none}.tm-note{margin:0;color:#cfd8e3}
main{padding:8px 24px 48px}.tm-dashboard{margin-top:16px}.tm-dashboard h2{font-size:17px;margin:8px 0 0}
.tm-desc{margin:2px 0 8px;color:#5b6b7b}.tm-stamp{color:#8796a5;font-size:12px}
.tm-row{display:grid;grid-template-columns:repeat(12,1fr);gap:12px;margin-bottom:12px}
.tm-chart{margin:0;background:#fff;border:1px solid #dde3e9;border-radius:6px;display:flex;flex-direction:column;min-width:0}
.tm-chart figcaption{padding:8px 12px 0;font-weight:600}.tm-body{flex:1;min-height:0;overflow:auto;padding:4px 8px}
.tm-chart[data-tm-state=failed]{border-color:#d9534f}.tm-body{position:relative}
.tm-chart[data-tm-empty] .tm-body::after{content:"no rows";position:absolute;top:45%;left:0;right:0;text-align:center;color:#8796a5;pointer-events:none}.tm-error{color:#b52b27;padding:12px;white-space:pre-wrap}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eef1f4;text-align:left;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:240px}
th{position:sticky;top:0;background:#f8fafb}td.tm-num{text-align:right;font-variant-numeric:tabular-nums}td.tm-null{color:#aab}
`;
