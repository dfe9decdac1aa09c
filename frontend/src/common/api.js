// The one module every page uses to talk to the service, show its answers and format figures:
// JSON requests with the CSRF token, the service's Chinese error messages, numbers and 亩 the way
// the rule messages write them, and the few DOM helpers the pages share. Every permission is
// checked by the server; pages only show what the API returns.
import { C } from './strings.js';

/** A refusal or failure, with the service's Chinese ``detail`` as its message. */
export class ApiError extends Error {
  constructor(message, status, body = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
    this.errors = (body && Array.isArray(body.errors)) ? body.errors : [];
  }
}

/** The CSRF token (double-submit cookie set at login), for requests made without api() (XHR uploads with progress). */
export function csrfToken() {
  const m = document.cookie.match(/(?:^|; )cloudmap_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

/** Where the user is now, as a ``next`` for the login page (path, query and hash of this site). */
export function here() {
  return location.pathname + location.search + location.hash;
}

export function loginUrl(next = here()) {
  return `/login?next=${encodeURIComponent(next)}`;
}

/**
 * A request to the service. ``body`` is sent as JSON, ``form`` (FormData) as multipart; writes carry
 * the CSRF token, ``etag`` becomes If-Match. Resolves to ``{data, etag, status}``; a refusal throws an
 * ApiError. A 401 sends the user to the login page and back here afterwards, unless ``quiet401``.
 */
export async function api(path, { method = 'GET', body, form, etag, signal, accept, quiet401 = false } = {}) {
  const headers = { Accept: accept || 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken();
  if (etag) headers['If-Match'] = etag;
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, credentials: 'same-origin',
      body: form !== undefined ? form : (body === undefined ? undefined : JSON.stringify(body)),
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(C.networkError, 0);
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (err) { if (err.name === 'AbortError') throw err; data = null; }
  }
  if (res.status === 401 && !quiet401 && !path.startsWith('/api/auth/')) {
    location.href = loginUrl();
    throw new ApiError(C.loginFirst, 401, data);
  }
  if (!res.ok) {
    const detail = data && typeof data.detail === 'string' ? data.detail : C.requestFailed(res.status);
    throw new ApiError(detail, res.status, data);
  }
  return { data, etag: res.headers.get('ETag'), status: res.status };
}

/** GET JSON (or GeoJSON) and resolve to the body. */
export async function fetchJson(url, { signal } = {}) {
  const { data } = await api(url, { signal, accept: 'application/geo+json, application/json', quiet401: true });
  return data;
}

/** Every page of a collection, following ``next`` links. */
export async function fetchAll(url) {
  const features = [];
  let next = url;
  while (next) {
    const page = await fetchJson(next);
    features.push(...page.features);
    const link = (page.links || []).find((l) => l.rel === 'next');
    next = link ? link.href : null;
  }
  return { type: 'FeatureCollection', features };
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- figures ---------------------------------------------------------------------------------

/** A number with thousands separators and a fixed number of decimals; — when there is none. */
export function num(value, digits = 2) {
  if (value === null || value === undefined || value === '' || Number.isNaN(Number(value))) return C.dash;
  return Number(value).toLocaleString('zh-CN', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Areas in 亩 always with two decimals and no separators, as the rule messages write them. */
export function mu(value) {
  return value === null || value === undefined ? '' : Number(value).toFixed(2);
}

/** A ratio (0.25) as a percentage (25.00%). */
export function pct(value) {
  return value === null || value === undefined ? C.dash : `${num(value * 100)}%`;
}

// ---- DOM -------------------------------------------------------------------------------------

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

/** An element: ``h('a', {href, onclick}, 'text', child)``; false/null attributes are left out. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'onclick') node.addEventListener('click', v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

/** An element from an HTML string with one root (callers escape what they interpolate). */
export function fromHtml(html) {
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}

/** A refusal in ``box``: the message and, when the service names features or rows, each of them. */
export function showError(box, err) {
  box.textContent = '';
  const p = h('p', { class: 'error' }, err.message);
  box.append(p);
  if (err.errors && err.errors.length) {
    const ul = h('ul', { class: 'error-list' });
    for (const e of err.errors) ul.append(h('li', {}, (e.feature ? `[${e.feature}] ` : '') + e.message));
    box.append(ul);
  }
}

/** Show a server refusal (403, 409, 422 …) beside the fields it names, and in ``box``. */
/** Today in Tongxiang (Asia/Shanghai), as YYYY-MM-DD — the server's day (app/core/clock.py), whatever the
 * browser's own time zone; ``offsetDays`` moves it. */
export function today(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

let unitsPromise = null;

/** The units (their properties: code, name …) in the order of their Chinese names; fetched once a page. */
export function unitsByName() {
  if (!unitsPromise) {
    unitsPromise = api('/api/units?limit=100').then(({ data }) => data.features.map((f) => f.properties)
      .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN')));
    unitsPromise.catch(() => { unitsPromise = null; });
  }
  return unitsPromise;
}

/** A town filter: ``<select name=unit>`` with ``all`` first, then each unit by name, set to ``value``. */
export function unitSelect(units, { value = '', label, all }) {
  const select = h('select', { name: 'unit', 'aria-label': label });
  select.append(h('option', { value: '' }, all));
  for (const u of units) select.append(h('option', { value: u.code }, u.name));
  select.value = value;
  return select;
}

/** Remove the marks showFieldErrors left (after a correction was accepted). */
export function clearFieldErrors(root) {
  for (const old of root.querySelectorAll('.field-error')) old.remove();
  for (const bad of root.querySelectorAll('[aria-invalid]')) bad.removeAttribute('aria-invalid');
}

export function showFieldErrors(root, box, err, locate = () => null, { list = true } = {}) {
  clearFieldErrors(root);
  showError(box, list ? err : { message: err.message, errors: [] });
  for (const e of err.errors || []) {
    const target = locate(e) || (e.field && root.querySelector(`[data-field="${CSS.escape(e.field)}"]`));
    if (!target) continue;
    const input = target.matches('input, select, textarea') ? target : target.querySelector('input, select, textarea');
    if (input) input.setAttribute('aria-invalid', 'true');
    target.append(h('span', { class: 'field-error', role: 'alert' }, e.message));
  }
}

/**
 * Ask before an action that cannot be undone: a modal dialog with the question, optional lines
 * (what will happen to which plan) and an optional text field that must be filled. Resolves to
 * false (cancelled), true, or the text entered.
 */
export function confirmAction(question, { lines = [], input = null, ok = C.ok } = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-q' });
    const form = h('form', { method: 'dialog' });
    form.append(h('p', { id: 'confirm-q' }, question));
    if (lines.length) {
      const ul = h('ul');
      for (const line of lines) ul.append(h('li', {}, line));
      form.append(ul);
    }
    let field = null;
    const problem = h('p', { class: 'error', role: 'alert' });
    if (input) {
      field = h('textarea', { name: 'text', rows: '3', 'aria-label': input });
      form.append(h('label', {}, input, field), problem);
    }
    const yes = h('button', { type: 'submit', value: 'ok', class: 'primary' }, ok);
    const no = h('button', { type: 'button', value: 'cancel' }, C.cancel);
    form.append(h('p', { class: 'actions' }, yes, ' ', no));
    dialog.append(form);
    document.body.append(dialog);
    const finish = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    no.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(false); });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (field && !field.value.trim()) {
        problem.textContent = C.fillIn(input);
        field.focus();
        return;
      }
      finish(field ? field.value.trim() : true);
    });
    dialog.showModal();
    (field || yes).focus();
  });
}
