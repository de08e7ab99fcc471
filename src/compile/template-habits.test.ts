import { describe, expect, it } from 'vitest';
import type { Manifest } from '../manifest/types.js';
import { analyzeTemplate } from './static-analysis.js';
import { createTemplateEnv, renderTemplate, type RenderContext } from './template-env.js';

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('template mistakes answered at the line to fix', () => {
  it('recognises Jinja habits and answers with the Handlebars form', () => {
    expect(messageOf(() => analyzeTemplate('SELECT 1\n{% if true %}\nWHERE x\n{% endif %}', 'models/m.sql', 2)))
      .toBe("models/m.sql:4: '{% if true %}' is Jinja; tm templates are Handlebars: write {{#if true}}");
    expect(messageOf(() => analyzeTemplate('SELECT *\nFROM {{ ref("stg_orders") }}', 'models/m.sql', 0)))
      .toBe(`models/m.sql:2: '{{ ref("stg_orders") }}' is Jinja call syntax; in Handlebars write {{ref "stg_orders"}}`);
    expect(messageOf(() => analyzeTemplate("{{ config(materialized='upsert') }}\nSELECT 1", 'models/m.sql', 0)))
      .toBe(`models/m.sql:1: '{{ config(materialized='upsert') }}' is Jinja call syntax; in Handlebars write {{config materialized="upsert"}}`);
    // A Handlebars subexpression is no Jinja call, and does not hide one after it.
    expect(messageOf(() => analyzeTemplate('SELECT {{literal (env "X")}}', 'models/m.sql', 0))).toBe('no error');
    expect(messageOf(() => analyzeTemplate('SELECT {{literal (env "X")}}\nFROM {{ ref("a") }}', 'models/m.sql', 0)))
      .toBe(`models/m.sql:2: '{{ ref("a") }}' is Jinja call syntax; in Handlebars write {{ref "a"}}`);
  });

  it('points an unclosed block at its opening tag', () => {
    const text = 'SELECT 1\n{{#if is_incremental}}\nWHERE x > 1\n{{#each cols}}{{this}}{{/each}}\n';
    expect(messageOf(() => analyzeTemplate(text, 'models/m.sql', 0))).toBe('models/m.sql:2: template error: {{#if}} is never closed: add {{/if}}');
  });

  it('suggests the helper an unknown name was meant to be', async () => {
    const hb = await createTemplateEnv({ macros: [] } as unknown as Manifest);
    const context: RenderContext = { resolveRef: (n) => n, resolveSource: (n) => n, thisRelation: 't', isIncremental: false, vars: {}, config: {}, values: {} };
    expect(messageOf(() => renderTemplate(hb, 'SELECT *\nFROM {{reff "x"}}', 'models/m.sql', 0, context)))
      .toBe(`models/m.sql:2: template error: "reff" not defined (did you mean 'ref'?)`);
  });
});
