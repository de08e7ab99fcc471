import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { CHROMIUM_PATH, launchBrowserServer } from './browser.js';
import { ensurePostgres } from './postgres-server.js';
import { ensureDebianPackages, type DebianNeed } from './system-packages.js';

/** The Debian tools the e2e tests run, installed when missing. */
export const E2E_DEBIAN_NEEDS: DebianNeed[] = [
  // Page tests drive Debian's Chromium.
  { command: CHROMIUM_PATH, package: 'chromium' },
  // deploy-recipes and dashboards-load validate compose files (no engine needed), systemd units and the Airflow DAG.
  { command: 'docker-compose', package: 'docker-compose' },
  { command: 'systemd-analyze', package: 'systemd' },
  { command: 'python3', package: 'python3' },
];

/**
 * The e2e tests run the built `bin/tm.js` as real processes against PostgreSQL and pages in Chromium: install
 * what is missing, build once, make sure PostgreSQL answers, start one browser.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensureDebianPackages(E2E_DEBIAN_NEEDS);
  const root = path.resolve(import.meta.dirname, '..');
  // The build users run (tsc, then the bundle bin/tm.js loads): one definition, in package.json.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  await ensurePostgres();
  // Page tests share one Chromium (started once, ~1 s), each file in its own browser context.
  const browser = await launchBrowserServer().catch((err: Error) => {
    throw new Error(`the page tests could not start Chromium at ${CHROMIUM_PATH}: ${err.message.split('\n')[0]}`);
  });
  project.provide('browserWsEndpoint', browser.wsEndpoint());
  return () => browser.close();
}
