/**
 * Section `fuzz`: a cold run over a fuzzed stream of thousands of files (generator/fuzz.ts: good
 * files among every broken kind), against a build over its good files alone.
 * Reports the run's time and peak RSS, and checks what e2e/fuzz-stream.test.ts checks at a small size:
 * every unreadable file named, the marts equal to the good-only build's, the quarantine exactly the
 * rows of the rule-breaking files.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { generateFuzzStream, GOOD_KINDS, RULE_BREAKING_KINDS, UNREADABLE_KINDS } from '../generator/fuzz.js';
import { dropSchemaFamilies, freshSchema, runTm, withPg } from './proc.js';
import type { BenchSection, SectionResult } from './types.js';

const GOOD_FILES = 2_000;
const BAD_FILES = 3_000;
// After the last of the 10 days: no good row is in the future.
const NOW = '2020-03-12T00:00:00Z';
const MARTS = ['mart_daily_traffic', 'mart_session_analysis', 'mart_clinical_areas', 'mart_popular_documents'];

export const fuzzSection: BenchSection = {
  name: 'fuzz',
  title: `cold run over a fuzzed stream (${GOOD_FILES.toLocaleString('en')} good files among ${BAD_FILES.toLocaleString('en')} broken ones) vs the good files alone`,
  async run(ctx) {
    const root = path.join(ctx.benchDir, `fuzz-${ctx.runTag}`);
    const all = path.join(root, 'all');
    const good = path.join(root, 'good');
    const schemas = [`${ctx.runTag}_fuzz`, `${ctx.runTag}_fuzz_good`];
    const problems: string[] = [];
    try {
      const started = performance.now();
      const files = await generateFuzzStream({ out: all, goodFiles: GOOD_FILES, badFiles: BAD_FILES, days: 10, seed: 2022 });
      ctx.log(`fuzz: ${files.length} files written in ${((performance.now() - started) / 1000).toFixed(1)}s`);
      for (const f of files.filter((x) => (GOOD_KINDS as readonly string[]).includes(x.kind))) {
        const dest = path.join(good, path.relative(all, f.path));
        await mkdir(path.dirname(dest), { recursive: true });
        await cp(f.path, dest);
      }
      for (const s of schemas) await freshSchema(ctx.pgUrl, s);
      const args = ['run', '--select', 'cold', '--target', 'prod', '--now', NOW];
      const fuzzed = await runTm({ repoRoot: ctx.repoRoot, projectDir: ctx.projectDir, args, env: { TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schemas[0], TM_CURATED_PATH: all } });
      const clean = await runTm({ repoRoot: ctx.repoRoot, projectDir: ctx.projectDir, args, env: { TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schemas[1], TM_CURATED_PATH: good } });
      const unreadable = files.filter((f) => (UNREADABLE_KINDS as readonly string[]).includes(f.kind)).length;
      const named = fuzzed.lines.filter((l) => /^\s+skipped file /.test(l)).length;
      if (named !== unreadable) problems.push(`${named} files named as skipped, ${unreadable} unreadable written`);
      const quarantineWanted = files.filter((f) => (RULE_BREAKING_KINDS as readonly string[]).includes(f.kind)).reduce((n, f) => n + f.rows, 0);
      const { differ, quarantined } = await withPg(ctx.pgUrl, async (c) => {
        let differ = 0;
        for (const m of MARTS) {
          const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ((TABLE "${schemas[0]}".${m} EXCEPT ALL TABLE "${schemas[1]}".${m}) UNION ALL (TABLE "${schemas[1]}".${m} EXCEPT ALL TABLE "${schemas[0]}".${m})) d`);
          differ += Number(r.rows[0].n);
        }
        const q = await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${schemas[0]}_tm_audit".quarantine_curated_stream`);
        return { differ, quarantined: Number(q.rows[0].n) };
      });
      if (differ) problems.push(`the fuzzed build's marts differ from the good-only build's by ${differ} rows`);
      if (quarantined !== quarantineWanted) problems.push(`quarantine holds ${quarantined} rows, the rule-breaking files ${quarantineWanted}`);
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
      const result: SectionResult = {
        table: [
          `| build | files | time | peak RSS |`,
          `|---|---:|---:|---:|`,
          `| fuzzed stream | ${files.length} (${unreadable} unreadable, ${named} named) | ${fuzzed.seconds.toFixed(1)} s | ${mib(fuzzed.maxRssBytes)} |`,
          `| good files alone | ${GOOD_FILES} | ${clean.seconds.toFixed(1)} s | ${mib(clean.maxRssBytes)} |`,
        ],
        figures: { files: files.length, unreadable, named, quarantined, quarantineWanted, martRowsDiffering: differ, fuzzedSeconds: fuzzed.seconds, goodSeconds: clean.seconds, fuzzedRss: fuzzed.maxRssBytes },
        targets: [],
        problems,
        notes: ['non-UTF-8 strings are left out: one such file still fails the whole read (docs/reliability.md)'],
      };
      return result;
    } finally {
      if (!ctx.keepSchemas) await dropSchemaFamilies(ctx.pgUrl, schemas);
      await rm(root, { recursive: true, force: true });
    }
  },
};
