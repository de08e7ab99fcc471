import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';
import type { FingerprintPart } from '../graph/state-selection.js';
import type { Manifest, MacroFile, ModelNode } from '../manifest/types.js';

/**
 * A model's fingerprint in parts, each a short hash, so that `state:modified.<part>` can say what
 * changed. Only what decides the model's rows and relation counts: its SQL up to whitespace, its
 * config (tags, SLA and descriptions aside), its contract, the values of the vars and env vars its
 * template reads, and the text of the macros it uses. Nothing of the target (schema, URL) goes in.
 */
export type FingerprintParts = Readonly<Record<FingerprintPart, string>>;

/** The contract as stored beside the fingerprint: what change categories compare. */
export interface StoredContract {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly primaryKey: readonly string[];
}

export function fingerprintParts(model: ModelNode, manifest: Manifest, env: NodeJS.ProcessEnv = process.env): FingerprintParts {
  const reads = templateReads(model.rawSql, manifest);
  const { tags: _tags, sla_minutes: _sla, ...config } = model.config;
  const vars = [...reads.vars].sort().map((name) => [name, manifest.vars[name] ?? null]);
  const envs = [...reads.envs].sort().map((name) => [name, env[name] ?? null]);
  const macros = [...reads.macros].sort((a, b) => a.name.localeCompare(b.name)).map((m) => [m.name, m.kind === 'partial' ? canonicalSql(m.text) : m.text]);
  return {
    body: hash(canonicalSql(model.rawSql)),
    config: hash([config, model.indexes]),
    contract: hash(contractOf(model)),
    vars: hash([vars, envs]),
    macros: hash(macros),
  };
}

export function contractOf(model: ModelNode): StoredContract {
  return { columns: model.columns.map((c) => ({ name: c.name, type: normalizeType(c.type) })), primaryKey: [...model.primaryKey] };
}

function hash(value: unknown): string {
  return createHash('sha1').update(typeof value === 'string' ? value : JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** Type names as PostgreSQL spells them, so `INT` and `integer` are one type. */
const TYPE_SYNONYMS: Readonly<Record<string, string>> = {
  int: 'integer', int4: 'integer', int8: 'bigint', int2: 'smallint', varchar: 'character varying', char: 'character',
  decimal: 'numeric', bool: 'boolean', float8: 'double precision', float: 'double precision', float4: 'real',
  timestamp: 'timestamp without time zone', timestamptz: 'timestamp with time zone', 'timestamp with time zone': 'timestamp with time zone',
};

export function normalizeType(type: string): string {
  const text = type.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\s*\(\s*/g, '(').replace(/\s*,\s*/g, ',').replace(/\s*\)/g, ')');
  const m = /^([a-z][a-z0-9 ]*?)(\(.*\))?(\[\])?$/.exec(text);
  if (!m) return text;
  return `${TYPE_SYNONYMS[m[1]] ?? m[1]}${m[2] ?? ''}${m[3] ?? ''}`;
}

/**
 * SQL text up to whitespace: tokens (string literals, quoted names, comments, words, numbers, single
 * characters) joined by one space. Whitespace inside literals stays; a comment's words and signs are
 * joined by one space too (reflowing a comment is no change, rewording it is); a line comment ends its line.
 */
export function canonicalSql(text: string): string {
  const token = /(?:[EeBbXxNn]|[Uu]&)?'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|(\$[A-Za-z_]*\$)[\s\S]*?(?:\1|$)|[A-Za-z_][\w$]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|\S/g;
  const out: string[] = [];
  for (const m of text.matchAll(token)) {
    const isComment = m[0].startsWith('--') || m[0].startsWith('/*');
    out.push(isComment ? (m[0].match(/\w+|\S/g) ?? []).join(' ') : m[0]);
    out.push(m[0].startsWith('--') ? '\n' : ' ');
  }
  out.pop();
  return out.join('');
}

const BUILTIN_HELPERS = new Set(['ref', 'source', 'config', 'var', 'env', 'is_incremental', 'literal', 'ident', 'if', 'unless', 'each', 'with', 'lookup', 'log']);

interface TemplateReads {
  readonly vars: Set<string>;
  readonly envs: Set<string>;
  readonly macros: Set<MacroFile>;
}

/** The vars, env vars and macros a template reads, through the partials it includes. */
function templateReads(text: string, manifest: Manifest): TemplateReads {
  const reads: TemplateReads = { vars: new Set(), envs: new Set(), macros: new Set() };
  const partials = new Map(manifest.macros.filter((m) => m.kind === 'partial').map((m) => [m.name, m]));
  const helpers = manifest.macros.filter((m) => m.kind === 'helper');
  const visitText = (source: string): void => {
    let ast: unknown;
    try {
      ast = Handlebars.parse(source);
    } catch {
      return; // the manifest loader reports template errors; the whole text is hashed anyway
    }
    visit(ast);
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; path?: { original?: unknown }; name?: { original?: unknown }; params?: { type: string; value?: unknown }[] };
    if (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') {
      const partial = partials.get(String(n.name?.original));
      if (partial && !reads.macros.has(partial)) {
        reads.macros.add(partial);
        visitText(partial.text);
      }
    }
    if (n.type === 'MustacheStatement' || n.type === 'SubExpression' || n.type === 'BlockStatement') {
      const callee = String(n.path?.original);
      const first = n.params?.[0];
      const literal = first?.type === 'StringLiteral' ? String(first.value) : undefined;
      if (callee === 'var' && literal !== undefined) reads.vars.add(literal);
      if (callee === 'env' && literal !== undefined) reads.envs.add(literal);
      // A helper's module cannot be told from its name without loading it (nor `{{clock}}` from a call
      // without arguments): any name that is not tm's own counts every helper module.
      if (!BUILTIN_HELPERS.has(callee)) for (const h of helpers) reads.macros.add(h);
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'loc' && value && typeof value === 'object') visit(value);
  };
  visitText(text);
  return reads;
}
