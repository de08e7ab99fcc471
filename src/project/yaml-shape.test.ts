import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkYamlShape } from './yaml-file.js';
import { checkShape, problemMessage, toJsonSchema } from './yaml-shape.js';
import { MODEL_SHAPES, PROFILES_SHAPES } from './yaml-shapes.js';

const MODEL_YAML = `models:
  - name: orders
    config:
      materialised: upsert
    columns:
      - { name: order_id, type: BIGINT }
`;

describe('the keyed-YAML validator', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tm-yaml-shape-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names an unknown key by the entry it is in, with a did-you-mean', () => {
    const value = YAML.parse(MODEL_YAML);
    const problem = checkShape(value, MODEL_SHAPES);
    expect(problem?.keyPath).toEqual(['models', 0, 'config', 'materialised']);
    expect(problemMessage(value, problem!)).toBe(
      "models[orders].config: unknown key 'materialised' (did you mean 'materialized'?) (expected one of: materialized, engine, tags, unique_key, snapshot_key, retention, sla_minutes, freshness, meta, lookback_minutes, max_catch_up_hours, source_since, reconciles, delete_where, as_view, partition_by, source_days_of)",
    );
  });

  it('points at the line of the key to fix', async () => {
    const cases = [
      { text: MODEL_YAML, line: 4, message: /models\[orders\]\.config: unknown key 'materialised' \(did you mean 'materialized'\?\)/ },
      { text: MODEL_YAML.replace('materialised: upsert', 'materialized: upsert').replace('    columns:', '    colums:'), line: 5, message: /models\[orders\]: unknown key 'colums' \(did you mean 'columns'\?\)/ },
      { text: MODEL_YAML.replace('materialised: upsert', 'materialized: upsert').replace('type: BIGINT }', 'type: BIGINT, tets: [unique] }'), line: 6, message: /models\[orders\]\.columns\[order_id\]: unknown key 'tets' \(did you mean 'tests'\?\)/ },
      { text: MODEL_YAML.replace('materialised: upsert', 'materialized: upsert').replace('{ name: order_id, type: BIGINT }', '{ name: order_id }'), line: 6, message: /models\[orders\]\.columns\[order_id\]: needs 'type'/ },
    ];
    for (const [i, c] of cases.entries()) {
      const file = path.join(dir, `m${i}.yml`);
      await writeFile(file, c.text);
      const error = await checkYamlShape(YAML.parse(c.text), MODEL_SHAPES, file, `models/m${i}.yml`, path.join(dir, 'cache')).then(() => undefined, (e: Error) => e);
      expect(error?.message, c.text).toMatch(new RegExp(`^models/m${i}\\.yml:${c.line}: `));
      expect(error?.message).toMatch(c.message);
    }
  });

  it('accepts a valid file, and checks values by kind (conditional keys, enums, lists)', () => {
    expect(checkShape(YAML.parse(MODEL_YAML.replace('materialised', 'materialized')), MODEL_SHAPES)).toBeUndefined();
    const profiles = { targets: { prod: { type: 'postgres' } } };
    expect(checkShape(profiles, PROFILES_SHAPES)?.message).toBe("targets.prod: needs 'url'");
    expect(checkShape({ targets: { dev: { type: 'pglit' } } }, PROFILES_SHAPES)?.message).toBe("targets.dev.type: 'pglit' is not one of pglite, postgres (did you mean 'pglite'?)");
    expect(checkShape({ models: [{ name: 'm', tests: [7] }] }, MODEL_SHAPES)?.message).toMatch(/^models\[0\]\.tests\[0\]: must be a non-empty string or a mapping, got 7$/);
  });

  it('generates the JSON Schema of a shape: closed mappings, required keys, refs', () => {
    const schema = toJsonSchema(PROFILES_SHAPES) as { required: string[]; additionalProperties: boolean; definitions: { target: { then: unknown } } };
    expect(schema.required).toEqual(['targets']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.definitions.target.then).toEqual({ required: ['url'] });
  });
});
