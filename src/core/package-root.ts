import { readFileSync } from 'node:fs';
import path from 'node:path';

/** What tm needs from its own package.json. */
export interface PackageInfo {
  /** Folder holding package.json, bin/, schemas/ and dist/ (or src/ when run from source). */
  readonly root: string;
  readonly name: string;
  readonly version: string;
}

let cached: PackageInfo | undefined;

/**
 * tm's own package, found by walking up from this module: compiled it sits in `dist/src/`, under
 * vitest in `src/`, so a fixed relative path would be wrong in one of the two.
 */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = import.meta.dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    const parsed = readPackageJson(file);
    if (parsed) return (cached = { root: dir, ...parsed });
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`tm's package.json was not found above ${import.meta.dirname}`);
    dir = parent;
  }
}

function readPackageJson(file: string): { name: string; version: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const json = JSON.parse(text) as { name?: unknown; version?: unknown; bin?: Record<string, unknown> };
  // The package that ships the `tm` command, not some package.json of a folder in between.
  if (typeof json.version !== 'string' || typeof json.name !== 'string' || !json.bin || !('tm' in json.bin)) return undefined;
  return { name: json.name, version: json.version };
}
