import path from 'node:path';
import { tmCommandFrom } from '../init/run-command.js';
import { scaffoldProject, type ScaffoldResult } from '../init/scaffold.js';
import { packageInfo } from '../core/package-root.js';

export interface InitOptions {
  readonly dir: string;
  readonly name?: string;
}

export interface InitResult extends ScaffoldResult {
  /** How to run this tm from inside the new project (`npx --no-install tm`, or `node .../bin/tm.js`). */
  readonly tmCommand: string;
}

/** `tm init DIR`: a new project with sample data and a copy of this tm's JSON Schemas for its YAML. */
export async function init(options: InitOptions): Promise<InitResult> {
  const root = packageInfo().root;
  const result = await scaffoldProject({ dir: options.dir, name: options.name, schemasDir: path.join(root, 'schemas') });
  return { ...result, tmCommand: tmCommandFrom(result.dir, root) };
}
