import Handlebars from 'handlebars';
import { renderTemplate, type RenderContext, type TemplateEnv } from '../compile/template-env.js';
import { quoteIdent } from '../core/sql-quote.js';
import { sourceEngineTraits } from '../engines/compute/traits.js';
import { qualified } from '../engines/target.js';
import { projectError, TmError } from '../core/errors.js';
import type { Manifest } from '../manifest/types.js';
import type { PreparedSource } from '../sources/prepare-source.js';
import { genericTests } from './generic-tests.js';
import type { GenericTest, QualityTest, TestedNode } from './types.js';

export interface TestRenderInput {
  readonly manifest: Manifest;
  readonly templates: TemplateEnv;
  /** Where the query runs (quality/placement.ts). */
  readonly runs: 'in-target' | 'in-source-engine';
  /** The target's schema, where the models' tables are. */
  readonly schema: string;
  /** Sources prepared in DuckDB for this command. */
  readonly sources: ReadonlyMap<string, PreparedSource>;
  /** SQL literals every template sees: `now`, `run_started_at`. */
  readonly values: Readonly<Record<string, string>>;
}

/** The test's query, returning the failing rows, in the dialect of the engine it runs on. */
export function renderTestSql(test: QualityTest, input: TestRenderInput): string {
  const context = renderContext(input);
  const sql = test.kind === 'singular' ? renderTemplate(input.templates, test.rawSql, test.path, 0, context) : renderGeneric(test, input, context);
  return sql.trim().replace(/;\s*$/, '');
}

function renderContext(input: TestRenderInput): RenderContext {
  return {
    resolveRef: (name) => {
      if (!input.manifest.models.has(name)) throw new TmError(`ref('${name}') names no model`);
      return input.runs === 'in-target' ? qualified(input.schema, name) : sourceEngineTraits.dialect.quoteIdent(name);
    },
    resolveSource: (name) => {
      const prepared = input.sources.get(name);
      if (input.runs !== 'in-source-engine' || !prepared) throw new TmError(`source '${name}' is not readable here (sources are read by ${sourceEngineTraits.label})`);
      return prepared.relation;
    },
    thisRelation: '',
    isIncremental: false,
    vars: input.manifest.vars,
    config: {},
    values: input.values,
  };
}

function renderGeneric(test: GenericTest, input: TestRenderInput, context: RenderContext): string {
  const relationOf = (node: TestedNode): string => (node.kind === 'model' ? context.resolveRef(node.name) : context.resolveSource(node.name));
  const base = relationOf(test.on);
  const relation = test.where ? `(SELECT * FROM ${base} AS w WHERE ${test.where})` : base;
  const definition = genericTests[test.testName];
  if (definition) return definition.sql({ relation, column: test.column, args: test.args, relationOf, now: input.values.now });
  return renderCustom(test, input, context, relation);
}

/**
 * A custom generic test: the partial `test_<name>` rendered with `model` (the tested relation),
 * `column_name` (the quoted column) and the test's arguments, plus the usual helpers and values.
 */
function renderCustom(test: GenericTest, input: TestRenderInput, context: RenderContext, relation: string): string {
  const partial = `test_${test.testName}`;
  const macro = input.manifest.macros.find((m) => m.name === partial);
  let template: Handlebars.TemplateDelegate;
  try {
    template = input.templates.compile(`{{> [${partial}] }}`, { noEscape: true, strict: true });
  } catch (err) {
    throw projectError(macro?.path ?? test.path, `template error: ${(err as Error).message}`);
  }
  const root: Record<string, unknown> = {
    ...input.values,
    ...test.args,
    model: relation,
    column_name: test.column === undefined ? undefined : quoteIdent(test.column),
    __tm: context,
  };
  try {
    return template(root);
  } catch (err) {
    throw projectError(macro?.path ?? test.path, `test '${test.name}': ${(err as Error).message.split('\n')[0]}`);
  }
}
