import { readFile, writeFile, mkdir, cp } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaffoldFiles } from '../src/init/template.js';
import { loadModels } from '../src/project/load-models.js';
import { loadTargetConfig } from '../src/project/load-profile.js';
import { loadProjectConfig } from '../src/project/load-project.js';
import { schemaFiles } from '../src/project/yaml-shapes.js';
import { listFiles } from '../src/project/walk.js';
import { repoRoot, tempDir } from '../test-support/harness.js';
import { writeQualityProject } from '../test-support/quality-project.js';

type Json = Record<string, unknown>;
type SchemaName = 'project' | 'profiles' | 'model' | 'dashboards';

const schemas = new Map<SchemaName, Json>();
const validators = new Map<SchemaName, ValidateFunction>();

/** Validates YAML text against one of the shipped schemas; returns the errors, [] when valid. */
function schemaErrors(name: SchemaName, text: string): string[] {
  const validate = validators.get(name)!;
  return validate(YAML.parse(text) ?? {}) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Runs the real loader over a project folder: every target of profiles.yml, every model YAML. */
async function loadWithLoader(dir: string): Promise<void> {
  const project = await loadProjectConfig(dir);
  await loadModels(project, project.vars);
  const profiles = YAML.parse(await readFile(path.join(dir, 'profiles.yml'), 'utf8')) as { targets: Json };
  for (const t of Object.keys(profiles.targets)) await loadTargetConfig(dir, t);
}

async function yamlFilesOf(dir: string): Promise<{ file: string; schema: SchemaName }[]> {
  const models = await listFiles(path.join(dir, 'models'), ['.yml', '.yaml']);
  const dashboards = await listFiles(path.join(dir, 'dashboards'), ['.yml', '.yaml']);
  return [
    { file: path.join(dir, 'project.yml'), schema: 'project' },
    { file: path.join(dir, 'profiles.yml'), schema: 'profiles' },
    ...models.map((file) => ({ file, schema: 'model' as const })),
    ...dashboards.map((file) => ({ file, schema: 'dashboards' as const })),
  ];
}

describe('JSON Schemas of project.yml, profiles.yml, model YAML and dashboards', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    for (const name of ['project', 'profiles', 'model', 'dashboards'] as const) {
      const schema = JSON.parse(await readFile(path.join(repoRoot, 'schemas', `${name}.schema.json`), 'utf8')) as Json;
      schemas.set(name, schema);
      validators.set(name, ajv.compile(schema));
    }
    tmp = await tempDir('tm-schemas-');
    // Env the fixtures' templates read: the loader renders them, a missing one is an error.
    Object.assign(process.env, { TM_PG_URL: 'postgres://u@127.0.0.1:1/x', TM_PG_SCHEMA: 's', QFIX_DATA: tmp.dir });
  });
  afterAll(async () => {
    process.env = savedEnv;
    await tmp?.remove();
  });

  it('are what `npm run schemas` generates from the loaders\' shapes (so the two cannot drift apart)', async () => {
    const generated = schemaFiles();
    expect(generated.map((g) => g.file).sort()).toEqual(['dashboards.schema.json', 'model.schema.json', 'profiles.schema.json', 'project.schema.json']);
    for (const { file, text } of generated) {
      expect(await readFile(path.join(repoRoot, 'schemas', file), 'utf8'), `schemas/${file} is stale: run npm run schemas`).toBe(text);
    }
  });

  it('accept every fixture project the loader accepts: this repository\'s, the quality fixture and tm init\'s', async () => {
    const qfix = path.join(tmp.dir, 'qfix');
    await writeQualityProject(qfix);
    const scaffold = path.join(tmp.dir, 'scaffold');
    for (const f of scaffoldFiles({ name: 'shop', schemaRef: () => undefined })) {
      await mkdir(path.dirname(path.join(scaffold, f.path)), { recursive: true });
      await writeFile(path.join(scaffold, f.path), f.text);
    }
    const projects = [repoRoot, qfix, scaffold];
    let checked = 0;
    for (const dir of projects) {
      await loadWithLoader(dir);
      for (const { file, schema } of await yamlFilesOf(dir)) {
        expect(schemaErrors(schema, await readFile(file, 'utf8')), file).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  // Each case: one file of a valid project made wrong; the loader must reject it and so must the schema.
  const broken: readonly { what: string; file: string; schema: SchemaName; edit: (text: string) => string }[] = [
    { what: 'unknown project key', file: 'project.yml', schema: 'project', edit: (t) => t.replace('model-paths:', 'modelpaths:') },
    { what: 'unknown source key', file: 'project.yml', schema: 'project', edit: (t) => t.replace('    format: parquet', '    formatt: parquet') },
    { what: 'format other than parquet', file: 'project.yml', schema: 'project', edit: (t) => t.replace('format: parquet', 'format: csv') },
    { what: 'dedup without order', file: 'project.yml', schema: 'project', edit: (t) => t.replace('      order: ordered_at\n', '') },
    { what: 'rule without check', file: 'project.yml', schema: 'project', edit: (t) => t.replace(', check: "amount >= 0"', '') },
    { what: 'project name not an identifier', file: 'project.yml', schema: 'project', edit: (t) => t.replace('name: shop', 'name: my-shop') },
    { what: 'target of unknown type', file: 'profiles.yml', schema: 'profiles', edit: (t) => t.replace('type: pglite', 'type: mysql') },
    { what: 'unknown target key', file: 'profiles.yml', schema: 'profiles', edit: (t) => t.replace('    threads: 4', '    host: x') },
    { what: 'postgres target without url', file: 'profiles.yml', schema: 'profiles', edit: (t) => t.replace(/    url: .*\n/, '') },
    { what: 'unknown model key', file: 'models/schema.yml', schema: 'model', edit: (t) => t.replace('    primary_key: [order_id]', '    primarykey: [order_id]') },
    { what: 'model column without type', file: 'models/schema.yml', schema: 'model', edit: (t) => t.replace('{ name: customer_id, type: BIGINT,', '{ name: customer_id,') },
    { what: 'unknown materialization', file: 'models/schema.yml', schema: 'model', edit: (t) => t.replace('materialized: replace, tags: [marts]', 'materialized: table, tags: [marts]') },
    { what: 'unknown config key (British spelling)', file: 'models/schema.yml', schema: 'model', edit: (t) => t.replace('materialized: replace, tags: [marts]', 'materialised: replace, tags: [marts]') },
    { what: 'misspelled columns key', file: 'models/schema.yml', schema: 'model', edit: (t) => t.replace(/columns:/, 'colums:') },
    { what: 'a test written as a number', file: 'models/schema.yml', schema: 'model', edit: (t) => t.replace('tests: [not_null, unique] }', 'tests: [not_null, 7] }') },
  ];

  it.each(broken)('reject what the loader rejects: $what', async ({ file, schema, edit }) => {
    const dir = path.join(tmp.dir, `broken-${Math.random().toString(36).slice(2, 8)}`);
    await cp(path.join(tmp.dir, 'scaffold'), dir, { recursive: true });
    const original = await readFile(path.join(dir, file), 'utf8');
    const text = edit(original);
    expect(text, 'the edit applies').not.toBe(original);
    await writeFile(path.join(dir, file), text);
    await expect(loadWithLoader(dir)).rejects.toThrow();
    expect(schemaErrors(schema, text)).not.toEqual([]);
  });
});
