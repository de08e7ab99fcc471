/**
 * Files other local users must not read or write: `.tm/` (caches, key index, spill, PGlite), a run's
 * scratch folder (COPY files hold a mart's rows) and its spill folder. Folders are 0700, files 0600:
 * the CLI runs under umask 077, so every file it creates (its own, DuckDB's spill and COPY files,
 * PGlite's) is private; the folders are also made 0700 by path, tightening ones an older tm made,
 * for callers of the API that keep their own umask. Outputs meant to be handed on (the dashboards
 * site, the Superset bundle) are made readable explicitly (`shareFile`).
 */
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** The CLI's umask: nothing it creates is readable by group or others unless made so. */
export function usePrivateUmask(): void {
  process.umask(0o077);
}

/** Creates `dir` (and missing parents) and makes it 0700, whatever it was. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Makes every folder under `dir` 0700 and every file 0600 (a PGlite folder an older tm left 0666). */
export function tightenTree(dir: string): void {
  chmodSync(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) tightenTree(full);
    else if (entry.isFile()) chmodSync(full, PRIVATE_FILE_MODE);
  }
}

/** An output meant for other programs or people (a site, a bundle): readable by all, writable by its owner. */
export async function shareFile(file: string): Promise<void> {
  await chmod(file, 0o644);
}
