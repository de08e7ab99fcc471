import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TmError } from '../core/errors.js';
import { writeSampleOrders } from './sample-data.js';
import { scaffoldFiles, type SchemaName } from './template.js';

export interface ScaffoldOptions {
  /** Folder to create; it may exist only when empty. */
  readonly dir: string;
  /** Project name (an identifier); defaults to the folder's name made into one. */
  readonly name?: string;
  /** Folder with tm's JSON Schemas, copied into the project for editors; none when undefined. */
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
  const schemasDir = options.schemasDir;
  // The schemas are copied into the project and referenced relative to each YAML file, so the
  // references hold wherever the project moves, whichever tm install runs it.
  const schemaRef = (filePath: string, schema: SchemaName): string | undefined =>
    schemasDir ? path.posix.relative(path.posix.dirname(filePath), `${SCHEMAS_FOLDER}/${schemaFileOf(schema)}`) : undefined;
  const files = scaffoldFiles({ name, schemaRef });
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    const target = path.join(dir, ...f.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, f.text, { flag: 'wx' });
  }
  const schemas = schemasDir ? await copySchemas(schemasDir, dir) : [];
  const data = await writeSampleOrders(dir);
  return { dir, name, files: [...files.map((f) => f.path), ...schemas, ...data] };
}

/** The project folder the JSON Schemas are copied to. */
export const SCHEMAS_FOLDER = '.tm-schemas';

function schemaFileOf(schema: SchemaName): string {
  return `${schema}.schema.json`;
}

async function copySchemas(from: string, dir: string): Promise<string[]> {
  await mkdir(path.join(dir, SCHEMAS_FOLDER));
  const names: SchemaName[] = ['project', 'profiles', 'model'];
  const written: string[] = [];
  for (const name of names) {
    await copyFile(path.join(from, schemaFileOf(name)), path.join(dir, SCHEMAS_FOLDER, schemaFileOf(name)));
    written.push(`${SCHEMAS_FOLDER}/${schemaFileOf(name)}`);
  }
  return written;
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
