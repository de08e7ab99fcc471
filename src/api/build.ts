import path from 'node:path';
import type { NodeResult } from '../artifacts/run-results.js';
import { writeTestResults } from '../artifacts/test-results.js';
import { EXIT_OK } from '../core/errors.js';
import type { Log } from '../core/progress.js';
import { scheduleTests, type ScheduledTests } from '../quality/build-tests.js';
import { collectTests } from '../quality/collect-tests.js';
import { junitCaseOfModel, junitCaseOfTest, writeJunit } from '../quality/junit.js';
import { testResult, testSummary } from '../quality/report.js';
import { ensureAuditSchema } from '../quality/audit.js';
import { logFailureDetails } from '../quality/run-tests.js';
import { selectTests } from '../quality/select-tests.js';
import type { TestOutcome } from '../quality/types.js';
import { stateDirOf } from '../project/state-dir.js';
import { prepareSources } from '../sources/prepare-sources.js';
import { closePlannedRun, executeRun, exitCodeOf, openPlannedRun, printPlan, type PlannedRun, type RunOptions } from './run.js';

export interface BuildOptions extends RunOptions {
  /** Keep every test's failing rows in the audit schema. */
  readonly storeFailures?: boolean;
  /** Write JUnit XML (models and tests) here. */
  readonly junit?: string;
}

export interface BuildOutcome {
  readonly exitCode: number;
  /** Models and tests, as in run_results.json. */
  readonly results: readonly NodeResult[];
  readonly tests: readonly TestOutcome[];
}

const defaultLog: Log = (line) => process.stdout.write(line + '\n');

/**
 * `tm build`: `tm run` with the selected models' tests scheduled among them. A test runs once its
 * models are built; when an error-severity test fails, the descendants of its models are skipped.
 */
export async function build(options: BuildOptions): Promise<BuildOutcome> {
  const log = options.log ?? defaultLog;
  const startedAt = new Date().toISOString();
  const planned = await openPlannedRun({ ...options, log });
  try {
    if (options.dryRun) {
      printPlan(planned);
      return { exitCode: EXIT_OK, results: [], tests: [] };
    }
    const scheduled = await scheduleBuildTests(planned, options);
    const results = await executeRun(planned, { command: 'build', extraNodes: scheduled.nodes, extraResults: () => scheduled.outcomes().map(testResult) });
    const tests = scheduled.outcomes();
    // The tests also go where `tm test` puts them, so the last test results are in one place whichever command ran them.
    await writeTestResults(planned.ctx.targetDir, {
      command: 'build', target: planned.runtime.config.name, started_at: startedAt, elapsed_s: Math.round(performance.now() - planned.started) / 1000, results: tests.map(testResult),
    });
    log(testSummary(tests));
    logFailureDetails(tests, log);
    if (options.junit) {
      const projectName = planned.ctx.project.name;
      const models = results.filter((r) => r.kind === 'model').map((r) => junitCaseOfModel(r, projectName));
      await writeJunit(options.junit, 'tm build', [...models, ...tests.map((t) => junitCaseOfTest(t, projectName))], startedAt);
    }
    return { exitCode: exitCodeOf(results), results, tests };
  } finally {
    await closePlannedRun(planned);
  }
}

/** The selected tests, and those of the temp models this run computes (they exist only now), as nodes among the models. */
async function scheduleBuildTests(planned: PlannedRun, options: BuildOptions): Promise<ScheduledTests> {
  const { ctx: project, runtime, plan, log } = planned;
  const selected = plan.steps.map((s) => s.model.uniqueId);
  const selection = selectTests(project.manifest, options.select, options.exclude, planned.state);
  const temps = new Set(plan.steps.filter((s) => s.model.config.materialized === 'temp').map((s) => s.model.name));
  const ofTemps = collectTests(project.manifest).filter((t) => t.refs.length > 0 && t.refs.every((r) => temps.has(r)));
  const tests = [...new Map([...selection.tests, ...ofTemps].map((t) => [t.uniqueId, t])).values()];
  // Tests on a source that no selected model reads still need it prepared.
  const sources = new Map(planned.observation.prepared);
  const missing = [...new Set(tests.flatMap((t) => t.sources))].filter((s) => !sources.has(s)).map((s) => project.manifest.sources.get(s)!);
  if (missing.length) {
    const setup = { projectDir: project.project.projectDir, stateDir: stateDirOf(project.project.projectDir), values: plan.values, log };
    for (const [name, prepared] of await prepareSources(runtime.duck, project.manifest, missing, setup)) sources.set(name, prepared);
  }
  if (options.storeFailures || tests.some((t) => t.storeFailures)) await ensureAuditSchema(runtime.target);
  const ctx = {
    manifest: project.manifest, target: runtime.target, duck: runtime.duck, templates: planned.templates, sources, values: plan.values,
    storeFailures: options.storeFailures ?? false, compiledDir: path.join(project.targetDir, 'compiled'),
  };
  log(`${tests.length} test${tests.length === 1 ? '' : 's'} selected`);
  // Partition-aware reads: tests over a source (and over what DuckDB computes from it) see the days this
  // run read, as an audit sees the intervals it processed; `tm test` reads every file.
  const tested = new Set(tests.flatMap((t) => t.sources));
  const unread = new Map<string, string>();
  for (const step of plan.sources) {
    if (step.days === undefined || !tested.has(step.name) || missing.some((m) => m.name === step.name)) continue;
    if (step.days.length === 0) unread.set(step.name, 'had no changed day: nothing read to test (tm test reads every file)');
    else log(`tests on source ${step.name} check the ${step.days.length} day${step.days.length === 1 ? '' : 's'} read in this run (tm test reads every file)`);
  }
  return scheduleTests(tests, project.graph, selected, ctx, log, unread);
}
