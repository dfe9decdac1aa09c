// 一库: the enterprise register for every signed-in role — a searchable, filterable, paged list (a card
// list on phones), one enterprise's page (#<统一社会信用代码>: register fields, parcels with links to the
// map, classification and its history, the departments' figures of a year with their sources and the
// superseded values under a fold, and that year's 亩均评价), and for administrators and GIS staff the
// two import screens (#/import/register, #/import/figures, in imports.js). Every rule is the server's;
// the page shows its answers. State on data-* attributes for people and tests: <body
// data-enterprises-state> (loading | ready | error) and data-view (list | detail | register | figures).

import { api, h, mu, query, showError } from '../common/api.js';
import { mountShell } from '../common/shell.js';
import { mountImport } from './imports.js';
import { CLASSIFICATIONS, CLEARANCE, E, GRADES, RUN_STATUS, SCALES } from './strings.js';

const PAGE_SIZE = 50;
const IMPORTERS = ['gis_staff', 'admin'];
const CODE = /^[0-9A-Z]{18}$/;
const body = document.body;
const statusEl = document.getElementById('ent-status');
const pageBox = document.getElementById('page-message');
const views = {
  list: document.getElementById('list-view'),
  detail: document.getElementById('detail-view'),
  register: document.getElementById('register-view'),
  figures: document.getElementById('figures-view'),
};

const state = {
  user: null,
  units: [], // [{code, name}]
  filters: { q: '', unit: '', scale: '', industry: '', grade: '', pending: false },
  offset: 0,
  listLoaded: false,
  imports: {}, // kind → mounted screen
  detailSeq: 0,
};

const thisYear = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));
const mayImport = () => Boolean(state.user && IMPORTERS.includes(state.user.role));

// ---- small helpers --------------------------------------------------------------------------

function setStatus(text) { statusEl.textContent = text; }

/** An ISO time as people read it in Tongxiang: 2024-01-05 14:30. */
export function when(iso) {
  if (!iso) return E.dash;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** A figure as written: separators, up to four decimals, no trailing zeros. */
function figure(value) {
  if (value === null || value === undefined || value === '' || Number.isNaN(Number(value))) return E.dash;
  return Number(value).toLocaleString('zh-CN', { maximumFractionDigits: 4 });
}

const text = (v) => (v === null || v === undefined || v === '' ? E.dash : String(v));

/** Each body cell names its column (data-label), for the phone layout that stacks a row's cells. */
export function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((cell, i) => {
      if (heads[i] && !cell.hasAttribute('colspan')) cell.dataset.label = heads[i];
    });
  }
}

/** Cells that say nothing (—) fold away in the phone's card layout. */
function markEmpty(table) {
  for (const td of table.querySelectorAll('tbody td')) if (td.textContent.trim() === E.dash) td.classList.add('empty');
}

export function thead(...names) {
  return h('thead', {}, h('tr', {}, ...names.map((n) => (Array.isArray(n) ? h('th', { class: n[1] }, n[0]) : h('th', {}, n)))));
}

function field(label, control, { hint = null, name = null, cls = '' } = {}) {
  const wrap = h('div', { class: `field ${cls}`.trim(), 'data-field': name });
  control.id = control.id || `f-${name}`;
  wrap.append(h('label', { class: 'label', for: control.id }, label), control);
  if (hint) wrap.append(h('span', { class: 'hint' }, hint));
  return wrap;
}

function select(name, options, value = '') {
  const s = h('select', { name, id: `f-${name}` });
  for (const [v, label] of options) s.append(h('option', { value: v }, label));
  s.value = value;
  return s;
}

function gradeBadge(grade, year = null) {
  if (!grade) return E.dash;
  return h('span', { class: `grade grade-${grade}` }, year ? E.list.gradeYear(grade, year) : grade);
}

function classificationPill(code, label) {
  if (!code && !label) return E.dash;
  return h('span', { class: `pill cls-${code || 'other'}` }, label || CLASSIFICATIONS[code] || E.dash);
}

// ---- routing --------------------------------------------------------------------------------

function route() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, ''));
  if (raw === 'main') return; // the skip link
  let view = 'list';
  let code = null;
  if (raw === '/import/register' && mayImport()) view = 'register';
  else if (raw === '/import/figures' && mayImport()) view = 'figures';
  else if (CODE.test(raw.toUpperCase())) { view = 'detail'; code = raw.toUpperCase(); }
  for (const [name, el] of Object.entries(views)) el.hidden = name !== view;
  body.dataset.view = view;
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.tab === (view === 'detail' ? 'list' : view)) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  pageBox.textContent = '';
  if (view === 'list') {
    if (!state.listLoaded) loadList();
    else setStatus('');
  } else if (view === 'detail') {
    openEnterprise(code);
  } else {
    setStatus('');
    if (!state.imports[view]) {
      state.imports[view] = mountImport(views[view], {
        kind: view, thisYear, onList: () => { state.listLoaded = false; location.hash = ''; },
      });
    }
  }
  if (view !== 'detail') window.scrollTo(0, 0);
}

function buildTabs() {
  const tabs = document.getElementById('tabs');
  if (!mayImport()) return;
  const entries = [['list', '#', E.tabs.list], ['register', '#/import/register', E.tabs.register],
    ['figures', '#/import/figures', E.tabs.figures]];
  for (const [tab, href, label] of entries) tabs.append(h('a', { href, 'data-tab': tab, class: 'tab' }, label));
  tabs.hidden = false;
}

// ---- the list -------------------------------------------------------------------------------

function buildFilters() {
  const form = document.getElementById('filters');
  const f = state.filters;
  const q = h('input', { type: 'search', name: 'q', id: 'f-q', value: f.q, maxlength: '100', autocomplete: 'off', placeholder: E.filters.qHint });
  const unit = select('unit', [['', E.filters.all], ...state.units.map((u) => [u.code, u.name])], f.unit);
  const scale = select('scale', [['', E.filters.all], ...SCALES], f.scale);
  const industry = h('input', { type: 'text', name: 'industry', id: 'f-industry', value: f.industry, maxlength: '5', size: '8',
    autocomplete: 'off', placeholder: E.filters.industryHint });
  const grade = select('grade', [['', E.filters.all], ...GRADES.map((g) => [g, g])], f.grade);
  const pending = h('input', { type: 'checkbox', name: 'pending', id: 'f-pending' });
  pending.checked = f.pending;
  const search = h('button', { type: 'submit', class: 'primary', id: 'f-search' }, E.filters.search);
  const reset = h('button', { type: 'button', id: 'f-reset' }, E.filters.reset);
  const problem = h('p', { class: 'error', id: 'filters-problem', role: 'alert' });
  form.append(h('h3', { class: 'sr-only' }, E.filters.legend),
    h('div', { class: 'filter-grid' },
      field(E.filters.q, q, { name: 'q', cls: 'grow' }), field(E.filters.unit, unit, { name: 'unit' }),
      field(E.filters.scale, scale, { name: 'scale' }), field(E.filters.industry, industry, { name: 'industry' }),
      field(E.filters.grade, grade, { name: 'grade' }),
      h('div', { class: 'field check-field' }, h('label', { class: 'check' }, pending, E.filters.pending)),
      h('div', { class: 'field buttons' }, h('span', { class: 'actions' }, search, reset))),
    problem);
  const apply = () => {
    const ind = industry.value.trim().toUpperCase();
    problem.textContent = '';
    industry.removeAttribute('aria-invalid');
    if (ind && !/^[A-T][0-9]{0,4}$/.test(ind)) {
      problem.textContent = E.filters.industryBad;
      industry.setAttribute('aria-invalid', 'true');
      industry.focus();
      return;
    }
    Object.assign(state.filters, { q: q.value.trim(), unit: unit.value, scale: scale.value, industry: ind, grade: grade.value,
      pending: pending.checked });
    state.offset = 0;
    loadList();
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  for (const s of [unit, scale, grade, pending]) s.addEventListener('change', apply);
  reset.addEventListener('click', () => {
    q.value = ''; unit.value = ''; scale.value = ''; industry.value = ''; grade.value = ''; pending.checked = false;
    document.getElementById('officer-default')?.remove();
    apply();
  });
}

let listSeq = 0;

async function loadList() {
  const seq = ++listSeq;
  const f = state.filters;
  const table = document.getElementById('list-table');
  views.list.dataset.state = 'loading';
  setStatus(E.loading);
  try {
    const { data } = await api(`/api/enterprises${query({ q: f.q, unit: f.unit, scale: f.scale, industry: f.industry,
      grade: f.grade, pending: f.pending ? 'true' : '', limit: PAGE_SIZE, offset: state.offset })}`);
    if (seq !== listSeq) return;
    drawList(data);
    state.listLoaded = true;
    views.list.dataset.state = 'ready';
    setStatus('');
  } catch (err) {
    if (seq !== listSeq) return;
    views.list.dataset.state = 'error';
    table.textContent = '';
    setStatus('');
    showError(pageBox, err);
  }
}

function drawList(data) {
  const table = document.getElementById('list-table');
  const L = E.list;
  table.textContent = '';
  table.append(h('caption', { class: 'sr-only' }, L.caption),
    thead(L.name, L.code, L.industry, L.scale, [L.year, 'num'], L.unit, [L.parcels, 'num'], [L.land, 'num'], L.classification, L.grade));
  const tbody = h('tbody');
  for (const r of data.data) {
    const name = r.credit_code
      ? h('a', { href: `#${encodeURIComponent(r.credit_code)}`, class: 'ent-link' }, r.name)
      : h('span', {}, r.name);
    const code = r.credit_code ? h('span', { class: 'code' }, r.credit_code) : h('span', { class: 'badge pending' }, L.pending);
    const industry = r.industry_code || r.industry_name ? [r.industry_code, r.industry_name].filter(Boolean).join(' ') : E.dash;
    tbody.append(h('tr', { 'data-code': r.credit_code || '', 'data-id': String(r.id) },
      h('td', { class: 'name' }, name), h('td', {}, code), h('td', {}, industry), h('td', {}, text(r.scale_label)),
      h('td', { class: 'num' }, text(r.production_year)),
      h('td', {}, text(r.unit_name), r.unit_from_parcels ? h('span', { class: 'hint', title: L.unitByParcelsTitle }, L.unitByParcels) : ''),
      h('td', { class: 'num' }, String(r.parcel_count)), h('td', { class: 'num' }, r.land_mu === null ? E.dash : mu(r.land_mu)),
      h('td', {}, classificationPill(r.classification, r.classification_label)),
      h('td', {}, gradeBadge(r.evaluation_grade, r.evaluation_year))));
  }
  if (!data.data.length) tbody.append(h('tr', { class: 'empty-row' }, h('td', { colspan: '10', class: 'none' }, L.none)));
  table.append(tbody);
  labelCells(table);
  markEmpty(table);
  const total = data.numberMatched;
  const from = data.data.length ? data.offset + 1 : 0;
  document.getElementById('list-count').textContent = L.count(total, from, data.offset + data.data.length);
  const pager = document.getElementById('pager');
  pager.textContent = '';
  if (total > PAGE_SIZE) {
    const pages = Math.ceil(total / PAGE_SIZE);
    const current = Math.floor(data.offset / PAGE_SIZE) + 1;
    const prev = h('button', { type: 'button', id: 'page-prev', disabled: current <= 1 }, L.prev);
    const next = h('button', { type: 'button', id: 'page-next', disabled: current >= pages }, L.next);
    prev.addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadList(); });
    next.addEventListener('click', () => { state.offset += PAGE_SIZE; loadList(); });
    pager.append(prev, h('span', { class: 'hint' }, L.page(current, pages)), next);
  }
}

// ---- one enterprise ----------------------------------------------------------------------------

function card(id, title, ...children) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-h` }, h('h3', { id: `${id}-h` }, title), ...children);
}

function dl(rows) {
  const list = h('dl', { class: 'facts' });
  for (const [label, value, cls] of rows) {
    list.append(h('div', { class: `fact ${cls || ''}`.trim() }, h('dt', {}, label), h('dd', {}, value)));
  }
  return list;
}

async function openEnterprise(code) {
  const seq = ++state.detailSeq;
  const host = views.detail;
  host.textContent = '';
  host.dataset.state = 'loading';
  setStatus(E.loading);
  const back = h('p', { class: 'back' }, h('a', { href: '#', id: 'back-to-list' }, E.detail.back));
  host.append(back);
  let e;
  try {
    ({ data: e } = await api(`/api/enterprises/${encodeURIComponent(code)}`));
  } catch (err) {
    if (seq !== state.detailSeq) return;
    host.dataset.state = 'error';
    setStatus('');
    const box = h('div', { class: 'message' });
    showError(box, err);
    host.append(box);
    return;
  }
  if (seq !== state.detailSeq) return;
  document.title = `${e.name} · 一库 · 桐乡工业全域治理云图`;
  host.append(h('div', { class: 'ent-head' }, h('h3', { id: 'ent-name', class: 'ent-name' }, e.name),
    h('span', { class: 'code' }, e.credit_code)));
  host.append(registerCard(e), parcelsCard(e), classificationCard(e));
  const years = [];
  for (let y = thisYear; y >= thisYear - 6; y -= 1) years.push([String(y), `${y} 年`]);
  const initial = String(e.evaluation_year || thisYear - 1);
  if (!years.some(([v]) => v === initial)) years.push([initial, `${initial} 年`]);
  const yearSel = select('detail-year', years, initial);
  const yearBar = h('div', { class: 'year-bar' }, h('label', { for: yearSel.id }, E.detail.yearPick), yearSel,
    h('span', { class: 'hint' }, E.detail.yearHint));
  const figures = card('ent-figures', E.detail.figures);
  const evaluation = card('ent-evaluation', E.detail.evaluation);
  host.append(yearBar, evaluation, figures);
  const loadYear = async () => {
    const y = Number(yearSel.value);
    await Promise.all([loadEvaluation(evaluation, e.credit_code, y, seq), loadFigures(figures, e.credit_code, y, seq)]);
  };
  yearSel.addEventListener('change', loadYear);
  await loadYear();
  if (seq !== state.detailSeq) return;
  host.dataset.state = 'ready';
  setStatus('');
  document.getElementById('ent-name').scrollIntoView?.({ block: 'nearest' });
}

/** No 所在镇街 in the register: the units of the enterprise's parcels, marked as such. */
function parcelUnits(e) {
  const names = [...new Set((e.parcels || []).map((p) => p.unit_name).filter(Boolean))];
  return names.length ? h('span', {}, names.join('、'), h('span', { class: 'hint' }, E.list.unitByParcels)) : E.dash;
}

function registerCard(e) {
  const D = E.detail;
  const industry = [e.industry_code, e.industry_name].filter(Boolean).join(' ') || E.dash;
  const land = e.land_mu === null || e.land_mu === undefined ? E.dash : D.landValue(mu(e.land_mu), (e.parcels || []).length);
  return card('ent-register', D.register, dl([
    [D.code, e.credit_code || E.list.pending, 'code'],
    [D.industry, industry], [D.scale, text(e.scale_label)], [D.year, text(e.production_year)],
    [D.unit, e.unit_name || parcelUnits(e)], [D.address, text(e.address), 'wide'], [D.land, land],
    [D.grade, e.evaluation_grade
      ? h('span', { class: `grade grade-${e.evaluation_grade}` }, D.gradeValue(e.evaluation_grade, e.evaluation_year || E.dash)) : E.dash],
  ]));
}

function parcelsCard(e) {
  const D = E.detail;
  const parcels = e.parcels || [];
  if (!parcels.length) return card('ent-parcels', D.parcels, h('p', { class: 'hint' }, D.noParcels));
  const table = h('table', { class: 'data stack', id: 'parcels-table' });
  table.append(thead(D.parcelCode, [D.parcelLand, 'num'], D.parcelBlock, D.parcelUnit, D.onMap));
  const tbody = h('tbody');
  for (const p of parcels) {
    // The map opens a parcel by ?parcel=CODE (its deep link) and shows it with its block.
    const link = h('a', { href: `/?parcel=${encodeURIComponent(p.code)}`, class: 'map-link' }, D.parcelOnMap);
    tbody.append(h('tr', { 'data-parcel': p.code }, h('td', { class: 'code' }, p.code), h('td', { class: 'num' }, mu(p.land_area_mu)),
      h('td', {}, p.block_code || D.scattered), h('td', {}, text(p.unit_name)), h('td', {}, link)));
  }
  table.append(tbody);
  labelCells(table);
  return card('ent-parcels', `${D.parcels}（${parcels.length}）`, h('div', { class: 'table-wrap' }, table));
}

function classificationCard(e) {
  const D = E.detail;
  const facts = [[D.current, e.classification ? classificationPill(e.classification, e.classification_label) : D.notClassified]];
  if (e.classification) {
    facts.push([D.reason, text(e.reason), 'wide'], [D.decidedOn, text(e.decided_on)], [D.decidedBy, text(e.decided_by)]);
  }
  if (e.clearance_status) {
    facts.push([D.clearance, CLEARANCE[e.clearance_status] || E.dash], [D.deadline, text(e.clearance_deadline)]);
  }
  const out = card('ent-classification', D.classification, dl(facts));
  const history = e.history || [];
  if (history.length) {
    const table = h('table', { class: 'data stack', id: 'classification-history' });
    table.append(thead(D.decidedOn, D.current, D.reason, D.decidedBy, D.suggested));
    const tbody = h('tbody');
    for (const x of [...history].reverse()) {
      tbody.append(h('tr', {}, h('td', {}, text(x.decided_on)), h('td', {}, classificationPill(x.classification, null)),
        h('td', { class: 'reason' }, text(x.reason)), h('td', {}, text(x.decided_by)), h('td', {}, text(x.suggested_grade))));
    }
    table.append(tbody);
    labelCells(table);
    out.append(h('h4', {}, D.history), h('div', { class: 'table-wrap' }, table));
  }
  return out;
}

async function loadFigures(host, code, year, seq) {
  const D = E.detail;
  host.dataset.state = 'loading';
  for (const el of [...host.children].slice(1)) el.remove();
  let data;
  try {
    ({ data } = await api(`/api/enterprises/${encodeURIComponent(code)}/figures${query({ year })}`));
  } catch (err) {
    if (seq !== state.detailSeq) return;
    host.dataset.state = 'error';
    host.append(h('p', { class: 'hint' }, err.status === 405 ? D.figuresUnavailable : err.message));
    return;
  }
  if (seq !== state.detailSeq) return;
  const fields = ((data && data.fields) || []).filter((f) => f.current || (f.history || []).length);
  const years = (data && data.years) || [];
  if (!fields.length) {
    host.dataset.state = 'empty';
    host.append(h('p', { class: 'hint', id: 'figures-none' }, D.noFigures(year)));
    if (years.length) host.append(h('p', { class: 'hint' }, D.figureYears(years)));
    return;
  }
  const table = h('table', { class: 'data stack', id: 'figures-table' });
  table.append(thead(D.figureLabel, [D.figureValue, 'num'], D.figureDept, D.figureSource, D.figureTime));
  const tbody = h('tbody');
  for (const f of fields) {
    const now = f.current || {};
    const label = h('td', { class: 'label' }, text(f.label || f.name));
    if (now.note) label.append(h('span', { class: 'hint block' }, `${D.figureNote}：${now.note}`));
    const history = f.history || [];
    if (history.length) {
      const fold = h('details', { class: 'superseded' }, h('summary', {}, D.superseded(history.length)));
      const ul = h('ul', { class: 'superseded-list' });
      for (const old of history) {
        const where = [old.department, old.source, when(old.recorded_at)].filter((x) => x && x !== E.dash).join('，');
        ul.append(h('li', {}, figure(old.value), h('span', { class: 'hint' }, ` ${where}`),
          old.superseded_at ? h('span', { class: 'hint' }, `（${D.supersededAt} ${when(old.superseded_at)}）`) : '',
          old.note ? h('span', { class: 'hint block' }, `${D.figureNote}：${old.note}`) : ''));
      }
      fold.append(ul);
      label.append(fold);
    }
    tbody.append(h('tr', { 'data-field': f.field || '' }, label,
      h('td', { class: 'num' }, f.current ? figure(now.value) : D.noCurrent),
      h('td', {}, text(now.department)), h('td', { class: 'source' }, text(now.source)), h('td', {}, when(now.recorded_at))));
  }
  table.append(tbody);
  labelCells(table);
  host.append(h('div', { class: 'table-wrap' }, table));
  if (years.length > 1) host.append(h('p', { class: 'hint' }, D.figureYears(years)));
  host.dataset.state = 'ready';
}

async function loadEvaluation(host, code, year, seq) {
  const D = E.detail;
  host.dataset.state = 'loading';
  for (const el of [...host.children].slice(1)) el.remove();
  let data;
  try {
    ({ data } = await api(`/api/evaluation/${year}/enterprises/${encodeURIComponent(code)}`));
  } catch (err) {
    if (seq !== state.detailSeq) return;
    host.dataset.state = err.status === 404 ? 'none' : 'error';
    host.append(h('p', { class: err.status === 404 ? 'hint none' : 'error', id: 'evaluation-none' },
      err.status === 404 ? D.notEvaluated : err.message));
    return;
  }
  if (seq !== state.detailSeq) return;
  const r = (data && data.enterprise) || {};
  const run = (data && data.run) || {};
  if (run.number) {
    host.append(h('p', { class: 'hint run' }, D.runLabel(run.number, run.status_label || RUN_STATUS[run.status] || E.dash),
      run.figures_as_of ? `，${D.figuresAsOf} ${when(run.figures_as_of)}` : ''));
  }
  const facts = [];
  if (r.reason) facts.push([D.gradeLabel, r.reason, 'wide']);
  else {
    facts.push([D.total, figure(r.total)], [D.rank, r.rank ? D.rankValue(r.rank, r.group_size) : E.dash],
      [D.gradeLabel, r.grade ? gradeBadge(r.grade) : E.dash]);
    if (r.group_label) facts.push([D.group, r.group_label]);
    if (r.adjustment_score !== null && r.adjustment_score !== undefined && Number(r.adjustment_score) !== 0) {
      facts.push([D.adjustment, figure(r.adjustment_score)]);
    }
  }
  host.append(dl(facts));
  const indicators = r.indicators || [];
  if (indicators.length) {
    const table = h('table', { class: 'data stack', id: 'indicators-table' });
    table.append(thead(D.indicator, [D.indicatorValue, 'num'], [D.weight, 'num'], [D.indicatorScore, 'num']));
    const tbody = h('tbody');
    for (const i of indicators) {
      const label = h('td', {}, text(i.label));
      if (i.note) label.append(h('span', { class: 'hint block' }, i.note));
      tbody.append(h('tr', {}, label, h('td', { class: 'num' }, i.value === null ? E.dash : `${figure(i.value)}${i.unit ? ` ${i.unit}` : ''}`),
        h('td', { class: 'num' }, figure(i.weight)), h('td', { class: 'num' }, figure(i.score))));
    }
    table.append(tbody);
    labelCells(table);
    host.append(h('div', { class: 'table-wrap' }, table));
  }
  const why = r.explanations || [];
  if (why.length) {
    const ul = h('ul', { class: 'why', id: 'evaluation-why' });
    for (const line of why) ul.append(h('li', {}, line));
    host.append(h('h4', {}, D.why), ul);
  }
  if (data && data.enterprise && (r.changed_figures || []).length) {
    host.append(h('p', { class: 'notice' }, D.changed(r.changed_figures.length)));
  }
  host.dataset.state = 'ready';
}

// ---- start ----------------------------------------------------------------------------------

async function main() {
  const user = await mountShell({ page: 'enterprises', roles: ['planner', 'gis_staff', 'unit_officer', 'reviewer', 'admin'] });
  if (!user) { body.dataset.enterprisesState = 'error'; return; }
  state.user = user;
  document.getElementById('intro').textContent = E.intro;
  const units = await api('/api/map/units').then(({ data }) => data.units.map((u) => ({ code: u.code, name: u.name })))
    .catch(() => []);
  state.units = units;
  if (user.role === 'unit_officer' && user.unit && units.some((u) => u.code === user.unit)) {
    state.filters.unit = user.unit;
    document.getElementById('intro').after(h('p', { class: 'hint', id: 'officer-default' },
      E.list.officerDefault(user.unit_name || units.find((u) => u.code === user.unit).name)));
  }
  buildTabs();
  buildFilters();
  window.addEventListener('hashchange', route);
  route();
  body.dataset.enterprisesState = 'ready';
}

main().catch((err) => {
  body.dataset.enterprisesState = 'error';
  setStatus('');
  showError(pageBox, err);
});

