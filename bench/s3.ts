/**
 * Section `s3`: the cold build reading the same files from S3 (s3rver in a child process) vs from
 * local disk: first run with an empty S3 cache (every object downloaded) and second run (cache
 * warm), as ratios to the local run, with the bytes each run downloaded (growth of the cache
 * folder, TM_S3_CACHE_DIR).
 *
 * s3rver writes every object through its file store and is single-threaded: if uploading the whole
 * stream would take more than 2 minutes (projected from the first year uploaded), the section uses
 * one year (default 2019) for S3 *and* for the local run it is compared with, and says so.
 * `--s3-year YYYY` forces a subset, `--s3-full` the whole stream.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DataFile, Dataset } from './dataset.js';
import { listDataFiles, mib, sum } from './dataset.js';
import { fmtBytes, fmtCount, median, padTable } from './format.js';
import { TmRunError, dropSchemaFamilies, freshSchema, quoteIdent, runTm, withPg, type TmRun } from './proc.js';
import { createBucket, s3rverEnv, startS3rver, testS3Client } from '../test-support/s3rver.js';
import { MARTS } from './sql.js';
import type { BenchContext, BenchSection, SectionResult } from './types.js';

// The bench's own S3 client (uploads) would print the SDK's "node >= 22 from 2027" notice; tm children are left as they are.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BUCKET = 'tm-bench';
const PREFIX = 'curated/';
const UPLOAD_BUDGET_S = 120;
const DEFAULT_SUBSET_YEAR = '2019';

async function upload(s3: S3Client, root: string, files: readonly DataFile[], concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++];
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: PREFIX + f.rel, Body: await readFile(path.join(root, f.rel)) }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
}

// ---------------------------------------------------------------------------------------------

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

/** A folder holding only the subset's files (hard links to the dataset's, copies across devices). */
async function subsetFolder(ctx: BenchContext, data: Dataset, year: string, files: readonly DataFile[]): Promise<string> {
  const dir = path.join(ctx.benchDir, 'data', `${path.basename(data.dir)}-subset-${year}`);
  if (existsSync(dir)) {
    const have = await listDataFiles(dir);
    if (have.length === files.length && sum(have) === sum(files)) return dir;
    await rm(dir, { recursive: true, force: true });
  }
  for (const f of files) {
    const dest = path.join(dir, f.rel);
    await mkdir(path.dirname(dest), { recursive: true });
    await link(path.join(data.dir, f.rel), dest).catch(() => copyFile(path.join(data.dir, f.rel), dest));
  }
  return dir;
}

interface RunFigures {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly downloadedBytes: number;
  readonly sourceLine?: string;
  readonly sourceSeconds?: number;
  readonly rows: Record<string, number>;
}

async function measuredRun(ctx: BenchContext, schema: string, env: Record<string, string>, cacheDir?: string): Promise<RunFigures> {
  await freshSchema(ctx.pgUrl, schema); // see caseA in cold.ts: tm's CREATE SCHEMA IF NOT EXISTS races on a new schema
  const before = cacheDir ? await dirBytes(cacheDir) : 0;
  let run: TmRun;
  try {
    run = await runTm({
      repoRoot: ctx.repoRoot,
      projectDir: ctx.projectDir,
      env: { TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schema, ...env },
      echo: (l) => ctx.log(`    | ${l}`),
    });
  } catch (err) {
    if (!ctx.keepSchemas) await dropSchemaFamilies(ctx.pgUrl, [schema]);
    throw err;
  }
  const after = cacheDir ? await dirBytes(cacheDir) : 0;
  const rows = await withPg(ctx.pgUrl, async (c) => {
    const out: Record<string, number> = {};
    for (const m of MARTS) out[m.name] = Number((await c.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM ${quoteIdent(schema)}.${m.name}`)).rows[0].n);
    return out;
  });
  if (!ctx.keepSchemas) await dropSchemaFamilies(ctx.pgUrl, [schema]);
  return { seconds: run.seconds, peakRssBytes: run.maxRssBytes, downloadedBytes: after - before, sourceLine: run.sourceLine, sourceSeconds: run.sourceSeconds, rows };
}

export const s3Section: BenchSection = {
  name: 's3',
  title: 'cold build from S3 (s3rver child process) vs from local disk: cold cache and warm cache',
  async run(ctx) {
    const data = await ctx.dataset();
    const notes: string[] = [];
    const problems: string[] = [];
    const forcedYear = typeof ctx.options['s3-year'] === 'string' ? (ctx.options['s3-year'] as string) : undefined;
    const forceFull = ctx.options['s3-full'] === true;
    const year = forcedYear ?? DEFAULT_SUBSET_YEAR;
    const inYear = (f: DataFile) => f.rel.startsWith(`event_date=${year}-`);
    const yearFiles = data.files.filter(inYear);
    if (!forceFull && yearFiles.length === 0) throw new Error(`no files of ${year} in ${data.dir} (--s3-year)`);
    const rest = data.files.filter((f) => !inYear(f));

    const work = path.join(ctx.benchDir, 'tmp', `s3-${ctx.runTag}`);
    await rm(work, { recursive: true, force: true });
    const serverDir = path.join(work, 's3rver');
    await mkdir(serverDir, { recursive: true });
    const server = await startS3rver({ dir: serverDir });
    try {
      const s3 = testS3Client(server.endpoint);
      await createBucket(server.endpoint, BUCKET);
      ctx.log(
        forceFull
          ? `s3rver at ${server.endpoint}; uploading the whole stream (--s3-full: ${fmtCount(data.files.length)} files, ${mib(data.bytes)}) ...`
          : `s3rver at ${server.endpoint}; uploading ${year}${forcedYear ? '' : ' first'} (${fmtCount(yearFiles.length)} files, ${mib(sum(yearFiles))}) ...`,
      );
      const t0 = performance.now();
      await upload(s3, data.dir, forceFull ? data.files : yearFiles);
      let uploadSeconds = (performance.now() - t0) / 1000;
      let full = forceFull;
      if (!forceFull && !forcedYear) {
        // Projected from the year just uploaded, by bytes and by files (s3rver pays per object too).
        const projected = uploadSeconds + uploadSeconds * Math.max(sum(rest) / sum(yearFiles), rest.length / yearFiles.length);
        if (projected <= UPLOAD_BUDGET_S) {
          ctx.log(`uploaded ${year} in ${uploadSeconds.toFixed(1)} s; whole stream projected ${projected.toFixed(0)} s <= ${UPLOAD_BUDGET_S} s: uploading the rest`);
          await upload(s3, data.dir, rest);
          uploadSeconds = (performance.now() - t0) / 1000;
          full = true;
        } else {
          notes.push(
            `S3 comparison on a SUBSET: the ${year} files only (${fmtCount(yearFiles.length)} of ${fmtCount(data.files.length)} files, ${mib(sum(yearFiles))} of ${mib(data.bytes)}): ` +
              `uploading everything to s3rver was projected at ${projected.toFixed(0)} s (> ${UPLOAD_BUDGET_S} s; ${year} took ${uploadSeconds.toFixed(1)} s). The local run it is compared with reads the same subset.`,
          );
        }
      } else if (forcedYear) {
        notes.push(`S3 comparison on a SUBSET: the ${year} files only (--s3-year ${year}); the local run it is compared with reads the same subset.`);
      }
      const files = full ? data.files : yearFiles;
      ctx.log(`uploaded ${fmtCount(files.length)} files (${mib(sum(files))}) in ${uploadSeconds.toFixed(1)} s${full ? ' (whole stream)' : ` (${year} only)`}`);
      const localDir = full ? data.dir : await subsetFolder(ctx, data, year, files);

      const s3Env = {
        TM_CURATED_PATH: `s3://${BUCKET}/${PREFIX}`,
        TM_S3_ENDPOINT: server.endpoint,
        ...s3rverEnv(),
      };
      const locals: RunFigures[] = [];
      const colds: RunFigures[] = [];
      const warms: RunFigures[] = [];
      const errors: string[] = [];
      /** An S3 run that fails (tm exits non-zero) is reported, not thrown: the local figures still print. */
      const s3Run = async (label: string, schema: string, cacheDir: string): Promise<RunFigures | undefined> => {
        try {
          return await measuredRun(ctx, schema, { ...s3Env, TM_S3_CACHE_DIR: cacheDir }, cacheDir);
        } catch (err) {
          if (!(err instanceof TmRunError)) throw err;
          errors.push(`${label}: tm run from s3://${BUCKET}/${PREFIX} failed: ${err.reason}`);
          ctx.log(`${label} FAILED: ${err.reason}`);
          return undefined;
        }
      };
      for (let i = 0; i < ctx.repeat && errors.length === 0; i++) {
        const suffix = ctx.repeat > 1 ? ` [${i + 1}/${ctx.repeat}]` : '';
        const cacheDir = path.join(work, `s3-cache-${i}`);
        await rm(cacheDir, { recursive: true, force: true });
        await mkdir(cacheDir, { recursive: true });
        ctx.log(`local run${suffix}: ${localDir}`);
        locals.push(await measuredRun(ctx, `${ctx.runTag}_s3local_${i}`, { TM_CURATED_PATH: localDir }));
        ctx.log(`S3 run 1, empty cache${suffix}`);
        const cold = await s3Run('S3 run 1 (empty cache)', `${ctx.runTag}_s3cold_${i}`, cacheDir);
        if (!cold) break;
        colds.push(cold);
        ctx.log(`S3 run 2, warm cache${suffix}`);
        const warm = await s3Run('S3 run 2 (warm cache)', `${ctx.runTag}_s3warm_${i}`, cacheDir);
        if (!warm) break;
        warms.push(warm);
        await rm(cacheDir, { recursive: true, force: true });
      }
      for (let i = 0; i < warms.length; i++) {
        for (const m of MARTS) {
          const [l, c, w] = [locals[i].rows[m.name], colds[i].rows[m.name], warms[i].rows[m.name]];
          if (l !== c || l !== w) problems.push(`ROW COUNT MISMATCH ${m.name} (s3 section): local ${l}, S3 cold ${c}, S3 warm ${w}`);
        }
      }
      const tl = median(locals.map((x) => x.seconds));
      const tcold = median(colds.map((x) => x.seconds));
      const twarm = median(warms.map((x) => x.seconds));
      const last = (xs: RunFigures[]) => xs[xs.length - 1] as RunFigures | undefined;
      const row = (label: string, xs: RunFigures[], t: number, ratio: boolean): string[] => {
        const r = last(xs);
        if (!r) return [label, 'failed', '', '', ''];
        const src = r.sourceSeconds !== undefined ? `source step ${r.sourceSeconds.toFixed(2)} s; ` : '';
        return [label, t.toFixed(2), ratio ? (t / tl).toFixed(3) : '1.000', ratio ? fmtBytes(r.downloadedBytes) : '-', `${src}peak RSS ${fmtBytes(r.peakRssBytes)}`];
      };
      const table = [
        `input: ${fmtCount(files.length)} files, ${mib(sum(files))}${full ? ' (whole stream)' : ` (SUBSET: ${year} only)`}; upload to s3rver ${uploadSeconds.toFixed(1)} s (not timed below)`,
        '',
        ...padTable([
          ['run', 'time (s)', 'ratio to local', 'downloaded', 'detail'],
          row('local disk', locals, tl, false),
          row('S3, first run (empty cache)', colds, tcold, true),
          row('S3, second run (cached)', warms, twarm, true),
        ]),
        '',
        `source lines: local: ${last(locals)?.sourceLine ?? '?'}`,
        `              S3 1:  ${last(colds)?.sourceLine ?? '(failed)'}`,
        `              S3 2:  ${last(warms)?.sourceLine ?? '(failed)'}`,
      ];
      return {
        table,
        figures: {
          subset: full ? null : { year, files: files.length, bytes: sum(files) },
          files: files.length,
          bytes: sum(files),
          upload_seconds: uploadSeconds,
          local_seconds: tl,
          s3_first_seconds: colds.length ? tcold : null,
          s3_second_seconds: warms.length ? twarm : null,
          ratio_first: colds.length ? tcold / tl : null,
          ratio_second: warms.length ? twarm / tl : null,
          downloaded_bytes_first: last(colds)?.downloadedBytes ?? null,
          downloaded_bytes_second: last(warms)?.downloadedBytes ?? null,
          runs: { local: locals, s3_first: colds, s3_second: warms },
          errors,
        },
        targets: [],
        problems,
        notes,
        errors,
      } satisfies SectionResult;
    } finally {
      await server.stop();
      await rm(work, { recursive: true, force: true });
    }
  },
};
