import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { currentOwner, ownerAlive, parseOwner } from '../core/process-owner.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../core/file-modes.js';

/**
 * Per-run scratch folders: `<tmpdir>/tm-run-<id>` (COPY files, target rows read back) and
 * `<spill root>/run-<id>` (DuckDB spill). Each holds an owner file (pid + process start time), is
 * removed when the run ends (success, error, signal: an `exit` hook removes what close() did not),
 * and a folder whose owner is gone (SIGKILL, power loss) is removed by the next run that starts.
 */
export interface RunFolders {
  /** Scratch files of the run (under the temp folder). */
  readonly tmp: string;
  /** DuckDB's spill folder for the run. */
  readonly spill: string;
  /** The run's folder under Spark's output folder (`<output>/run-<id>`), when profiles.yml has one. */
  readonly output?: string;
  /** Removes both folders (idempotent). */
  remove(): void;
}

export const OWNER_FILE = '.tm-owner.json';
const TMP_PREFIX = 'tm-run-';
const SPILL_PREFIX = 'run-';
/** Folders of older tm versions (no owner file): removed once nothing has touched them for this long. */
const LEGACY_AGE_MS = 60 * 60 * 1000;
const LEGACY_TMP_PREFIXES = ['tm-copy-', 'tm-pglite-', TMP_PREFIX];

export function openRunFolders(runId: string, spillRoot: string, outputRoot?: string): { folders: RunFolders; removed: string[] } {
  const tmpRoot = os.tmpdir();
  const removed = [
    ...sweepDeadFolders(tmpRoot, (name) => LEGACY_TMP_PREFIXES.some((p) => name.startsWith(p))),
    ...sweepDeadFolders(spillRoot, (name) => name.startsWith(SPILL_PREFIX)),
    ...(outputRoot ? sweepDeadFolders(outputRoot, (name) => name.startsWith(SPILL_PREFIX)) : []),
  ];
  const tmp = path.join(tmpRoot, `${TMP_PREFIX}${runId}`);
  const spill = path.join(spillRoot, `${SPILL_PREFIX}${runId}`);
  const output = outputRoot ? path.join(outputRoot, `${SPILL_PREFIX}${runId}`) : undefined;
  const dirs = output ? [tmp, spill, output] : [tmp, spill];
  const owner = JSON.stringify(currentOwner());
  for (const dir of dirs) {
    // A mart's rows pass through these folders (COPY files, spill): no other local user may look in.
    ensurePrivateDir(dir);
    writeFileSync(path.join(dir, OWNER_FILE), owner, { mode: PRIVATE_FILE_MODE });
  }
  let gone = false;
  const remove = () => {
    if (gone) return;
    gone = true;
    process.off('exit', remove);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  // A run stopped by process.exit (a second signal, the 5 s deadline) still leaves nothing behind.
  process.on('exit', remove);
  return { folders: { tmp, spill, output, remove }, removed };
}

/** Removes the folders under `root` picked by `wanted` whose owner is gone; returns their paths. */
export function sweepDeadFolders(root: string, wanted: (name: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter(wanted)) {
    const dir = path.join(root, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
      if (!ownerGone(dir)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Another run removed it first, or it is not ours to remove (permissions): leave it.
    }
  }
  return removed;
}

function ownerGone(dir: string): boolean {
  let text: string;
  try {
    text = readFileSync(path.join(dir, OWNER_FILE), 'utf8');
  } catch {
    // No owner file: an older tm's folder, or a run killed between mkdir and writing it. Only old ones go.
    return Date.now() - statSync(dir).mtimeMs > LEGACY_AGE_MS;
  }
  const owner = parseOwner(text);
  return owner !== undefined && !ownerAlive(owner);
}
