/** How the bench and the e2e test point the dbt peer (bench/peers/dbt) at PostgreSQL and keep its files out of the work tree. */

import path from 'node:path';
import { ensurePythonEnv, type PythonEnv } from '../../test-support/python-env.js';

/** The dbt project, its loader and the pins of their virtualenv, in a repository. */
export function dbtPeerPaths(repoRoot: string): { project: string; loader: string; constraints: string } {
  const dir = path.join(repoRoot, 'bench', 'peers');
  return { project: path.join(dir, 'dbt'), loader: path.join(dir, 'load_raw.py'), constraints: path.join(dir, 'constraints-dbt.txt') };
}

/** The cached virtualenv with dbt-core, dbt-postgres and DuckDB (the loader's), created when missing. */
export function ensureDbtVenv(repoRoot: string, log: (line: string) => void): Promise<PythonEnv> {
  return ensurePythonEnv({ name: 'dbt', constraints: dbtPeerPaths(repoRoot).constraints, requirements: ['dbt-core', 'dbt-postgres', 'duckdb'] }, log);
}

/** The dbt project's environment (profiles.yml reads these) from a PostgreSQL URL. */
export function dbtEnv(pgUrl: string, schema: string, targetPath: string, logPath: string): Record<string, string> {
  const u = new URL(pgUrl);
  return {
    DBT_PG_URL: pgUrl,
    DBT_PG_HOST: u.hostname || '127.0.0.1',
    DBT_PG_PORT: u.port || '5432',
    DBT_PG_USER: decodeURIComponent(u.username) || 'postgres',
    DBT_ENV_SECRET_PG_PASSWORD: decodeURIComponent(u.password),
    DBT_PG_DATABASE: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
    DBT_PG_SCHEMA: schema,
    DBT_RAW_SCHEMA: `${schema}_raw`,
    DBT_TARGET_PATH: targetPath,
    DBT_LOG_PATH: logPath,
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_USE_COLORS: 'false',
    PGTZ: 'UTC',
  };
}
