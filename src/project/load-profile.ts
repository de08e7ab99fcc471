import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectError, TmError } from '../core/errors.js';
import { renderEnvTemplate } from './env-template.js';
import { stateDirOf } from './state-dir.js';
import { checkYamlShape, expectObj, optionalNumber, optionalString, readYamlFile, type Obj } from './yaml-file.js';
import { PROFILES_SHAPES } from './yaml-shapes.js';

interface CommonTargetConfig {
  readonly name: string;
  readonly schema: string;
  readonly threads: number;
  readonly duckdb: DuckDbConfig;
  /** The Spark cluster of models with `engine: spark`; undefined when profiles.yml has no spark: block. */
  readonly spark?: SparkConfig;
  readonly stateDir: string;
}

export type TargetConfig =
  | (CommonTargetConfig & { readonly type: 'pglite'; readonly path: string })
  | (CommonTargetConfig & { readonly type: 'postgres'; readonly url: string });

export interface SparkConfig {
  /** `sc://host:port[/;params]` (may carry a token in its params: never printed whole). */
  readonly connect: string;
  /** Spark SQL conf set on the session. */
  readonly conf: Readonly<Record<string, string>>;
  /** Absolute folder the cluster writes results to and tm reads them from; each run has its own folder in it. */
  readonly output: string;
}

export interface DuckDbConfig {
  readonly memoryLimit: string;
  readonly threads?: number;
  readonly tempDirectory: string;
  /** Source bytes (as listed) one query of a partition-aware model reads; more days are computed in batches. */
  readonly batchInputBytes: number;
}

/** Reads profiles.yml and resolves one target (env vars rendered for that target only). */
export async function loadTargetConfig(projectDir: string, requested: string | undefined): Promise<TargetConfig> {
  const file = path.join(projectDir, 'profiles.yml');
  const display = 'profiles.yml';
  if (!existsSync(file)) throw new TmError(`no profiles.yml in ${projectDir}`);
  const raw = expectObj(await readYamlFile(file, display, stateDirOf(projectDir)), display, 'the file');
  await checkYamlShape(raw, PROFILES_SHAPES, file, display, stateDirOf(projectDir));
  const targets = expectObj(raw.targets, display, 'targets');
  const name = requested ?? optionalString(raw.default_target, display, 'default_target') ?? Object.keys(targets)[0];
  if (!name || !(name in targets)) {
    throw new TmError(`profiles.yml: no target '${name ?? ''}' (targets: ${Object.keys(targets).join(', ') || 'none'})`);
  }
  const where = `targets.${name}`;
  const t = expectObj(targets[name], display, where);
  const value = (key: string): string | undefined =>
    envSetting(t[key], display, `${where}.${key}`, (vars) => `target '${name}' needs env var ${vars} for ${key} (profiles.yml ${where}.${key})`);
  const duckdb = duckDbConfig({ ...expectObj(raw.duckdb, display, 'duckdb'), ...expectObj(t.duckdb, display, `${where}.duckdb`) }, projectDir, display);
  const sparkBlock = raw.spark === undefined && t.spark === undefined ? undefined : { ...expectObj(raw.spark, display, 'spark'), ...expectObj(t.spark, display, `${where}.spark`) };
  const spark = sparkBlock && sparkConfig(sparkBlock, projectDir, display);
  const schema = value('schema') || 'public';
  const stateDir = stateDirOf(projectDir);
  const type = optionalString(t.type, display, `${where}.type`);
  if (type === 'pglite') {
    const dataPath = path.resolve(projectDir, value('path') ?? '.tm/pglite');
    return { type, name, path: dataPath, schema, threads: 1, duckdb, spark, stateDir };
  }
  if (type === 'postgres') {
    const url = value('url');
    if (!url) throw new TmError(`target '${name}' has no url (profiles.yml ${where}.url)`);
    const threads = optionalNumber(t.threads, display, `${where}.threads`) ?? 4;
    return { type, name, url, schema, threads, duckdb, spark, stateDir };
  }
  throw projectError(display, `${where}.type must be 'postgres' or 'pglite', got '${String(type)}'`);
}

function duckDbConfig(o: Obj, projectDir: string, display: string): DuckDbConfig {
  const text = (key: string): string | undefined => envSetting(o[key], display, `duckdb.${key}`, (vars) => `duckdb.${key} needs env var ${vars} (profiles.yml)`);
  const memoryLimit = text('memory_limit') ?? '1GB';
  const batchInput = text('batch_input');
  return {
    memoryLimit,
    threads: optionalNumber(o.threads, display, 'duckdb.threads'),
    tempDirectory: path.resolve(projectDir, text('temp_directory') ?? '.tm/duckdb_tmp'),
    // A quarter of the memory cap by default. The 10x stream (3.2 GB of Parquet) does not aggregate within
    // 600MB in one query, even one mart alone; in batches of 300 MB its rebuild peaked at 2.00 GiB RSS, of
    // 150 MB at 1.45 GiB in the same time (562 s against 551 s).
    batchInputBytes: batchInput !== undefined ? sizeInBytes(batchInput, display, 'duckdb.batch_input') : sizeInBytes(memoryLimit, display, 'duckdb.memory_limit') / 4,
  };
}

function sparkConfig(o: Obj, projectDir: string, display: string): SparkConfig {
  const text = (key: string): string | undefined => envSetting(o[key], display, `spark.${key}`, (vars) => `spark.${key} needs env var ${vars} (profiles.yml)`);
  const connect = text('connect');
  const output = text('output');
  if (!connect || !output) throw projectError(display, `spark: needs connect (e.g. sc://127.0.0.1:15002) and output (a folder the cluster and tm both reach)`);
  const conf = Object.fromEntries(
    Object.entries(expectObj(o.conf, display, 'spark.conf')).map(([key, v]) => [key, typeof v === 'string' ? envSetting(v, display, `spark.conf.${key}`, (vars) => `spark.conf.${key} needs env var ${vars} (profiles.yml)`) ?? '' : String(v)]),
  );
  return { connect, conf, output: path.resolve(projectDir, output) };
}

/**
 * A string setting with its env templates rendered (`{{ env 'X' default='...' }}`); an env var it needs
 * and lacks is an error saying which (`needs` phrases it) and how to set it.
 */
function envSetting(raw: unknown, display: string, keyPath: string, needs: (vars: string) => string): string | undefined {
  const template = optionalString(raw, display, keyPath);
  if (template === undefined) return undefined;
  const { value, missing } = renderEnvTemplate(template);
  if (missing.length) throw new TmError(`${needs(missing.join(', '))}; set it, e.g. ${missing[0]}=...`);
  return value;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };

/** `600MB`, `1.5GB`, `512MiB` (DuckDB's units: KB = 1000 bytes, KiB = 1024), or a number of bytes. */
export function sizeInBytes(text: string, display: string, key: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) throw projectError(display, `${key} must be a size such as 600MB or 2GB, got '${text}'`);
  return Number(m[1]) * unit;
}
