// 月报报送: a town's unit officer (镇街经办人) reports the month's progress of the unit's parcels and
// blocks, with evidence files, and submits the month (月报). An administrator does the same for any
// unit, chosen at the top (unit= on every call). Every rule (which month a report counts in, what a
// completion needs, who may withdraw) is the server's; the page shows its answers beside the fields
// they name. State is on data-* attributes for people and tests: <body data-reporting-state>
// (loading | ready | error), each section's data-state, each month card's data-status, the entry
// dialog's data-state and each evidence file's data-state.

import { api, clearFieldErrors, confirmAction, h, mu, num, query, showError, showFieldErrors } from '../common/api.js';
import { mountShell } from '../common/shell.js';
import { BLOCK_STAGES, FIELD_LABELS, PARCEL_STATUSES, R, SUBMISSION_LABELS } from './strings.js';

const LIST_STEP = 50; // rows drawn at once; 再显示 draws more, search or filter narrows
const body = document.body;
const statusEl = document.getElementById('reporting-status');
const pageBox = document.getElementById('page-message');
const params = new URLSearchParams(location.search);

const state = {
  user: null,
  isAdmin: false,
  unit: null, // {code, name}
  units: [], // admin: [{code, name}]
  today: null, // YYYY-MM-DD, the server's
  months: [], // [{year, month, label, due_on, days_left, submission, overview}]
  selected: null, // key of the month shown ("2026-12")
  entries: new Map(), // month key → [Entry]
  reportable: { parcels: [], blocks: [] },
  filter: { text: '', kind: '', status: 'open' },
  limit: LIST_STEP,
};

// ---- small helpers --------------------------------------------------------------------------

const key = (m) => `${m.year}-${String(m.month).padStart(2, '0')}`;
const selectedMonth = () => state.months.find((m) => key(m) === state.selected) || null;
const unitParam = () => (state.isAdmin && state.unit ? { unit: state.unit.code } : {});

function setStatus(text) { statusEl.textContent = text; }

/** An ISO time as people read it in Tongxiang: 2024-01-05 14:30. */
function when(iso) {
  if (!iso) return R.dash;
  const parts = Object.fromEntries(new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function field(label, control, { hint = null, name = null, cls = '' } = {}) {
  const wrap = h('div', { class: `field ${cls}`.trim(), 'data-field': name });
  const id = control.id || `f-${name || Math.random().toString(36).slice(2)}`;
  control.id = id;
  wrap.append(h('label', { class: 'label', for: id }, label), control);
  if (hint) wrap.append(h('span', { class: 'hint' }, hint));
  return wrap;
}

/** A file field: the native input hidden inside a button-like label (its own text is the browser's, not
 * ours), the chosen files' names beside it when ``chosen``. */
function fileField(label, input, { hint = null, name = null, button = R.form.choose, chosen = true } = {}) {
  input.classList.add('file-input');
  input.setAttribute('aria-label', label);
  const wrap = h('div', { class: 'field file-field', 'data-field': name });
  const names = h('span', { class: 'chosen hint', 'aria-live': 'polite' }, chosen ? R.form.noFile : '');
  input.addEventListener('change', () => {
    if (chosen) names.textContent = input.files.length ? [...input.files].map((f) => f.name).join('、') : R.form.noFile;
  });
  wrap.append(h('span', { class: 'label' }, label), h('span', { class: 'file-pick' },
    h('label', { class: 'button file-button' }, button, input), chosen ? names : ''));
  if (hint) wrap.append(h('span', { class: 'hint' }, hint));
  return wrap;
}

/** Each body cell names its column (data-label), for the phone layout that stacks a row's cells. */
function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((cell, i) => {
      if (heads[i] && !cell.hasAttribute('colspan')) cell.dataset.label = heads[i];
    });
  }
}

function thead(...names) {
  return h('thead', {}, h('tr', {}, ...names.map((n) => (Array.isArray(n) ? h('th', { class: n[1] }, n[0]) : h('th', {}, n)))));
}

function say(box, text, cls = 'ok') {
  box.textContent = '';
  box.append(h('p', { class: cls, role: cls === 'ok' ? 'status' : 'alert' }, text));
}

function busy(button, on, text) {
  if (on) {
    button.dataset.idle = button.textContent;
    button.textContent = text;
    button.disabled = true;
  } else {
    button.textContent = button.dataset.idle || button.textContent;
    button.disabled = false;
  }
}

function statusBadge(status, label) {
  const marks = { submitted: '✓', returned: '↩', overdue: '!', not_submitted: '○' };
  return h('span', { class: `badge status-${status}` }, h('span', { 'aria-hidden': 'true' }, marks[status] || '○'), ' ', label);
}

function monthStatus(m) {
  const s = m.submission;
  if (m.overview && m.overview.status) return { status: m.overview.status, label: m.overview.status_label || SUBMISSION_LABELS[m.overview.status] };
  if (!s) return { status: 'not_submitted', label: SUBMISSION_LABELS.not_submitted };
  return { status: s.status, label: s.status_label || SUBMISSION_LABELS[s.status] };
}

const isLocked = (m) => Boolean(m && monthStatus(m).status === 'submitted');

/** The open month a progress of this day counts in, and whether it is a late record (补报): news about a
 * closed month is filed under the first month still open (as the server files it). */
function targetMonth(day) {
  if (!day || !state.months.length) return null;
  const [y, mo] = day.split('-').map(Number);
  const same = state.months.find((m) => m.year === y && m.month === mo);
  if (same) return { month: same, late: false };
  const oldest = state.months[0];
  if (y * 12 + mo < oldest.year * 12 + oldest.month) return { month: oldest, late: true };
  return null;
}

// ---- loading --------------------------------------------------------------------------------

async function loadMonths() {
  const { data } = await api('/api/progress/reporting/open');
  state.today = data.today;
  if (!state.isAdmin) state.unit = data.unit;
  const months = data.months.map((m) => ({ ...m, overview: null, deadline: null }));
  // The month overview names a moved deadline (and, for an administrator, the chosen unit's submission).
  await Promise.all(months.map(async (m) => {
    try {
      const { data: o } = await api(`/api/progress/reporting${query({ year: m.year, month: m.month })}`);
      m.deadline = { moved: o.deadline_moved, reason: o.deadline_reason };
      if (state.isAdmin && !state.units.length) state.units = o.units.map((u) => ({ code: u.unit_code, name: u.unit_name }));
      if (state.isAdmin && state.unit) {
        const row = o.units.find((u) => u.unit_code === state.unit.code);
        m.overview = row || null;
        m.submission = row ? row.submission : null;
      }
    } catch (err) {
      if (state.isAdmin) throw err;
    }
  }));
  state.months = months;
  if (!state.months.some((m) => key(m) === state.selected)) {
    const todo = state.months.find((m) => !isLocked(m));
    state.selected = state.months.length ? key(todo || state.months[state.months.length - 1]) : null;
  }
}

async function loadEntries() {
  if (!state.unit) return;
  await Promise.all(state.months.map(async (m) => {
    const { data } = await api(`/api/progress/entries${query({ year: m.year, month: m.month, ...unitParam() })}`);
    state.entries.set(key(m), data.entries);
  }));
}

async function loadReportable() {
  if (!state.unit) return;
  const { data } = await api(`/api/progress/reportable${query(unitParam())}`);
  state.reportable = { parcels: data.parcels || [], blocks: data.blocks || [] };
  if (data.unit) state.unit = data.unit;
}

/** Everything again (after a report, a withdrawal, a submission or an import). */
async function reload() {
  await loadMonths();
  await Promise.all([loadEntries(), loadReportable()]);
  renderAll();
}

// ---- the unit picker (administrators) --------------------------------------------------------

function renderUnitPick() {
  const box = document.getElementById('unit-pick');
  if (!state.isAdmin) { box.hidden = true; return; }
  box.hidden = false;
  box.textContent = '';
  const select = h('select', { id: 'unit-select' }, h('option', { value: '' }, R.unit.choose));
  for (const u of state.units) select.append(h('option', { value: u.code }, u.name));
  select.value = state.unit ? state.unit.code : '';
  select.addEventListener('change', async () => {
    const u = state.units.find((x) => x.code === select.value) || null;
    state.unit = u;
    const next = new URLSearchParams(location.search);
    if (u) next.set('unit', u.code); else next.delete('unit');
    next.delete('parcel');
    history.replaceState(null, '', `${location.pathname}${next.toString() ? `?${next}` : ''}`);
    state.entries.clear();
    state.reportable = { parcels: [], blocks: [] };
    await run(reload);
  });
  box.append(field(R.unit.label, select, { hint: R.unit.hint, name: 'unit', cls: 'inline' }));
}

// ---- the open months ------------------------------------------------------------------------

function renderMonths() {
  const section = document.getElementById('months');
  const host = document.getElementById('month-cards');
  host.textContent = '';
  if (!state.months.length) {
    host.append(h('p', { class: 'notice' }, R.months.none));
    section.dataset.state = 'ready';
    return;
  }
  for (const m of state.months) host.append(monthCard(m));
  section.dataset.state = 'ready';
}

function monthCard(m) {
  const k = key(m);
  const { status, label } = monthStatus(m);
  const s = m.submission;
  const entries = (state.entries.get(k) || []).filter((e) => !e.withdrawn).length;
  const card = h('article', { class: 'month-card', 'data-month': k, 'data-status': status, 'aria-labelledby': `month-${k}` });
  if (k === state.selected) card.classList.add('selected');
  const show = h('button', { type: 'button', class: 'small show-month', 'aria-pressed': String(k === state.selected) },
    k === state.selected ? R.months.showing : R.months.show);
  show.addEventListener('click', () => { state.selected = k; renderAll(); });
  card.append(
    h('div', { class: 'month-head' }, h('h4', { id: `month-${k}` }, m.label), statusBadge(status, label)),
    h('p', { class: 'due' }, `${R.months.due(m.due_on)} · `, h('strong', {}, R.months.daysLeft(m.days_left))),
  );
  if (m.deadline && m.deadline.moved) card.append(h('p', { class: 'hint moved' }, R.months.moved(m.deadline.reason)));
  if (state.unit) card.append(h('p', { class: 'count' }, R.months.entries(entries)));
  if (s && s.status === 'submitted') {
    card.append(h('p', { class: 'when' }, R.months.submittedAt(when(s.submitted_at), s.submitted_by_name || R.dash)));
    if (s.summary) card.append(h('p', { class: 'summary' }, R.months.yourSummary(s.summary)));
    card.append(h('p', { class: 'hint locked' }, R.months.locked));
  } else if (s && s.status === 'returned') {
    card.append(h('div', { class: 'returned', role: 'note' },
      h('p', {}, R.months.returnedAt(when(s.returned_at), s.returned_by_name || R.dash)),
      h('p', { class: 'reason' }, R.months.returnReason(s.return_reason || R.dash)),
      h('p', { class: 'hint' }, R.months.reopened)));
  }
  const box = h('div', { class: 'message', 'aria-live': 'polite' });
  if (state.unit && status !== 'submitted') {
    const summary = h('textarea', { id: `summary-${k}`, name: 'summary', rows: '1', maxlength: '2000', placeholder: R.months.summaryHint });
    if (s && s.summary) summary.value = s.summary;
    const submit = h('button', { type: 'button', class: 'primary submit-month' }, R.months.submit);
    submit.addEventListener('click', () => submitMonth(m, summary, submit, box));
    card.append(field(R.months.summary, summary, { name: 'summary' }),
      h('p', { class: 'actions' }, submit, show));
  } else {
    card.append(h('p', { class: 'actions' }, show));
  }
  card.append(box);
  return card;
}

async function submitMonth(m, summary, button, box) {
  const entries = (state.entries.get(key(m)) || []).filter((e) => !e.withdrawn).length;
  const ok = await confirmAction(R.months.confirm(m.label), { lines: R.months.confirmLines(m.label, entries), ok: R.months.confirmOk });
  if (!ok) { button.focus(); return; }
  busy(button, true, R.months.submitting);
  try {
    const payload = { year: m.year, month: m.month, ...unitParam() };
    if (summary.value.trim()) payload.summary = summary.value.trim();
    await api('/api/progress/submissions', { method: 'POST', body: payload });
    state.selected = key(m);
    await reload();
    say(pageBox, R.months.submitted(m.label));
    document.querySelector(`.month-card[data-month="${key(m)}"] h4`)?.setAttribute('tabindex', '-1');
    document.querySelector(`.month-card[data-month="${key(m)}"] h4`)?.focus();
  } catch (err) {
    busy(button, false);
    showFieldErrors(button.closest('.month-card'), box, err);
  }
}

// ---- the unit's parcels and blocks ------------------------------------------------------------

function rows() {
  const out = [];
  for (const p of state.reportable.parcels) {
    out.push({ kind: 'parcel', code: p.code, label: R.list.parcel(p.code), item: p, enterprise: p.enterprise_name,
      block: p.block_name || (p.block_code ? p.block_code : R.list.scattered), status: p.status, statusLabel: p.status_label,
      area: p.land_area_mu, completedOn: p.completed_on, lastReported: p.last_reported_on,
      text: [p.code, p.enterprise_name, p.block_name, p.block_code].filter(Boolean).join(' ').toLowerCase() });
  }
  for (const b of state.reportable.blocks) {
    out.push({ kind: 'block', code: b.code, label: R.list.blockName(b.name), item: b, enterprise: null, block: b.code,
      status: b.stage, statusLabel: b.stage_label, area: null, completedOn: b.completed_on, lastReported: b.last_reported_on,
      text: [b.code, b.name].filter(Boolean).join(' ').toLowerCase() });
  }
  return out;
}

function matches(r) {
  const f = state.filter;
  if (f.kind && r.kind !== f.kind) return false;
  if (f.status === 'open' && r.status === 'completed') return false;
  if (f.status === 'done' && r.status !== 'completed') return false;
  if (f.status.includes(':')) {
    const [kind, status] = f.status.split(':');
    if (r.kind !== kind || r.status !== status) return false;
  }
  if (f.text) {
    const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.every((w) => r.text.includes(w))) return false;
  }
  return true;
}

function buildTools() {
  const tools = document.getElementById('reportable-tools');
  const text = h('input', { id: 'reportable-search', type: 'search', placeholder: R.list.searchPlaceholder, autocomplete: 'off' });
  const kind = h('select', { id: 'reportable-kind' },
    h('option', { value: '' }, R.list.kindAll), h('option', { value: 'parcel' }, R.list.kindParcel), h('option', { value: 'block' }, R.list.kindBlock));
  const status = h('select', { id: 'reportable-status' },
    h('option', { value: '' }, R.list.statusAll), h('option', { value: 'open' }, R.list.open), h('option', { value: 'done' }, PARCEL_STATUSES[3][1]));
  const pg = h('optgroup', { label: R.list.kindParcel });
  for (const [code, label] of PARCEL_STATUSES) pg.append(h('option', { value: `parcel:${code}` }, label));
  const bg = h('optgroup', { label: R.list.kindBlock });
  for (const [code, label] of BLOCK_STAGES) bg.append(h('option', { value: `block:${code}` }, label));
  status.append(pg, bg);
  status.value = state.filter.status;
  text.addEventListener('input', () => { state.filter.text = text.value.trim(); state.limit = LIST_STEP; renderReportable(); });
  kind.addEventListener('change', () => { state.filter.kind = kind.value; state.limit = LIST_STEP; renderReportable(); });
  status.addEventListener('change', () => { state.filter.status = status.value; state.limit = LIST_STEP; renderReportable(); });
  tools.append(field(R.list.search, text, { name: 'search', cls: 'inline grow' }), field(R.list.kind, kind, { name: 'kind', cls: 'inline' }),
    field(R.list.status, status, { name: 'status', cls: 'inline' }));
}

function allLocked() {
  return state.months.length > 0 && state.months.every(isLocked);
}

function renderReportable() {
  const section = document.getElementById('reportable');
  const table = document.getElementById('reportable-table');
  const count = document.getElementById('reportable-count');
  table.textContent = '';
  if (!state.unit) {
    count.textContent = R.unit.pick;
    section.dataset.state = 'ready';
    return;
  }
  const all = rows();
  const shown = all.filter(matches);
  const limit = state.limit;
  count.textContent = R.list.count(Math.min(shown.length, limit), all.length);
  table.append(thead(R.list.subject, R.list.enterprise, R.list.block, R.list.status, [R.list.area, 'num'], R.list.completedOn,
    R.list.lastReported, R.list.actions));
  const tbody = h('tbody');
  const locked = allLocked();
  for (const r of shown.slice(0, limit)) {
    const button = h('button', { type: 'button', class: 'small report', 'aria-label': R.list.reportOf(r.label), disabled: locked },
      R.list.report);
    button.addEventListener('click', () => openForm(r, button));
    const cell = (value, cls = '') => h('td', { class: `${cls}${value ? '' : ' empty'}`.trim() || null }, value || R.dash);
    tbody.append(h('tr', { 'data-kind': r.kind, 'data-code': r.code, 'data-status': r.status },
      h('td', { class: 'subject' }, r.label),
      cell(r.enterprise),
      cell(r.block),
      h('td', {}, h('span', { class: `pill st-${r.status}` }, r.statusLabel || R.dash)),
      cell(r.area === null || r.area === undefined ? null : mu(r.area), 'num'),
      cell(r.completedOn),
      cell(r.lastReported),
      h('td', { class: 'row-actions' }, button)));
  }
  if (!shown.length) tbody.append(h('tr', {}, h('td', { colspan: '8', class: 'hint' }, R.list.none)));
  table.append(tbody);
  labelCells(table);
  const more = document.getElementById('reportable-more');
  more.textContent = '';
  if (shown.length > limit) {
    count.textContent += `；${R.list.more(shown.length - limit)}`;
    const next = h('button', { type: 'button', id: 'reportable-show-more' }, R.list.showMore(Math.min(LIST_STEP, shown.length - limit)));
    next.addEventListener('click', () => {
      state.limit += LIST_STEP;
      renderReportable();
      document.querySelectorAll('#reportable-table tbody tr')[limit]?.querySelector('button')?.focus();
    });
    more.append(next);
  }
  if (locked) count.textContent += `；${R.months.locked}`;
  section.dataset.state = 'ready';
}

// ---- the report form -----------------------------------------------------------------------

function statusOptions(r) {
  return r.kind === 'parcel' ? PARCEL_STATUSES : BLOCK_STAGES;
}

function openForm(r, opener) {
  const dialog = h('dialog', { class: 'entry-dialog', id: 'entry-dialog', 'aria-labelledby': 'entry-h', 'data-state': 'editing',
    'data-code': r.code, 'data-kind': r.kind });
  const form = h('form', { id: 'entry-form', novalidate: true });
  const box = h('div', { class: 'message', id: 'entry-message', 'aria-live': 'polite' });
  const closeX = h('button', { type: 'button', class: 'close', 'aria-label': R.form.close, title: R.form.close }, '×');

  const status = h('select', { name: 'status' });
  const options = statusOptions(r);
  for (const [code, label] of options) status.append(h('option', { value: code }, label));
  const at = options.findIndex(([code]) => code === r.status);
  status.value = options[Math.min(at + 1, options.length - 1)][0];

  const day = h('input', { type: 'date', name: 'happened_on', max: state.today, required: true });
  day.value = state.today;
  const dayNote = h('span', { class: 'hint into', 'aria-live': 'polite' });

  const built = h('input', { type: 'number', name: 'built_floor_area_m2', min: '0', step: '0.01', inputmode: 'decimal' });
  if (r.item.built_floor_area_m2 !== null && r.item.built_floor_area_m2 !== undefined) built.value = String(r.item.built_floor_area_m2);
  const note = h('textarea', { name: 'note', rows: '2', maxlength: '2000' });

  const files = h('input', { type: 'file', name: 'file', multiple: true, accept: '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png' });
  const list = h('ul', { class: 'evidence-list', id: 'evidence-list' });
  const uploads = []; // {file, li, state: 'uploading'|'uploaded'|'refused', evidence}

  const save = h('button', { type: 'submit', class: 'primary' }, R.form.save);
  const cancel = h('button', { type: 'button' }, R.form.cancel);

  const header = h('div', { class: 'dialog-head' }, h('h3', { id: 'entry-h' }, R.form.heading(r.label)), closeX);
  const facts = h('p', { class: 'hint' }, [R.form.current(r.statusLabel || R.dash), r.enterprise, r.area ? R.form.area(mu(r.area)) : null]
    .filter(Boolean).join(' · '));
  form.append(header, facts,
    field(R.form.status, status, { name: 'status' }),
    field(R.form.happenedOn, day, { name: 'happened_on', hint: R.form.happenedHint }));
  form.querySelector('[data-field=happened_on]').append(dayNote);
  if (r.kind === 'parcel') form.append(field(R.form.built, built, { name: 'built_floor_area_m2', hint: R.form.builtHint }));
  form.append(field(R.form.note, note, { name: 'note', hint: R.form.noteHint }));
  const evidenceField = fileField(R.form.evidence, files, { name: 'evidence', hint: R.form.evidenceHint, chosen: false });
  evidenceField.append(list);
  form.append(evidenceField, box, h('p', { class: 'actions' }, save, cancel));
  dialog.append(form);
  document.body.append(dialog);

  const showInto = () => {
    const t = targetMonth(day.value);
    dayNote.classList.remove('error');
    if (!t) { dayNote.textContent = ''; return; }
    if (isLocked(t.month)) {
      dayNote.textContent = R.form.monthLocked(t.month.label);
      dayNote.classList.add('error');
    } else {
      dayNote.textContent = t.late ? R.form.lateInto(t.month.label) : R.form.into(t.month.label);
    }
  };
  day.addEventListener('change', showInto);
  day.addEventListener('input', showInto);
  showInto();

  const finish = () => {
    dialog.close();
    dialog.remove();
    const again = document.querySelector(`#reportable-table tr[data-kind="${r.kind}"][data-code="${CSS.escape(r.code)}"] button.report`);
    (opener && opener.isConnected ? opener : again)?.focus();
  };
  cancel.addEventListener('click', finish);
  closeX.addEventListener('click', finish);
  dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(); });

  files.addEventListener('change', () => {
    for (const file of [...files.files]) uploadEvidence(file, uploads, list);
    files.value = '';
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    box.textContent = '';
    if (uploads.some((u) => u.state === 'uploading')) { say(box, R.form.waitUploads, 'error'); return; }
    const local = [];
    if (!day.value) local.push({ field: 'happened_on', message: R.form.required(R.form.happenedOn) });
    else if (state.today && day.value > state.today) local.push({ field: 'happened_on', message: R.form.future });
    if (built.value.trim() !== '' && !(Number(built.value) >= 0)) local.push({ field: 'built_floor_area_m2', message: R.form.builtBad });
    if (local.length) {
      showFieldErrors(form, box, { message: R.form.fixMarked, errors: local }, () => null, { list: false });
      return;
    }
    const payload = {
      [r.kind === 'parcel' ? 'parcel_code' : 'block_code']: r.code,
      status: status.value,
      happened_on: day.value,
      evidence: uploads.filter((u) => u.state === 'uploaded').map((u) => u.evidence.id),
      ...unitParam(),
    };
    if (r.kind === 'parcel' && built.value.trim() !== '') payload.built_floor_area_m2 = Number(built.value);
    if (note.value.trim()) payload.note = note.value.trim();
    dialog.dataset.state = 'saving';
    busy(save, true, R.form.saving);
    try {
      const { data: entry } = await api('/api/progress/entries', { method: 'POST', body: payload });
      dialog.dataset.state = 'saved';
      dialog.close();
      dialog.remove();
      state.selected = key(entry);
      await reload();
      say(pageBox, R.form.saved(entry.subject_label || r.label, entry.status_label) + (entry.late ? R.form.late : ''));
      const row = document.querySelector(`#entries-table tr[data-entry="${entry.id}"]`);
      row?.setAttribute('tabindex', '-1');
      row?.focus();
    } catch (err) {
      dialog.dataset.state = 'refused';
      busy(save, false);
      // A refusal about the month (already submitted) belongs to the date that chose the month.
      const locate = (e) => form.querySelector(`[data-field="${CSS.escape(e.field === 'month' ? 'happened_on' : (e.field || ''))}"]`);
      const named = (err.errors || []).filter((e) => e.field && locate(e));
      if (named.length && named.length === err.errors.length) {
        showFieldErrors(form, box, { message: err.status === 409 ? err.message : R.form.fixMarked, errors: err.errors }, locate,
          { list: false });
      } else {
        showFieldErrors(form, box, err, locate);
      }
    }
  });

  dialog.showModal();
  status.focus();
}

async function uploadEvidence(file, uploads, list) {
  const item = { file, state: 'uploading', evidence: null };
  const text = h('span', { class: 'file-state' }, R.form.uploading);
  const remove = h('button', { type: 'button', class: 'small link remove', 'aria-label': R.form.removeOf(file.name) }, R.form.remove);
  const li = h('li', { 'data-state': 'uploading', 'data-file': file.name },
    h('span', { class: 'file-name' }, file.name), ' ', h('span', { class: 'hint' }, R.form.size(file.size)), ' ', text, ' ', remove);
  item.li = li;
  uploads.push(item);
  list.append(li);
  remove.addEventListener('click', () => {
    uploads.splice(uploads.indexOf(item), 1);
    li.remove();
    list.closest('form')?.querySelector('input[type=file]')?.focus();
  });
  const form = new FormData();
  form.append('file', file, file.name);
  if (state.isAdmin && state.unit) form.append('unit', state.unit.code);
  try {
    const { data } = await api(`/api/progress/evidence${query(unitParam())}`, { method: 'POST', form });
    item.state = 'uploaded';
    item.evidence = data;
    li.dataset.state = 'uploaded';
    text.className = 'file-state ok';
    text.textContent = R.form.uploaded;
    li.querySelector('.file-name').replaceWith(h('a', { class: 'file-name', href: data.url, target: '_blank', rel: 'noopener' }, data.filename || file.name));
  } catch (err) {
    item.state = 'refused';
    li.dataset.state = 'refused';
    text.className = 'file-state error';
    text.setAttribute('role', 'alert');
    text.textContent = err.message;
  }
}

// ---- the month's reports --------------------------------------------------------------------

function evidenceLinks(list) {
  if (!list || !list.length) return R.entries.noEvidence;
  const ul = h('ul', { class: 'files' });
  for (const e of list) {
    ul.append(h('li', {}, h('a', { href: e.url, target: '_blank', rel: 'noopener', class: 'evidence-link', 'data-evidence': String(e.id),
      title: R.entries.openFile(e.filename) }, e.filename), ' ', h('span', { class: 'hint' }, R.form.size(e.size_bytes || 0))));
  }
  return ul;
}

function renderEntries() {
  const section = document.getElementById('entries');
  const table = document.getElementById('entries-table');
  const head = document.getElementById('entries-h');
  const box = document.getElementById('entries-message');
  table.textContent = '';
  const m = selectedMonth();
  if (!m || !state.unit) {
    head.textContent = R.entries.heading('');
    section.dataset.state = 'ready';
    return;
  }
  head.textContent = R.entries.heading(m.label);
  const list = state.entries.get(key(m)) || [];
  box.textContent = '';
  if (!list.length) {
    box.append(h('p', { class: 'hint' }, R.entries.none));
    section.dataset.state = 'ready';
    return;
  }
  table.append(thead(R.entries.subject, R.entries.change, R.entries.happenedOn, [R.entries.built, 'num'], R.entries.note,
    R.entries.evidence, R.entries.by, R.entries.actions));
  const tbody = h('tbody');
  for (const e of list) {
    const subject = h('td', { class: 'subject' }, e.subject_label);
    if (e.late) subject.append(' ', h('span', { class: 'badge late', title: R.entries.lateTitle }, R.entries.late));
    if (e.withdrawn) subject.append(' ', h('span', { class: 'badge withdrawn' }, R.entries.withdrawn));
    const actions = h('td', { class: 'row-actions' });
    if (e.can_withdraw && !e.withdrawn) {
      const undo = h('button', { type: 'button', class: 'small danger withdraw', 'aria-label': `${R.entries.withdraw}：${e.subject_label}` },
        R.entries.withdraw);
      undo.addEventListener('click', () => withdraw(e, undo, box));
      actions.append(undo);
    }
    tbody.append(h('tr', { 'data-entry': String(e.id), 'data-code': e.parcel_code || e.block_code, class: e.withdrawn ? 'withdrawn' : null,
      'data-late': String(Boolean(e.late)) },
      subject,
      h('td', {}, R.entries.changeText(e.previous_status_label, e.status_label)),
      h('td', {}, e.happened_on),
      h('td', { class: 'num' }, e.built_floor_area_m2 === null || e.built_floor_area_m2 === undefined ? R.dash : num(e.built_floor_area_m2, 0)),
      h('td', { class: 'note' }, e.note || R.dash),
      h('td', {}, evidenceLinks(e.evidence)),
      h('td', {}, R.entries.byText(e.recorded_by_name || e.recorded_by || R.dash, when(e.recorded_at))),
      actions));
  }
  table.append(tbody);
  labelCells(table);
  section.dataset.state = 'ready';
}

async function withdraw(e, button, box) {
  const ok = await confirmAction(R.entries.withdrawConfirm(e.subject_label), { lines: R.entries.withdrawLines, ok: R.entries.withdrawOk });
  if (!ok) { button.focus(); return; }
  busy(button, true, R.entries.withdrawing);
  try {
    await api(`/api/progress/entries/${encodeURIComponent(e.id)}`, { method: 'DELETE' });
    await reload();
    say(document.getElementById('entries-message'), R.entries.withdrawnDone(e.subject_label));
  } catch (err) {
    busy(button, false);
    showError(box, err);
  }
}

// ---- Excel 批量报送 ----------------------------------------------------------------------------

function renderBulk() {
  const section = document.getElementById('bulk');
  const host = document.getElementById('bulk-body');
  host.textContent = '';
  const m = selectedMonth();
  if (!m || !state.unit) { section.hidden = !state.isAdmin; return; }
  section.hidden = false;
  const template = h('a', { class: 'button', id: 'bulk-template', download: true,
    href: `/api/progress/entries/template.xlsx${query({ year: m.year, month: m.month, ...unitParam() })}` }, R.bulk.template);
  const sheet = h('input', { type: 'file', id: 'bulk-sheet', name: 'file', accept: '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
  const evidence = h('input', { type: 'file', id: 'bulk-evidence', name: 'evidence', multiple: true, accept: '.pdf,.jpg,.jpeg,.png' });
  const upload = h('button', { type: 'submit', class: 'primary', id: 'bulk-upload' }, R.bulk.upload);
  const box = h('div', { class: 'message', id: 'bulk-message', 'aria-live': 'polite' });
  const result = h('div', { id: 'bulk-result' });
  const form = h('form', { id: 'bulk-form', novalidate: true },
    h('div', { class: 'bulk-grid' }, fileField(R.bulk.sheet, sheet, { name: 'file', button: R.bulk.chooseSheetButton }),
      fileField(R.bulk.evidence, evidence, { name: 'evidence' })),
    h('p', { class: 'actions' }, upload));
  host.append(h('p', { class: 'hint' }, R.bulk.intro), h('p', {}, template), form, box, result);
  if (isLocked(m)) {
    upload.disabled = true;
    sheet.disabled = true;
    evidence.disabled = true;
    say(box, R.months.locked, 'hint');
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    result.textContent = '';
    if (!sheet.files.length) {
      showFieldErrors(form, box, { message: R.bulk.chooseSheet, errors: [{ field: 'file', message: R.bulk.chooseSheet }] }, () => null, { list: false });
      return;
    }
    const data = new FormData();
    data.append('file', sheet.files[0], sheet.files[0].name);
    for (const f of evidence.files) data.append('evidence', f, f.name);
    data.append('year', String(m.year));
    data.append('month', String(m.month));
    if (state.isAdmin && state.unit) data.append('unit', state.unit.code);
    section.dataset.state = 'checking';
    busy(upload, true, R.bulk.uploading);
    try {
      const { data: report } = await api('/api/progress/entries/imports', { method: 'POST', form: data });
      box.textContent = '';
      showImport(report, result, box, m);
      section.dataset.state = 'checked';
    } catch (err) {
      section.dataset.state = 'refused';
      showFieldErrors(form, box, err);
    } finally {
      busy(upload, false);
    }
  });
  section.dataset.state = 'idle';
}

function problemText(row, p) {
  const label = FIELD_LABELS[p.field] || null;
  if (p.message.includes(`第 ${row} 行`) || p.message.includes(`第${row}行`)) return p.message;
  return R.bulk.problem(row, label && !p.message.startsWith(label) ? label : null, p.message);
}

function showImport(report, host, box, m) {
  const section = document.getElementById('bulk');
  host.textContent = '';
  host.dataset.import = String(report.id);
  host.dataset.canCommit = String(Boolean(report.can_commit));
  host.append(h('p', { class: 'counts', id: 'bulk-counts' }, R.bulk.counts(report.counts)));
  const table = h('table', { class: 'data stack', id: 'bulk-rows' });
  table.append(thead(R.bulk.row, R.bulk.code, R.bulk.status, R.bulk.happenedOn, [R.bulk.built, 'num'], R.bulk.evidenceFiles,
    R.bulk.note, R.bulk.problems));
  const tbody = h('tbody');
  // Rows left blank (无变化) are hidden unless asked for: the sheet lists every parcel of the unit.
  const quiet = report.rows.filter((r) => !(r.problems || []).length && !r.status).length;
  const showQuiet = h('input', { type: 'checkbox', id: 'bulk-show-unchanged' });
  showQuiet.addEventListener('change', () => { table.classList.toggle('show-unchanged', showQuiet.checked); });
  if (quiet) host.append(h('label', { class: 'check' }, showQuiet, R.bulk.showUnchanged(quiet)));
  for (const r of report.rows) {
    const problems = r.problems || [];
    const cell = h('td', { class: 'problems' });
    if (problems.length) {
      const ul = h('ul', { class: 'error-list' });
      for (const p of problems) ul.append(h('li', { 'data-field': p.field || '' }, problemText(r.row, p)));
      cell.append(ul);
    } else {
      cell.append(h('span', { class: 'ok' }, r.status ? R.bulk.ok : R.bulk.unchanged));
    }
    tbody.append(h('tr', { 'data-row': String(r.row), class: problems.length ? 'problem' : (r.status ? null : 'unchanged') },
      h('td', { class: 'row-no' }, R.bulk.rowText(r.row)),
      h('td', {}, r.parcel_code || R.dash),
      h('td', {}, r.status_label || R.dash),
      h('td', {}, r.happened_on || R.dash),
      h('td', { class: 'num' }, r.built_floor_area_m2 === null || r.built_floor_area_m2 === undefined ? R.dash : num(r.built_floor_area_m2, 0)),
      h('td', { class: 'evidence-files' }, (r.evidence_files || []).join('；') || R.dash),
      h('td', { class: 'note' }, r.note || R.dash),
      cell));
  }
  table.append(tbody);
  labelCells(table);
  host.append(h('div', { class: 'table-wrap' }, table));
  const commit = h('button', { type: 'button', class: 'primary', id: 'bulk-commit', disabled: !report.can_commit }, R.bulk.commit);
  host.append(h('p', { class: 'actions' }, commit));
  if (!report.can_commit) {
    const bad = report.counts ? report.counts.problems : report.rows.filter((r) => (r.problems || []).length).length;
    say(box, R.bulk.blocked(bad), 'error');
  }
  commit.addEventListener('click', async () => {
    const ok = await confirmAction(R.bulk.confirm(report.counts.ok, m.label), { lines: R.bulk.confirmLines, ok: R.bulk.confirmOk });
    if (!ok) { commit.focus(); return; }
    section.dataset.state = 'committing';
    busy(commit, true, R.bulk.committing);
    try {
      const { data } = await api(`/api/progress/entries/imports/${encodeURIComponent(report.id)}/commit`, { method: 'POST' });
      await reload();
      const b = document.getElementById('bulk-message');
      say(b, R.bulk.committed(data.entries));
      document.getElementById('bulk').dataset.state = 'committed';
    } catch (err) {
      section.dataset.state = 'refused';
      busy(commit, false);
      showError(box, err);
    }
  });
}

// ---- the page -------------------------------------------------------------------------------

function renderAll() {
  renderUnitPick();
  renderMonths();
  renderReportable();
  renderEntries();
  renderBulk();
  const m = selectedMonth();
  setStatus(state.unit ? [state.unit.name, m ? m.label : null].filter(Boolean).join(' · ') : R.unit.pick);
}

async function run(task) {
  body.dataset.reportingState = 'loading';
  setStatus(R.loading);
  try {
    await task();
    body.dataset.reportingState = 'ready';
  } catch (err) {
    body.dataset.reportingState = 'error';
    setStatus(R.loadFailed(err.message));
    showError(pageBox, err);
  }
}

function openDeepLink() {
  const code = params.get('parcel');
  if (!code || !state.unit) return;
  const r = rows().find((x) => x.kind === 'parcel' && x.code === code);
  if (!r) { say(pageBox, R.form.notFound(code), 'error'); return; }
  // Show the parcel's row (whatever the filter) and open its form.
  state.filter = { text: code, kind: '', status: '' };
  document.getElementById('reportable-search').value = code;
  document.getElementById('reportable-status').value = '';
  renderReportable();
  const button = document.querySelector(`#reportable-table tr[data-kind=parcel][data-code="${CSS.escape(code)}"] button.report`);
  openForm(r, button);
}

async function main() {
  document.getElementById('intro').textContent = R.intro;
  const user = await mountShell({ page: 'reporting', roles: ['unit_officer', 'admin'] });
  if (!user) { body.dataset.reportingState = 'ready'; return; }
  state.user = user;
  state.isAdmin = user.role === 'admin';
  if (state.isAdmin && params.get('unit')) state.unit = { code: params.get('unit'), name: params.get('unit') };
  buildTools();
  await run(async () => {
    await loadMonths();
    if (state.isAdmin && state.unit) {
      state.unit = state.units.find((u) => u.code === state.unit.code) || null;
      if (!state.unit) for (const m of state.months) { m.overview = null; m.submission = null; }
    }
    await Promise.all([loadEntries(), loadReportable()]);
    renderAll();
    openDeepLink();
  });
}

main().catch((err) => {
  body.dataset.reportingState = 'error';
  setStatus(R.loadFailed(err.message));
  showError(pageBox, err);
});
