/**
 * Turns a copy of the TripClick project into one whose cold marts (and stg_events, the temp model they
 * read) run on Spark, from the same model files, with a spark: block in its profiles.yml reading
 * TM_SPARK_CONNECT and TM_SPARK_OUTPUT. The project has no folder-wide config, so each model's YAML says it.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SPARK_PROFILE = `
spark:
  connect: "{{ env 'TM_SPARK_CONNECT' }}"
  output: "{{ env 'TM_SPARK_OUTPUT' }}"
  conf:
    # A few shuffle partitions: the cluster has two 1-core executors (Spark's default is 200).
    spark.sql.shuffle.partitions: 4
`;

export async function useSparkForColdMarts(projectDir: string): Promise<void> {
  const edit = async (file: string, from: string, to: string) => {
    const text = await readFile(file, 'utf8');
    if (!text.includes(from)) throw new Error(`${file}: '${from.trim()}' not found: the project's YAML changed`);
    await writeFile(file, text.replaceAll(from, to));
  };
  await edit(path.join(projectDir, 'models', 'cold', 'schema.yml'), 'tags: [cold] }', 'tags: [cold], engine: spark }');
  await edit(path.join(projectDir, 'models', 'staging', 'schema.yml'), '      materialized: temp\n', '      materialized: temp\n      engine: spark\n');
  await appendFile(path.join(projectDir, 'profiles.yml'), SPARK_PROFILE);
}
