import { execFileSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { launchBrowserServer } from './browser.js';

/** The CLI tests run the built `bin/tm.js` as real processes: build once, and check PostgreSQL is there. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = path.resolve(import.meta.dirname, '..');
  // The build users run (tsc, then the bundle bin/tm.js loads): one definition, in package.json.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`the test suite needs PostgreSQL at ${testDatabaseUrl()} (start it, e.g. .ci/run does): ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  // Page tests share one Chromium (started once, ~1 s), each file in its own browser context.
  const browser = await launchBrowserServer().catch((err: Error) => {
    throw new Error(`the page tests need Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does): ${err.message.split('\n')[0]}`);
  });
  project.provide('browserWsEndpoint', browser.wsEndpoint());
  return () => browser.close();
}

export function testDatabaseUrl(): string {
  return process.env.TM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}
