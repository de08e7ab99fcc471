/** The security tests' project: the mini project over one Parquet file, a fresh schema, and cleanup. */
import { DuckDBInstance } from '@duckdb/node-api';
import { freshSchema, tempDir } from './harness.js';
import { writeMiniProject } from './mini-project.js';

export interface LakeProject {
  readonly schema: string;
  readonly projectDir: string;
  readonly dataDir: string;
  remove(): Promise<void>;
}

/** Writes the rows of a DuckDB query to `file` as Parquet. */
export async function writeParquet(file: string, select: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await con.run(`COPY (${select}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/**
 * A mini project (source `events`: id, grp, amount) whose data folder holds `part.parquet` with the
 * rows of `rows` (a DuckDB query; none when undefined), with the given models and schema YAML.
 */
export async function lakeProject(name: string, options: { rows?: string; models: Record<string, string>; schemaYml: string; sourceExtra?: string }): Promise<LakeProject> {
  const schema = await freshSchema(name);
  const project = await tempDir(`tm-${name}-`);
  const data = await tempDir(`tm-${name}-data-`);
  if (options.rows !== undefined) await writeParquet(`${data.dir}/part.parquet`, options.rows);
  await writeMiniProject(project.dir, { dataDir: data.dir, models: options.models, schemaYml: options.schemaYml, sourceExtra: options.sourceExtra });
  return {
    schema: schema.schema,
    projectDir: project.dir,
    dataDir: data.dir,
    async remove() {
      await schema.drop();
      await project.remove();
      await data.remove();
    },
  };
}

/** A model's YAML: materialized replace, with the given `name TYPE` columns. */
export function replaceModelYml(model: string, columns: Record<string, string>): string {
  return `models:\n  - name: ${model}\n    config: { materialized: replace }\n    columns:\n${Object.entries(columns).map(([c, t]) => `      - { name: ${c}, type: ${t} }\n`).join('')}`;
}
