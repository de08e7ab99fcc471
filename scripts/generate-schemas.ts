/**
 * `npm run schemas`: writes the JSON Schemas of project.yml, profiles.yml, model YAML and dashboards into
 * `schemas/`, from the shapes the loaders validate against (src/project/yaml-shapes.ts). The e2e test
 * json-schemas.test.ts fails when the committed files are not what this writes.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { schemaFiles } from '../src/project/yaml-shapes.js';

const schemasDir = path.resolve(import.meta.dirname, '..', '..', 'schemas');
for (const { file, text } of schemaFiles()) {
  await writeFile(path.join(schemasDir, file), text);
  console.log(`wrote schemas/${file}`);
}
