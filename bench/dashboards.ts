/**
 * Section `dashboards`: `tm dashboards build --target prod` on the TripClick-scale marts (5M rows in
 * mart_popular_documents), spawn to exit, and the size of the page it writes. Targets from issue 10:
 * a build in at most 5 s, a site of at most 5 MB. The marts come from a hot run (reaching back 6 hours)
 * and a cold run into a fresh schema, or from an existing schema with `--dashboards-schema S`.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { dropSchemaFamilies, freshSchema, runChild, runTm } from './proc.js';
import type { BenchSection, SectionResult, TargetCheck } from './types.js';

const MAX_SECONDS = 5;
const MAX_MB = 5;

export const dashboardsSection: BenchSection = {
  name: 'dashboards',
  title: 'dashboard page from the TripClick-scale marts: tm dashboards build time and site size',
  async run(ctx): Promise<SectionResult> {
    const given = ctx.options['dashboards-schema'];
    const schema = typeof given === 'string' ? given : `tmbench_${ctx.runTag}_dash`;
    const notes: string[] = [];
    try {
      if (typeof given !== 'string') {
        const data = await ctx.dataset();
        await freshSchema(ctx.pgUrl, schema);
        const env = { TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: data.dir };
        ctx.log(`dashboards: building the hot and cold marts into ${schema} ...`);
        await runTm({ repoRoot: ctx.repoRoot, projectDir: ctx.projectDir, env, args: ['run', '--select', 'hot', '--target', 'prod', '--vars', '{"hot_lookback_minutes": 360}'] });
        const cold = await runTm({ repoRoot: ctx.repoRoot, projectDir: ctx.projectDir, env });
        ctx.log(`dashboards: marts built (cold run ${cold.seconds.toFixed(1)} s)`);
      } else {
        notes.push(`marts of the existing schema ${schema} (--dashboards-schema)`);
      }
      const out = path.join(ctx.benchDir, 'dashboards-site');
      const runs: { seconds: number; bytes: number; charts: number }[] = [];
      const errors: string[] = [];
      for (let i = 0; i < ctx.repeat; i++) {
        const r = await runChild(process.execPath, [path.join(ctx.repoRoot, 'bin', 'tm.js'), 'dashboards', 'build', '--target', 'prod', '--project-dir', ctx.projectDir, '--out', out], {
          env: { ...process.env, TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schema },
        });
        if (r.code !== 0) {
          errors.push(`tm dashboards build exited ${r.code}: ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
          break;
        }
        const charts = Number(/, (\d+) charts\)/.exec(r.stdout)?.[1] ?? NaN);
        runs.push({ seconds: r.seconds, bytes: (await stat(path.join(out, 'index.html'))).size, charts });
        ctx.log(`dashboards: build ${i + 1}/${ctx.repeat}: ${r.seconds.toFixed(2)} s, ${(runs[i].bytes / 1024 / 1024).toFixed(2)} MB`);
      }
      const median = (xs: number[]): number => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
      const seconds = median(runs.map((r) => r.seconds));
      const mb = median(runs.map((r) => r.bytes)) / 1024 / 1024;
      const targets: TargetCheck[] = [
        { name: 'dashboards build, spawn to exit (s)', value: seconds, limit: MAX_SECONDS, unit: 's', pass: seconds <= MAX_SECONDS },
        { name: 'dashboard site size (MB)', value: mb, limit: MAX_MB, pass: mb <= MAX_MB },
      ];
      return {
        table: [`tm dashboards build --target prod: ${seconds.toFixed(2)} s (median of ${runs.length}), site ${mb.toFixed(2)} MB, ${runs[0]?.charts ?? '?'} charts`],
        figures: { schema, runs },
        targets,
        problems: [],
        notes,
        errors,
      };
    } finally {
      if (typeof given !== 'string' && !ctx.keepSchemas) await dropSchemaFamilies(ctx.pgUrl, [schema]);
    }
  },
};
