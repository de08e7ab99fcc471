import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { NodeResult } from '../artifacts/run-results.js';
import type { TemplateEnv } from '../compile/template-env.js';
import { handedSourceName, traitsOf } from '../engines/compute/traits.js';
import type { ComputeEngine, EngineTable } from '../engines/compute/types.js';
import { withSession, type Target } from '../engines/target.js';
import { TmError, errorMessage } from '../core/errors.js';
import { faultMessage } from '../core/fault-message.js';
import { ancestors, parentsOf, type ProjectGraph } from '../graph/build-graph.js';
import { isIncremental } from '../manifest/kind-facts.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import type { ModelStep, RunPlan, TestStep } from '../plan/types.js';
import type { PreparedSource } from '../sources/prepare-source.js';
import { recordCheck } from '../state/store.js';
import { strategyFor } from '../materialize/index.js';
import { cancelRequested, noteCommitted } from '../core/cancel.js';
import { buildModel, importModel, type StepEnv } from './model-step.js';
import { elapsedSince, formatCount, modelLine, type Log } from '../core/progress.js';
import { runInOrder } from '../core/scheduler.js';
import { createSemaphore } from '../core/semaphore.js';

export interface ExecuteInput {
  readonly plan: RunPlan;
  readonly manifest: Manifest;
  readonly graph: ProjectGraph;
  readonly target: Target;
  readonly engines: EngineTable;
  readonly templates: TemplateEnv;
  /** The template environment of models on an engine (its macro variants); default `templates`. */
  readonly engineTemplates?: StepEnv['engineTemplates'];
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly threads: number;
  readonly compiledDir: string;
  readonly log: Log;
  /** Runs the plan's tests (`tm build`), when it has some. */
  readonly tests?: TestRunner;
  /** `--defer-to`: refs read from another schema (ref name -> schema). */
  readonly deferred?: ReadonlyMap<string, string>;
}

/** How the executor runs a test step, or records it skipped. */
export interface TestRunner {
  run(step: TestStep): Promise<'success' | 'error'>;
  /** Instead of `run` when something upstream failed (`cause` is that node's name) or the step says why it skips. */
  skip(step: TestStep, cause: string): void;
}

/**
 * Carries out a plan: records the checks, then runs the `build` steps in DAG order, `threads` at a
 * time, skipping the descendants of a failed model. Returns one result per step, in plan order.
 */
export async function executePlan(input: ExecuteInput): Promise<NodeResult[]> {
  const { plan, manifest, graph, log } = input;
  const steps = new Map(plan.steps.map((s) => [s.model.uniqueId, s]));
  const checked = plan.steps.filter((s) => s.action === 'check' && s.recordsCheck).map((s) => s.model.name);
  if (checked.length) await withSession(input.target, (session) => recordCheck(session, input.target.schema, checked, plan.now));

  const results = new Map<string, NodeResult>();
  const total = plan.steps.length;
  const indexOf = new Map(plan.steps.map((s, i) => [s.model.uniqueId, i + 1]));
  // Inside the run's own folder when it has one (execute/scratch.ts: removed at exit, or by the next run).
  const scratch = await mkdtemp(path.join(input.target.scratchDir ?? os.tmpdir(), 'models-'));
  const env = stepEnv(input, scratch);

  const runStep = async (step: ModelStep): Promise<'success' | 'error'> => {
    const { model } = step;
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const finish = (status: 'success' | 'error' | 'skipped', detail: string, extra: Partial<NodeResult> = {}) => {
      const seconds = elapsedSince(started);
      const waited = Math.round((env.queued.get(model.uniqueId) ?? 0) * 100) / 100;
      const excluded = excludedFor(graph, model, input.sources);
      results.set(model.uniqueId, {
        unique_id: model.uniqueId, name: model.name, kind: 'model', status, execution_time_s: seconds, queued_s: waited || undefined, started_at: startedAt,
        completed_at: new Date().toISOString(), compiled_path: path.relative(manifest.projectDir, path.join(input.compiledDir, model.path)),
        rows_excluded: Object.keys(excluded).length ? excluded : undefined, ...extra,
      } as NodeResult);
      log(modelLine(indexOf.get(model.uniqueId)!, total, status === 'success' ? 'OK' : status === 'skipped' ? 'SKIP' : 'ERROR', model.name, detail, seconds, waited));
    };
    if (cancelRequested()) {
      finish('skipped', 'interrupted: not started', { rows: 0, message: 'interrupted: not started' });
      return 'success';
    }
    if (step.action === 'skip') {
      finish('skipped', step.reason, { rows: 0, message: step.reason });
      return 'success';
    }
    if (step.action === 'check') {
      const message = step.recordsCheck ? `${step.reason} (checked)` : step.reason;
      finish('success', message, { rows: 0, message });
      return 'success';
    }
    const engine = input.engines.get(model.config.engine);
    const session = await engine.connect();
    try {
      const result = await buildModel(step, env, engine, session);
      if (strategyFor(model.config.materialized).lives === 'target') noteCommitted(model.name);
      const cut = step.kind === 'partitioned' ? step.batches : undefined;
      const batches = cut ? ` (${cut.bounds.length + 1} batches of days)` : '';
      finish('success', result.summary.replace(/(\d+)$/, (n) => `${formatCount(Number(n))} rows`) + batches, { rows: result.rows, deleted: result.deleted });
      return 'success';
    } catch (err) {
      const message = describeModelError(err, model);
      finish('error', 'ERROR', { message });
      log(message.replace(/^/gm, '      '));
      return 'error';
    } finally {
      session.close();
    }
  };

  try {
    const tests = new Map((plan.tests ?? []).map((t) => [t.id, t]));
    const runTest = (t: TestStep): Promise<'success' | 'error'> => {
      if (!input.tests) throw new TmError(`test '${t.name}' is planned but the run has no test runner`);
      return input.tests.run(t);
    };
    const blockedBy = (id: string) => [...tests.values()].filter((t) => t.blocks.includes(id)).map((t) => t.id);
    await runInOrder(
      [
        ...plan.steps.map((s) => ({ id: s.model.uniqueId, dependsOn: [...parentsOf(graph, s.model.uniqueId), ...blockedBy(s.model.uniqueId)] })),
        ...[...tests.values()].map((t) => ({ id: t.id, dependsOn: t.dependsOn })),
      ],
      input.threads,
      (id) => {
        const test = tests.get(id);
        return test ? runTest(test) : runStep(steps.get(id)!);
      },
      (id, cause) => {
        const causeName = steps.get(cause)?.model.name ?? tests.get(cause)?.name ?? cause;
        const test = tests.get(id);
        if (test) return input.tests?.skip(test, causeName);
        const model = steps.get(id)!.model;
        results.set(id, { unique_id: id, name: model.name, kind: 'model', status: 'skipped', execution_time_s: 0, message: `skipped: upstream '${causeName}' failed` });
        log(modelLine(indexOf.get(id)!, total, 'SKIP', model.name, `upstream ${causeName} failed`, 0));
      },
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return plan.steps.map((s) => results.get(s.model.uniqueId)!);
}

/** The engines' stores during one run: which models' rows are in which store, the heavy-query slot and its queue times. */
function stepEnv(input: ExecuteInput, scratch: string): StepEnv & { readonly queued: Map<string, number> } {
  const { plan, manifest } = input;
  const building = new Set(plan.steps.filter((s) => s.action === 'build').map((s) => s.model.name));
  // Results a later model on the same engine reads stay in its store rather than being read back from the target.
  // An incremental model's result is only this run's batch, not its table: readers import the table after it is written.
  const kept = new Set<string>();
  for (const s of plan.steps) {
    if (traitsOf(s.model.config.engine).store !== 'run') continue;
    for (const r of s.model.refs) {
      const read = manifest.models.get(r);
      if (building.has(r) && read?.config.engine === s.model.config.engine && !isIncremental(read)) kept.add(r);
    }
  }
  const inStore = new Map<ComputeEngine, Set<string>>();
  const storeOf = (engine: ComputeEngine) => inStore.get(engine) ?? inStore.set(engine, new Set()).get(engine)!;
  const importing = new Map<string, Promise<void>>();
  // An engine with heavy queries (DuckDB) already uses every core for one query; several heavy ones at
  // once only split the memory cap between them. One at a time (unless the plan found the inputs small),
  // while earlier models' loads and index builds go on in the target.
  const slot = createSemaphore(plan.duckSlots);
  // Time each model waits for the slot, reported apart: its line's time is wall time, queue included.
  const queued = new Map<string, number>();
  return {
    manifest, target: input.target, templates: input.templates, engineTemplates: input.engineTemplates, sources: input.sources, runId: plan.runId, fullRefresh: plan.fullRefresh,
    compiledDir: input.compiledDir, scratch, queued, deferred: input.deferred,
    heavy: (model) => (work) => {
      const waitStart = performance.now();
      return slot(() => {
        queued.set(model.uniqueId, (queued.get(model.uniqueId) ?? 0) + (performance.now() - waitStart) / 1000);
        return work();
      });
    },
    ensureInStore: async (engine, session, name) => {
      const store = storeOf(engine);
      if (store.has(name)) return;
      const key = `${engine.traits.name}\n${name}`;
      let pending = importing.get(key);
      if (!pending) {
        const model = manifest.models.get(name)!;
        pending = importModel(session, input.target, model, scratch, isIncremental(model), input.deferred?.get(name)).then(() => {
          store.add(name);
        });
        importing.set(key, pending);
      }
      await pending;
    },
    ensureSourceInStore: async (engine, session, source) => {
      const key = `${engine.traits.name}\nsource ${source}`;
      let pending = importing.get(key);
      if (!pending) {
        const prepared = input.sources.get(source);
        if (!prepared) throw new TmError(`source '${source}' was not prepared for this run`);
        if (!session.importSourceRows) throw new TmError(`the ${engine.traits.label} engine cannot read source '${source}'`);
        pending = session.importSourceRows(prepared.relation, handedSourceName(source));
        importing.set(key, pending);
      }
      await pending;
    },
    markInStore: (engine, name) => storeOf(engine).add(name),
    keptInStore: (name) => kept.has(name),
  };
}

/** Rows left out of a model's inputs: the contract exclusions of every source upstream of it. */
function excludedFor(graph: ProjectGraph, model: ModelNode, sources: ReadonlyMap<string, PreparedSource>): Record<string, number> {
  const out: Record<string, number> = {};
  const upstream = [...ancestors(graph, model.uniqueId)].map((id) => graph.nodes.get(id)).filter((n) => n?.kind === 'source');
  for (const s of upstream) {
    const prepared = sources.get(s!.name);
    if (!prepared) continue;
    for (const [rule, n] of Object.entries(prepared.excluded)) out[`${s!.name}.${rule}`] = n;
  }
  return out;
}

function describeModelError(err: unknown, model: ModelNode): string {
  const fault = faultMessage(err);
  if (fault) return `model '${model.name}' (${model.path}): ${fault}`;
  if (err instanceof TmError) return err.message;
  const e = err as { message?: string; where?: string; detail?: string };
  const where = e.where ? ` (${e.where.split('\n')[0]})` : '';
  return `model '${model.name}' (${model.path}): ${errorMessage(err).split('\n')[0]}${where}`;
}

