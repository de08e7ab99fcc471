/**
 * Rendered SQL positions back to the model's template: a line of plain SQL is copied by Handlebars as it
 * is, so it is found verbatim in the template; a line made with a mustache (`FROM {{ref "x"}}`) is found
 * by its text around the mustaches. Of several candidates, the one at the nearest relative place wins.
 */

export interface TemplatePosition {
  /** 1-based line in the model's file (front matter included). */
  readonly line: number;
  /** 1-based column in that line. */
  readonly column: number;
  /** The template line, as written. */
  readonly text: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The template line that produced rendered line `renderedLine` (1-based) at column `renderedColumn`. */
export function templatePositionOf(rendered: string, renderedLine: number, renderedColumn: number, body: string, bodyLine: number): TemplatePosition | undefined {
  const renderedLines = rendered.split('\n');
  const target = renderedLines[renderedLine - 1];
  if (target === undefined) return undefined;
  const templateLines = body.split('\n');
  const verbatim = (t: string) => t === target;
  const shaped = (t: string) => t.includes('{{') && new RegExp(`^${t.split(/\{\{[\s\S]*?\}\}/).map(escapeRegExp).join('[\\s\\S]*?')}$`).test(target);
  const wanted = (renderedLine - 1) / Math.max(1, renderedLines.length - 1);
  const nearest = (matches: number[]) =>
    matches.sort((a, b) => Math.abs(a / Math.max(1, templateLines.length - 1) - wanted) - Math.abs(b / Math.max(1, templateLines.length - 1) - wanted))[0];
  const exact = templateLines.flatMap((t, i) => (verbatim(t) ? [i] : []));
  const index = exact.length ? nearest(exact) : nearest(templateLines.flatMap((t, i) => (shaped(t) ? [i] : [])));
  if (index === undefined) return undefined;
  const text = templateLines[index];
  let column = renderedColumn;
  if (text !== target) {
    // The word under the caret, found in the template line (else the line's start).
    const word = /^\w+/.exec(target.slice(renderedColumn - 1))?.[0];
    const at = word ? text.indexOf(word) : -1;
    column = at >= 0 ? at + 1 : 1;
  }
  return { line: index + bodyLine, column, text };
}
