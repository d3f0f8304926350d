// Smoke test of the dashboard script under Node with a minimal DOM shim:
//   node dashboard_smoke.js <app.js> <dir of API responses> [hash]
// Responses are files named after the API path ("http_routers.json").
// Prints {version, error, tables: {id: [[rowClass, cell, ...], ...]}} for
// the visible rows.
'use strict';
const fs = require('fs');
const vm = require('vm');
const [appJS, dir, hash] = process.argv.slice(2);

class Node {}
class Text extends Node {
  constructor(t) { super(); this.data = t; }
  get textContent() { return this.data; }
}
class Element extends Node {
  constructor(tag) {
    super();
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.attrs = {};
    this.hidden = false;
    this.value = '';
    this.checked = true;
    this.parent = null;
  }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  append(...cs) { for (const c of cs) { c.parent = this; this.children.push(c); } }
  replaceChildren(...cs) { this.children = []; this.append(...cs); }
  get textContent() { return this.children.map((c) => c.textContent).join(''); }
  set textContent(t) { this.children = [new Text(t)]; }
  get classList() {
    const cl = (this.attrs.class || '').split(/\s+/);
    return { contains: (c) => cl.includes(c) };
  }
  get tBodies() { return this.children.filter((c) => c.tagName === 'TBODY'); }
  get rows() { return this.children.filter((c) => c.tagName === 'TR'); }
  get nextElementSibling() {
    const s = this.parent.children;
    return s[s.indexOf(this) + 1] || null;
  }
  addEventListener() {}
}

const ids = {};
let start;
const document = {
  hidden: false,
  createElement: (t) => new Element(t),
  createTextNode: (t) => new Text(t),
  getElementById: (id) => (ids[id] ||= new Element('div')),
  addEventListener: (ev, fn) => { start = fn; },
};
const requests = [];
async function fetch(url) {
  const u = new URL(url, 'http://localhost/base/dashboard/');
  requests.push(u.pathname + u.search);
  const name = u.pathname.replace(/^\/base\/api\//, '').replace(/\//g, '_');
  const file = `${dir}/${name}.json`;
  if (!fs.existsSync(file)) return { ok: false, status: 404 };
  return {
    ok: true,
    status: 200,
    json: async () => JSON.parse(fs.readFileSync(file, 'utf8')),
    headers: { get: (h) => (h === 'X-Next-Page' ? '1' : null) },
  };
}

const ctx = {
  document, fetch, Node, URL, console, Date, Promise,
  location: { hash: hash || '', pathname: '/base/dashboard/' },
  history: { replaceState() {} },
  setInterval: () => 0,
};
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(appJS, 'utf8'), ctx, { filename: 'app.js' });
start();

// Print once the first refresh has rendered (or failed).
const deadline = Date.now() + 10000;
(function wait() {
  const done = (ids.updated && ids.updated.textContent) || (ids.error && ids.error.textContent);
  if (!done && Date.now() < deadline) {
    setTimeout(wait, 5);
    return;
  }
  const tables = {};
  for (const [id, el] of Object.entries(ids)) {
    if (!el.tBodies.length) continue;
    tables[id] = [];
    for (const body of el.tBodies) {
      if (body.hidden) continue;
      for (const row of body.rows) {
        if (!row.hidden) tables[id].push([row.attrs.class || '', ...row.children.map((c) => c.textContent)]);
      }
    }
  }
  console.log(JSON.stringify({
    version: ids.version ? ids.version.textContent : '',
    error: !ids.error || ids.error.hidden ? '' : ids.error.textContent,
    requests,
    tables,
  }));
})();
