import path from 'node:path';
import { scaffoldProject, type ScaffoldResult } from '../init/scaffold.js';
import { packageInfo } from '../core/package-root.js';

export interface InitOptions {
  readonly dir: string;
  readonly name?: string;
}

/** `tm init DIR`: a new project with sample data, its YAML pointing at the JSON Schemas of this tm. */
export async function init(options: InitOptions): Promise<ScaffoldResult> {
  return scaffoldProject({ dir: options.dir, name: options.name, schemasDir: path.join(packageInfo().root, 'schemas') });
}
