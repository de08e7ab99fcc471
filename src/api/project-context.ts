import path from 'node:path';
import { writeManifestArtifact } from '../artifacts/manifest-artifact.js';
import { buildGraph, parentsOf, type ProjectGraph } from '../graph/build-graph.js';
import { buildManifest } from '../project/build-manifest.js';
import type { Manifest } from '../manifest/types.js';
import { loadProjectConfig, type ProjectConfig } from '../project/load-project.js';
import { checkTestNames } from '../quality/collect-tests.js';
import { stateDirOf } from '../project/state-dir.js';
import { ensurePrivateDir } from '../core/file-modes.js';

/** Options every command takes. */
export interface CommonOptions {
  /** Project folder; relative paths in the project resolve against it. Default: the current folder. */
  readonly projectDir?: string;
  readonly target?: string;
  /** `--vars '{json}'`, already parsed. */
  readonly vars?: Readonly<Record<string, unknown>>;
  /** Progress output; default: stdout. */
  readonly log?: (line: string) => void;
}

export interface ProjectContext {
  readonly project: ProjectConfig;
  readonly manifest: Manifest;
  readonly graph: ProjectGraph;
  /** Absolute path of the artifacts folder (`target/`). */
  readonly targetDir: string;
}

/** The project folder the options name, absolute. */
export function projectDirOf(options: CommonOptions): string {
  return path.resolve(options.projectDir ?? process.cwd());
}

/** Parse -> manifest -> graph, and `target/manifest.json` written: the first stages of every command. */
export async function loadProjectContext(options: CommonOptions): Promise<ProjectContext> {
  const projectDir = projectDirOf(options);
  const project = await loadProjectConfig(projectDir);
  // tm's caches, spill and PGlite live here: no other local user may look in (core/file-modes.ts).
  ensurePrivateDir(stateDirOf(projectDir));
  const manifest = await buildManifest(project, options.vars ?? {});
  checkTestNames(manifest);
  const graph = buildGraph(manifest);
  const targetDir = path.join(projectDir, project.targetPath);
  await writeManifestArtifact(targetDir, manifest, (id) => parentsOf(graph, id));
  return { project, manifest, graph, targetDir };
}
