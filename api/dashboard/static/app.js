// Switchyard dashboard: reads the public REST API and renders tables.
// Every URL is relative ("../api/…") so the page works under any basePath
// and behind a path prefix. Values are inserted with textContent only.
'use strict';

const API = '../api/';
const REFRESH_MS = 5000;
const PER_PAGE = 500;

// el builds an element; children are nodes or strings (set as text).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === '') continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function getJSON(path) {
  const resp = await fetch(API + path, { cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!resp.ok) throw new Error(`${path}: HTTP ${resp.status}`);
  return { body: await resp.json(), headers: resp.headers };
}

// getAll follows X-Next-Page, which is 1 on the last page.
async function getAll(path) {
  let items = [];
  for (let page = 1; page < 10000;) {
    const { body, headers } = await getJSON(`${path}?per_page=${PER_PAGE}&page=${page}`);
    items = items.concat(body);
    const next = parseInt(headers.get('X-Next-Page') || '1', 10);
    if (!(next > page)) break;
    page = next;
  }
  return items;
}

// Cell helpers.
const list = (xs) => (xs && xs.length ? xs.join(', ') : '');
const code = (s) => (s ? el('code', {}, s) : '');
const status = (o) => el('span', { class: `badge ${o.status || 'unknown'}` }, o.status || 'unknown');
const health = (s) => el('span', { class: `badge ${s === 'UP' ? 'enabled' : 'disabled'}` }, s);

function withWeight(name, weight) {
  return weight === undefined || weight === null ? name : `${name} (weight ${weight})`;
}

// backends lists what a service sends traffic to; servers carry health.
function backends(svc) {
  const st = svc.serverStatus || {};
  const rows = [];
  const lb = svc.loadBalancer;
  if (lb && lb.servers) {
    for (const s of lb.servers) {
      const target = s.url || s.address || '';
      rows.push(el('li', {}, st[target] ? health(st[target]) : '', ' ', code(withWeight(target, s.weight))));
    }
  }
  // Servers known only from health data (e.g. discovered) still show.
  const listed = new Set(((lb && lb.servers) || []).map((s) => s.url || s.address));
  for (const [target, state] of Object.entries(st)) {
    if (!listed.has(target)) rows.push(el('li', {}, health(state), ' ', code(target)));
  }
  if (svc.weighted && svc.weighted.services) {
    for (const w of svc.weighted.services) rows.push(el('li', {}, '→ ', withWeight(w.name, w.weight)));
  }
  if (svc.mirroring) {
    rows.push(el('li', {}, '→ ', svc.mirroring.service));
    for (const m of svc.mirroring.mirrors || []) rows.push(el('li', {}, '⧉ ', `${m.name} (${m.percent || 0}%)`));
  }
  if (svc.failover) {
    rows.push(el('li', {}, '→ ', svc.failover.service));
    rows.push(el('li', {}, '↪ fallback ', svc.failover.fallback));
  }
  return rows.length ? el('ul', { class: 'plain' }, rows) : '';
}

function routerTLS(r) {
  if (!r.tls) return '';
  if (r.tls.passthrough) return 'passthrough';
  return r.tls.options ? `options: ${r.tls.options}` : 'yes';
}

// Each table: API path and columns [title, cell(item)].
const TABLES = [
  {
    id: 'entrypoints', path: 'entrypoints', columns: [
      ['Name', (e) => e.name],
      ['Address', (e) => code(e.address)],
      ['Default', (e) => (e.asDefault ? 'yes' : '')],
      ['Redirect', (e) => {
        const r = e.http && e.http.redirections && e.http.redirections.entryPoint;
        return r ? `→ ${r.to} (${r.scheme || 'https'})` : '';
      }],
      ['Middlewares', (e) => list(e.http && e.http.middlewares)],
    ],
  },
  {
    id: 'routers', path: 'http/routers', columns: [
      ['Status', status],
      ['Name', (r) => r.name],
      ['Rule', (r) => code(r.rule)],
      ['Entrypoints', (r) => list(r.using && r.using.length ? r.using : r.entryPoints)],
      ['Middlewares', (r) => list(r.middlewares)],
      ['Service', (r) => r.service],
      ['TLS', routerTLS],
      ['Priority', (r) => r.priority || ''],
      ['Provider', (r) => r.provider],
    ],
  },
  {
    id: 'services', path: 'http/services', columns: [
      ['Status', status],
      ['Name', (s) => s.name],
      ['Type', (s) => s.type],
      ['Servers', backends],
      ['Used by', (s) => list(s.usedBy)],
      ['Provider', (s) => s.provider],
    ],
  },
  {
    id: 'middlewares', path: 'http/middlewares', columns: [
      ['Status', status],
      ['Name', (m) => m.name],
      ['Type', (m) => m.type],
      ['Used by', (m) => list(m.usedBy)],
      ['Provider', (m) => m.provider],
    ],
  },
  {
    id: 'tcp-routers', path: 'tcp/routers', columns: [
      ['Status', status],
      ['Name', (r) => r.name],
      ['Rule', (r) => code(r.rule)],
      ['Entrypoints', (r) => list(r.using && r.using.length ? r.using : r.entryPoints)],
      ['Service', (r) => r.service],
      ['TLS', routerTLS],
      ['Provider', (r) => r.provider],
    ],
  },
  {
    id: 'tcp-services', path: 'tcp/services', columns: [
      ['Status', status],
      ['Name', (s) => s.name],
      ['Type', (s) => s.type],
      ['Servers', backends],
      ['Used by', (s) => list(s.usedBy)],
      ['Provider', (s) => s.provider],
    ],
  },
  {
    id: 'udp-routers', path: 'udp/routers', columns: [
      ['Status', status],
      ['Name', (r) => r.name],
      ['Entrypoints', (r) => list(r.using && r.using.length ? r.using : r.entryPoints)],
      ['Service', (r) => r.service],
      ['Provider', (r) => r.provider],
    ],
  },
  {
    id: 'udp-services', path: 'udp/services', columns: [
      ['Status', status],
      ['Name', (s) => s.name],
      ['Type', (s) => s.type],
      ['Servers', backends],
      ['Used by', (s) => list(s.usedBy)],
      ['Provider', (s) => s.provider],
    ],
  },
];

// render fills a table; a row's errors follow it on a full-width row.
function render(table, items) {
  const node = document.getElementById(table.id);
  const head = el('thead', {}, el('tr', {}, table.columns.map(([title]) => el('th', { scope: 'col' }, title))));
  const body = el('tbody');
  for (const item of items) {
    const cls = item.status && item.status !== 'enabled' ? `row-${item.status}` : '';
    const row = el('tr', { class: cls || null }, table.columns.map(([, cell]) => el('td', {}, cell(item))));
    body.append(row);
    if (item.error && item.error.length) {
      const errs = el('ul', { class: 'errors' }, item.error.map((e) => el('li', {}, e)));
      body.append(el('tr', { class: `error-row ${cls}` }, el('td', { colspan: table.columns.length }, errs)));
    }
  }
  const empty = el('tbody', { class: 'empty' },
    el('tr', {}, el('td', { colspan: table.columns.length }, items.length ? 'No match.' : 'None.')));
  node.replaceChildren(head, body, empty);
}

// applyFilter hides rows (and their error rows) not containing the query.
function applyFilter() {
  const q = document.getElementById('search').value.trim().toLowerCase();
  for (const table of TABLES) {
    const node = document.getElementById(table.id);
    const body = node.tBodies[0];
    if (!body) continue;
    let shown = 0;
    let keep = true;
    for (const row of body.rows) {
      if (!row.classList.contains('error-row')) {
        keep = !q || row.textContent.toLowerCase().includes(q) ||
          (row.nextElementSibling && row.nextElementSibling.classList.contains('error-row') &&
            row.nextElementSibling.textContent.toLowerCase().includes(q));
        if (keep) shown++;
      }
      row.hidden = !keep;
    }
    node.tBodies[1].hidden = shown > 0;
  }
}

function renderOverview(ov) {
  const cards = [];
  for (const proto of ['http', 'tcp', 'udp']) {
    for (const kind of ['routers', 'services', 'middlewares']) {
      const s = ov[proto] && ov[proto][kind];
      if (!s) continue;
      const ok = s.total - s.warnings - s.errors;
      cards.push(el('div', { class: 'card' },
        el('div', { class: 'card-title' }, `${proto.toUpperCase()} ${kind}`),
        el('div', { class: 'card-total' }, s.total),
        el('div', { class: 'card-detail' },
          el('span', { class: 'ok' }, `${ok} ok`), ' · ',
          el('span', { class: s.warnings ? 'warn' : 'muted' }, `${s.warnings} warnings`), ' · ',
          el('span', { class: s.errors ? 'err' : 'muted' }, `${s.errors} errors`))));
    }
  }
  document.getElementById('overview').replaceChildren(...cards);
  const f = ov.features || {};
  const parts = [
    `Providers: ${list(ov.providers) || 'none'}`,
    `Metrics: ${f.metrics || 'off'}`,
    `Tracing: ${f.tracing || 'off'}`,
    `Access log: ${f.accessLog ? 'on' : 'off'}`,
  ];
  document.getElementById('features').textContent = parts.join(' · ');
}

let busy = false;

async function refresh() {
  if (busy) return;
  busy = true;
  const banner = document.getElementById('error');
  try {
    const [overview, version, ...lists] = await Promise.all([
      getJSON('overview').then((r) => r.body),
      getJSON('version').then((r) => r.body),
      ...TABLES.map((t) => getAll(t.path)),
    ]);
    renderOverview(overview);
    document.getElementById('version').textContent =
      `${version.Version}${version.Codename ? ` (${version.Codename})` : ''} · started ${new Date(version.startDate).toLocaleString()}`;
    TABLES.forEach((t, i) => render(t, lists[i]));
    applyFilter();
    banner.hidden = true;
    document.getElementById('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    // Keep the last good data on screen.
    banner.textContent = `Update failed, showing the last data: ${err.message}`;
    banner.hidden = false;
  } finally {
    busy = false;
  }
}

function start() {
  const search = document.getElementById('search');
  try {
    search.value = decodeURIComponent(location.hash.slice(1));
  } catch (_) {
    // A malformed hash is just not a filter.
  }
  search.addEventListener('input', () => {
    history.replaceState(null, '', search.value ? `#${encodeURIComponent(search.value)}` : location.pathname);
    applyFilter();
  });
  document.getElementById('refresh').addEventListener('click', refresh);
  setInterval(() => {
    if (document.getElementById('auto').checked && !document.hidden) refresh();
  }, REFRESH_MS);
  refresh();
}

document.addEventListener('DOMContentLoaded', start);
