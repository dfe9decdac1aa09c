// 规范管理 · 厂中厂 (docs/workflow.md "厂中厂"): the tenants renting space inside factories, with the unit filter,
// "pending rectification only" and the Excel list; the form to register a tenant; and, per tenant, a detail row
// with its details (editable), its yearly tax and output (which count in the 亩均评价) and its inspections with
// their rectification. Every permission is the server's (can_edit, can_enter_figures); the page shows what it
// returns. #tenants/parcel/<code> shows one parcel's tenants. State for tests: section[data-state].
import { api, clearFieldErrors, h, num, query, showError, showFieldErrors, today, unitSelect, unitsByName } from '../common/api.js';
import { T } from './tenants.strings.js';

const WRITERS = ['unit_officer', 'admin'];
const OPEN = ['pending', 'in_progress'];
let root = null;
let me = null;
let units = null;
const filters = { unit: '', parcel: '', block: '' };
let pendingOnly = false;
const opened = new Set(); // the tenants whose detail row is open (kept over a redraw)

function td(label, ...children) {
  return h('td', { 'data-label': label }, ...children);
}

function say(kind, text) {
  const box = root.querySelector('.tn-message');
  box.textContent = '';
  if (text) box.append(h('p', { class: kind, role: 'status' }, text));
}

const isOpen = (i) => OPEN.includes(i.rectification_status);
/** A refusal's field errors go to the form's own field ("body.lessee" → [data-field=lessee]). */
const locate = (form) => (e) => form.querySelector(`[data-field="${CSS.escape((e.field || '').replace(/^body\./, ''))}"]`);
const isOverdue = (i) => isOpen(i) && i.rectify_by && i.rectify_by < today();

export async function mount(section, { user, path }) {
  root = section;
  me = user;
  section.classList.add('tenants-tab');
  await show(path);
}

export async function show(path = '') {
  const [what, code] = (path || '').split('/');
  filters.parcel = what === 'parcel' && code ? code : ''; // #tenants/parcel/330483-CF-0002
  filters.block = what === 'block' && code ? code : ''; // #tenants/block/TX2022-CF-01 (from the block panel)
  root.dataset.state = 'loading';
  root.textContent = '';
  const box = h('div', { class: 'tn-message message', 'aria-live': 'polite' });
  root.append(h('h3', {}, T.heading), h('p', { class: 'hint' }, T.intro), box);
  try {
    if (units === null && me.role !== 'unit_officer') units = await unitsByName();
    root.append(toolbar());
    if (WRITERS.includes(me.role)) root.append(entryForm());
    root.append(h('div', { class: 'tn-list' }));
    await drawList();
  } catch (err) {
    showError(box, err);
  }
  root.dataset.state = 'ready';
}

// --- filters and the download ---------------------------------------------------------------

function toolbar() {
  const bar = h('div', { class: 'actions tn-tools' });
  if (filters.parcel || filters.block) {
    const only = filters.parcel ? T.parcelOnly(filters.parcel) : T.blockOnly(filters.block);
    bar.append(h('span', {}, only, ' ', h('a', { href: '#tenants' }, T.allParcels)));
  }
  let unit = null;
  if (units) {
    unit = unitSelect(units, { value: filters.unit, label: T.unitFilter, all: T.allUnits });
    bar.append(h('label', { class: 'inline' }, `${T.unitFilter} `, unit));
  }
  const pending = h('input', { type: 'checkbox', name: 'pending', checked: pendingOnly });
  bar.append(h('label', { class: 'check' }, pending, T.pendingOnly));
  const exportLink = h('a', { class: 'button', href: '#', download: '', 'data-testid': 'tenants-export' }, T.export);
  const sync = () => { exportLink.href = `/api/tenants/export.xlsx${query(filters)}`; };
  sync();
  if (unit) {
    unit.addEventListener('change', async () => { filters.unit = unit.value; sync(); await drawList(); });
  }
  pending.addEventListener('change', async () => { pendingOnly = pending.checked; await drawList(); });
  bar.append(exportLink);
  return bar;
}

// --- the list -------------------------------------------------------------------------------

async function drawList() {
  const host = root.querySelector('.tn-list');
  const { data } = await api(`/api/tenants${query(filters)}`);
  host.textContent = '';
  const withOpen = data.data.filter((t) => t.inspections.some(isOpen));
  host.append(h('p', { class: 'hint', 'data-testid': 'tenants-count' }, T.count(data.count, withOpen.length)));
  const shown = pendingOnly ? withOpen : data.data;
  if (!shown.length) { host.append(h('p', { class: 'hint' }, data.count ? T.noneFiltered : T.none)); return; }
  const table = h('table', { class: 'data stack', id: 'tenant-list' });
  table.append(h('thead', {}, h('tr', {}, ...T.cols.map((c) => h('th', {}, c)))));
  const tbody = h('tbody');
  for (const t of shown) {
    tbody.append(row(t));
    if (opened.has(t.id)) tbody.append(detail(t));
  }
  table.append(tbody);
  host.append(h('div', { class: 'table-wrap' }, table));
}

function row(t) {
  const c = T.cols;
  const who = h('span', {}, t.lessee, t.credit_code ? h('span', { class: 'tn-code' }, t.credit_code) : '');
  const where = h('span', {}, t.parcel, t.block_name ? h('span', { class: 'hint tn-block' }, t.block_name) : '');
  const term = h('span', {}, T.term(t.lease_start, t.lease_end));
  if (t.lease_end && t.lease_end < today()) term.append(h('span', { class: 'tag tn-ended' }, T.ended));
  const latest = t.figures[0];
  const open = t.inspections.filter(isOpen);
  const checks = h('div', { class: 'tn-checks' },
    h('p', {}, t.inspections.length ? T.checksLine(t.inspections.length, open.length) : T.noChecks));
  for (const i of open) {
    checks.append(h('p', { class: `tn-open${isOverdue(i) ? ' tn-overdue' : ''}` }, i.findings,
      i.rectify_by ? h('span', { class: 'hint' }, `（${T.rectifyBy(i.rectify_by)}）`) : '',
      isOverdue(i) ? h('span', { class: 'tag tn-late' }, T.overdue) : ''));
  }
  const toggle = h('button', { type: 'button', class: 'small', 'data-action': 'details',
    'aria-expanded': String(opened.has(t.id)) }, opened.has(t.id) ? T.closeDetails : (t.can_edit || t.can_enter_figures ? T.details : T.view));
  toggle.addEventListener('click', () => {
    if (opened.has(t.id)) opened.delete(t.id); else opened.add(t.id);
    drawList().catch((err) => showError(root.querySelector('.tn-message'), err));
  });
  const tr = h('tr', { 'data-tenant': String(t.id), class: open.length ? 'tn-has-open' : '' },
    td(c[0], who), td(c[1], where), td(c[2], t.unit_name), td(c[3], T.area(num(t.leased_area_m2))),
    td(c[4], t.business || '—'), td(c[5], term),
    td(c[6], latest ? T.year(latest, num(latest.tax_10k_yuan), num(latest.output_10k_yuan)) : T.noFigures),
    td(c[7], checks), td(c[8], toggle));
  tr.children[7].classList.add('wide');
  return tr;
}

// --- one tenant's detail row ----------------------------------------------------------------

function field(prefix, name, label, input) {
  input.name = name;
  input.id = `${prefix}-${name}`;
  return h('div', { class: 'field', 'data-field': name }, h('label', { for: input.id }, label), input);
}

const text = (max, value = '') => h('input', { type: 'text', maxlength: String(max), value: value || '' });
const number = (value = '') => h('input', { type: 'number', min: '0', step: '0.01', inputmode: 'decimal',
  value: value === null || value === undefined ? '' : String(value) });
const date = (value = '') => h('input', { type: 'date', value: value || '' });

/** The named fields of a form that are filled in (trimmed); an empty one is left out. */
function filled(form, names) {
  const body = {};
  for (const n of names) {
    const v = form[n].value.trim();
    if (v !== '') body[n] = v;
  }
  return body;
}

/**
 * A form of this tab: ``attrs`` on the <form>, an optional heading, the ``parts`` (fields), its message box
 * and its submit button. On submit, ``send(form)`` runs with the button busy; a refusal is shown on the
 * form's own fields. Resolves to the form.
 */
function tabForm(attrs, { heading = null, headingId = null, saveText, saveClass = 'primary', parts, send }) {
  const form = h('form', { novalidate: true, ...attrs, ...(headingId ? { 'aria-labelledby': headingId } : {}) });
  const box = h('div', { class: 'message', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: saveClass }, saveText);
  if (heading) form.append(h('h4', { id: headingId }, heading));
  form.append(...parts, box, h('p', { class: 'actions' }, save));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const idle = save.textContent;
    save.disabled = true;
    save.textContent = T.saving;
    try {
      await send(form, box);
    } catch (err) {
      showFieldErrors(form, box, err, locate(form));
    } finally {
      save.disabled = false;
      save.textContent = idle;
    }
  });
  return form;
}

function detail(t) {
  const cell = h('td', { colspan: String(T.cols.length), class: 'tn-detail-cell' });
  const tr = h('tr', { class: 'tn-detail', 'data-detail-of': String(t.id) }, cell);
  if (t.lease_id) cell.append(h('p', { class: 'hint' }, T.fromLease(t.lease_id)));
  if (!t.can_edit) cell.append(h('p', { class: 'hint' }, T.readOnly));
  if (t.can_edit) cell.append(editForm(t));
  cell.append(figuresPart(t), checksPart(t));
  return tr;
}

function editForm(t) {
  const p = `tn-edit-${t.id}`;
  const f = T.fields;
  return tabForm({ class: 'card tn-edit' }, {
    heading: T.editHeading, headingId: `${p}-h`, saveText: T.editSave,
    parts: [h('div', { class: 'tn-grid' },
      field(p, 'lessee', f.lessee, text(128, t.lessee)), field(p, 'credit_code', f.credit_code, text(18, t.credit_code)),
      field(p, 'leased_area_m2', f.leased_area_m2, number(t.leased_area_m2)),
      field(p, 'business', f.business, text(128, t.business)),
      field(p, 'lease_start', f.lease_start, date(t.lease_start)), field(p, 'lease_end', f.lease_end, date(t.lease_end)))],
    send: async (form) => {
      // An emptied field is sent as null: the optional ones are cleared, the required ones refused by name.
      const body = {};
      for (const n of ['lessee', 'credit_code', 'leased_area_m2', 'business', 'lease_start', 'lease_end']) {
        body[n] = form[n].value.trim() || null;
      }
      await api(`/api/tenants/${t.id}`, { method: 'PATCH', body, etag: `"${t.version}"` });
      await drawList();
      say('ok', T.edited);
    },
  });
}

function figuresPart(t) {
  const p = `tn-fig-${t.id}`;
  const part = h('section', { class: 'tn-part', 'aria-labelledby': `${p}-h` }, h('h4', { id: `${p}-h` }, T.figuresHeading));
  if (t.figures.length) {
    const table = h('table', { class: 'data tn-small' },
      h('thead', {}, h('tr', {}, ...T.figuresCols.map((c) => h('th', {}, c)))),
      h('tbody', {}, ...t.figures.map((f) => h('tr', { 'data-year': String(f.year) },
        td(T.figuresCols[0], String(f.year)), td(T.figuresCols[1], num(f.tax_10k_yuan)),
        td(T.figuresCols[2], num(f.output_10k_yuan))))));
    part.append(table);
  } else {
    part.append(h('p', { class: 'hint' }, T.figuresNone));
  }
  if (!t.can_enter_figures) return part;
  const last = new Date().getFullYear() - 1;
  const year = h('input', { type: 'number', min: '2000', max: '2100', step: '1', value: String(last) });
  const ff = T.figuresFields;
  part.append(tabForm({ class: 'tn-figures' }, {
    saveText: T.figuresSave, saveClass: '',
    parts: [h('div', { class: 'tn-grid' }, field(p, 'year', ff.year, year),
      field(p, 'tax_10k_yuan', ff.tax_10k_yuan, number()), field(p, 'output_10k_yuan', ff.output_10k_yuan, number()))],
    send: async (form) => {
      const y = form.year.value.trim();
      if (!/^\d{4}$/.test(y)) throw Object.assign(new Error(T.figuresYearBad), { errors: [{ field: 'year', message: T.figuresYearBad }] });
      await api(`/api/tenants/${t.id}/figures/${y}`, { method: 'PUT',
        body: { tax_10k_yuan: form.tax_10k_yuan.value.trim() || null, output_10k_yuan: form.output_10k_yuan.value.trim() || null } });
      await drawList();
      say('ok', T.figuresSaved(y));
    },
  }));
  return part;
}

function statusSelect(value) {
  const select = h('select');
  for (const [k, v] of Object.entries(T.statuses)) select.append(h('option', { value: k }, v));
  select.value = value;
  return select;
}

function checksPart(t) {
  const p = `tn-chk-${t.id}`;
  const part = h('section', { class: 'tn-part', 'aria-labelledby': `${p}-h` }, h('h4', { id: `${p}-h` }, T.checksHeading));
  if (!t.inspections.length) part.append(h('p', { class: 'hint' }, T.noChecks));
  const c = T.checksCols;
  if (t.inspections.length) {
    const tbody = h('tbody');
    for (const i of t.inspections) tbody.append(inspectionRow(t, i));
    part.append(h('table', { class: 'data tn-small stack', 'data-testid': 'inspections' },
      h('thead', {}, h('tr', {}, ...c.map((x) => h('th', {}, x)))), tbody));
  }
  if (t.can_edit) part.append(newInspection(t));
  return part;
}

function inspectionRow(t, i) {
  const c = T.checksCols;
  const state = h('div', { class: 'tn-state' }, h('span', { class: `tag tn-${i.rectification_status}` }, i.rectification_label));
  if (i.rectify_by && i.rectification_status !== 'none_needed') state.append(h('span', { class: 'hint' }, T.rectifyBy(i.rectify_by)));
  if (i.rectified_on) state.append(h('span', { class: 'hint' }, T.rectifiedOn(i.rectified_on)));
  if (isOverdue(i)) state.append(h('span', { class: 'tag tn-late' }, T.overdue));
  if (t.can_edit && isOpen(i)) {
    const p = `tn-ins-${i.id}`;
    state.append(tabForm({ class: 'tn-rectify' }, {
      saveText: T.statusSave, saveClass: 'small',
      parts: [field(p, 'rectification_status', T.statusField, statusSelect(i.rectification_status)),
        field(p, 'rectified_on', T.rectifiedField, date())],
      send: async (form) => {
        const body = { rectification_status: form.rectification_status.value, ...filled(form, ['rectified_on']) };
        await api(`/api/inspections/${i.id}`, { method: 'PATCH', body, etag: `"${i.version}"` });
        await drawList();
        say('ok', T.statusSaved);
      },
    }));
  }
  return h('tr', { 'data-inspection': String(i.id) }, td(c[0], i.inspected_on), td(c[1], i.inspector),
    td(c[2], i.findings), td(c[3], state));
}

function newInspection(t) {
  const p = `tn-new-${t.id}`;
  const f = T.checkFields;
  return tabForm({ class: 'card tn-new-check' }, {
    heading: T.newCheck, headingId: `${p}-h`, saveText: T.checkSave,
    parts: [h('div', { class: 'tn-grid' },
      field(p, 'inspected_on', f.inspected_on, date(today())), field(p, 'inspector', f.inspector, text(64)),
      field(p, 'rectification_status', f.rectification_status, statusSelect('pending')),
      field(p, 'rectify_by', f.rectify_by, date()),
      field(p, 'findings', f.findings, h('textarea', { rows: '2', maxlength: '4000' })))],
    send: async (form) => {
      const body = filled(form, ['inspected_on', 'inspector', 'findings', 'rectification_status', 'rectify_by']);
      await api(`/api/tenants/${t.id}/inspections`, { method: 'POST', body });
      await drawList();
      say('ok', T.checkSaved);
    },
  });
}

// --- registering a tenant -------------------------------------------------------------------

function entryForm() {
  const wrap = h('section', { class: 'card tn-entry', 'aria-labelledby': 'tn-form-h' });
  const toggle = h('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', 'data-testid': 'tenant-new' }, T.newButton);
  const f = T.fields;
  const form = tabForm({ id: 'tenant-form', hidden: true }, {
    heading: T.formHeading, headingId: 'tn-form-h', saveText: T.save,
    parts: [h('div', { class: 'tn-grid' },
      field('tn', 'parcel', f.parcel, text(64, filters.parcel)), field('tn', 'lessee', f.lessee, text(128)),
      field('tn', 'credit_code', f.credit_code, text(18)), field('tn', 'leased_area_m2', f.leased_area_m2, number()),
      field('tn', 'business', f.business, text(128)), field('tn', 'lease_start', f.lease_start, date()),
      field('tn', 'lease_end', f.lease_end, date()))],
    send: async (form, box) => {
      const body = filled(form, ['parcel', 'lessee', 'credit_code', 'leased_area_m2', 'business', 'lease_start', 'lease_end']);
      const { data } = await api('/api/tenants', { method: 'POST', body });
      form.reset();
      box.textContent = '';
      clearFieldErrors(form);
      opened.add(data.id);
      await drawList();
      say('ok', T.saved(data));
    },
  });
  toggle.addEventListener('click', () => {
    form.hidden = !form.hidden;
    toggle.setAttribute('aria-expanded', String(!form.hidden));
    toggle.textContent = form.hidden ? T.newButton : T.closeForm;
  });
  wrap.append(h('div', { class: 'actions' }, toggle), form);
  return wrap;
}
