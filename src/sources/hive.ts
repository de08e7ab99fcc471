/** Hive partition values from a key's folders: `a=1/b=x/f.parquet` -> {a: '1', b: 'x'}. */
export function parseHivePartitions(key: string): Record<string, string> {
  const parts = key.split('/');
  const values: Record<string, string> = {};
  for (const folder of parts.slice(0, -1)) {
    const eq = folder.indexOf('=');
    if (eq > 0) values[folder.slice(0, eq)] = decodeURIComponent(folder.slice(eq + 1));
  }
  return values;
}
