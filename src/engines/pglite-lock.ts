import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { TmError } from '../core/errors.js';
import { currentOwner, describeOwner, ownerAlive, parseOwner, type ProcessOwner } from '../core/process-owner.js';

/**
 * PGlite is PostgreSQL in one process, with no lock of its own: two processes writing one data folder
 * corrupt it. tm keeps a lock file beside the folder (`<folder>.tm-lock`, not inside: PGlite's initdb
 * wants an empty folder), created with O_EXCL and holding pid + process start time. Node has no flock,
 * so a holder is "alive" when its pid runs with the same start time (see process-owner.ts); a lock left
 * by a killed process is taken over. The takeover re-reads the file before removing it, so two
 * processes taking over at once leave one owner except in a window of a few microseconds.
 */
export interface FolderLock {
  release(): void;
}

export function lockPgliteFolder(dataDir: string): FolderLock {
  const file = `${dataDir}.tm-lock`;
  const me = currentOwner();
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        // Only our own lock file: never one a later process took over.
        if (readOwner(file)?.pid === me.pid) rmSync(file, { force: true });
      };
      process.on('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new TmError(`cannot lock the PGlite database at ${dataDir} (${file}): ${(err as Error).message}`, 2, { cause: err });
      }
    }
    const text = readText(file);
    if (text === undefined) continue; // released meanwhile
    const holder = parseOwner(text);
    if (holder && ownerAlive(holder)) {
      throw new TmError(
        `the PGlite database at ${dataDir} is in use by another process (${describeOwner(holder)}); PGlite serves one process at a time: wait for it, or use a PostgreSQL target`,
        2,
      );
    }
    // Dead holder (or a torn file): remove it if it is still the same file, then try again.
    if (readText(file) === text) rmSync(file, { force: true });
  }
  throw new TmError(`cannot lock the PGlite database at ${dataDir}: ${file} keeps changing`, 2);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readOwner(file: string): ProcessOwner | undefined {
  const text = readText(file);
  return text === undefined ? undefined : parseOwner(text);
}
