import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dbtEnv, dbtPeerPaths, ensureDbtVenv } from '../bench/peers/dbt-env.js';
import type { PythonEnv } from '../test-support/python-env.js';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..');

interface TmModel {
  name: string;
  primary_key: string[];
  columns: { name: string }[];
  config: { tags?: string[] };
}
interface ManifestNode {
  name: string;
  resource_type: string;
  tags: string[];
  config: { materialized: string; contract?: { enforced: boolean } };
  constraints: { type: string; columns?: string[] }[];
  columns: Record<string, { name: string; data_type?: string }>;
}

async function tmMarts(tier: 'cold' | 'hot'): Promise<TmModel[]> {
  const doc = parse(await readFile(path.join(repoRoot, 'models', tier, 'schema.yml'), 'utf8')) as { models: TmModel[] };
  return doc.models.filter((m) => m.name.startsWith('mart_') && m.config.tags?.includes(tier) && m.primary_key);
}

/**
 * The bench's dbt peer (bench/peers/dbt) parses with the pinned dbt, and its marts keep tm's contract:
 * the same names, columns in order and primary keys as tm's models, tagged cold/hot. The virtualenv is the
 * bench's cached one, created here when missing (once, about a minute: PyPI is reachable on these machines).
 */
describe('the dbt peer of the bench', () => {
  let venv: PythonEnv;
  let work: string;
  let nodes: ManifestNode[];

  beforeAll(async () => {
    venv = await ensureDbtVenv(repoRoot, (line) => console.log(line));
    work = await mkdtemp(path.join(os.tmpdir(), 'tm-peers-dbt-'));
    const env = { ...process.env, ...dbtEnv('postgres://postgres@127.0.0.1:5432/test', 'peers_parse', path.join(work, 'target'), path.join(work, 'logs')) };
    const project = dbtPeerPaths(repoRoot).project;
    await execFileAsync(path.join(venv.bin, 'dbt'), ['parse', '--project-dir', project, '--profiles-dir', project], { env });
    const manifest = JSON.parse(await readFile(path.join(work, 'target', 'manifest.json'), 'utf8')) as { nodes: Record<string, ManifestNode> };
    nodes = Object.values(manifest.nodes).filter((n) => n.resource_type === 'model');
  }, 600_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const tier of ['cold', 'hot'] as const) {
    it(`has tm's ${tier} marts as incremental models with enforced contracts, tm's columns and primary keys`, async () => {
      const marts = await tmMarts(tier);
      expect(marts.length).toBe(4);
      for (const m of marts) {
        const node = nodes.find((n) => n.name === m.name);
        expect(node, `${m.name} in the dbt project`).toBeDefined();
        expect(node?.tags).toContain(tier);
        expect(node?.config.materialized).toBe('incremental');
        expect(node?.config.contract?.enforced).toBe(true);
        expect(Object.values(node?.columns ?? {}).map((c) => c.name)).toEqual(m.columns.map((c) => c.name));
        expect(node?.constraints.find((c) => c.type === 'primary_key')?.columns).toEqual(m.primary_key);
      }
    });
  }

  it('stages the stream once for the cold marts (incremental by key), not in the hot ones', () => {
    const stg = nodes.find((n) => n.name === 'stg_events');
    expect(stg?.config.materialized).toBe('incremental');
    expect(stg?.tags).toEqual(['cold']);
    expect(nodes.filter((n) => n.tags.includes('hot')).map((n) => n.name).sort()).toEqual([
      'mart_realtime_anomaly_sessions', 'mart_realtime_clinical_trend_24h', 'mart_realtime_top_docs_1h', 'mart_realtime_traffic_minute',
    ]);
  });
});
