import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TmError } from '../core/errors.js';
import { writeSampleOrders } from './sample-data.js';
import { scaffoldFiles, type SchemaName } from './template.js';

export interface ScaffoldOptions {
  /** Folder to create; it may exist only when empty. */
  readonly dir: string;
  /** Project name (an identifier); defaults to the folder's name made into one. */
  readonly name?: string;
  /** Folder with tm's JSON Schemas, referenced from the YAML files for editors; none when undefined. */
  readonly schemasDir?: string;
}

export interface ScaffoldResult {
  readonly dir: string;
  readonly name: string;
  /** Project-relative paths of everything written, data files included. */
  readonly files: readonly string[];
}

/** Writes a new project that builds at once on the embedded PGlite target. Never overwrites anything. */
export async function scaffoldProject(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const dir = path.resolve(options.dir);
  await refuseNonEmpty(dir);
  const name = options.name ?? identifierOf(path.basename(dir));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TmError(`project name '${name}' must be a plain identifier (letters, digits, _)`);
  const schemaRef = (filePath: string, schema: SchemaName): string | undefined => {
    if (!options.schemasDir) return undefined;
    // Relative to the YAML file, so the project can move along with the tm install it was made with.
    const from = path.dirname(path.join(dir, filePath));
    return path.relative(from, path.join(options.schemasDir, `${schema}.schema.json`)).split(path.sep).join('/');
  };
  const files = scaffoldFiles({ name, schemaRef });
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    const target = path.join(dir, ...f.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, f.text, { flag: 'wx' });
  }
  const data = await writeSampleOrders(dir);
  return { dir, name, files: [...files.map((f) => f.path), ...data] };
}

async function refuseNonEmpty(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  if (!(await stat(dir)).isDirectory()) throw new TmError(`${dir} exists and is not a folder`);
  const entries = await readdir(dir);
  if (entries.length > 0) throw new TmError(`${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}): tm init only writes into a new or empty folder`);
}

/** `my-shop` -> `my_shop`, `2024 data` -> `_2024_data`. */
export function identifierOf(folderName: string): string {
  const cleaned = folderName.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'project';
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}
