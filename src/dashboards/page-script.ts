/**
 * The page's own script (plain ES5, inlined): draws each chart from the embedded data with ECharts,
 * tables as HTML, a failed chart's error in its place; when served over HTTP, refetches dashboards
 * that have a refresh period. SVG rendering keeps axis labels in the DOM (readable by tests and screen readers). Times are drawn in UTC (`useUTC` in every option), whatever the browser's zone.
 */
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('tm-data').textContent);
  window.tmDashboards = { data: data, renders: 0 };
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; });
  }
  // Identifiers (id, document_id) are names, not quantities: no thousands separators.
  function isId(column) { return /(^|_)id$/i.test(column); }
  function cell(v, column) {
    if (v === null || v === undefined) return '<td class="tm-null">–</td>';
    if (typeof v === 'number') return '<td class="tm-num">' + (isId(column) ? String(v) : v.toLocaleString('en-US', { maximumFractionDigits: 2 })) + '</td>';
    return '<td>' + esc(v) + '</td>';
  }
  function tableHtml(d) {
    var head = '<tr>' + d.columns.map(function (c) { return '<th>' + esc(c) + '</th>'; }).join('') + '</tr>';
    var body = d.rows.map(function (r) { return '<tr>' + r.map(function (v, i) { return cell(v, d.columns[i]); }).join('') + '</tr>'; }).join('');
    return '<table><thead>' + head + '</thead><tbody>' + body + '</tbody></table>';
  }
  function bodyOf(dashboard, chart) {
    return document.querySelector('[data-tm-dashboard="' + dashboard + '"] [data-tm-chart="' + chart + '"] .tm-body');
  }
  function render(dashboard, chart, d) {
    var el = bodyOf(dashboard, chart);
    if (!el) return;
    el.parentElement.setAttribute('data-tm-state', d.kind === 'error' ? 'failed' : 'drawn');
    // An empty result still draws its axes, and says so: "no rows" is not a failure.
    var empty = d.kind === 'table' ? d.rows.length === 0 : d.kind === 'echarts' && Array.isArray(d.option.series) && d.option.series.every(function (s) { return !s.data || s.data.length === 0; });
    if (empty) el.parentElement.setAttribute('data-tm-empty', ''); else el.parentElement.removeAttribute('data-tm-empty');
    var existing = echarts.getInstanceByDom(el);
    if (d.kind === 'echarts') {
      if (!existing) { el.innerHTML = ''; existing = echarts.init(el, null, { renderer: 'svg' }); }
      existing.setOption(d.option, true);
      return;
    }
    if (existing) existing.dispose();
    el.innerHTML = d.kind === 'table' ? tableHtml(d) : '<div class="tm-error" role="alert">query failed: ' + esc(d.message) + '</div>';
  }
  function renderDashboard(name) {
    var charts = data.dashboards[name].charts;
    Object.keys(charts).forEach(function (chart) { render(name, chart, charts[chart]); });
    var stamp = document.querySelector('[data-tm-dashboard="' + name + '"] .tm-stamp');
    if (stamp) stamp.textContent = 'data read ' + data.dashboards[name].readAt.replace('T', ' ').slice(0, 19) + ' UTC';
    window.tmDashboards.renders++;
  }
  Object.keys(data.dashboards).forEach(renderDashboard);
  window.addEventListener('resize', function () {
    document.querySelectorAll('.tm-body').forEach(function (el) { var c = echarts.getInstanceByDom(el); if (c) c.resize(); });
  });
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    Object.keys(data.dashboards).forEach(function (name) {
      var seconds = data.dashboards[name].refreshSeconds;
      if (!seconds) return;
      setInterval(function () {
        fetch('data/' + encodeURIComponent(name) + '.json', { cache: 'no-store' })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (fresh) { data.dashboards[name] = fresh; renderDashboard(name); })
          .catch(function (err) { console.warn('refresh of ' + name + ' failed: ' + err); });
      }, seconds * 1000);
    });
  }
})();`;
