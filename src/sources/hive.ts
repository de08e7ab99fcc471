/** Hive partition values from a key's folders: `a=1/b=x/f.parquet` -> {a: '1', b: 'x'}. */
export function parseHivePartitions(key: string): Record<string, string> {
  const parts = key.split('/');
  const values: Record<string, string> = {};
  for (const folder of parts.slice(0, -1)) {
    const eq = folder.indexOf('=');
    if (eq > 0) values[folder.slice(0, eq)] = decodeOrRaw(folder.slice(eq + 1));
  }
  return values;
}

/** A folder value as written when it is not valid percent-encoding (`%ZZ`): `hivePartitionProblem` reports it. */
function decodeOrRaw(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Why a key's Hive folders cannot be read as partition values (undefined when they can): the file
 * is then skipped with this reason, and the rest of the source read. DuckDB's own Hive parsing
 * takes quotes as quoting, and `.`/`..` are no value.
 */
export function hivePartitionProblem(key: string): string | undefined {
  for (const folder of key.split('/').slice(0, -1)) {
    const eq = folder.indexOf('=');
    if (eq <= 0) continue;
    const raw = folder.slice(eq + 1);
    try {
      decodeURIComponent(raw);
    } catch {
      return `folder '${folder}': not valid percent-encoding`;
    }
    if (raw === '') return `folder '${folder}': empty partition value`;
    if (raw === '.' || raw === '..') return `folder '${folder}': '${raw}' is not a partition value`;
    if (/['"]/.test(folder)) return `folder '${folder}': a quote in a partition folder`;
  }
  return undefined;
}
