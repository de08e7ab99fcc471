/**
 * Cached Python virtual environments for the suite's and the bench's Python peers (Spark, Superset...).
 * Each lives under ~/.cache/tm/venvs/<name>, outside the work tree, and is rebuilt only when its
 * constraints file changes: the file's hash is written into the venv last, once the install succeeded,
 * so a killed install is never taken for a ready venv.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PythonVenv {
  /** The venv's folder. */
  readonly dir: string;
  /** Its bin/ folder (python, pip and the packages' scripts). */
  readonly bin: string;
}

export function venvsRoot(): string {
  return process.env.TM_VENVS_DIR ?? path.join(os.homedir(), '.cache', 'tm', 'venvs');
}

/** An install lock older than this is taken for the leftover of a killed process. */
const STALE_LOCK_MS = 30 * 60_000;

/**
 * The venv `name` with every requirement of `constraintsFile` (pinned `pkg==x.y` lines) installed;
 * created when missing or stale, printing one line with the install time. Test files running in
 * parallel wait for one another's install (a lock folder beside the venv).
 */
export async function ensureVenv(name: string, constraintsFile: string): Promise<PythonVenv> {
  const dir = path.join(venvsRoot(), name);
  const venv = { dir, bin: path.join(dir, 'bin') };
  const wanted = createHash('sha256').update(await readFile(constraintsFile)).digest('hex');
  const stamp = path.join(dir, '.tm-constraints-sha256');
  const ready = async () => (await readFile(stamp, 'utf8').catch(() => '')).trim() === wanted;
  if (await ready()) return venv;

  const lock = `${dir}.lock`;
  await mkdir(venvsRoot(), { recursive: true });
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const since = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > STALE_LOCK_MS) await rmdir(lock).catch(() => undefined);
      await sleep(1000);
    }
  }
  try {
    if (await ready()) return venv;
    const started = Date.now();
    await rm(dir, { recursive: true, force: true });
    await run('python3', ['-m', 'venv', dir]);
    await run(path.join(venv.bin, 'pip'), ['install', '--quiet', '-r', constraintsFile, '-c', constraintsFile], {
      maxBuffer: 64 * 1024 * 1024,
    });
    await writeFile(stamp, wanted);
    console.log(`python venv ${name}: installed ${path.basename(constraintsFile)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return venv;
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}
