/**
 * One description of each keyed YAML file (project.yml, profiles.yml, model YAML, dashboards): the loaders
 * validate against it (every key known, or an error at its line with a did-you-mean) and the JSON Schemas
 * in `schemas/` are generated from it (`npm run schemas`), so the editor's schema and the loader cannot drift.
 */
import { closestName, didYouMean } from '../core/suggest.js';

type Doc = { readonly description?: string };
export type Shape = Doc & (
  | { readonly type: 'string'; readonly minLength?: number; readonly pattern?: string }
  | { readonly type: 'number'; readonly minimum?: number }
  | { readonly type: 'boolean' }
  /** A scalar of any of these JSON types (e.g. a number, or a template string rendered at load). */
  | { readonly type: 'scalar'; readonly of: readonly ('string' | 'number' | 'boolean')[] }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'list'; readonly items: Shape; readonly nullable?: boolean }
  /** Known keys; `requiredWhen` adds required keys when another key has a value (profiles' postgres url). */
  | { readonly type: 'mapping'; readonly keys: Readonly<Record<string, Shape>>; readonly required?: readonly string[]; readonly nullable?: boolean; readonly requiredWhen?: { readonly key: string; readonly equals: string; readonly required: readonly string[] } }
  /** Keys chosen by the user (source names, targets, vars), each value of one shape. */
  | { readonly type: 'dictionary'; readonly values: Shape; readonly nullable?: boolean; readonly minKeys?: number; readonly maxKeys?: number }
  | { readonly type: 'oneOf'; readonly options: readonly Shape[] }
  | { readonly type: 'ref'; readonly name: string }
  | { readonly type: 'any' }
);

/** A file's shape: its root mapping and the named shapes its refs point at. */
export interface ShapeDocument {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly root: Shape;
  readonly definitions: Readonly<Record<string, Shape>>;
}

export type KeyPath = readonly (string | number)[];

/** The first problem found: where (the key path, to find its line) and what. */
export interface ShapeProblem {
  readonly keyPath: KeyPath;
  /** True when the problem is the key itself (an unknown key): point at the key's line. */
  readonly atKey: boolean;
  readonly message: string;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonTypeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

/** What a shape accepts, in words, for "must be ..." messages. */
function describe(shape: Shape, doc: ShapeDocument): string {
  switch (shape.type) {
    case 'string': return shape.minLength ? 'a non-empty string' : 'a string';
    case 'number': return 'a number';
    case 'boolean': return 'true or false';
    case 'scalar': return shape.of.map((t) => (t === 'boolean' ? 'true or false' : `a ${t}`)).join(' or ');
    case 'enum': return `one of ${shape.values.join(', ')}`;
    case 'list': return `a list of ${describe(shape.items, doc).replace(/^an? /, '')}s`;
    case 'mapping': case 'dictionary': return 'a mapping';
    case 'oneOf': return shape.options.map((o) => describe(o, doc)).join(' or ');
    case 'ref': return describe(doc.definitions[shape.name], doc);
    case 'any': return 'any value';
  }
}

/** Validates a parsed YAML value against its shape; the first problem, or undefined when it fits. */
export function checkShape(value: unknown, doc: ShapeDocument, shape: Shape = doc.root, keyPath: KeyPath = []): ShapeProblem | undefined {
  const problem = (message: string): ShapeProblem => ({ keyPath, atKey: false, message: `${pathText(keyPath)}${message}` });
  const wrongType = () => problem(`must be ${describe(shape, doc)}, got ${value === null || value === undefined ? 'nothing' : JSON.stringify(value)}`);
  switch (shape.type) {
    case 'any':
      return undefined;
    case 'ref':
      return checkShape(value, doc, doc.definitions[shape.name], keyPath);
    case 'string':
      if (typeof value !== 'string') return wrongType();
      if (shape.minLength && value.length < shape.minLength) return wrongType();
      if (shape.pattern && !new RegExp(shape.pattern).test(value)) return problem(`'${value}' must match ${shape.pattern}`);
      return undefined;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrongType();
      if (shape.minimum !== undefined && value < shape.minimum) return problem(`must be at least ${shape.minimum}, got ${value}`);
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : wrongType();
    case 'scalar':
      return (shape.of as readonly string[]).includes(typeof value) ? undefined : wrongType();
    case 'enum':
      if (typeof value === 'string' && shape.values.includes(value)) return undefined;
      return problem(`'${String(value)}' is not one of ${shape.values.join(', ')}${typeof value === 'string' ? didYouMean(closestName(value, shape.values)) : ''}`);
    case 'list':
      if (value === null || value === undefined) return shape.nullable ? undefined : wrongType();
      if (!Array.isArray(value)) return wrongType();
      for (const [i, item] of value.entries()) {
        const p = checkShape(item, doc, shape.items, [...keyPath, i]);
        if (p) return p;
      }
      return undefined;
    case 'dictionary': {
      if (value === null || value === undefined) return shape.nullable ? undefined : wrongType();
      if (!isMap(value)) return wrongType();
      const n = Object.keys(value).length;
      if ((shape.minKeys !== undefined && n < shape.minKeys) || (shape.maxKeys !== undefined && n > shape.maxKeys)) {
        return problem(shape.minKeys === shape.maxKeys ? `must have exactly ${shape.minKeys} key` : `must have at least ${shape.minKeys ?? 0} key`);
      }
      for (const [k, v] of Object.entries(value)) {
        const p = checkShape(v, doc, shape.values, [...keyPath, k]);
        if (p) return p;
      }
      return undefined;
    }
    case 'mapping': {
      if (value === null || value === undefined) return shape.nullable ? undefined : wrongType();
      if (!isMap(value)) return wrongType();
      const known = Object.keys(shape.keys);
      for (const key of Object.keys(value)) {
        if (!(key in shape.keys)) {
          return { keyPath: [...keyPath, key], atKey: true, message: `${pathText(keyPath)}unknown key '${key}'${didYouMean(closestName(key, known))} (expected one of: ${known.join(', ')})` };
        }
      }
      const conditional = shape.requiredWhen && value[shape.requiredWhen.key] === shape.requiredWhen.equals ? shape.requiredWhen.required : [];
      for (const key of [...(shape.required ?? []), ...conditional]) {
        if (value[key] === undefined) return problem(`needs '${key}'`);
      }
      for (const [key, v] of Object.entries(value)) {
        if (v === undefined) continue;
        const p = checkShape(v, doc, shape.keys[key], [...keyPath, key]);
        if (p) return p;
      }
      return undefined;
    }
    case 'oneOf': {
      // The options of the value's own kind say the most: a mapping gets the mapping option's problem.
      const kind = jsonTypeOf(value);
      const sameKind = shape.options.filter((o) => kindsOf(o, doc).includes(kind));
      let first: ShapeProblem | undefined;
      for (const option of sameKind) {
        const p = checkShape(value, doc, option, keyPath);
        if (!p) return undefined;
        first ??= p;
      }
      return sameKind.length === 1 && first ? first : wrongType();
    }
  }
}

/** The JSON kinds a shape can accept ('string', 'number', 'boolean', 'list', 'mapping', 'null'). */
function kindsOf(shape: Shape, doc: ShapeDocument): string[] {
  switch (shape.type) {
    case 'string': case 'enum': return ['string'];
    case 'number': return ['number'];
    case 'boolean': return ['boolean'];
    case 'scalar': return [...shape.of];
    case 'list': return shape.nullable ? ['list', 'null'] : ['list'];
    case 'mapping': case 'dictionary': return shape.nullable ? ['mapping', 'null'] : ['mapping'];
    case 'oneOf': return shape.options.flatMap((o) => kindsOf(o, doc));
    case 'ref': return kindsOf(doc.definitions[shape.name], doc);
    case 'any': return ['string', 'number', 'boolean', 'list', 'mapping', 'null'];
  }
}

/** `models[0].columns[2]: `, the prefix of a message (problemMessage names the items). */
function pathText(keyPath: KeyPath): string {
  return keyPath.length ? `${keyPath.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').replace(/^\./, '')}: ` : '';
}

/** Replaces list indexes by the `name` of the item they point at, where it has one (for messages). */
function namedKeyPath(root: unknown, keyPath: KeyPath): string {
  let node = root;
  let text = '';
  for (const k of keyPath) {
    const next = isMap(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[k] : undefined;
    if (typeof k === 'number') text += isMap(next) && typeof next.name === 'string' ? `[${next.name}]` : `[${k}]`;
    else text += text ? `.${k}` : k;
    node = next;
  }
  return text;
}

/** Message of a problem with list items named (`models[orders].colums`) instead of numbered. */
export function problemMessage(root: unknown, problem: ShapeProblem): string {
  const at = problem.atKey ? problem.keyPath.slice(0, -1) : problem.keyPath;
  const plain = pathText(at);
  const named = at.length ? `${namedKeyPath(root, at)}: ` : '';
  return problem.message.startsWith(plain) ? named + problem.message.slice(plain.length) : problem.message;
}

type Json = { [key: string]: Json } | Json[] | string | number | boolean;

/** The JSON Schema (draft-07) of a shape document, as shipped in `schemas/`. */
export function toJsonSchema(doc: ShapeDocument): Json {
  const root = schemaOf(doc.root) as Record<string, Json>;
  const definitions = Object.fromEntries(Object.entries(doc.definitions).map(([name, shape]) => [name, schemaOf(shape)]));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://www.npmjs.com/package/tm-transform/schemas/${doc.id}.schema.json`,
    title: doc.title,
    description: doc.description,
    ...root,
    ...(Object.keys(definitions).length ? { definitions } : {}),
  };
}

function schemaOf(shape: Shape): Json {
  const described = (schema: Record<string, Json>): Json => (shape.description ? { ...schema, description: shape.description } : schema);
  const nullable = (type: string, isNullable: boolean | undefined): Json => (isNullable ? [type, 'null'] : type);
  switch (shape.type) {
    case 'string':
      return described({ type: 'string', ...(shape.minLength ? { minLength: shape.minLength } : {}), ...(shape.pattern ? { pattern: shape.pattern } : {}) });
    case 'number':
      return described({ type: 'number', ...(shape.minimum !== undefined ? { minimum: shape.minimum } : {}) });
    case 'boolean':
      return described({ type: 'boolean' });
    case 'scalar':
      return described({ type: [...shape.of] });
    case 'enum':
      return described({ enum: [...shape.values] });
    case 'any':
      return described({});
    case 'ref':
      return described({ $ref: `#/definitions/${shape.name}` });
    case 'list':
      return described({ type: nullable('array', shape.nullable), items: schemaOf(shape.items) });
    case 'dictionary':
      return described({
        type: nullable('object', shape.nullable),
        ...(shape.minKeys !== undefined ? { minProperties: shape.minKeys } : {}),
        ...(shape.maxKeys !== undefined ? { maxProperties: shape.maxKeys } : {}),
        additionalProperties: schemaOf(shape.values),
      });
    case 'mapping': {
      const properties = Object.fromEntries(Object.entries(shape.keys).map(([k, s]) => [k, schemaOf(s)]));
      const when = shape.requiredWhen;
      return described({
        type: nullable('object', shape.nullable),
        additionalProperties: false,
        ...(shape.required?.length ? { required: [...shape.required] } : {}),
        properties,
        ...(when ? { if: { properties: { [when.key]: { const: when.equals } } }, then: { required: [...when.required] } } : {}),
      });
    }
    case 'oneOf':
      return described({ oneOf: shape.options.map(schemaOf) });
  }
}

