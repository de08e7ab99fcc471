import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A minimal generic tm project (not TripClick): one Parquet source `events` and the given models. */
export async function writeMiniProject(dir: string, options: { dataDir: string; models: Record<string, string>; schemaYml: string; sourceExtra?: string }): Promise<void> {
  await mkdir(path.join(dir, 'models'), { recursive: true });
  await writeFile(
    path.join(dir, 'project.yml'),
    `name: mini
sources:
  events:
    location: ${JSON.stringify(options.dataDir)}
    columns:
      - { name: id, type: BIGINT }
      - { name: grp, type: VARCHAR }
      - { name: amount, type: BIGINT }
${options.sourceExtra ?? ''}`,
  );
  await writeFile(
    path.join(dir, 'profiles.yml'),
    `default_target: pg
targets:
  pg:
    type: postgres
    url: "{{ env 'TM_PG_URL' }}"
    schema: "{{ env 'TM_PG_SCHEMA' }}"
    threads: 2
  lite:
    type: pglite
    path: .tm/lite
`,
  );
  for (const [name, sql] of Object.entries(options.models)) await writeFile(path.join(dir, 'models', `${name}.sql`), sql);
  await writeFile(path.join(dir, 'models', 'schema.yml'), options.schemaYml);
}
