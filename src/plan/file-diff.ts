import type { SeenFile } from '../state/store.js';

/** How the files a model reads now differ from the files it saw in its last successful run. */
export interface FileDiff {
  /** Files never seen, or seen with another size or version. */
  readonly added: readonly SeenFile[];
  /** Files seen before that are no longer listed, or that changed (their old identity). */
  readonly removed: readonly SeenFile[];
  readonly unchanged: number;
}

/** Compares a listing with the state's file rows, both restricted to the partitions the model reads. */
export function diffFiles(listed: readonly SeenFile[], seen: readonly SeenFile[]): FileDiff {
  const before = new Map(seen.map((f) => [f.uri, f]));
  const added: SeenFile[] = [];
  const removed: SeenFile[] = [];
  let unchanged = 0;
  const now = new Set<string>();
  for (const f of listed) {
    now.add(f.uri);
    const old = before.get(f.uri);
    if (!old) added.push(f);
    else if (old.size !== f.size || old.version !== f.version) {
      added.push(f);
      removed.push(old);
    } else unchanged++;
  }
  for (const old of seen) if (!now.has(old.uri)) removed.push(old);
  return { added, removed, unchanged };
}

export function isEmptyDiff(diff: FileDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0;
}

export function describeDiff(diff: FileDiff): string {
  const parts = [`${diff.added.length} new`];
  if (diff.removed.length) parts.push(`${diff.removed.length} gone`);
  return `${parts.join(', ')} file${diff.added.length + diff.removed.length === 1 ? '' : 's'}`;
}
