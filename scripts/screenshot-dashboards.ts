/**
 * `node dist/scripts/screenshot-dashboards.js [PAGE] [PNG]`: the README's screenshot of the dashboard
 * page (default: the demo's target/dashboards/index.html -> docs/dashboards.png), taken with Debian's
 * Chromium in a non-UTC zone (the page shows UTC whatever the zone).
 */
import path from 'node:path';
import { chromium } from 'playwright-core';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const page = path.resolve(process.argv[2] ?? path.join(repoRoot, 'target', 'dashboards', 'index.html'));
const png = path.resolve(process.argv[3] ?? path.join(repoRoot, 'docs', 'dashboards.png'));

const browser = await chromium.launch({ executablePath: process.env.TM_CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const context = await browser.newContext({ timezoneId: 'Europe/Berlin', viewport: { width: 1400, height: 1500 } });
  const tab = await context.newPage();
  await tab.goto(`file://${page}`);
  await tab.waitForFunction(() => ((window as unknown as { tmDashboards?: { renders: number } }).tmDashboards?.renders ?? 0) > 0);
  await tab.screenshot({ path: png });
  console.log(`Wrote ${png}`);
} finally {
  await browser.close();
}
