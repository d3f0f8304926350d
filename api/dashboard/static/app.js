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

// link points to an object's detail page ("#/http/routers/name").
function link(kind, name) {
  if (!name) return '';
  // Internal services have no API entry, hence no detail page.
  if (kind.endsWith('/services') && name.endsWith('@internal')) return name;
  return el('a', { href: `#/${kind}/${encodeURIComponent(name)}`, class: 'obj' }, name);
}

function links(kind, names) {
  if (!names || !names.length) return '';
  const out = [];
  names.forEach((n, i) => {
    if (i) out.push(', ');
    out.push(link(kind, n));
  });
  return el('span', {}, out);
}

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
      ['Name', (r) => link('http/routers', r.name)],
      ['Rule', (r) => code(r.rule)],
      ['Entrypoints', (r) => list(r.using && r.using.length ? r.using : r.entryPoints)],
      ['Middlewares', (r) => links('http/middlewares', r.middlewares)],
      ['Service', (r) => link('http/services', r.service)],
      ['TLS', routerTLS],
      ['Priority', (r) => r.priority || ''],
      ['Provider', (r) => r.provider],
    ],
  },
  {
    id: 'services', path: 'http/services', columns: [
      ['Status', status],
      ['Name', (s) => link('http/services', s.name)],
      ['Type', (s) => s.type],
      ['Servers', backends],
      ['Used by', (s) => list(s.usedBy)],
      ['Provider', (s) => s.provider],
    ],
  },
  {
    id: 'middlewares', path: 'http/middlewares', columns: [
      ['Status', status],
      ['Name', (m) => link('http/middlewares', m.name)],
      ['Type', (m) => m.type],
      ['Used by', (m) => list(m.usedBy)],
      ['Provider', (m) => m.provider],
    ],
  },
  {
    id: 'tcp-routers', path: 'tcp/routers', columns: [
      ['Status', status],
      ['Name', (r) => link('tcp/routers', r.name)],
      ['Rule', (r) => code(r.rule)],
      ['Entrypoints', (r) => list(r.using && r.using.length ? r.using : r.entryPoints)],
      ['Service', (r) => link('tcp/services', r.service)],
      ['TLS', routerTLS],
      ['Provider', (r) => r.provider],
    ],
  },
  {
    id: 'tcp-services', path: 'tcp/services', columns: [
      ['Status', status],
      ['Name', (s) => link('tcp/services', s.name)],
      ['Type', (s) => s.type],
      ['Servers', backends],
      ['Used by', (s) => list(s.usedBy)],
      ['Provider', (s) => s.provider],
    ],
  },
  {
    id: 'udp-routers', path: 'udp/routers', columns: [
      ['Status', status],
      ['Name', (r) => link('udp/routers', r.name)],
      ['Entrypoints', (r) => list(r.using && r.using.length ? r.using : r.entryPoints)],
      ['Service', (r) => link('udp/services', r.service)],
      ['Provider', (r) => r.provider],
    ],
  },
  {
    id: 'udp-services', path: 'udp/services', columns: [
      ['Status', status],
      ['Name', (s) => link('udp/services', s.name)],
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

// TLS tables, filled from /api/rawdata (certificates) and the router lists.
const DAY_MS = 24 * 3600 * 1000;
const TLS_TABLES = [
  {
    id: 'tls-certs', columns: [
      ['Status', (c) => status(c)],
      ['Names', (c) => code(list(c.names))],
      ['Expires', (c) => {
        const d = new Date(c.notAfter);
        const days = Math.floor((d - Date.now()) / DAY_MS);
        const left = days < 0 ? 'expired' : days === 0 ? 'less than a day' : days === 1 ? '1 day' : `${days} days`;
        return `${d.toISOString().slice(0, 10)} (${left})`;
      }],
      ['Stores', (c) => list(c.stores)],
    ],
  },
  {
    id: 'tls-routers', columns: [
      ['Status', status],
      ['Router', (r) => link(r.kind, r.name)],
      ['Kind', (r) => r.kind.split('/')[0].toUpperCase()],
      ['Rule', (r) => code(r.rule)],
      ['TLS', routerTLS],
      ['Cert resolver', (r) => (r.tls && r.tls.certResolver) || ''],
      ['Domains', (r) => list(((r.tls && r.tls.domains) || []).map((d) => [d.main].concat(d.sans || []).join(', ')))],
    ],
  },
];

// certStatus marks expired certificates as errors and those expiring within
// 30 days as warnings.
function certStatus(c) {
  const left = new Date(c.notAfter) - Date.now();
  if (left < 0) return { ...c, status: 'disabled', error: ['certificate expired'] };
  if (left < 30 * DAY_MS) return { ...c, status: 'warning' };
  return { ...c, status: 'enabled' };
}

function renderTLS(raw, lists) {
  const certs = ((raw && raw.tlsCertificates) || []).map(certStatus);
  render(TLS_TABLES[0], certs);
  const routers = [];
  for (const [i, t] of TABLES.entries()) {
    if (t.path !== 'http/routers' && t.path !== 'tcp/routers') continue;
    for (const r of lists[i]) if (r.tls) routers.push({ ...r, kind: t.path });
  }
  render(TLS_TABLES[1], routers);
  const errs = (raw && raw.tlsErrors) || [];
  document.getElementById('tls-errors').replaceChildren(...errs.map((e) => el('li', {}, e)));
}

// applyFilter hides rows (and their error rows) not containing the query,
// and, when showing problems only, rows whose object is enabled.
function applyFilter() {
  const q = document.getElementById('search').value.trim().toLowerCase();
  const problems = document.getElementById('show').value === 'problems';
  for (const table of TABLES.concat(TLS_TABLES)) {
    const node = document.getElementById(table.id);
    const body = node.tBodies[0];
    if (!body) continue;
    let shown = 0;
    let keep = true;
    for (const row of body.rows) {
      if (!row.classList.contains('error-row')) {
        const next = row.nextElementSibling;
        const hasErr = next && next.classList.contains('error-row');
        keep = !q || row.textContent.toLowerCase().includes(q) ||
          (hasErr && next.textContent.toLowerCase().includes(q));
        if (problems && !(row.classList.contains('row-disabled') || row.classList.contains('row-warning') || hasErr)) keep = false;
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

// Last data, by API path: detail pages render from it between refreshes.
const state = { byKind: {}, raw: null };

function find(kind, name) {
  return (state.byKind[kind] || []).find((o) => o.name === name);
}

// step is one box of a chain: a link to the object, its status and type.
function step(kind, name, label) {
  const o = find(kind, name);
  if (!o && name.endsWith('@internal')) {
    // Internal services (api, dashboard, ping…) are not listed by the API.
    return el('li', { class: 'step step-enabled' }, el('div', { class: 'step-kind' }, label), name,
      el('div', { class: 'muted' }, 'internal'));
  }
  return el('li', { class: `step ${o ? `step-${o.status || 'unknown'}` : 'step-missing'}` },
    el('div', { class: 'step-kind' }, label),
    o ? link(kind, name) : el('span', { class: 'err' }, `${name} (not found)`),
    o ? el('div', {}, status(o), o.type ? ` ${o.type}` : '') : '',
    o && o.error && o.error.length ? el('ul', { class: 'errors' }, o.error.map((e) => el('li', {}, e))) : '');
}

// serverSteps shows a service's servers with health, or its child services.
function serverSteps(proto, svc) {
  const out = [];
  if (!svc) return out;
  const st = svc.serverStatus || {};
  const lb = svc.loadBalancer;
  for (const s of (lb && lb.servers) || []) {
    const target = s.url || s.address || '';
    out.push(el('li', { class: `step step-${st[target] === 'DOWN' ? 'disabled' : 'enabled'}` },
      el('div', { class: 'step-kind' }, 'server'), code(target), st[target] ? el('div', {}, health(st[target])) : ''));
  }
  const kids = [];
  if (svc.weighted) kids.push(...(svc.weighted.services || []).map((w) => w.name));
  if (svc.mirroring) kids.push(svc.mirroring.service, ...(svc.mirroring.mirrors || []).map((m) => m.name));
  if (svc.failover) kids.push(svc.failover.service, svc.failover.fallback);
  for (const k of kids.filter(Boolean)) out.push(step(`${proto}/services`, k, 'service'));
  return out;
}

function chainOf(kind, o) {
  const proto = kind.split('/')[0];
  const arrow = () => el('li', { class: 'arrow', 'aria-hidden': 'true' }, '→');
  const steps = [];
  const push = (...xs) => {
    for (const x of xs) {
      if (steps.length) steps.push(arrow());
      steps.push(x);
    }
  };
  if (kind.endsWith('/routers')) {
    const eps = o.using && o.using.length ? o.using : o.entryPoints;
    push(el('li', { class: 'step' }, el('div', { class: 'step-kind' }, 'entrypoints'), list(eps) || '(default)'));
    push(el('li', { class: `step step-${o.status}` }, el('div', { class: 'step-kind' }, 'router'), o.name, el('div', {}, status(o))));
    for (const m of o.middlewares || []) push(step(`${proto}/middlewares`, m, 'middleware'));
    if (o.service) push(step(`${proto}/services`, o.service, 'service'));
    const svc = find(`${proto}/services`, o.service);
    const servers = serverSteps(proto, svc);
    if (servers.length) push(el('li', { class: 'step group' }, el('ul', { class: 'plain' }, servers)));
  } else if (kind.endsWith('/services')) {
    const users = (o.usedBy || []).map((r) => step(`${proto}/routers`, r, 'router'));
    if (users.length) push(el('li', { class: 'step group' }, el('ul', { class: 'plain' }, users)));
    push(el('li', { class: `step step-${o.status}` }, el('div', { class: 'step-kind' }, 'service'), o.name, el('div', {}, status(o))));
    const servers = serverSteps(proto, o);
    if (servers.length) push(el('li', { class: 'step group' }, el('ul', { class: 'plain' }, servers)));
  } else {
    const users = (o.usedBy || []).map((r) => step(`${proto}/routers`, r, 'router'));
    if (users.length) push(el('li', { class: 'step group' }, el('ul', { class: 'plain' }, users)));
    push(el('li', { class: `step step-${o.status}` }, el('div', { class: 'step-kind' }, 'middleware'), o.name, el('div', {}, status(o))));
  }
  return el('ol', { class: 'chain' }, steps);
}

function renderDetail(kind, name) {
  const node = document.getElementById('detail');
  const o = find(kind, name);
  const back = el('p', {}, el('a', { href: '#', id: 'back' }, '← All objects'));
  if (!o) {
    node.replaceChildren(back, el('p', { class: 'banner' }, `${kind.replace('/', ' ').replace(/s$/, '')} ${name} not found`));
    return;
  }
  const kindLabel = `${kind.split('/')[0].toUpperCase()} ${kind.split('/')[1].replace(/s$/, '')}`;
  const facts = [
    ['Provider', o.provider],
    ['Type', o.type],
    ['Rule', o.rule ? code(o.rule) : ''],
    ['Priority', o.priority],
    ['Entrypoints', list(o.using && o.using.length ? o.using : o.entryPoints)],
    ['TLS', routerTLS(o)],
    ['Used by', list(o.usedBy)],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  node.replaceChildren(
    back,
    el('h2', { class: 'detail-title' }, el('span', { class: 'muted' }, kindLabel), ' ', el('span', { id: 'detail-name' }, o.name), ' ', status(o)),
    o.error && o.error.length
      ? el('div', { class: 'banner detail-errors', role: 'alert' }, el('ul', { class: 'errors' }, o.error.map((e) => el('li', {}, e))))
      : '',
    el('h3', {}, 'Chain'),
    chainOf(kind, o),
    el('h3', {}, 'Details'),
    el('dl', { class: 'facts' }, facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    el('h3', {}, 'Raw'),
    el('pre', { class: 'raw' }, JSON.stringify(o, null, 2)));
}

// route shows a detail page for "#/<proto>/<kind>/<name>", else the lists
// with the hash as the filter.
function route() {
  const h = location.hash.slice(1);
  const detail = document.getElementById('detail');
  const lists = document.getElementById('lists');
  const m = /^\/((?:http|tcp|udp)\/(?:routers|services|middlewares))\/(.+)$/.exec(h);
  if (m) {
    let name = m[2];
    try {
      name = decodeURIComponent(name);
    } catch (_) {
      // Keep the raw name.
    }
    renderDetail(m[1], name);
    detail.hidden = false;
    lists.hidden = true;
    return;
  }
  detail.hidden = true;
  lists.hidden = false;
}

let busy = false;

async function refresh() {
  if (busy) return;
  busy = true;
  const banner = document.getElementById('error');
  try {
    const [overview, version, raw, ...lists] = await Promise.all([
      getJSON('overview').then((r) => r.body),
      getJSON('version').then((r) => r.body),
      // Certificates are only in rawdata; the page works without them.
      getJSON('rawdata').then((r) => r.body).catch(() => null),
      ...TABLES.map((t) => getAll(t.path)),
    ]);
    renderOverview(overview);
    document.getElementById('version').textContent =
      `${version.Version}${version.Codename ? ` (${version.Codename})` : ''} · started ${new Date(version.startDate).toLocaleString()}`;
    TABLES.forEach((t, i) => {
      render(t, lists[i]);
      state.byKind[t.path] = lists[i];
    });
    state.raw = raw;
    renderTLS(raw, lists);
    applyFilter();
    route();
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
  if (!location.hash.startsWith('#/')) {
    try {
      search.value = decodeURIComponent(location.hash.slice(1));
    } catch (_) {
      // A malformed hash is just not a filter.
    }
  }
  search.addEventListener('input', () => {
    history.replaceState(null, '', search.value ? `#${encodeURIComponent(search.value)}` : location.pathname);
    route();
    applyFilter();
  });
  document.getElementById('show').addEventListener('change', applyFilter);
  document.getElementById('refresh').addEventListener('click', refresh);
  if (typeof window !== 'undefined') window.addEventListener('hashchange', route);
  setInterval(() => {
    if (document.getElementById('auto').checked && !document.hidden) refresh();
  }, REFRESH_MS);
  refresh();
}

document.addEventListener('DOMContentLoaded', start);
