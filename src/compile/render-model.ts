import { quoteIdent } from '../core/sql-quote.js';
import { handedSourceName, sourceEngineTraits, traitsOf } from '../engines/compute/traits.js';
import { qualified } from '../engines/target.js';
import { TmError } from '../core/errors.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { renderTemplate, type RenderContext, type TemplateEnv } from './template-env.js';

/** Where a model's SQL is rendered for: the run, `tm compile`, or a dry run. */
export interface ModelRenderInput {
  readonly model: ModelNode;
  readonly manifest: Manifest;
  /** The target schema: models computed in the target read other models there. */
  readonly schema: string;
  /** Table `{{this}}` names (the model's, or the one it reconciles). */
  readonly relationName?: string;
  /** Relation of a prepared source (in the engine that reads sources), undefined when the run did not prepare it. */
  readonly sourceRelation: (name: string) => string | undefined;
  readonly isIncremental: boolean;
  /** Run values as SQL literals. */
  readonly values: Readonly<Record<string, string>>;
  /** `--defer-to`: refs read from another schema of the database (ref name -> schema). */
  readonly deferred?: ReadonlyMap<string, string>;
}

/** The one render context of a model's SQL: the run, `tm compile` and dry runs all build it here. */
export function modelRenderContext(input: ModelRenderInput): RenderContext {
  const { model, schema } = input;
  const engine = traitsOf(model.config.engine);
  return {
    resolveRef: (name) => (engine.store === 'run' ? engine.dialect.quoteIdent(name) : qualified(input.deferred?.get(name) ?? schema, name)),
    resolveSource: (name) => {
      if (!engine.readsSources) throw new TmError(`model '${model.name}' runs in ${engine.label} and cannot read source '${name}' (sources are read by ${sourceEngineTraits.label})`);
      const relation = input.sourceRelation(name);
      if (relation === undefined) throw new TmError(`source '${name}' was not prepared for this run`);
      // Another engine reads the prepared rows handed over to it (ComputeSession.importSourceRows).
      return engine.name === sourceEngineTraits.name ? relation : engine.dialect.quoteIdent(handedSourceName(name));
    },
    thisRelation: qualified(schema, input.relationName ?? model.name),
    isIncremental: input.isIncremental,
    vars: input.manifest.vars,
    config: { ...model.config.extra, materialized: model.config.materialized, engine: model.config.engine },
    values: input.values,
  };
}

export function renderModelSql(hb: TemplateEnv, input: ModelRenderInput): string {
  return renderTemplate(hb, input.model.rawSql, input.model.path, input.model.bodyLine - 1, modelRenderContext(input));
}

/** A template of the model's YAML run in the target (`retention.keep_after`, `delete_where`), with the model's context plus `extra` values. */
export function renderModelConfigSql(hb: TemplateEnv, input: ModelRenderInput, text: string, extra: Readonly<Record<string, string>> = {}): string {
  return renderTemplate(hb, text, input.model.yamlPath ?? input.model.path, 0, modelRenderContext({ ...input, values: { ...input.values, ...extra } }));
}

/**
 * Renders a template of the model's config (`source_since`, evaluated in DuckDB before the run)
 * with its values, the vars and the project's helpers; it may not read sources.
 */
export function renderConfigTemplate(hb: TemplateEnv, manifest: Manifest, model: ModelNode, text: string, values: Readonly<Record<string, string>>): string {
  return renderTemplate(hb, text, model.yamlPath ?? model.path, 0, {
    resolveRef: (name) => quoteIdent(name),
    resolveSource: (name) => {
      throw new TmError(`model '${model.name}': a config template cannot read source '${name}'`);
    },
    thisRelation: quoteIdent(model.name),
    isIncremental: true,
    vars: manifest.vars,
    config: model.config.extra,
    values,
  });
}
