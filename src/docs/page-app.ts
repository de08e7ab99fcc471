/**
 * The docs page's script. It runs in the browser: `renderDocsPage` inlines its source
 * (`docsPageApp.toString()`), so it must stay self-contained: no imports, no outside names but the
 * DOM and the `dagre` global of the inlined layout library. Written in TypeScript so it is type-checked.
 */
export function docsPageApp(): void {
  type Obj = Record<string, unknown>;
  interface Layout {
    x: number;
    y: number;
    width: number;
    height: number;
  }
  interface DagreGraph {
    setGraph(g: Obj): void;
    setDefaultEdgeLabel(f: () => Obj): void;
    setNode(id: string, v: Obj): void;
    setEdge(a: string, b: string): void;
    node(id: string): Layout;
    edge(e: { v: string; w: string }): { points: { x: number; y: number }[] };
    edges(): { v: string; w: string }[];
    graph(): { width: number; height: number };
  }
  interface Dagre {
    graphlib: { Graph: new () => DagreGraph };
    layout(g: DagreGraph): void;
  }
  interface Node extends Obj {
    id: string;
    kind: string;
    name: string;
    description?: string;
    depends_on?: string[];
  }
  interface Result extends Obj {
    unique_id: string;
    name: string;
    kind: string;
    status: string;
    execution_time_s?: number;
    rows?: number;
    started_at?: string;
    failures?: number;
    message?: string;
  }
  interface Declared {
    unique_id: string;
    name: string;
    kind: string;
    test_name: string;
    attached_to: string | null;
    column: string | null;
    severity: string;
  }
  interface Artifact {
    command?: string;
    started_at?: string;
    elapsed_s?: number;
    results?: Result[];
    sources?: Obj[];
  }
  interface Data {
    project: string;
    generated_at: string;
    target: { name: string; type: string; schema: string };
    manifest: { nodes: Record<string, Obj> };
    run_results: Artifact | null;
    test_results: Artifact | null;
    catalog: { relations: Record<string, Obj & { columns: { name: string; type: string }[]; row_count: number; size: string }>; freshness: Record<string, Obj> };
    tests: Declared[];
    compiled: Record<string, string>;
  }

  const data = JSON.parse(document.getElementById('tm-docs-data')!.textContent ?? '{}') as Data;
  const dagre = (window as unknown as { dagre: Dagre }).dagre;
  const SVG = 'http://www.w3.org/2000/svg';

  const nodes: Node[] = Object.entries(data.manifest.nodes).map(([id, n]) => ({ ...n, id }) as Node);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const runById = new Map((data.run_results?.results ?? []).map((r) => [r.unique_id, r]));
  const testById = new Map((data.test_results?.results ?? []).map((r) => [r.unique_id, r]));
  const kindOrder = ['source', 'model', 'test', 'dashboard'];
  const kindRank = (k: string) => (kindOrder.includes(k) ? kindOrder.indexOf(k) : kindOrder.length);
  nodes.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.name.localeCompare(b.name));

  const esc = (v: unknown): string =>
    String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
  const fmtNum = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : esc(n ?? '-'));
  const fmtSec = (n: unknown) => (typeof n === 'number' ? `${n.toFixed(2)} s` : '-');
  /** Times as UTC text, whatever the viewer's zone: the artifacts are UTC and so are the marts. */
  const fmtTime = (t: unknown) => (typeof t === 'string' && t ? `${t.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC` : '-');
  const badge = (status: string | undefined) => (status ? `<span class="badge st-${esc(status)}">${esc(status)}</span>` : '<span class="badge st-none">not run</span>');
  const testsOf = (n: Node): Declared[] => {
    if (n.kind === 'test') return data.tests.filter((t) => t.unique_id === n.id);
    return data.tests.filter((t) => t.attached_to === `${n.kind}.${n.name}`);
  };
  const worst = (ts: Declared[]): string | undefined => {
    const statuses = ts.map((t) => testById.get(t.unique_id)?.status).filter((s): s is string => !!s);
    for (const s of ['error', 'fail', 'warn', 'pass']) if (statuses.includes(s)) return s;
    return undefined;
  };
  const nodeStatus = (n: Node): string | undefined => (n.kind === 'test' ? testById.get(n.id)?.status : runById.get(n.id)?.status);

  // ---- lineage graph: dagre lays it out, the SVG is drawn here ----
  const lineage = document.querySelector<HTMLElement>('[data-tm-lineage]')!;
  function drawGraph(): void {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 60, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of nodes) g.setNode(n.id, { width: Math.max(90, n.name.length * 7.2 + 34), height: 34 });
    for (const n of nodes) for (const p of n.depends_on ?? []) if (byId.has(p)) g.setEdge(p, n.id);
    dagre.layout(g);
    const size = g.graph();
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${size.width} ${size.height}`);
    svg.setAttribute('width', String(size.width));
    svg.setAttribute('height', String(size.height));
    // A wide graph shrinks to the box's width instead of hiding behind a scroll bar; a small one keeps its size.
    svg.style.maxWidth = '100%';
    svg.style.height = 'auto';
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `lineage of ${nodes.length} nodes`);
    const defs = document.createElementNS(SVG, 'defs');
    defs.innerHTML = '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker>';
    svg.appendChild(defs);
    for (const e of g.edges()) {
      const pts = g.edge(e).points;
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', pts.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' '));
      path.setAttribute('class', 'edge');
      path.setAttribute('data-from', e.v);
      path.setAttribute('data-to', e.w);
      path.setAttribute('marker-end', 'url(#arrow)');
      svg.appendChild(path);
    }
    for (const n of nodes) {
      const box = g.node(n.id);
      const group = document.createElementNS(SVG, 'g');
      group.setAttribute('class', `tm-node kind-${n.kind}`);
      group.setAttribute('data-node-id', n.id);
      group.setAttribute('transform', `translate(${(box.x - box.width / 2).toFixed(1)},${(box.y - box.height / 2).toFixed(1)})`);
      group.setAttribute('tabindex', '0');
      const status = nodeStatus(n) ?? worst(testsOf(n));
      group.innerHTML =
        `<title>${esc(n.kind)} ${esc(n.name)}</title>` +
        `<rect width="${box.width}" height="${box.height}" rx="6"/>` +
        `<circle class="dot st-${esc(status ?? 'none')}" cx="12" cy="${box.height / 2}" r="4"/>` +
        `<text x="22" y="${box.height / 2 + 4}">${esc(n.name)}</text>`;
      group.addEventListener('click', () => openNode(n.id));
      group.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') openNode(n.id);
      });
      svg.appendChild(group);
    }
    lineage.replaceChildren(svg);
  }

  // ---- the list of every node, and the search box that filters it ----
  const list = document.getElementById('tm-node-list')!;
  const haystack = (n: Node): string => {
    const cols = Array.isArray(n.columns) ? (n.columns as Obj[]).map((c) => `${String(c.name)} ${String(c.description ?? '')}`).join(' ') : '';
    return `${n.name} ${n.kind} ${n.description ?? ''} ${cols}`.toLowerCase();
  };
  function drawList(query: string): Node[] {
    const q = query.trim().toLowerCase();
    const hits = nodes.filter((n) => !q || haystack(n).includes(q));
    const hitIds = new Set(hits.map((n) => n.id));
    list.innerHTML = kindOrder
      .concat([...new Set(nodes.map((n) => n.kind))].filter((k) => !kindOrder.includes(k)))
      .map((kind) => {
        const ofKind = hits.filter((n) => n.kind === kind);
        if (!ofKind.length) return '';
        return `<h3>${esc(kind)}s</h3><ul>${ofKind.map((n) => `<li><a href="#!/${encodeURIComponent(n.id)}" data-node-link="${esc(n.id)}">${esc(n.name)}</a></li>`).join('')}</ul>`;
      })
      .join('') || '<p class="muted">No node matches.</p>';
    for (const el of lineage.querySelectorAll<SVGGElement>('.tm-node')) el.classList.toggle('dim', !!q && !hitIds.has(el.dataset.nodeId ?? ''));
    return hits;
  }
  const search = document.getElementById('tm-search') as HTMLInputElement;
  search.addEventListener('input', () => drawList(search.value));
  search.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    const [first] = drawList(search.value);
    if (first) openNode(first.id);
  });

  // ---- a node's page ----
  const page = document.getElementById('tm-node-page')!;
  function openNode(id: string): void {
    if (location.hash !== `#!/${encodeURIComponent(id)}`) location.hash = `#!/${encodeURIComponent(id)}`;
    else renderNode(id);
  }
  function table(head: string[], rows: string[][]): string {
    if (!rows.length) return '<p class="muted">None.</p>';
    return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  }
  function testRows(ts: Declared[]): string[][] {
    return ts.map((t) => {
      const r = testById.get(t.unique_id);
      return [esc(t.name), esc(t.column ?? ''), esc(t.severity), badge(r?.status), r?.failures === undefined ? '-' : fmtNum(r.failures), esc(r?.message ?? '')];
    });
  }
  function columnsSection(n: Node): string {
    const declared = Array.isArray(n.columns) ? (n.columns as Obj[]) : [];
    const relation = n.kind === 'model' ? data.catalog.relations[n.name] : undefined;
    const dbType = new Map((relation?.columns ?? []).map((c) => [c.name, c.type]));
    const ts = testsOf(n);
    const rows = declared.map((c) => {
      const colTests = ts.filter((t) => t.column === String(c.name));
      const tests = colTests.map((t) => `${esc(t.test_name)} ${badge(testById.get(t.unique_id)?.status)}`).join('<br>');
      return [`<code>${esc(c.name)}</code>`, esc(c.type), esc(dbType.get(String(c.name)) ?? '-'), esc(c.description ?? ''), tests];
    });
    // Sources are files, not relations of the target: no database type to show.
    const shown = n.kind === 'model' ? rows : rows.map((r) => [r[0], r[1], r[3], r[4]]);
    const head = n.kind === 'model' ? ['column', 'declared type', 'type in the database', 'description', 'tests'] : ['column', 'type', 'description', 'tests'];
    return `<h3>Columns</h3>${table(head, shown)}`;
  }
  function runSection(n: Node): string {
    const r = runById.get(n.id);
    const run = data.run_results;
    if (!r) return `<h3>Last run</h3><p class="muted">Not in the last run${run?.command ? ` (tm ${esc(run.command)}, ${fmtTime(run.started_at)})` : ''}.</p>`;
    const excluded = r.rows_excluded && typeof r.rows_excluded === 'object' ? Object.entries(r.rows_excluded as Record<string, number>) : [];
    return `<h3>Last run</h3><dl class="facts" data-tm-last-run><dt>status</dt><dd>${badge(r.status)}</dd><dt>rows</dt><dd>${fmtNum(r.rows)}</dd>` +
      `<dt>time</dt><dd>${fmtSec(r.execution_time_s)}</dd><dt>started</dt><dd>${fmtTime(r.started_at)}</dd><dt>command</dt><dd>tm ${esc(run?.command ?? '')}</dd>` +
      (r.message ? `<dt>message</dt><dd>${esc(r.message)}</dd>` : '') +
      (excluded.length ? `<dt>rows excluded from inputs</dt><dd>${excluded.map(([k, v]) => `${esc(k)} ${fmtNum(v)}`).join(', ')}</dd>` : '') +
      '</dl>';
  }
  function testsSection(n: Node): string {
    const t = data.test_results;
    const when = t?.started_at ? ` <span class="muted">(tm ${esc(t.command ?? '')}, ${fmtTime(t.started_at)})</span>` : ' <span class="muted">(no test run yet)</span>';
    return `<h3>Last test results${when}</h3><div data-tm-last-tests>${table(['test', 'column', 'severity', 'status', 'failing rows', 'message'], testRows(testsOf(n)))}</div>`;
  }
  function freshnessSection(n: Node): string {
    const f = data.catalog.freshness[n.name];
    if (!f) return '';
    const age = typeof f.age_s === 'number' ? `${Math.floor(f.age_s / 60)} min ${f.age_s % 60} s` : '-';
    return `<h3>Freshness</h3><dl class="facts" data-tm-freshness><dt>state</dt><dd>${badge(String(f.state))}</dd><dt>SLA</dt><dd>${f.sla_minutes === null ? 'none' : `${esc(f.sla_minutes)} min`}</dd>` +
      `<dt>last success</dt><dd>${esc(f.last_success_at ?? 'never')} UTC</dd><dt>age</dt><dd>${age}</dd><dt>clock reached</dt><dd>${esc(f.clock_reached ?? '-')}</dd></dl>`;
  }
  function sourceSection(n: Node): string {
    const s = (data.run_results?.sources ?? []).find((x) => x.name === n.name) ?? (data.test_results?.sources ?? []).find((x) => x.name === n.name);
    const excluded = (s?.rows_excluded ?? {}) as Record<string, number>;
    const rules = (Array.isArray(n.rules) ? (n.rules as Obj[]) : []).map((r) => [`<code>${esc(r.name)}</code>`, `<code>${esc(r.check)}</code>`, fmtNum(excluded[String(r.name)] ?? (s ? 0 : undefined))]);
    const files = s
      ? `<dl class="facts" data-tm-source-files><dt>files</dt><dd>${fmtNum(s.files)}</dd><dt>unreadable files</dt><dd>${fmtNum(Array.isArray(s.unreadable_files) ? s.unreadable_files.length : s.unreadable_files)}</dd>` +
        `<dt>rows read</dt><dd>${fmtNum(s.rows_read)}</dd><dt>valid rows</dt><dd>${fmtNum(s.valid_rows)}</dd><dt>duplicates</dt><dd>${fmtNum(s.duplicates)}</dd></dl>`
      : '<p class="muted">Not read by the last run.</p>';
    const dedup = n.dedup as Obj | undefined;
    return `<dl class="facts"><dt>location</dt><dd><code>${esc(n.location)}</code></dd><dt>format</dt><dd>${esc(n.format)}</dd>` +
      (dedup ? `<dt>dedup</dt><dd>key <code>${esc(dedup.key)}</code>, first by <code>${esc(dedup.order)}</code></dd>` : '') + '</dl>' +
      `<h3>Files (last run)</h3>${files}<h3>Rules</h3>${table(['rule', 'check', 'rows excluded'], rules)}`;
  }
  function configSection(n: Node): string {
    const c = (n.config ?? {}) as Obj;
    const shown = Object.entries(c).filter(([k, v]) => k !== 'extra' && v !== undefined && !(Array.isArray(v) && !v.length));
    const extra = Object.entries((c.extra ?? {}) as Obj);
    const pk = Array.isArray(n.primary_key) && n.primary_key.length ? `<dt>primary key</dt><dd>${esc((n.primary_key as string[]).join(', '))}</dd>` : '';
    return `<h3>Materialization and config</h3><dl class="facts" data-tm-config><dt>materialized</dt><dd><b>${esc(c.materialized)}</b></dd>${pk}` +
      [...shown.filter(([k]) => k !== 'materialized'), ...extra].map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</code></dd>`).join('') + '</dl>';
  }
  function relationSection(n: Node): string {
    const r = data.catalog.relations[n.name];
    if (n.kind !== 'model') return '';
    if (!r) return '<p class="muted">Not in the target schema (not built yet, or a temp model).</p>';
    return `<h3>In the database</h3><dl class="facts" data-tm-catalog><dt>relation</dt><dd><code>${esc(r.schema)}.${esc(r.name)}</code> (${esc(r.type)})</dd><dt>rows</dt><dd>${fmtNum(r.row_count)}</dd><dt>size</dt><dd>${esc(r.size)}</dd></dl>`;
  }
  function lineageLinks(n: Node): string {
    const link = (id: string) => `<a href="#!/${encodeURIComponent(id)}">${esc(byId.get(id)?.name ?? id)}</a>`;
    const up = (n.depends_on ?? []).filter((p) => byId.has(p));
    const down = nodes.filter((m) => (m.depends_on ?? []).includes(n.id)).map((m) => m.id);
    return `<p class="lineage-links">Upstream: ${up.map(link).join(', ') || 'none'} &middot; Downstream: ${down.map(link).join(', ') || 'none'}</p>`;
  }
  function otherFields(n: Node): string {
    const skip = new Set(['id', 'kind', 'name', 'description', 'depends_on', 'columns', 'path']);
    const rest = Object.entries(n).filter(([k]) => !skip.has(k));
    return rest.length ? `<dl class="facts">${rest.map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</code></dd>`).join('')}</dl>` : '';
  }
  function renderNode(id: string, scroll = false): void {
    const n = byId.get(id);
    for (const el of lineage.querySelectorAll<SVGGElement>('.tm-node')) el.classList.toggle('selected', el.dataset.nodeId === id);
    if (!n) {
      page.innerHTML = `<p class="muted">Click a node in the graph or the list to see its page.</p>`;
      return;
    }
    let body = '';
    if (n.kind === 'model') {
      body = configSection(n) + relationSection(n) + columnsSection(n) + runSection(n) + testsSection(n) + freshnessSection(n);
      const sql = data.compiled[n.id];
      body += `<h3>Compiled SQL</h3>${sql ? `<pre class="sql" data-tm-compiled>${esc(sql)}</pre>` : '<p class="muted">Not compiled yet.</p>'}`;
    } else if (n.kind === 'source') {
      body = sourceSection(n) + columnsSection(n) + testsSection(n);
    } else if (n.kind === 'test') {
      const sql = data.compiled[n.id];
      body = testsSection(n) + (sql ? `<h3>Compiled SQL</h3><pre class="sql" data-tm-compiled>${esc(sql)}</pre>` : '');
    } else {
      body = otherFields(n);
    }
    page.innerHTML =
      `<article data-tm-node-page="${esc(n.id)}"><header><span class="kind kind-${esc(n.kind)}">${esc(n.kind)}</span><h2>${esc(n.name)}</h2>` +
      `${n.path ? `<code class="muted">${esc(n.path)}</code>` : ''}</header>` +
      `<p class="description">${esc(n.description || '(no description)')}</p>${lineageLinks(n)}${body}</article>`;
    if (scroll) page.scrollIntoView({ block: 'start' });
  }
  const fromHash = () => decodeURIComponent(location.hash.replace(/^#!\//, ''));
  window.addEventListener('hashchange', () => renderNode(fromHash(), true));

  document.getElementById('tm-summary')!.textContent =
    `${data.project} · target ${data.target.name} (${data.target.type}, schema ${data.target.schema}) · ${nodes.length} nodes · generated ${fmtTime(data.generated_at)}`;
  drawGraph();
  drawList('');
  renderNode(fromHash());
  document.body.dataset.tmReady = 'true';
}
