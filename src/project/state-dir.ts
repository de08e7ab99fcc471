import path from 'node:path';

/** tm's local folder in a project: caches, DuckDB spill files, the YAML parse cache. */
export function stateDirOf(projectDir: string): string {
  return path.join(projectDir, '.tm');
}
