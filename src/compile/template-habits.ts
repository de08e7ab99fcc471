/**
 * Template mistakes answered in the user's terms: Jinja habits (`{% if %}`, `{{ ref("x") }}`,
 * `{{ config(...) }}`) get their Handlebars form, an unclosed block points at its opening tag, and an
 * unknown helper gets the closest known name. Lines are the model file's (`lineOffset` before the body).
 */
import { projectError, type TmError } from '../core/errors.js';
import { closestName, didYouMean } from '../core/suggest.js';

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Jinja statements and their Handlebars form. */
function handlebarsFormOf(statement: string): string {
  const [word, ...rest] = statement.trim().split(/\s+/);
  const arg = rest.join(' ');
  switch (word) {
    case 'if': return `{{#if ${arg}}}`;
    case 'elif': return `{{else if ${arg}}}`;
    case 'else': return '{{else}}';
    case 'endif': return '{{/if}}';
    case 'for': return `{{#each ${rest.slice(2).join(' ') || 'list'}}} (the item is {{this}})`;
    case 'endfor': return '{{/each}}';
    case 'set': return 'a var in project.yml ({{var "name"}}) or a helper in macros/';
    case 'macro': return 'a partial in macros/<name>.sql, used as {{> name}}';
    default: return 'a Handlebars block ({{#if}}...{{/if}}, {{#each}}...{{/each}})';
  }
}

/** Jinja-style arguments `("x", 'y')` or `(materialized='table')` in Handlebars' form: ` "x" "y"`, ` materialized="table"`. */
function handlebarsArgs(args: string): string {
  return args
    .split(',')
    .map((a) => a.trim().replace(/'/g, '"').replace(/\s*=\s*/, '='))
    .filter(Boolean)
    .map((a) => ` ${a}`)
    .join('');
}

/** Throws on a Jinja habit in a template's text, naming its line and the Handlebars form to write. */
export function checkJinjaHabits(text: string, file: string, lineOffset: number): void {
  const statement = /\{%-?\s*([\s\S]*?)\s*-?%\}/.exec(text);
  if (statement) {
    throw projectError(file, `'${statement[0]}' is Jinja; tm templates are Handlebars: write ${handlebarsFormOf(statement[1])}`, lineAt(text, statement.index) + lineOffset);
  }
  // `{{literal (env "X")}}` is Handlebars: a subexpression starts with a helper's name and a space.
  const call = [...text.matchAll(/\{\{-?\s*([A-Za-z_]\w*)\s*\(([^)]*)\)\s*-?\}\}/g)].find((m) => !/^\s*[A-Za-z_][\w.]*\s+\S/.test(m[2]));
  if (call) {
    throw projectError(file, `'${call[0]}' is Jinja call syntax; in Handlebars write {{${call[1]}${handlebarsArgs(call[2])}}}`, lineAt(text, call.index) + lineOffset);
  }
}

/**
 * A Handlebars parse error that ran to the end of the file means a block was never closed: the error
 * names the opening tag's line, not the end of the file. undefined when the error is something else.
 */
export function unclosedBlockError(text: string, message: string, file: string, lineOffset: number): TmError | undefined {
  if (!/got 'EOF'/.test(message)) return undefined;
  const open: { name: string; index: number }[] = [];
  for (const m of text.matchAll(/\{\{~?\s*([#/^])\s*(?:>\s*)?([\w.-]+)/g)) {
    if (m[1] === '/') {
      const at = open.map((o) => o.name).lastIndexOf(m[2]);
      if (at >= 0) open.splice(at);
    } else if (m[1] === '#') open.push({ name: m[2], index: m.index });
  }
  const unclosed = open[open.length - 1];
  if (!unclosed) return undefined;
  return projectError(file, `template error: {{#${unclosed.name}}} is never closed: add {{/${unclosed.name}}}`, lineAt(text, unclosed.index) + lineOffset);
}

/** ` (did you mean 'ref'?)` for a name a template calls that is no helper (`"reff" not defined`). */
export function unknownHelperHint(message: string, helpers: Iterable<string>): string {
  const m = /^"([\w.-]+)" not defined/.exec(message);
  return m ? didYouMean(closestName(m[1], helpers)) : '';
}
