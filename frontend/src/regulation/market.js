// 规范管理 · 转让与租赁 (docs/market.md): the register with its filters (type, unit, flagged only), the form to
// enter a transfer or lease, the sheet import (check → per-row problems and flags → import all or nothing), the
// Excel export and template, and each record's flags with their two actions (移交十剑联动, 登记为厂中厂). Every
// permission is the server's (can_edit, can_refer, can_register); the page shows what it returns.
// State for tests: section[data-state] (loading | ready).
import { api, clearFieldErrors, confirmAction, h, num, query, showError, showFieldErrors, unitSelect, unitsByName } from '../common/api.js';
import { M } from './market.strings.js';

const WRITERS = ['unit_officer', 'admin'];
let root = null;
let me = null;
let units = null;
const filters = { kind: '', unit: '', flagged: '', block: '' };

function td(label, ...children) {
  return h('td', { 'data-label': label }, ...children);
}

function say(kind, text) {
  const box = root.querySelector('.mk-message');
  box.textContent = '';
  if (text) box.append(h('p', { class: kind, role: 'status' }, text));
}

export async function mount(section, { user, path }) {
  root = section;
  me = user;
  section.classList.add('market-tab');
  await show(path);
}

export async function show(path = '') {
  const [what, code] = (path || '').split('/');
  filters.block = what === 'block' && code ? code : ''; // #market/block/TX2022-CF-01: that block's records
  root.dataset.state = 'loading';
  root.textContent = '';
  const box = h('div', { class: 'mk-message message', 'aria-live': 'polite' });
  root.append(h('h3', {}, M.heading), h('p', { class: 'hint' }, M.intro), box);
  try {
    if (units === null && me.role !== 'unit_officer') units = await unitsByName();
    root.append(toolbar());
    if (WRITERS.includes(me.role)) root.append(entryForm(), importer());
    root.append(h('div', { class: 'mk-list' }));
    await drawList();
  } catch (err) {
    showError(box, err);
  }
  root.dataset.state = 'ready';
}

// --- filters and downloads -----------------------------------------------------------------

function toolbar() {
  const kind = h('select', { name: 'kind', 'aria-label': M.kindFilter });
  kind.append(h('option', { value: '' }, M.allKinds));
  for (const [k, v] of Object.entries(M.kinds)) kind.append(h('option', { value: k }, v));
  kind.value = filters.kind;
  const bar = h('div', { class: 'actions mk-tools' });
  if (filters.block) bar.append(h('span', { class: 'mk-block' }, M.blockOnly(filters.block), ' ', h('a', { href: '#market' }, M.allBlocks)));
  bar.append(h('label', { class: 'inline' }, `${M.kindFilter} `, kind));
  let unit = null;
  if (units) {
    unit = unitSelect(units, { value: filters.unit, label: M.unitFilter, all: M.allUnits });
    bar.append(h('label', { class: 'inline' }, `${M.unitFilter} `, unit));
  }
  const flagged = h('input', { type: 'checkbox', name: 'flagged', checked: filters.flagged === 'true' });
  bar.append(h('label', { class: 'check' }, flagged, M.flaggedOnly));
  const exportLink = h('a', { class: 'button', href: '#', download: '', 'data-testid': 'market-export' }, M.export);
  const sync = () => { exportLink.href = `/api/market/export.xlsx${query(filters)}`; };
  sync();
  const changed = async () => {
    filters.kind = kind.value;
    filters.unit = unit ? unit.value : '';
    filters.flagged = flagged.checked ? 'true' : '';
    sync();
    await drawList();
  };
  for (const el of [kind, unit, flagged]) if (el) el.addEventListener('change', changed);
  bar.append(exportLink);
  if (WRITERS.includes(me.role)) {
    bar.append(h('a', { class: 'button', href: '/api/market/template.xlsx', download: '' }, M.template));
  }
  return bar;
}

// --- the list ------------------------------------------------------------------------------

async function drawList() {
  const host = root.querySelector('.mk-list');
  const { data } = await api(`/api/market/records${query(filters)}`);
  host.textContent = '';
  host.append(h('p', { class: 'hint', 'data-testid': 'market-count' }, M.count(data)));
  if (!data.data.length) { host.append(h('p', { class: 'hint' }, M.none)); return; }
  const table = h('table', { class: 'data stack', id: 'market-records' });
  table.append(h('thead', {}, h('tr', {}, ...M.cols.map((c) => h('th', {}, c)))));
  const tbody = h('tbody');
  for (const r of data.data) tbody.append(row(r));
  table.append(tbody);
  host.append(h('div', { class: 'table-wrap' }, table));
}

function party(p) {
  return h('span', {}, p.name, p.registered ? '' : h('span', { class: 'hint' }, M.notRegistered),
    p.credit_code ? h('span', { class: 'mk-code' }, p.credit_code) : '');
}

function row(r) {
  const c = M.cols;
  const where = h('ul', { class: 'mk-parcels' }, ...r.parcels.map((p) => h('li', {}, `${p.code}（${p.block_name}）`)));
  const money = r.kind === 'lease'
    ? (r.rent_yuan_per_m2_year !== null ? M.rent(num(r.rent_yuan_per_m2_year)) : '—')
    : (r.price_10k_yuan !== null ? M.price(num(r.price_10k_yuan)) : '—');
  const kind = h('span', {}, r.kind_label);
  if (r.kind === 'lease' && (r.lease_start || r.lease_end)) kind.append(h('span', { class: 'hint mk-term' }, M.leaseTerm(r.lease_start, r.lease_end)));
  const tr = h('tr', { 'data-record': String(r.id), class: r.flags.some((f) => f.status === 'open') ? 'mk-flagged' : '' },
    td(c[0], `#${r.id}`), td(c[1], kind), td(c[2], r.unit_name), td(c[3], where), td(c[4], r.signed_on),
    td(`${c[5]}`, h('span', { class: 'hint' }, `${r.from_label}：`), party(r.from_party)),
    td(`${c[6]}`, h('span', { class: 'hint' }, `${r.to_label}：`), party(r.to_party)),
    td(c[7], r.area_m2 !== null ? M.area(num(r.area_m2), r.area_basis_label) : '—'), td(c[8], money),
    td(c[9], flagsCell(r)));
  tr.lastChild.classList.add('problems');
  return tr;
}

function flagsCell(r) {
  const cell = h('div', { class: 'mk-flags' });
  if (!r.flags.length) cell.append(h('span', { class: 'hint' }, M.noFlags));
  for (const f of r.flags) {
    const item = h('div', { class: `mk-flag mk-${f.status}`, 'data-flag': String(f.id), 'data-kind': f.kind },
      h('p', {}, f.text), h('p', { class: 'mk-status' }, f.status_label));
    const acts = h('div', { class: 'actions' });
    if (f.can_refer) acts.append(h('button', { type: 'button', class: 'primary small', 'data-action': 'refer', onclick: () => refer(f) }, M.refer));
    if (f.can_register) acts.append(h('button', { type: 'button', class: 'small', 'data-action': 'register', onclick: () => register(r, f) }, M.register));
    if (acts.childNodes.length) item.append(acts);
    cell.append(item);
  }
  if (r.tenants.length) cell.append(h('p', { class: 'hint' }, M.tenants(r.tenants)));
  return cell;
}

async function refer(f) {
  if (!(await confirmAction(M.referQuestion(f), { lines: M.referLines(f), ok: M.refer }))) return;
  try {
    await api(`/api/market/flags/${f.id}/refer`, { method: 'POST', body: {} });
    await drawList();
    say('ok', M.referred(f));
  } catch (err) {
    showError(root.querySelector('.mk-message'), err);
  }
}

async function register(r, f) {
  if (!(await confirmAction(M.registerQuestion(f), { lines: M.registerLines, ok: M.register }))) return;
  try {
    await api(`/api/market/records/${r.id}/tenant`, { method: 'POST', body: { parcel: f.parcel } });
    await drawList();
    say('ok', M.registered(f));
  } catch (err) {
    showError(root.querySelector('.mk-message'), err);
  }
}

// --- entering a record ---------------------------------------------------------------------

function field(name, input) {
  input.name = name;
  input.id = `mk-${name}`;
  return h('div', { class: 'field', 'data-field': name }, h('label', { for: input.id }, M.fields[name]), input);
}

function entryForm() {
  const wrap = h('section', { class: 'card mk-entry', 'aria-labelledby': 'mk-form-h' });
  const toggle = h('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', 'data-testid': 'market-new' }, M.newButton);
  const form = h('form', { id: 'market-form', novalidate: true, hidden: true });
  const kind = h('select');
  for (const [k, v] of Object.entries(M.kinds)) kind.append(h('option', { value: k }, v));
  kind.value = 'lease';
  const basis = h('select');
  basis.append(h('option', { value: '' }, '—'));
  for (const [k, v] of Object.entries(M.bases)) basis.append(h('option', { value: k }, v));
  const text = (max) => h('input', { type: 'text', maxlength: String(max) });
  const number = () => h('input', { type: 'number', min: '0', step: '0.01', inputmode: 'decimal' });
  const date = () => h('input', { type: 'date' });
  const grid = h('div', { class: 'mk-grid' },
    field('kind', kind), field('parcels', text(400)), field('signed_on', date()),
    field('from_name', text(128)), field('from_credit_code', text(18)),
    field('to_name', text(128)), field('to_credit_code', text(18)),
    field('lease_start', date()), field('lease_end', date()),
    field('area_m2', number()), field('area_basis', basis),
    field('price_10k_yuan', number()), field('rent_yuan_per_m2_year', number()),
    field('industry_code', text(12)), field('note', h('textarea', { rows: '2', maxlength: '2000' })));
  const box = h('div', { class: 'message', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'primary' }, M.save);
  form.append(h('h4', { id: 'mk-form-h' }, M.formHeading), grid, box, h('p', { class: 'actions' }, save));
  const leaseOnly = ['lease_start', 'lease_end', 'rent_yuan_per_m2_year'];
  const syncKind = () => {
    const lease = kind.value === 'lease';
    for (const n of leaseOnly) form.querySelector(`[data-field="${n}"]`).hidden = !lease;
    form.querySelector('[data-field="price_10k_yuan"]').hidden = lease;
  };
  kind.addEventListener('change', syncKind);
  syncKind();
  toggle.addEventListener('click', () => {
    form.hidden = !form.hidden;
    toggle.setAttribute('aria-expanded', String(!form.hidden));
    toggle.textContent = form.hidden ? M.newButton : M.closeForm;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const lease = kind.value === 'lease';
    const body = { kind: kind.value, parcels: form.parcels.value.split(/[、,，;；\s]+/).filter(Boolean) };
    for (const n of ['signed_on', 'from_name', 'from_credit_code', 'to_name', 'to_credit_code', 'area_m2', 'area_basis',
      'industry_code', 'note', ...(lease ? leaseOnly : ['price_10k_yuan'])]) {
      const v = form[n].value.trim();
      if (v !== '') body[n] = v;
    }
    save.disabled = true;
    save.textContent = M.saving;
    try {
      const { data } = await api('/api/market/records', { method: 'POST', body });
      form.reset();
      kind.value = 'lease';
      syncKind();
      box.textContent = '';
      clearFieldErrors(form);
      await drawList();
      say('ok', M.saved(data));
    } catch (err) {
      showFieldErrors(form, box, err, (e) => form.querySelector(`[data-field="${CSS.escape((e.field || '').replace(/^body\./, ''))}"]`));
    } finally {
      save.disabled = false;
      save.textContent = M.save;
    }
  });
  wrap.append(h('div', { class: 'actions' }, toggle), form);
  return wrap;
}

// --- the sheet import ----------------------------------------------------------------------

function importer() {
  const wrap = h('section', { class: 'card mk-import', 'aria-labelledby': 'mk-import-h' });
  const file = h('input', { type: 'file', name: 'file', class: 'file-input', id: 'market-file',
    accept: '.xlsx,.xls,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-excel,text/csv',
    'aria-label': M.file });
  const chosen = h('span', { class: 'hint', 'aria-live': 'polite' }, M.noFile);
  file.addEventListener('change', () => { chosen.textContent = file.files.length ? file.files[0].name : M.noFile; });
  const check = h('button', { type: 'button' }, M.check);
  const commit = h('button', { type: 'button', class: 'primary', disabled: true }, M.commit);
  const box = h('div', { class: 'message', 'aria-live': 'polite' });
  const report = h('div', { class: 'mk-report' });
  const send = async (dryRun, button, busyText) => {
    if (!file.files.length) { box.textContent = ''; box.append(h('p', { class: 'error' }, M.pickFile)); return; }
    const form = new FormData();
    form.append('file', file.files[0]);
    const idle = button.textContent;
    button.disabled = true;
    button.textContent = busyText;
    box.textContent = '';
    try {
      const { data } = await api(`/api/market/imports?dry_run=${dryRun}`, { method: 'POST', form });
      drawReport(report, data);
      commit.disabled = !data.can_commit;
      if (!dryRun) {
        commit.disabled = true;
        box.append(h('p', { class: 'ok' }, M.imported(data.created)));
        await drawList();
      }
    } catch (err) {
      commit.disabled = true;
      showError(box, err);
    } finally {
      button.textContent = idle;
      if (button === check) button.disabled = false;
    }
  };
  check.addEventListener('click', () => send(true, check, M.checking));
  commit.addEventListener('click', () => send(false, commit, M.committing));
  file.addEventListener('change', () => { commit.disabled = true; report.textContent = ''; });
  wrap.append(h('h4', { id: 'mk-import-h' }, M.importHeading), h('p', { class: 'hint' }, M.importIntro),
    h('div', { class: 'actions' }, h('label', { class: 'button file-button' }, M.choose, file), chosen, check, commit),
    box, report);
  return wrap;
}

function drawReport(host, data) {
  host.textContent = '';
  host.append(h('p', { class: data.refused ? 'error' : 'hint' }, M.importCounts(data)));
  const c = M.importCols;
  const table = h('table', { class: 'data stack' });
  table.append(h('thead', {}, h('tr', {}, ...c.map((x) => h('th', {}, x)))));
  const tbody = h('tbody');
  const rows = [...data.rows].sort((a, b) => (b.problems.length > 0) - (a.problems.length > 0) || a.row - b.row);
  for (const r of rows) {
    const problems = r.problems.length ? h('ul', { class: 'error-list' }, ...r.problems.map((p) => h('li', {}, p))) : M.noProblems;
    const flags = r.flags.length ? h('ul', {}, ...r.flags.map((p) => h('li', {}, p))) : M.noProblems;
    tbody.append(h('tr', { class: r.problems.length ? 'problem' : '' },
      td(c[0], String(r.row)), td(c[1], r.kind || ''), td(c[2], r.parcels || ''), td(c[3], r.from_name || ''),
      td(c[4], r.to_name || ''), td(c[5], r.signed_on || ''), td(c[6], problems), td(c[7], flags)));
    tbody.lastChild.children[6].classList.add('problems');
  }
  table.append(tbody);
  host.append(h('div', { class: 'table-wrap' }, table));
}
