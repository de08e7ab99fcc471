/**
 * `npm run demo`: generate ~30 days of TripClick-like click stream (deterministic), build the hot and
 * cold marts on the embedded default target (PGlite under .tm/), show what they hold, and build the
 * dashboard page (target/dashboards/index.html). No server, no env vars.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateStream } from '../generator/generate.js';
import { buildDashboards } from '../src/api/dashboards.js';
import { run } from '../src/api/run.js';
import { openTarget } from '../src/api/runtime.js';
import { loadTargetConfig } from '../src/project/load-profile.js';
import { qualified } from '../src/engines/target.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { days: { type: 'string', default: '30' }, 'events-per-day': { type: 'string', default: '2000' }, regenerate: { type: 'boolean', default: false } } });

const marts: [string, string][] = [
  ['mart_daily_traffic', 'event_date DESC'],
  ['mart_session_analysis', 'click_count DESC, session_id'],
  ['mart_clinical_areas', 'search_count DESC, event_date, clinical_area'],
  ['mart_popular_documents', 'view_count DESC, event_date, document_id'],
];

async function main(): Promise<number> {
  const started = performance.now();
  const dataDir = path.resolve(repoRoot, process.env.TM_CURATED_PATH ?? 'data/curated_stream');
  process.env.TM_CURATED_PATH = dataDir;
  if (values.regenerate || !existsSync(dataDir)) {
    console.log(`Generating ${values.days} days of click stream into ${path.relative(process.cwd(), dataDir) || dataDir} ...`);
    // Four click bursts a day (the generator's default is rarer), so the real-time burst charts have rows.
    const g = await generateStream({ out: dataDir, days: Number(values.days), eventsPerDay: Number(values['events-per-day']), seed: 42, burstsPerDay: 4, force: true });
    console.log(`  ${g.files} files, ${g.events.toLocaleString('en-US')} events over ${g.days} days`);
  } else {
    console.log(`Using the click stream already in ${dataDir} (npm run demo -- --regenerate to make it again)`);
  }
  console.log('');
  // Hot first, reaching back 25 hours on its first run so the real-time dashboard has hours to show and
  // the last full day is in the hot minute table; then cold, which reconciles that day (the drift chart).
  const hot = await run({ projectDir: repoRoot, select: ['hot'], vars: { hot_lookback_minutes: 1500 } });
  if (hot.exitCode !== 0) return hot.exitCode;
  console.log('');
  const outcome = await run({ projectDir: repoRoot, select: ['cold'] });
  if (outcome.exitCode !== 0) return outcome.exitCode;

  const config = await loadTargetConfig(repoRoot, undefined);
  const target = await openTarget(config, 1);
  const session = await target.acquire();
  try {
    for (const [mart, order] of marts) {
      const [{ n }] = await session.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${qualified(target.schema, mart)}`);
      const top = await session.query<Record<string, unknown>>(`SELECT * FROM ${qualified(target.schema, mart)} ORDER BY ${order} LIMIT 3`);
      console.log(`\n${mart}: ${n.toLocaleString('en-US')} rows; top 3 by ${order}:`);
      console.table(top.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && v.length > 40 ? `${v.slice(0, 37)}...` : v]))));
    }
  } finally {
    await session.release();
    await target.close();
  }
  const page = await buildDashboards({ projectDir: repoRoot, out: 'target/dashboards', log: () => undefined });
  for (const f of page.failed) console.log(`chart ${f.dashboard}/${f.chart} failed: ${f.message}`);
  console.log(`\nDashboards: ${page.charts.length} charts in ${page.seconds.toFixed(1)}s, ${(page.bytes / 1024 / 1024).toFixed(1)} MB, offline:`);
  console.log(`  ${page.index}`);
  console.log(`  (live, refreshing the real-time dashboard every 30 s: node bin/tm.js dashboards serve)`);
  console.log(`\nDemo done in ${((performance.now() - started) / 1000).toFixed(1)}s. The marts live in ${target.label}; try: node bin/tm.js ls --select +dashboard:realtime`);
  return page.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`Error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
