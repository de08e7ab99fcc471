import Handlebars from 'handlebars';
import { traitsOf } from '../engines/compute/traits.js';
import type { ComputeEngine } from '../engines/compute/types.js';
import { errorMessage, TmError } from '../core/errors.js';
import { counted } from '../core/plural.js';
import { elapsedSince, formatCount, type Log } from '../core/progress.js';
import type { Manifest, ModelNode, SourceNode } from '../manifest/types.js';
import { prepareSource, type PreparedSource } from './prepare-source.js';
import { openSourceLocation } from './location.js';
import { openSchemaMemo, schemaMemoFile } from './schema-memo.js';
import type { ListedFile, PartitionFilter, SourceLocation } from './types.js';
import path from 'node:path';

export interface SourceSetup {
  readonly projectDir: string;
  readonly stateDir: string;
  readonly values: Readonly<Record<string, string>>;
  readonly log: Log;
  readonly filterFor?: (source: SourceNode) => PartitionFilter | undefined;
  /** Files already listed (by the run's observation), per source: they are not listed again. */
  readonly listed?: ReadonlyMap<string, readonly ListedFile[]>;
}

/** Opens a source's location with the engine's S3 settings (env `TM_S3_*` / AWS chain). */
export async function openLocationFor(source: SourceNode, projectDir: string, stateDir: string): Promise<SourceLocation> {
  return openSourceLocation(source.location, projectDir, {
    extension: source.format,
    s3: {
      endpoint: process.env.TM_S3_ENDPOINT || undefined,
      region: process.env.TM_S3_REGION || process.env.AWS_REGION || undefined,
      concurrency: process.env.TM_S3_CONCURRENCY ? Number(process.env.TM_S3_CONCURRENCY) : undefined,
      cacheMaxBytes: process.env.TM_S3_CACHE_MAX_BYTES ? Number(process.env.TM_S3_CACHE_MAX_BYTES) : undefined,
      cacheDir: process.env.TM_S3_CACHE_DIR ? path.resolve(process.env.TM_S3_CACHE_DIR) : path.join(stateDir, 's3-cache'),
    },
  });
}

/** Sources read by the given models (those on an engine that reads sources). */
export function sourcesOf(manifest: Manifest, models: readonly ModelNode[]): SourceNode[] {
  const names = new Set(models.filter((m) => traitsOf(m.config.engine).readsSources).flatMap((m) => m.sources));
  return [...names].map((n) => manifest.sources.get(n)!).filter(Boolean);
}

/** Prepares each source once per run and prints what was read and what was left out. */
export async function prepareSources(duck: ComputeEngine, manifest: Manifest, sources: readonly SourceNode[], setup: SourceSetup): Promise<Map<string, PreparedSource>> {
  const prepared = new Map<string, PreparedSource>();
  const session = await duck.connect();
  try {
    for (const source of sources) {
      const started = performance.now();
      const location = await openLocationFor(source, setup.projectDir, setup.stateDir);
      const hb = Handlebars.create();
      const filter = setup.filterFor?.(source);
      // Schemas are remembered only where the listing is whole (it prunes the memo).
      const schemas = filter ? undefined : await openSchemaMemo(schemaMemoFile(setup.stateDir, source));
      let result: PreparedSource;
      try {
        result = await prepareSource(session, source, location, { filter, files: setup.listed?.get(source.name), schemas, renderRule: ruleRenderer(manifest, source, setup.values, hb) });
        schemas?.retain(result.files);
        await schemas?.save();
      } catch (err) {
        throw asSourceError(source, err);
      }
      prepared.set(source.name, result);
      setup.log(describePreparedSource(result, elapsedSince(started)));
      for (const bad of result.unreadableFiles) setup.log(`    skipped file ${bad.uri}: ${bad.reason}`);
    }
  } finally {
    session.close();
  }
  return prepared;
}

/** A failure reading a source (listing, download, Parquet): one line naming the source, exit 2. A TmError stays as it is. */
export function asSourceError(source: SourceNode, err: unknown): TmError {
  if (err instanceof TmError) return err;
  return new TmError(`source '${source.name}' (${source.location}): ${errorMessage(err).split('\n')[0]}`, 2, { cause: err });
}

/** Renders a source's rule checks (Handlebars with the vars and the run's values such as `now`). */
export function ruleRenderer(manifest: Manifest, source: SourceNode, values: Readonly<Record<string, string>>, hb = Handlebars.create()): (check: string, rule: string) => string {
  return (check, rule) => {
    try {
      return hb.compile(check, { noEscape: true, strict: true })({ ...manifest.vars, ...values });
    } catch (err) {
      throw new TmError(`${source.path}: sources.${source.name}.rules '${rule}': ${errorMessage(err).split('\n')[0]}`);
    }
  };
}

export function describePreparedSource(s: PreparedSource, seconds: number): string {
  const excludedTotal = Object.values(s.excluded).reduce((a, b) => a + b, 0);
  const rules = Object.entries(s.excluded).map(([rule, n]) => `${rule} ${formatCount(n)}`).join(', ');
  const unreadable = s.unreadableFiles.length ? ` (${s.unreadableFiles.length} unreadable)` : '';
  return (
    `source ${s.name}: ${formatCount(s.files.length)} files${unreadable}, ${formatCount(s.rowsRead)} rows read, ` +
    `${formatCount(s.validRows)} valid, ${counted(s.duplicates, 'duplicate')}, ${formatCount(excludedTotal)} excluded` +
    `${rules ? ` [${rules}]` : ''} in ${seconds.toFixed(2)}s`
  );
}

export type { ListedFile };
