import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** Files below `dir` (recursively, sorted) whose names end with one of `extensions`; [] when `dir` is missing. */
export async function listFiles(dir: string, extensions: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (extensions.some((ext) => e.name.endsWith(ext))) out.push(full);
    }
  }
  await walk(dir);
  return out;
}

/** Project-relative path with '/' separators, for messages and artifacts. */
export function projectRelative(projectDir: string, file: string): string {
  return path.relative(projectDir, file).split(path.sep).join('/');
}
