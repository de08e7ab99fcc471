import Handlebars from 'handlebars';
import { projectError } from '../core/errors.js';
import { checkJinjaHabits, unclosedBlockError } from './template-habits.js';

/** What a template declares, read from its syntax tree without rendering it (like dbt's static parser). */
export interface TemplateDeclarations {
  readonly refs: string[];
  readonly sources: string[];
  /** `{{config key=value}}` hash arguments with literal values. */
  readonly config: Record<string, unknown>;
  /** Plain names the template reads (`{{clock}}`, `{{this_rows}}`): the run values it needs. */
  readonly values: string[];
}

type HbNode = { type: string; [key: string]: unknown };

/**
 * Walks the Handlebars AST: every `ref`/`source` call, also inside `{{#if}}` branches that a render
 * might skip, so the graph never misses an edge.
 */
export function analyzeTemplate(text: string, file: string, lineOffset = 0): TemplateDeclarations {
  checkJinjaHabits(text, file, lineOffset);
  let ast: HbNode;
  try {
    ast = Handlebars.parse(text) as unknown as HbNode;
  } catch (err) {
    throw templateParseError(err, file, lineOffset, text);
  }
  const refs = new Set<string>();
  const sources = new Set<string>();
  const config: Record<string, unknown> = {};
  const values = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as HbNode;
    if (n.type === 'PathExpression' && !n.data && (n.parts as unknown[] | undefined)?.length === 1) values.add(String(n.original));
    if (n.type === 'MustacheStatement' || n.type === 'SubExpression' || n.type === 'BlockStatement') {
      const callee = (n.path as { original?: unknown } | undefined)?.original;
      const params = (n.params as HbNode[] | undefined) ?? [];
      const line = ((n.loc as { start?: { line: number } } | undefined)?.start?.line ?? 0) + lineOffset;
      const first = params[0];
      const literal = first && first.type === 'StringLiteral' ? String(first.value) : undefined;
      if (callee === 'ref' || callee === 'source') {
        if (literal === undefined) throw projectError(file, `${callee} takes a quoted name, e.g. {{${callee} "name"}}`, line);
        (callee === 'ref' ? refs : sources).add(literal);
      }
      if (callee === 'config') {
        for (const pair of ((n.hash as { pairs?: HbNode[] } | undefined)?.pairs ?? [])) {
          const v = pair.value as HbNode;
          if (!['StringLiteral', 'NumberLiteral', 'BooleanLiteral'].includes(v.type)) {
            throw projectError(file, `config ${String(pair.key)}= must be a literal value`, line);
          }
          config[String(pair.key)] = v.value;
        }
      }
    }
    for (const [key, value] of Object.entries(n)) {
      if (key !== 'loc' && value && typeof value === 'object') visit(value);
    }
  };
  visit(ast);
  return { refs: [...refs], sources: [...sources], config, values: [...values].sort() };
}

/** Handlebars says "Parse error on line N": keep the line, point at the file. */
export function templateParseError(err: unknown, file: string, lineOffset: number, text?: string) {
  const message = (err as Error).message ?? String(err);
  const unclosed = text === undefined ? undefined : unclosedBlockError(text, message, file, lineOffset);
  if (unclosed) return unclosed;
  const m = /line (\d+)/.exec(message);
  const line = m ? Number(m[1]) + lineOffset : undefined;
  const detail = message.split('\n').filter((l) => l.trim() && !/^-*\^$/.test(l.trim())).slice(-1)[0] ?? message;
  return projectError(file, `template error: ${detail.replace(/^Parse error on line \d+:\s*/, '')}`, line);
}
