// 亩均评价: a year's evaluation of the enterprises' 亩均效益 — the shown run (试算 / 公示中 / 已定档)
// with who did what and when, the results of each group ranked with every indicator's value and
// score and the class (A/B/C/D), a row's detail (indicator table, the explanation lines, figures
// changed since the run, objections with their evidence), and the actions of the user's role that
// the service lists for the run: 试算, 发布公示, 提前结束公示, 撤回, 定档 (admin; 定档 also the reviewer),
// 提出异议 (the unit officer, in the publicity period), 异议处理 (the reviewer), and after 定档 the
// confirmation of a D-class enterprise's 整治清退. Every check that matters is the server's; this
// page shows its answers. State is on <body data-evaluation-state> for people and tests.

import { api, confirmAction, h, num, query, showError, showFieldErrors, today } from '../common/api.js';
import { mountShell } from '../common/shell.js';
import { E } from './strings.js';

const FIRST_YEAR = 2020;
const PAGE_ROWS = 200; // rows drawn at once; 再显示 draws more
const GRADES = ['A', 'B', 'C', 'D'];
const EVIDENCE_TYPES = ['application/pdf', 'image/jpeg', 'image/png'];
const MAX_FILES = 5;
const MAX_FILE_BYTES = 10 * 1024 * 1024;

const statusEl = document.getElementById('evaluation-status');
const messageEl = document.getElementById('page-message');
const state = {
  user: null, year: null, yearsWithRuns: new Set(), runs: [], runId: null, data: null, objections: [], labels: null,
  tab: null, unit: '', grade: '', q: '', limit: PAGE_ROWS, detail: null,
};

// ---- small helpers --------------------------------------------------------------------------

function setStatus(text) { statusEl.textContent = text; }

/** An ISO time as people read it in Tongxiang: 2024-01-05 14:30 (a date stays a date). */
function when(iso) {
  if (!iso) return E.dash;
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const parts = Object.fromEntries(new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** A decimal string of the service, formatted: thousands separators, fixed decimals. */
function fmt(value, digits = 2) { return num(value, digits); }

/** A setting (weight, percentage) as entered: no trailing zeros (30, 12.5). */
function plain(value) {
  if (value === null || value === undefined || value === '') return E.dash;
  return num(value, 0 + (String(Number(value)).split('.')[1] || '').length);
}

function etagOf(thing) { return `"${thing.version}"`; }

function done(text) {
  messageEl.textContent = '';
  messageEl.append(h('p', { class: 'ok', role: 'status' }, text));
}

function failed(err) { showError(messageEl, err); }

function busy(button, on) {
  if (!button) return;
  if (on) { button.dataset.label = button.textContent; button.textContent = E.working; button.disabled = true; } else {
    button.textContent = button.dataset.label || button.textContent; button.disabled = false;
  }
}

function gradeBadge(grade) {
  return grade ? h('span', { class: `grade grade-${grade}`, title: E.gradeOption(grade) }, grade) : h('span', { class: 'grade grade-none' }, E.dash);
}

/** A person by the name the service gives (…_by_name: 姓名, or the account when none is set). */
function who(username, given) {
  return h('span', { class: 'person' }, given || username || E.dash);
}

function isRole(...roles) { return state.user && roles.includes(state.user.role); }

/** Each body cell names its column (data-label), for the phone layout that stacks a row's cells. */
function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.dataset.short || th.textContent);
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((cell, i) => { if (heads[i] && !cell.hasAttribute('colspan')) cell.dataset.label = heads[i]; });
  }
}

/** A modal form: title, body nodes, a submit button; ``submit(form, box)`` resolves when done (or throws). */
function formDialog({ title, body, ok, submit, cls = '' }) {
  const dialog = h('dialog', { class: `form-dialog ${cls}`.trim(), 'aria-labelledby': 'form-dialog-h' });
  const form = h('form', { method: 'dialog', novalidate: true });
  const close = h('button', { type: 'button', class: 'close', 'aria-label': E.dialogClose }, '×');
  const box = h('div', { class: 'message', 'aria-live': 'polite' });
  const yes = h('button', { type: 'submit', class: 'primary' }, ok);
  const no = h('button', { type: 'button' }, E.cancel);
  form.append(h('div', { class: 'dialog-head' }, h('h3', { id: 'form-dialog-h' }, title), close), ...body, box,
    h('p', { class: 'actions' }, yes, no));
  dialog.append(form);
  document.body.append(dialog);
  const finish = () => { dialog.close(); dialog.remove(); };
  close.addEventListener('click', finish);
  no.addEventListener('click', finish);
  dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    busy(yes, true);
    try {
      await submit(form, box);
      finish();
    } catch (err) {
      busy(yes, false);
      if (!err || !err.message) return;
      // Problems beside their fields: the summary alone above the buttons; the rest listed there too.
      const all = err.errors || [];
      const everyOne = all.length && all.every((e) => e.field && form.querySelector(`[data-field="${CSS.escape(e.field)}"]`));
      showFieldErrors(form, box, everyOne ? { message: E.fixMarked, errors: all } : err, () => null, { list: !everyOne });
    }
  });
  dialog.showModal();
  const first = form.querySelector('textarea, input, select');
  if (first) first.focus();
  return dialog;
}

function field(label, control, { name = null, hint = null } = {}) {
  const wrap = h('label', { class: 'field', 'data-field': name });
  wrap.append(h('span', { class: 'label' }, label), control);
  if (hint) wrap.append(h('span', { class: 'hint' }, hint));
  return wrap;
}

// ---- loading --------------------------------------------------------------------------------

async function loadLabels() {
  if (!state.labels) {
    const { data } = await api(`/api/evaluation/${state.year}/config`);
    state.labels = data.labels;
  }
  return state.labels;
}

async function load({ keepRun = false } = {}) {
  document.body.dataset.evaluationState = 'loading';
  setStatus(E.loading);
  const year = state.year;
  const [{ data: runs }, { data }] = await Promise.all([
    api(`/api/evaluation/${year}/runs`),
    api(`/api/evaluation/${year}${query({ run: keepRun ? state.runId : null })}`),
  ]);
  if (year !== state.year) return;
  state.runs = runs.runs;
  state.data = data;
  state.runId = data.run ? data.run.id : null;
  state.objections = [];
  if (data.run) {
    // A final run recomputed after 公示 has no objections of its own: they were filed on the published
    // run it is based on, and are shown here (list, counts, each row's) as part of its history.
    const from = data.run.based_on || data.run.id;
    const { data: obs } = await api(`/api/evaluation/runs/${from}/objections`);
    state.objections = obs.objections;
    if (data.run.based_on) {
      for (const row of data.enterprises) {
        if (!row.objections.length) row.objections = state.objections.filter((o) => o.credit_code === row.credit_code);
      }
    }
  }
  if (!state.tab || !tabs().some((t) => t.code === state.tab)) state.tab = tabs()[0]?.code || null;
  render();
  setStatus('');
  document.body.dataset.evaluationState = 'ready';
  document.body.dataset.runStatus = data.run ? data.run.status : 'none';
}

async function reload(opts) {
  try { await load(opts); } catch (err) { failed(err); setStatus(E.loadFailed(err.message)); document.body.dataset.evaluationState = 'error'; }
}

// ---- the year bar ---------------------------------------------------------------------------

function buildYearBar() {
  const bar = document.getElementById('year-bar');
  const thisYear = Number(today().slice(0, 4));
  const years = [];
  for (let y = Math.max(thisYear, state.year); y >= FIRST_YEAR; y -= 1) years.push(y);
  const select = h('select', { name: 'year', id: 'year' });
  for (const y of years) select.append(h('option', { value: String(y) }, E.yearOption(y, state.yearsWithRuns.has(y))));
  select.value = String(state.year);
  select.addEventListener('change', () => {
    state.year = Number(select.value);
    state.labels = null;
    state.runId = null;
    state.tab = null;
    const url = new URL(location.href);
    url.searchParams.set('year', String(state.year));
    url.searchParams.delete('run');
    history.replaceState(null, '', url);
    messageEl.textContent = '';
    reload();
  });
  const runSelect = h('select', { name: 'run', id: 'run' });
  runSelect.addEventListener('change', () => { state.runId = Number(runSelect.value); state.tab = null; reload({ keepRun: true }); });
  bar.append(field(E.year, select), h('span', { id: 'run-pick' }, field(E.run, runSelect)));
}

function renderRunPick() {
  const select = document.getElementById('run');
  select.textContent = '';
  for (const r of state.runs) select.append(h('option', { value: String(r.id) }, E.runOption(r, when(r.created_at).slice(0, 10))));
  if (state.runId) select.value = String(state.runId);
  document.getElementById('run-pick').hidden = state.runs.length < 2;
}

// ---- the run's banner -----------------------------------------------------------------------

function render() {
  renderRunPick();
  renderBanner();
  renderObjections();
  renderResults();
}

function renderBanner() {
  const box = document.getElementById('run-body');
  const section = document.getElementById('run-banner');
  box.textContent = '';
  const run = state.data.run;
  section.dataset.state = run ? run.status : 'none';
  if (!run) {
    box.append(h('p', { class: 'lead' }, E.noRun(state.year)));
    if (isRole('admin')) box.append(h('p', { class: 'hint' }, E.noRunAdmin), h('p', { class: 'actions' }, computeButton()));
    return;
  }
  const head = h('div', { class: 'run-head' },
    h('span', { class: `run-status status-${run.status}`, 'data-testid': 'run-status' }, run.status_label),
    h('strong', {}, E.runNumber(run.number)));
  box.append(head);
  const lines = [E.computedBy(who(run.created_by, run.created_by_name), when(run.created_at)), E.figuresAsOf(when(run.figures_as_of))];
  if (run.note) lines.push(E.note(run.note));
  if (run.publicity_start) {
    const line = [E.publicity(run.publicity_start, run.publicity_end)];
    if (run.published_by) line.push('，', ...E.publishedBy(who(run.published_by, run.published_by_name), when(run.published_at)));
    lines.push(line);
    if (run.publicity_closed_at) lines.push(E.publicityClosed(when(run.publicity_closed_at), run.publicity_close_reason));
    else if (run.status === 'published') lines.push(run.in_publicity ? E.inPublicity : (today() < run.publicity_start ? E.publicityNotStarted : E.publicityOver));
  }
  if (run.fixed_at) lines.push(E.fixedBy(who(run.fixed_by, run.fixed_by_name), when(run.fixed_at)));
  if (run.based_on) {
    const base = state.runs.find((r) => r.id === run.based_on);
    if (base) lines.push(E.basedOn(base.number));
  }
  if (run.status === 'withdrawn') lines.push(E.withdrawnNote);
  const ul = h('ul', { class: 'run-lines' });
  for (const l of lines) ul.append(h('li', {}, ...(Array.isArray(l) ? l : [l])));
  box.append(ul, h('p', { class: 'counts' }, E.counts(run.counts)));
  if (run.status === 'published' || run.status === 'final') {
    const counts = run.based_on ? { open: 0, upheld: 0, rejected: 0 } : run.objections;
    if (run.based_on) for (const o of state.objections) counts[o.status] += 1;
    const base = run.based_on && state.runs.find((r) => r.id === run.based_on);
    box.append(h('p', { 'data-testid': 'objection-counts' }, E.objectionCounts(counts), base ? E.objectionsOfBase(base.number) : ''));
  }
  if (run.changed_figures) box.append(h('p', { class: 'changed', 'data-testid': 'changed-figures' }, E.changedFigures(run.changed_figures)));

  const actions = h('p', { class: 'actions run-actions' });
  // A year with a final (定档) run is closed: its configuration is frozen and no 试算 is taken.
  if (isRole('admin') && !state.runs.some((r) => r.status === 'final')) actions.append(computeButton());
  if (run.actions.includes('publish')) actions.append(h('button', { type: 'button', class: 'primary', name: 'publish', onclick: () => publish(run) }, E.publish));
  if (run.actions.includes('close_publicity')) actions.append(h('button', { type: 'button', name: 'close_publicity', onclick: (ev) => closePublicity(run, ev.currentTarget) }, E.closePublicity));
  const mayFix = isRole('admin', 'reviewer') && run.status === 'published';
  if (run.actions.includes('fix') || mayFix) {
    const fixButton = h('button', { type: 'button', class: 'primary', name: 'fix', disabled: !run.actions.includes('fix'), onclick: (ev) => fix(run, ev.currentTarget) }, E.fix);
    if (run.fix_blocked_by) fixButton.setAttribute('aria-describedby', 'fix-blocked');
    actions.append(fixButton);
  }
  if (run.actions.includes('withdraw')) actions.append(h('button', { type: 'button', class: 'danger', name: 'withdraw', onclick: (ev) => withdraw(run, ev.currentTarget) }, E.withdraw));
  actions.append(h('a', { class: 'button', href: `/api/evaluation/${state.year}/export.xlsx${query({ run: run.id })}`, download: '' }, E.export));
  box.append(actions);
  if (mayFix && run.fix_blocked_by) box.append(h('p', { class: 'hint blocked', id: 'fix-blocked' }, E.fixBlocked(run.fix_blocked_by)));
}

function computeButton() {
  return h('button', { type: 'button', name: 'compute', class: state.data.run ? '' : 'primary', onclick: compute }, E.compute);
}

function compute() {
  const note = h('textarea', { name: 'note', rows: '2', maxlength: '500', placeholder: E.computeNotePlaceholder });
  formDialog({
    title: E.computeTitle, ok: E.computeOk, body: [field(E.computeNote, note, { name: 'note' })],
    submit: async () => {
      const { data } = await api(`/api/evaluation/${state.year}/runs`, { method: 'POST', body: { note: note.value.trim() || null } });
      state.runId = data.id;
      await load({ keepRun: true });
      done(E.computed(data.number));
    },
  });
}

function publish(run) {
  const start = h('input', { type: 'date', name: 'publicity_start', value: today(), required: true });
  const end = h('input', { type: 'date', name: 'publicity_end', value: today(6), required: true });
  formDialog({
    title: E.publishTitle, ok: E.publishOk,
    body: [h('p', { class: 'hint' }, E.publishIntro), h('div', { class: 'two' },
      field(E.publicityStart, start, { name: 'publicity_start' }), field(E.publicityEnd, end, { name: 'publicity_end' }))],
    submit: async () => {
      await api(`/api/evaluation/runs/${run.id}/publish`, { method: 'POST', etag: etagOf(run), body: { publicity_start: start.value, publicity_end: end.value } });
      await load({ keepRun: true });
      done(E.published);
    },
  });
}

async function closePublicity(run, button) {
  const reason = await confirmAction(E.closeQuestion, { input: E.closeReason, ok: E.closePublicity });
  if (!reason) return;
  await act(button, () => api(`/api/evaluation/runs/${run.id}/close-publicity`, { method: 'POST', etag: etagOf(run), body: { reason } }), E.closed);
}

async function withdraw(run, button) {
  if (!await confirmAction(E.withdrawQuestion(run), { ok: E.withdraw })) return;
  await act(button, () => api(`/api/evaluation/runs/${run.id}/withdraw`, { method: 'POST', etag: etagOf(run) }), E.withdrawn, { keepRun: false });
}

async function fix(run, button) {
  if (!await confirmAction(E.fixQuestion, { lines: E.fixLines(run.objections), ok: E.fix })) return;
  await act(button, async () => {
    const res = await api(`/api/evaluation/runs/${run.id}/fix`, { method: 'POST', etag: etagOf(run) });
    state.runId = res.data.id;
    return res;
  }, E.fixed);
}

async function act(button, call, text, { keepRun = true } = {}) {
  busy(button, true);
  try {
    await call();
    await load({ keepRun });
    done(text);
  } catch (err) {
    busy(button, false);
    failed(err);
  }
}

// ---- 异议处理 (the run's objections) -----------------------------------------------------------

function renderObjections() {
  const section = document.getElementById('objections');
  const box = document.getElementById('objections-body');
  const run = state.data.run;
  box.textContent = '';
  const show = run && (state.objections.length || (isRole('admin', 'reviewer') && run.status === 'published'));
  section.hidden = !show;
  if (!show) return;
  box.append(h('p', { class: 'hint' }, E.objectionsListIntro));
  if (!state.objections.length) { box.append(h('p', {}, E.noObjectionsRun)); return; }
  const order = { open: 0, upheld: 1, rejected: 2 };
  const list = [...state.objections].sort((a, b) => order[a.status] - order[b.status] || b.id - a.id);
  const ul = h('ul', { class: 'objection-list', id: 'objection-list' });
  for (const o of list) ul.append(objectionItem(o, { withName: true }));
  box.append(ul);
}

function objectionItem(o, { withName = false } = {}) {
  const li = h('li', { class: `objection status-${o.status}`, 'data-objection': String(o.id), 'data-status': o.status });
  const head = h('div', { class: 'objection-head' }, h('span', { class: `ob-status ob-${o.status}` }, o.status_label));
  if (withName) head.append(h('strong', {}, o.name), o.unit_name ? h('span', { class: 'hint' }, o.unit_name) : '');
  head.append(h('span', { class: 'hint' }, ...E.filedBy(who(o.filed_by, o.filed_by_name), when(o.filed_at))));
  li.append(head, h('p', { class: 'reason' }, o.reason));
  if (o.corrections.length) {
    const ul = h('ul', { class: 'corrections' });
    for (const c of o.corrections) ul.append(h('li', {}, E.correctionLine(c, (v) => fmt(v))));
    li.append(ul);
  }
  if (o.evidence.length) {
    const files = h('ul', { class: 'files' });
    for (const f of o.evidence) files.append(h('li', {}, h('a', { class: 'evidence-link', href: f.url, target: '_blank', rel: 'noopener' }, f.filename), ' ', h('span', { class: 'hint' }, E.sizeKb(f.size_bytes))));
    li.append(h('div', { class: 'evidence' }, h('span', { class: 'label' }, E.evidence), files));
  }
  if (o.resolution) li.append(h('p', { class: 'resolution' }, E.resolution(o.resolution), ' ', h('span', { class: 'hint' }, ...E.resolvedBy(who(o.resolved_by, o.resolved_by_name), when(o.resolved_at)))));
  if (o.actions.includes('resolve')) {
    li.append(h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', name: 'uphold', onclick: (ev) => resolve(o, 'upheld', ev.currentTarget) }, E.uphold),
      h('button', { type: 'button', name: 'reject', onclick: (ev) => resolve(o, 'rejected', ev.currentTarget) }, E.reject)));
  }
  return li;
}

async function resolve(o, decision, button) {
  const resolution = await confirmAction(E.resolveQuestion(decision, o.name), { input: E.resolveReason, ok: decision === 'upheld' ? E.uphold : E.reject });
  if (!resolution) return;
  await act(button, () => api(`/api/evaluation/objections/${o.id}/resolve`, { method: 'POST', etag: etagOf(o), body: { decision, resolution } }), E.resolved);
  if (state.detail) openDetail(state.detail);
}

// ---- results --------------------------------------------------------------------------------

function tabs() {
  if (!state.data || !state.data.run) return [];
  const rows = state.data.enterprises;
  const out = state.data.groups.map((g) => ({ code: g.code, label: g.label, group: g, rows: rows.filter((r) => r.group === g.code && r.grade) }));
  out.push({ code: 'none', label: E.notGradedTab, group: null, rows: rows.filter((r) => !r.grade) });
  return out;
}

function renderResults() {
  const section = document.getElementById('results');
  const all = tabs();
  section.hidden = !all.length;
  if (!all.length) return;
  const nav = document.getElementById('group-tabs');
  nav.textContent = '';
  for (const t of all) {
    const b = h('button', { type: 'button', role: 'tab', 'data-group': t.code, 'aria-selected': String(t.code === state.tab), 'aria-controls': 'results-table' }, E.tabCount(t.label, t.rows.length));
    b.addEventListener('click', () => { state.tab = t.code; state.limit = PAGE_ROWS; renderResults(); });
    nav.append(b);
  }
  const tab = all.find((t) => t.code === state.tab) || all[0];
  const lines = document.getElementById('group-line');
  lines.textContent = '';
  if (tab.group) {
    lines.append(E.groupLine(tab.group));
    const ul = h('ul', { class: 'benchmarks' });
    for (const i of tab.group.indicators) ul.append(h('li', {}, E.benchmarkLine(i, (v) => fmt(v), plain)));
    lines.append(ul);
  }
  renderFilters(tab);
  renderTable(tab);
}

function renderFilters(tab) {
  const bar = document.getElementById('filters');
  if (!bar.childElementCount) {
    const unit = h('select', { name: 'unit' });
    const grade = h('select', { name: 'grade' });
    const q = h('input', { type: 'search', name: 'q', placeholder: E.searchPlaceholder, 'aria-label': E.search });
    unit.addEventListener('change', () => { state.unit = unit.value; state.limit = PAGE_ROWS; renderTable(currentTab()); });
    grade.addEventListener('change', () => { state.grade = grade.value; state.limit = PAGE_ROWS; renderTable(currentTab()); });
    q.addEventListener('input', () => { state.q = q.value.trim(); state.limit = PAGE_ROWS; renderTable(currentTab()); });
    bar.append(field(E.unit, unit), h('span', { id: 'grade-filter' }, field(E.grade, grade)), field(E.search, q));
  }
  const units = new Map();
  for (const r of state.data.enterprises) if (r.unit_code) units.set(r.unit_code, r.unit_name);
  const unit = bar.querySelector('select[name=unit]');
  unit.textContent = '';
  unit.append(h('option', { value: '' }, E.allUnits));
  for (const [code, name] of [...units].sort((a, b) => a[1].localeCompare(b[1], 'zh-CN'))) unit.append(h('option', { value: code }, name));
  unit.value = units.has(state.unit) ? state.unit : '';
  state.unit = unit.value;
  const grade = bar.querySelector('select[name=grade]');
  grade.textContent = '';
  grade.append(h('option', { value: '' }, E.allGrades));
  for (const g of GRADES) grade.append(h('option', { value: g }, E.gradeOption(g)));
  grade.value = state.grade;
  document.getElementById('grade-filter').hidden = tab.code === 'none';
}

function currentTab() { return tabs().find((t) => t.code === state.tab) || tabs()[0]; }

function matches(row, tab) {
  if (state.unit && row.unit_code !== state.unit) return false;
  if (tab.code !== 'none' && state.grade && row.grade !== state.grade) return false;
  if (state.q && !row.name.includes(state.q) && !row.credit_code.includes(state.q.toUpperCase())) return false;
  return true;
}

function renderTable(tab) {
  const table = document.getElementById('results-table');
  table.textContent = '';
  table.classList.add('stack');
  const rows = tab.rows.filter((r) => matches(r, tab));
  document.getElementById('result-count').textContent = E.shown(rows.length, tab.rows.length);
  const graded = tab.code !== 'none';
  const indicators = graded ? tab.group.indicators : [];
  const head = h('tr');
  const th = (text, cls = '', short = null) => h('th', { scope: 'col', class: cls || null, 'data-short': short }, text);
  if (graded) head.append(th(E.col.rank, 'num'));
  head.append(th(E.col.name), th(E.col.unit));
  if (!graded) head.append(th(E.col.scale));
  head.append(th(E.col.land, 'num'));
  for (const i of indicators) head.append(th(E.indicatorHead(i.label, i.unit), 'num ind', i.label));
  if (graded) head.append(th(E.col.adjustment, 'num'), th(E.col.total, 'num'), th(E.col.grade));
  else head.append(th(E.col.reason));
  const tbody = h('tbody');
  for (const r of rows.slice(0, state.limit)) tbody.append(resultRow(r, graded, indicators));
  if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: String(head.childElementCount), class: 'empty-row' }, E.noneMatch)));
  table.append(h('thead', {}, head), tbody);
  labelCells(table);
  const more = document.getElementById('results-more');
  more.textContent = '';
  if (rows.length > state.limit) {
    more.append(h('button', { type: 'button', onclick: () => { state.limit += PAGE_ROWS; renderTable(tab); } }, E.more(Math.min(PAGE_ROWS, rows.length - state.limit))));
  }
}

function resultRow(r, graded, indicators) {
  const tr = h('tr', { 'data-code': r.credit_code, class: 'result-row' });
  const open = h('button', { type: 'button', class: 'link open-detail', 'aria-label': E.open(r.name) }, r.name);
  open.addEventListener('click', (ev) => { ev.stopPropagation(); openDetail(r.credit_code); });
  const nameCell = h('td', { class: 'name' }, open, h('br'), h('small', { class: 'code' }, r.credit_code));
  const marks = h('span', { class: 'marks' });
  if (r.proposed_clearance) marks.append(h('span', { class: 'mark clearance' }, E.clearanceSuggested));
  if (r.changed_figures.length) marks.append(h('span', { class: 'mark changed' }, E.changedMark));
  const openOb = r.objections.find((o) => o.status === 'open') || r.objections[0];
  if (openOb) marks.append(h('span', { class: `mark ob-${openOb.status}` }, E.objectionMark(openOb.status_label)));
  if (marks.childElementCount) nameCell.append(marks);
  if (graded) tr.append(h('td', { class: 'num rank' }, r.rank ? String(r.rank) : E.dash));
  tr.append(nameCell, h('td', { class: 'unit' }, r.unit_name || E.dash));
  if (!graded) tr.append(h('td', {}, r.scale_label || E.dash));
  tr.append(h('td', { class: 'num' }, fmt(r.land_mu)));
  const byCode = Object.fromEntries(r.indicators.map((i) => [i.code, i]));
  for (const gi of indicators) {
    const i = byCode[gi.code];
    tr.append(h('td', { class: `num ind${i && i.capped ? ' capped' : ''}` }, i ? fmt(i.value) : E.dash,
      h('small', { class: 'score' }, i ? E.scoreLine(fmt(i.score)) : '')));
  }
  if (graded) {
    tr.append(h('td', { class: 'num' }, fmt(r.adjustment_score)), h('td', { class: 'num total' }, fmt(r.total)), h('td', { class: 'grade-cell' }, gradeBadge(r.grade)));
  } else {
    tr.append(h('td', { class: 'reason' }, (r.reason || E.notGraded).replace(/^不参评：/, '')));
  }
  tr.addEventListener('click', () => openDetail(r.credit_code));
  return tr;
}

// ---- the detail panel -----------------------------------------------------------------------

async function openDetail(code) {
  const row = state.data.enterprises.find((r) => r.credit_code === code);
  if (!row) return;
  state.detail = code;
  document.querySelector('dialog.detail')?.remove();
  const run = state.data.run;
  const dialog = h('dialog', { class: 'detail', 'aria-labelledby': 'detail-h', 'data-code': code });
  const close = h('button', { type: 'button', class: 'close', 'aria-label': E.dialogClose }, '×');
  const body = h('div', { class: 'detail-body' });
  dialog.append(h('div', { class: 'dialog-head' }, h('h3', { id: 'detail-h' }, row.name), close), body);
  document.body.append(dialog);
  const finish = () => { dialog.close(); dialog.remove(); state.detail = null; document.querySelector(`tr[data-code="${CSS.escape(code)}"] .open-detail`)?.focus(); };
  close.addEventListener('click', finish);
  dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(); });

  body.append(h('p', { class: 'who-line' }, gradeBadge(row.grade), ' ', h('strong', {}, E.rankLine(row)), ' ',
    h('span', { class: 'hint' }, `${E.creditCode} ${row.credit_code}${row.unit_name ? ` · ${row.unit_name}` : ''} · ${row.scale_label} · ${E.col.land} ${fmt(row.land_mu)}`)));

  // 建议整治清退 (after 定档)
  const cls = h('div', { class: 'classification-line' });
  cls.append(h('span', {}, row.classification_label ? E.classificationNow(row.classification_label) : E.unclassified));
  if (row.proposed_clearance) {
    cls.append(' ', h('span', { class: 'mark clearance' }, E.clearanceSuggested));
    const mayConfirm = isRole('reviewer', 'admin') || (isRole('unit_officer') && state.user.unit === row.unit_code);
    if (mayConfirm) cls.append(' ', h('button', { type: 'button', name: 'confirm_clearance', class: 'danger', onclick: () => confirmClearance(row) }, E.confirmClearance));
  }
  body.append(cls);

  // indicators
  if (row.indicators.length) {
    const t = h('table', { class: 'data stack indicators' });
    const hr = h('tr');
    for (const k of ['label', 'value', 'benchmark', 'weight', 'score', 'note']) hr.append(h('th', { scope: 'col', class: ['label', 'note'].includes(k) ? null : 'num' }, E.ind[k]));
    const tb = h('tbody');
    for (const i of row.indicators) {
      tb.append(h('tr', { class: i.capped ? 'capped' : null },
        h('td', {}, `${i.label}（${i.unit}）`), h('td', { class: 'num' }, fmt(i.value)), h('td', { class: 'num' }, fmt(i.benchmark)),
        h('td', { class: 'num' }, plain(i.weight)), h('td', { class: 'num' }, fmt(i.score)),
        h('td', { class: 'note' }, i.capped ? h('span', { class: 'mark capped' }, E.capped) : '', i.note ? ` ${i.note}` : '')));
    }
    const sum = (label, v, cls2 = '') => h('tr', { class: `sum ${cls2}`.trim() }, h('td', {}, label), h('td', { class: 'empty' }), h('td', { class: 'empty' }), h('td', { class: 'empty' }), h('td', { class: 'num' }, fmt(v)), h('td', { class: 'empty' }));
    tb.append(sum(E.indicatorScore, row.indicator_score), sum(E.adjustmentScore, row.adjustment_score), sum(E.totalScore, row.total, 'total'));
    t.append(h('thead', {}, hr), tb);
    labelCells(t);
    body.append(h('section', {}, h('h4', {}, E.indicatorsHeading), h('div', { class: 'table-wrap' }, t)));
  }
  if (row.explanations.length) {
    const ul = h('ul', { class: 'explanations' });
    for (const line of row.explanations) ul.append(h('li', {}, line));
    body.append(h('section', {}, h('h4', {}, E.explanationsHeading), ul));
  }
  if (row.changed_figures.length) {
    const t = h('table', { class: 'data stack changed-table' });
    t.append(h('thead', {}, h('tr', {}, ...['label', 'inRun', 'now', 'department', 'at'].map((k) => h('th', { scope: 'col', class: ['inRun', 'now'].includes(k) ? 'num' : null }, E.ch[k])))));
    const tb = h('tbody');
    for (const c of row.changed_figures) {
      tb.append(h('tr', {}, h('td', {}, c.label), h('td', { class: 'num' }, fmt(c.in_run)), h('td', { class: 'num' }, fmt(c.now)),
        h('td', {}, c.department || E.dash), h('td', {}, when(c.recorded_at))));
    }
    t.append(tb);
    labelCells(t);
    body.append(h('section', { class: 'changed-box' }, h('h4', {}, E.changedHeading), h('div', { class: 'table-wrap' }, t)));
  }
  const obs = h('section', { class: 'detail-objections' }, h('h4', {}, E.objectionsHeading));
  if (row.objections.length) {
    const ul = h('ul', { class: 'objection-list' });
    for (const o of row.objections) ul.append(objectionItem(o));
    obs.append(ul);
  } else obs.append(h('p', { class: 'hint' }, E.noObjections));
  const mayObject = run.actions.includes('object') && (isRole('admin') || state.user.unit === row.unit_code)
    && !row.objections.some((o) => o.status === 'open');
  if (mayObject) obs.append(h('p', { class: 'actions' }, h('button', { type: 'button', class: 'primary', name: 'object', onclick: () => objectionForm(row) }, E.object)));
  body.append(obs);
  const sources = h('section', { class: 'sources', hidden: true }, h('h4', {}, E.sourcesHeading));
  body.append(sources);
  dialog.showModal();
  close.focus();
  document.body.dataset.detail = code;
  // The figures' sources (the department, the file or system) of the default run.
  try {
    const { data } = await api(`/api/evaluation/${state.year}/enterprises/${encodeURIComponent(code)}`);
    if (!dialog.isConnected || data.run.id !== run.id) return;
    const labels = await loadLabels();
    const entries = Object.entries(data.sources);
    if (!entries.length) return;
    const t = h('table', { class: 'data stack sources-table' });
    t.append(h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, E.ch.label), h('th', { scope: 'col', class: 'num' }, E.sourceValue), h('th', { scope: 'col' }, E.ch.department), h('th', { scope: 'col' }, E.ch.at))));
    const tb = h('tbody');
    for (const [f, s] of entries) {
      tb.append(h('tr', {}, h('td', {}, labels.figures[f] || E.dash), h('td', { class: 'num' }, fmt(s.value)),
        h('td', {}, s.department || E.dash, s.source ? h('small', { class: 'source' }, s.source) : ''), h('td', {}, when(s.recorded_at))));
    }
    t.append(tb);
    labelCells(t);
    sources.append(h('div', { class: 'table-wrap' }, t));
    sources.hidden = false;
  } catch (_) { /* the sources are extra: the panel stands without them */ }
}

function objectionForm(row) {
  const reason = h('textarea', { name: 'reason', rows: '3', maxlength: '2000', required: true });
  const body = [field(E.objectionReason, reason, { name: 'reason', hint: E.objectionReasonHint })];
  const corrections = h('fieldset', { class: 'corrections-box', 'data-field': 'corrections' }, h('legend', {}, E.correctionsHeading),
    h('p', { class: 'hint' }, E.correctionsHint));
  const grid = h('div', { class: 'corrections-grid' });
  corrections.append(grid);
  body.push(corrections);
  const files = h('input', { type: 'file', name: 'files', multiple: true, accept: '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png', class: 'file-input' });
  const chosen = h('p', { class: 'chosen hint' }, E.noFiles);
  files.addEventListener('change', () => { chosen.textContent = files.files.length ? E.filesChosen([...files.files].map((f) => f.name)) : E.noFiles; });
  body.push(h('div', { class: 'field', 'data-field': 'files' }, h('span', { class: 'label' }, E.evidence),
    h('div', { class: 'file-pick' }, h('span', { class: 'button file-button' }, E.chooseFiles, files), chosen),
    h('span', { class: 'hint' }, E.evidenceHint)));
  const inputs = {};
  formDialog({
    title: E.objectionTitle(row.name), ok: E.submitObjection, body, cls: 'objection-form',
    submit: async () => {
      const problems = [];
      if (!reason.value.trim()) problems.push({ field: 'reason', message: E.fillReason });
      const values = {};
      for (const [f, input] of Object.entries(inputs)) {
        const t = input.value.trim().replace(/,/g, '');
        if (!t) continue;
        if (!/^-?\d+(\.\d+)?$/.test(t)) problems.push({ field: `corrections.${f}`, message: E.notNumber(state.labels.figures[f]) });
        else values[f] = t;
      }
      const list = [...files.files];
      if (list.length > MAX_FILES) problems.push({ field: 'files', message: E.tooManyFiles });
      for (const f of list) {
        if (f.size > MAX_FILE_BYTES) problems.push({ field: 'files', message: E.fileTooLarge(f.name) });
        else if (f.type && !EVIDENCE_TYPES.includes(f.type)) problems.push({ field: 'files', message: E.fileType(f.name) });
      }
      if (problems.length) throw Object.assign(new Error(E.fixMarked), { errors: problems });
      const data = new FormData();
      data.append('credit_code', row.credit_code);
      data.append('reason', reason.value.trim());
      if (Object.keys(values).length) data.append('corrections', JSON.stringify(values));
      for (const f of list) data.append('files', f, f.name);
      await api(`/api/evaluation/runs/${state.data.run.id}/objections`, { method: 'POST', form: data });
      await load({ keepRun: true });
      done(E.objectionFiled);
      openDetail(row.credit_code);
    },
  });
  // The figures (Chinese name and unit) come with the configuration's labels; the run's value beside each.
  loadLabels().then((labels) => {
    const sources = {};
    api(`/api/evaluation/${state.year}/enterprises/${encodeURIComponent(row.credit_code)}`)
      .then(({ data }) => { if (data.run.id === state.data.run.id) Object.assign(sources, data.sources); })
      .catch(() => null)
      .finally(() => {
        for (const [f, label] of Object.entries(labels.figures)) {
          const input = h('input', { type: 'text', inputmode: 'decimal', name: `corrections.${f}`, autocomplete: 'off' });
          inputs[f] = input;
          grid.append(field(label, input, { name: `corrections.${f}`, hint: sources[f] ? E.inRunValue(fmt(sources[f].value)) : null }));
        }
      });
  }).catch((err) => showError(corrections, err));
}

function confirmClearance(row) {
  const reason = h('textarea', { name: 'reason', rows: '2', maxlength: '2000' }, E.clearanceReason(state.year));
  const day = h('input', { type: 'date', name: 'decided_on', value: today(), max: today() });
  formDialog({
    title: E.clearanceTitle, ok: E.confirmClearance,
    body: [h('p', {}, E.clearanceIntro(row.name)), field(E.clearanceReasonLabel, reason, { name: 'reason' }), field(E.decidedOn, day, { name: 'decided_on' })],
    submit: async () => {
      const { etag, data: current } = await api(`/api/enterprises/${encodeURIComponent(row.credit_code)}`);
      await api(`/api/enterprises/${encodeURIComponent(row.credit_code)}/classification`, {
        method: 'PUT', etag: current.classification ? etag : null,
        body: { classification: 'clear_out', reason: reason.value.trim(), decided_on: day.value },
      });
      await load({ keepRun: true });
      done(E.clearanceDone);
      openDetail(row.credit_code);
    },
  });
}

// ---- the page -------------------------------------------------------------------------------

async function main() {
  state.user = await mountShell({ page: 'evaluation', roles: ['planner', 'gis_staff', 'unit_officer', 'reviewer', 'admin'] });
  if (!state.user) { document.body.dataset.evaluationState = 'refused'; return; }
  document.getElementById('intro').textContent = E.intro;
  const params = new URLSearchParams(location.search);
  const asked = Number(params.get('year'));
  const thisYear = Number(today().slice(0, 4));
  // The years that have an evaluation (marked in the year list); the newest of them is shown first.
  const probed = await Promise.all(Array.from({ length: thisYear - FIRST_YEAR + 1 }, (_, i) => thisYear - i).map((y) => api(`/api/evaluation/${y}/runs`)
    .then(({ data }) => (data.runs.length ? y : null)).catch(() => null)));
  state.yearsWithRuns = new Set(probed.filter(Boolean));
  const newest = probed.find(Boolean);
  state.year = asked >= FIRST_YEAR && asked <= 2100 ? asked : (newest || thisYear - 1);
  if (params.get('run')) state.runId = Number(params.get('run'));
  buildYearBar();
  await load({ keepRun: Boolean(state.runId) });
  if (params.get('enterprise')) openDetail(params.get('enterprise'));
}

main().catch((err) => {
  document.body.dataset.evaluationState = 'error';
  setStatus(E.loadFailed(err.message));
  failed(err);
});
