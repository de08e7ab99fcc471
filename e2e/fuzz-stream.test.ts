import { cp, mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFuzzStream, GOOD_KINDS, RULE_BREAKING_KINDS, UNREADABLE_KINDS, type FuzzFile, type FuzzKind } from '../generator/fuzz.js';
import { mulberry32 } from '../generator/random.js';
import { martOrder } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { spawnTm, type Proc } from '../test-support/processes.js';

const NOW = '2020-03-05T00:00:00Z';
/** Every broken kind but non-UTF-8 strings, which still fail the whole read (see docs/reliability.md). */
const BAD_KINDS: FuzzKind[] = [...UNREADABLE_KINDS.filter((k) => k !== 'non_utf8'), ...RULE_BREAKING_KINDS];
const STACK = /\n\s+at .*:\d+:\d+\)?\n/;

/**
 * A fuzzed stream (generator/fuzz.ts): 150 good files among 300 broken ones of every kind, landing in
 * batches while a cold `--every` loop runs and is killed (SIGKILL) at random moments. No process
 * crashes (exit 0 or 1, never a stack trace), every unreadable file is named with its reason, the marts
 * equal a build over the good files alone, and the quarantine holds exactly the rule-breaking rows.
 */
describe('a fuzzed stream under a cold --every loop killed at random', () => {
  let schema: string;
  let goodSchema: string;
  let drops: (() => Promise<void>)[] = [];
  let project: Awaited<ReturnType<typeof copyProject>>;
  let staged: Awaited<ReturnType<typeof tempDir>>;
  let stream: Awaited<ReturnType<typeof tempDir>>;
  let goodOnly: Awaited<ReturnType<typeof tempDir>>;
  let files: FuzzFile[];
  const procs: Proc[] = [];
  const env = (dir: string, s: string) => ({ TM_CURATED_PATH: dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: s });
  const args = (...more: string[]) => ['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'cold', '--now', NOW, ...more];
  const relative = (f: FuzzFile) => path.relative(staged.dir, f.path);
  const marts = async (s: string) => {
    const out: Record<string, unknown> = {};
    for (const [mart, order] of Object.entries(martOrder)) out[mart] = await queryRows(`SELECT * FROM ${s}.${mart} ORDER BY ${order}`);
    return out;
  };

  beforeAll(async () => {
    const a = await freshSchema('fuzz');
    const b = await freshSchema('fuzz_good');
    schema = a.schema;
    goodSchema = b.schema;
    drops = [a.drop, b.drop, () => queryRows(`DROP SCHEMA IF EXISTS ${a.schema}_tm_audit, ${b.schema}_tm_audit CASCADE`).then(() => undefined)];
    project = await copyProject();
    staged = await tempDir('tm-fuzz-staged-');
    stream = await tempDir('tm-fuzz-stream-');
    goodOnly = await tempDir('tm-fuzz-good-');
    files = await generateFuzzStream({ out: staged.dir, goodFiles: 150, badFiles: 300, badKinds: BAD_KINDS, seed: 22 });
    for (const f of files.filter((x) => (GOOD_KINDS as readonly string[]).includes(x.kind))) {
      await mkdir(path.dirname(path.join(goodOnly.dir, relative(f))), { recursive: true });
      await cp(f.path, path.join(goodOnly.dir, relative(f)));
    }
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    for (const d of drops) await d();
    for (const d of [project, staged, stream, goodOnly]) await d?.remove();
  });

  it('no crash, every bad file named, good rows once, quarantine exact', async () => {
    const rnd = mulberry32(22); // the kills land at the same moments on every run of the test
    const order = [...files].sort(() => rnd() - 0.5);
    const batches = 6;
    let loop = spawnTm(args('--every', '200ms'), env(stream.dir, schema));
    procs.push(loop);
    let kills = 0;
    for (let i = 0; i < batches; i++) {
      for (const f of order.slice(Math.floor((i * order.length) / batches), Math.floor(((i + 1) * order.length) / batches))) {
        await mkdir(path.dirname(path.join(stream.dir, relative(f))), { recursive: true });
        await rename(f.path, path.join(stream.dir, relative(f)));
      }
      await new Promise((r) => setTimeout(r, 200 + rnd() * 1200));
      if (rnd() < 0.8) {
        loop.child.kill('SIGKILL');
        await loop.exited;
        kills++;
        loop = spawnTm(args('--every', '200ms'), env(stream.dir, schema));
        procs.push(loop);
      }
    }
    // The last loop runs at least one cycle over the whole stream, then stops on SIGTERM.
    const mark = loop.output().length;
    await loop.waitFor(/Finished \d+ models/, { from: mark });
    loop.child.kill('SIGTERM');
    await loop.exited;
    expect(kills).toBeGreaterThan(0);
    for (const p of procs) {
      const { code, signal } = await p.exited;
      expect(signal === 'SIGKILL' || code === 0 || code === 1 || code === 143, p.output()).toBe(true);
      expect(p.output()).not.toMatch(STACK);
    }

    // What the loop left, killed or not: the good rows, once; the marts equal a build over the good files alone.
    const good = await runCli(args(), { env: env(goodOnly.dir, goodSchema) });
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toMatch(/150 files, [\d,]+ rows read, [\d,]+ valid, [\d,]+ duplicates, 0 excluded/);
    expect(good.stdout).not.toMatch(/skipped file/);
    const reference = await marts(goodSchema);
    expect(await marts(schema)).toEqual(reference);

    // The quarantine holds exactly the rows of the rule-breaking files, each file's rows once.
    const broken = files.filter((f) => (RULE_BREAKING_KINDS as readonly string[]).includes(f.kind));
    const held = await queryRows<{ file: string; n: number }>(`SELECT _tm_file AS file, count(*)::int AS n FROM ${schema}_tm_audit.quarantine_curated_stream GROUP BY 1 ORDER BY 1`);
    const want = broken.map((f) => ({ file: relative(f), n: f.rows })).sort((x, y) => (x.file < y.file ? -1 : 1));
    expect(held.map((h) => ({ file: h.file.replace(/^.*?(event_date=)/, '$1'), n: h.n }))).toEqual(want);

    // Each unreadable file was named by the loop when it first read it.
    const named = new Set(procs.flatMap((p) => [...p.output().matchAll(/skipped file (.+?\.parquet): /g)].map((m) => m[1])));
    // A rebuild reads every file again: one line each, with its reason.
    const last = await runCli(args('--full-refresh'), { env: env(stream.dir, schema) });
    expect([0, 1], last.stdout + last.stderr).toContain(last.code);
    expect(last.stdout + last.stderr).not.toMatch(STACK);
    const skipped = new Map([...last.stdout.matchAll(/skipped file (.+?\.parquet): (.+)/g)].map((m) => [m[1], m[2]]));
    const unreadable = files.filter((f) => (UNREADABLE_KINDS as readonly string[]).includes(f.kind));
    expect(unreadable.length).toBeGreaterThan(150);
    const reasons: Record<string, RegExp> = {
      truncated: /cannot read Parquet/, random_bytes: /cannot read Parquet/, zero_length: /cannot read Parquet: .*too small/,
      wrong_types: /column '(event_ts|document_id)' is string/, missing_column: /required column 'session_id' is missing/,
      nan_infinity: /column 'document_id' is float/,
    };
    for (const f of unreadable) expect(skipped.get(path.join(stream.dir, relative(f))), relative(f)).toMatch(reasons[f.kind]);
    expect(skipped.size).toBe(unreadable.length);
    expect([...named].sort()).toEqual([...skipped.keys()].sort());
    expect(await marts(schema)).toEqual(reference);
    const results = JSON.parse(await readFile(path.join(project.dir, 'target', 'run_results.json'), 'utf8'));
    expect(results.sources[0].unreadable_files).toHaveLength(unreadable.length);
  });
});
