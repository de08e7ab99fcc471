import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Log } from '../core/progress.js';

/** What a loop waits on between cycles: a file landing in a watched folder, or the timer (the safety net). */
export interface Wakeup {
  /** Resolves with `file` once a change was seen (after `settleMs`, so a burst is one cycle), or `timer` after `ms`. */
  wait(ms: number, signal?: AbortSignal): Promise<'file' | 'timer'>;
  close(): void;
}

interface Watched {
  readonly dir: string;
  watcher?: FSWatcher;
  /** The folder's inode when watched: a folder swapped under the watcher (moved away, remounted) is watched again. */
  ino?: number;
}

/**
 * Wakes `tm run --watch` when something changes under the local source folders (inotify and the like,
 * recursive), and otherwise after the safety-net period: notifications can be lost (a folder replaced
 * under the watcher, network file systems, an overflowing queue), and the periodic listing catches
 * what they missed. At each timer wake, a folder that was not watchable, or was swapped, is watched again.
 */
export function watchFolders(dirs: readonly string[], log: Log, settleMs = 20): Wakeup {
  let pending = false;
  let notify: (() => void) | undefined;
  const folders: Watched[] = dirs.map((dir) => ({ dir }));
  const onChange = () => {
    pending = true;
    notify?.();
  };
  const arm = async (f: Watched, first: boolean) => {
    const info = await stat(f.dir).catch(() => undefined);
    if (f.watcher && info?.ino === f.ino) return;
    f.watcher?.close();
    f.watcher = undefined;
    if (!info) return;
    try {
      f.watcher = watch(f.dir, { recursive: true, persistent: false }, onChange);
      f.watcher.on('error', () => {
        f.watcher?.close();
        f.watcher = undefined;
      });
      f.ino = info.ino;
      // A folder watched again may have changed while unwatched: the next cycle lists it.
      if (!first) onChange();
    } catch (err) {
      if (first) log(`tm: cannot watch ${f.dir} (${(err as Error).message}); listing it every safety-net period`);
    }
  };
  const ready = Promise.all(folders.map((f) => arm(f, true)));
  return {
    async wait(ms, signal) {
      await ready;
      if (!pending) {
        const woke = await new Promise<'file' | 'timer'>((resolve) => {
          if (signal?.aborted) return resolve('timer');
          const done = (why: 'file' | 'timer') => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', aborted);
            notify = undefined;
            resolve(why);
          };
          const aborted = () => done('timer');
          const timer = setTimeout(() => done('timer'), ms);
          notify = () => done('file');
          signal?.addEventListener('abort', aborted, { once: true });
        });
        if (woke === 'timer') {
          await Promise.all(folders.map((f) => arm(f, false)));
          pending = false;
          return 'timer';
        }
      }
      // Let a burst of files land: one cycle reads them all.
      await new Promise((r) => setTimeout(r, settleMs));
      pending = false;
      return 'file';
    },
    close() {
      for (const f of folders) f.watcher?.close();
    },
  };
}
