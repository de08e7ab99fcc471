import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);

export function testDatabaseUrl(): string {
  return process.env.TM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

async function reachable(url: string): Promise<Error | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether the URL names this machine's default cluster, the one `pg_ctlcluster` can start. */
function isLocalDefault(url: string): boolean {
  const { hostname, port } = new URL(url);
  return ['127.0.0.1', 'localhost'].includes(hostname) && ['', '5432'].includes(port);
}

/**
 * Checks the test database answers. When it does not, it is this machine's cluster and we are root, starts
 * the cluster (one line printed) and waits up to 30 s for it.
 */
export async function ensurePostgres(options: { log?: (line: string) => void } = {}): Promise<void> {
  const url = testDatabaseUrl();
  let err = await reachable(url);
  let startFailure = '';
  if (err && isLocalDefault(url) && process.getuid?.() === 0) {
    const version = (await readdir('/etc/postgresql').catch(() => [])).sort()[0];
    if (version) {
      (options.log ?? console.log)(`starting PostgreSQL ${version} (pg_ctlcluster) for the tests`);
      startFailure = await exec('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']).then(
        () => '',
        (failure: Error & { stderr?: string }) => ` (pg_ctlcluster: ${(failure.stderr || failure.message).trim()})`,
      );
      for (let i = 0; i < 30 && (err = await reachable(url)); i++) await sleep(1_000);
    }
  }
  if (err) throw new Error(`the test suite needs PostgreSQL at ${url}: ${err.message}${startFailure}`);
}
