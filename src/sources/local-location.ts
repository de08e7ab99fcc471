import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseHivePartitions } from './hive.js';
import { SourceAccessError, type ListedFile, type PartitionFilter, type SourceLocation } from './types.js';

/** A source in a local folder; Hive folders that the filter rejects are not even walked. */
export function createLocalLocation(root: string, extension: string): SourceLocation {
  const suffix = `.${extension}`;
  async function walk(dir: string, prefix: string, filter: PartitionFilter | undefined, out: ListedFile[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue; // temp and marker files of writers
      const key = prefix + entry.name;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (filter && entry.name.includes('=') && !filter(parseHivePartitions(`${key}/x`))) continue;
        await walk(full, `${key}/`, filter, out);
      } else if (entry.name.endsWith(suffix)) {
        const partitions = parseHivePartitions(key);
        if (filter && !filter(partitions)) continue;
        const info = await stat(full).catch(() => undefined); // deleted by compaction while listing
        if (!info) continue;
        out.push({ key, uri: full, size: info.size, version: String(Math.trunc(info.mtimeMs)), partitions });
      }
    }
  }
  return {
    uri: root,
    async list(filter) {
      const info = await stat(root).catch(() => undefined);
      if (!info?.isDirectory()) throw new SourceAccessError(`source folder not found: ${root}`, root);
      const out: ListedFile[] = [];
      await walk(root, '', filter, out);
      return out;
    },
    async fetch(files) {
      return files.map((f) => f.uri);
    },
    stats() {
      return {};
    },
  };
}
