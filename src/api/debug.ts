import { errorMessage } from '../core/errors.js';
import { counted } from '../core/plural.js';
import { collectTests } from '../quality/collect-tests.js';
import { loadTargetConfig } from '../project/load-profile.js';
import { loadProjectContext, type CommonOptions } from './project-context.js';
import { openTarget } from './runtime.js';
import { checkSpark, openSourceEngine } from '../engines/compute/index.js';
import { mkdir } from 'node:fs/promises';

export interface DebugCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** `tm debug`: project, profile, target connection, DuckDB and Spark (when a model uses it or profiles.yml has it), each checked and reported. */
export async function debug(options: CommonOptions): Promise<DebugCheck[]> {
  const checks: DebugCheck[] = [];
  let projectDir = options.projectDir ?? process.cwd();
  let sparkModels = 0;
  try {
    const ctx = await loadProjectContext(options);
    sparkModels = [...ctx.manifest.models.values()].filter((m) => m.config.engine === 'spark').length;
    projectDir = ctx.project.projectDir;
    checks.push({ name: 'project', ok: true, detail: `${ctx.project.name}: ${counted(ctx.manifest.models.size, 'model')}, ${counted(ctx.manifest.sources.size, 'source')}, ${counted(collectTests(ctx.manifest).length, 'test')}` });
  } catch (err) {
    checks.push({ name: 'project', ok: false, detail: errorMessage(err) });
    return checks;
  }
  let config;
  try {
    config = await loadTargetConfig(projectDir, options.target);
    checks.push({ name: 'profile', ok: true, detail: `target ${config.name} (${config.type}, schema ${config.schema})` });
  } catch (err) {
    checks.push({ name: 'profile', ok: false, detail: errorMessage(err) });
    return checks;
  }
  try {
    const target = await openTarget(config, 1);
    try {
      const session = await target.acquire();
      const [row] = await session.query<{ version: string }>('SELECT version() AS version');
      await session.release();
      checks.push({ name: 'connection', ok: true, detail: `${target.label}: ${row.version.split(' on ')[0]}` });
    } finally {
      await target.close();
    }
  } catch (err) {
    checks.push({ name: 'connection', ok: false, detail: errorMessage(err) });
  }
  try {
    await mkdir(config.duckdb.tempDirectory, { recursive: true });
    const duck = await openSourceEngine(config.duckdb);
    const s = await duck.connect();
    const [row] = await s.all<{ v: string; tz: string }>(`SELECT version() AS v, current_setting('TimeZone') AS tz`);
    duck.close();
    checks.push({ name: 'duckdb', ok: true, detail: `${row.v}, memory_limit ${config.duckdb.memoryLimit}, TimeZone ${row.tz}` });
  } catch (err) {
    checks.push({ name: 'duckdb', ok: false, detail: errorMessage(err) });
  }
  if (sparkModels > 0 || config.spark) {
    if (!config.spark) checks.push({ name: 'spark', ok: false, detail: `${counted(sparkModels, 'model')} with engine: spark, and no spark: block in profiles.yml` });
    else {
      try {
        checks.push({ name: 'spark', ok: true, detail: `${await checkSpark(config.spark.connect, config.spark.conf)}, output ${config.spark.output}` });
      } catch (err) {
        checks.push({ name: 'spark', ok: false, detail: errorMessage(err).split('\n')[0] });
      }
    }
  }
  return checks;
}
