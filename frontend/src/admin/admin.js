// 系统管理: the administrator runs the programme from here — a year's targets, the scoring
// configuration, users, the API keys of other departments' systems, the monthly report, and
// the units' monthly reporting (月报报送: who has submitted, 退回, 调整截止日).
// Every check that matters is the server's; this page shows its answers beside the fields they
// name. The page's state is on <body data-admin-state> and each panel's data-state, for people
// and tests.

import { api, clearFieldErrors, confirmAction, fetchJson, h, num, showError, showFieldErrors } from '../common/api.js';
import { mountShell } from '../common/shell.js';
import { A, ROLES } from './strings.js';
import { buildEvalConfig } from './evalconfig.js';

const FIRST_YEAR = 2022;
const LAST_YEAR = 2033; // the service accepts targets up to ten years after the programme
const SECTIONS = ['targets', 'scoring', 'plans', 'users', 'keys', 'reports', 'reporting', 'evalconfig'];
const statusEl = document.getElementById('admin-status');
const loaded = new Set();
let periods = null; // years with targets, the default month (GET /api/progress/periods)
let units = null; // [{code, name}]

// ---- small helpers --------------------------------------------------------------------------

function setStatus(text) { statusEl.textContent = text; }

/** An ISO time as people read it in Tongxiang: 2024-01-05 14:30. */
function when(iso) {
  if (!iso) return A.dash;
  const parts = Object.fromEntries(new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function field(label, control, { hint = null, name = null, cls = '' } = {}) {
  const wrap = h('label', { class: `field ${cls}`.trim(), 'data-field': name });
  wrap.append(h('span', { class: 'label' }, label), control);
  if (hint) wrap.append(h('span', { class: 'hint' }, hint));
  return wrap;
}

function yearOptions(select, years, selected, { marked = [] } = {}) {
  select.textContent = '';
  for (const y of years) select.append(h('option', { value: String(y) }, A.yearOption(y, marked.includes(y))));
  select.value = String(selected);
}

/** Each body cell names its column (data-label), for the phone layout that stacks a row's cells. */
function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((cell, i) => {
      if (heads[i] && cell.tagName === 'TD' && !cell.hasAttribute('colspan')) cell.dataset.label = heads[i];
    });
  }
}

function range(a, b) { return Array.from({ length: b - a + 1 }, (_, i) => a + i); }

/** A refusal beside the fields it names (inside ``root``), with a Chinese summary in ``box``. */
function refuse(root, box, err) {
  const located = (err.errors || []).filter((e) => e.field && root.querySelector(`[data-field="${CSS.escape(e.field)}"]`));
  if (located.length && located.length === (err.errors || []).length) {
    showFieldErrors(root, box, { message: A.fixMarked, errors: err.errors }, () => null, { list: false });
  } else {
    showFieldErrors(root, box, err);
  }
}

function clearErrors(root, box) {
  clearFieldErrors(root);
  if (box) box.textContent = '';
}

function localError(errors) {
  return { message: A.fixMarked, errors };
}

function done(box, text) {
  box.textContent = '';
  box.append(h('p', { class: 'ok', role: 'status' }, text));
}

function busy(button, on, text = A.saving) {
  if (on) {
    button.dataset.label = button.textContent;
    button.textContent = text;
    button.disabled = true;
  } else {
    button.textContent = button.dataset.label || button.textContent;
    button.disabled = false;
  }
}

function panelState(panel, state) { panel.dataset.state = state; }

/** Parse a 亩 figure typed by a person: '' → null; otherwise a number with at most two decimals. */
function parseMu(text, label) {
  const t = String(text).trim();
  if (t === '') return { value: null };
  if (!/^\d+(\.\d+)?$/.test(t)) return { error: /^-/.test(t) ? A.targets.negative(label) : A.targets.notNumber(label) };
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return { error: A.targets.decimals(label) };
  const v = Number(t);
  if (v > 100000) return { error: A.targets.tooLarge(label) };
  return { value: v };
}

async function loadUnits() {
  if (!units) {
    const data = await fetchJson(`/api/progress/targets?year=${FIRST_YEAR}`);
    units = data.units.map((u) => ({ code: u.unit_code, name: u.unit_name }));
  }
  return units;
}

// ---- 年度任务 -------------------------------------------------------------------------------

function buildTargets(panel) {
  const year = h('select', { id: 'targets-year' });
  const box = h('div', { class: 'message', id: 'targets-message', 'aria-live': 'polite' });
  const saveAll = h('button', { type: 'button', class: 'primary', id: 'targets-save-all' }, A.targets.saveAll);
  const tbody = h('tbody');
  const total = h('tfoot');
  const table = h('table', { class: 'data targets stack', id: 'targets-table' },
    h('thead', {}, h('tr', {}, h('th', {}, A.targets.unit), h('th', { class: 'num' }, A.targets.contiguous),
      h('th', { class: 'num' }, A.targets.scattered), h('th', { class: 'num' }, A.targets.total), h('th', {}, A.targets.state))),
    tbody, total);
  panel.append(h('h3', {}, A.targets.heading), h('p', { class: 'hint' }, A.targets.intro),
    h('div', { class: 'toolbar' }, field(A.targets.year, year, { cls: 'inline' }), saveAll),
    box, h('div', { class: 'table-wrap' }, table));
  yearOptions(year, range(FIRST_YEAR, LAST_YEAR), periods.default_year, { marked: periods.years });

  const rows = new Map(); // unit code → row state

  function rowTotal(r) {
    const c = parseMu(r.contiguous.value, '').value ?? 0;
    const s = parseMu(r.scattered.value, '').value ?? 0;
    r.total.textContent = (r.contiguous.value.trim() === '' && r.scattered.value.trim() === '') ? A.dash : num(c + s);
  }

  function cityTotal() {
    let sum = 0;
    for (const r of rows.values()) {
      sum += (parseMu(r.contiguous.value, '').value ?? 0) + (parseMu(r.scattered.value, '').value ?? 0);
    }
    total.textContent = '';
    total.append(h('tr', {}, h('th', {}, A.targets.cityTotal), h('td'), h('td'), h('td', { class: 'num', id: 'targets-city' }, num(sum)), h('td')));
  }

  function markState(r) {
    const dirty = r.contiguous.value.trim() !== r.saved.c || r.scattered.value.trim() !== r.saved.s;
    r.tr.classList.toggle('dirty', dirty);
    r.state.textContent = dirty ? A.targets.dirty : (r.saved.c === '' ? A.targets.notSet : A.targets.set);
    r.dirty = dirty;
  }

  function check(r) {
    const label = (what) => what;
    const c = parseMu(r.contiguous.value, label(A.targets.labelContiguous));
    const s = parseMu(r.scattered.value, label(A.targets.labelScattered));
    const errors = [];
    if (c.error) errors.push({ field: 'contiguous_mu', message: c.error });
    if (s.error) errors.push({ field: 'scattered_mu', message: s.error });
    if (!c.error && !s.error) {
      if (c.value === null) errors.push({ field: 'contiguous_mu', message: A.targets.required(A.targets.labelContiguous) });
      if (s.value === null) errors.push({ field: 'scattered_mu', message: A.targets.required(A.targets.labelScattered) });
    }
    return { errors, contiguous: c.value, scattered: s.value };
  }

  async function saveRow(r, { quiet = false } = {}) {
    clearErrors(r.tr, quiet ? null : box);
    const got = check(r);
    if (got.errors.length) {
      showFieldErrors(r.tr, quiet ? h('div') : box, localError(got.errors), () => null, { list: false });
      return false;
    }
    busy(r.button, true);
    try {
      const { data } = await api(`/api/progress/targets/${encodeURIComponent(r.code)}/${year.value}`, {
        method: 'PUT', etag: r.etag, body: { contiguous_mu: got.contiguous, scattered_mu: got.scattered },
      });
      r.etag = data.etag;
      r.saved = { c: String(data.target.contiguous_mu), s: String(data.target.scattered_mu) };
      r.contiguous.value = r.saved.c;
      r.scattered.value = r.saved.s;
      rowTotal(r);
      markState(r);
      r.state.textContent = A.targets.savedRow;
      if (!quiet) done(box, `${r.name}：${A.targets.savedRow}`);
      return true;
    } catch (err) {
      if (err.status === 409) {
        // Someone changed it meanwhile: show what it is now, beside the row, and keep what was typed.
        const fresh = await fetchJson(`/api/progress/targets?year=${year.value}`);
        const now = fresh.units.find((u) => u.unit_code === r.code);
        r.etag = now.etag;
        r.saved = now.target ? { c: String(now.target.contiguous_mu), s: String(now.target.scattered_mu) } : { c: '', s: '' };
      }
      const errors = (err.errors || []).filter((e) => e.field === 'contiguous_mu' || e.field === 'scattered_mu');
      showFieldErrors(r.tr, quiet ? h('div') : box,
        { message: err.message, errors: errors.length ? errors : [{ field: 'contiguous_mu', message: err.message }] },
        () => null, { list: false });
      markState(r);
      return false;
    } finally {
      busy(r.button, false);
    }
  }

  async function load() {
    panelState(panel, 'loading');
    clearErrors(panel, box);
    const data = await fetchJson(`/api/progress/targets?year=${year.value}`);
    tbody.textContent = '';
    rows.clear();
    for (const u of data.units) {
      const t = u.target;
      const saved = t ? { c: String(t.contiguous_mu), s: String(t.scattered_mu) } : { c: '', s: '' };
      const input = (value, label) => h('input', {
        type: 'text', inputmode: 'decimal', value, 'aria-label': A.targets.rowLabel(u.unit_name, label), size: '8', autocomplete: 'off',
      });
      const contiguous = input(saved.c, A.targets.contiguous);
      const scattered = input(saved.s, A.targets.scattered);
      const totalCell = h('td', { class: 'num' });
      const state = h('span', { class: 'row-state' });
      const button = h('button', { type: 'button', class: 'small' }, A.targets.save);
      const tr = h('tr', { 'data-unit': u.unit_code },
        h('th', { scope: 'row' }, u.unit_name),
        h('td', { class: 'num', 'data-field': 'contiguous_mu' }, contiguous),
        h('td', { class: 'num', 'data-field': 'scattered_mu' }, scattered),
        totalCell, h('td', { class: 'row-actions' }, button, ' ', state));
      const r = { code: u.unit_code, name: u.unit_name, etag: u.etag, saved, contiguous, scattered, total: totalCell, state, button, tr, dirty: false };
      for (const el of [contiguous, scattered]) {
        el.addEventListener('input', () => { rowTotal(r); markState(r); cityTotal(); });
        el.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); saveRow(r); } });
      }
      button.addEventListener('click', () => saveRow(r));
      rows.set(u.unit_code, r);
      rowTotal(r);
      markState(r);
      tbody.append(tr);
    }
    cityTotal();
    labelCells(table);
    panelState(panel, 'ready');
  }

  saveAll.addEventListener('click', async () => {
    clearErrors(panel, box);
    const dirty = [...rows.values()].filter((r) => r.dirty);
    if (!dirty.length) { done(box, A.targets.nothingToSave); return; }
    busy(saveAll, true);
    let ok = 0;
    for (const r of dirty) if (await saveRow(r, { quiet: true })) ok += 1;
    busy(saveAll, false);
    if (ok === dirty.length) done(box, A.targets.savedAll(ok));
    else showError(box, { message: A.targets.savedSome(ok, dirty.length - ok), errors: [] });
    cityTotal();
  });
  year.addEventListener('change', () => load().catch((err) => showError(box, err)));
  return load();
}

// ---- 考核配置 -------------------------------------------------------------------------------

function buildScoring(panel) {
  const year = h('select', { id: 'scoring-year' });
  const meta = h('p', { class: 'hint', id: 'scoring-meta' });
  const form = h('form', { id: 'scoring-form', novalidate: true });
  const box = h('div', { class: 'message', id: 'scoring-message', 'aria-live': 'polite' });
  panel.append(h('h3', {}, A.scoring.heading), h('p', { class: 'hint' }, A.scoring.intro),
    h('div', { class: 'toolbar' }, field(A.scoring.year, year, { cls: 'inline' })), meta, form, box);
  yearOptions(year, range(FIRST_YEAR, LAST_YEAR), periods.default_year, { marked: periods.years });

  let catalogue = {};
  let original = null; // the configuration as read: unchanged inputs send its exact values back
  let view = null; // the configuration being edited

  const numberInput = (value, label, attrs = {}) => h('input', {
    type: 'text', inputmode: 'decimal', value: value === null || value === undefined ? '' : String(value), 'aria-label': label,
    size: '6', autocomplete: 'off', ...attrs,
  });
  const unitOf = (code) => (catalogue[code] ? catalogue[code].unit : '');
  // A full-marks level in the form: a share (1.0) as a percentage (100), others as they are.
  const showFull = (code, v) => (unitOf(code) === '%' ? round(v * 100, 4) : v);
  const readFull = (code, v) => (unitOf(code) === '%' ? v / 100 : v);
  function round(v, d) { const f = 10 ** d; return Math.round(v * f) / f; }

  function readNumber(input, label, errors, name) {
    const t = input.value.trim();
    if (t === '') { errors.push({ field: name, message: A.scoring.required(label) }); return null; }
    const v = Number(t);
    if (!Number.isFinite(v)) { errors.push({ field: name, message: A.scoring.notNumber(label) }); return null; }
    return v;
  }

  function render() {
    form.textContent = '';
    const tracks = h('fieldset', {}, h('legend', {}, A.scoring.tracks));
    const tw = {};
    for (const track of ['contiguous', 'scattered']) {
      tw[track] = numberInput(view[track].weight, A.scoring.trackWeight(A.scoring.trackNames[track]), { id: `weight-${track}` });
      tracks.append(field(A.scoring.trackWeight(A.scoring.trackNames[track]), tw[track], { name: `${track}.weight`, cls: 'inline' }));
    }
    tracks.append(h('p', { class: 'hint' }, A.scoring.tracksHint));
    form.append(tracks);
    view.inputs = { tracks: tw, indicators: {}, bonus: {}, schedule: [] };

    for (const track of ['contiguous', 'scattered']) {
      const name = A.scoring.trackNames[track];
      const fs = h('fieldset', { 'data-field': `${track}.indicators`, class: 'indicators' }, h('legend', {}, A.scoring.indicatorsOf(name)));
      const tbody = h('tbody');
      const rows = [];
      view[track].indicators.forEach((ind, i) => {
        const select = h('select', { 'aria-label': `${name}第 ${i + 1} 项${A.scoring.indicator}` });
        for (const [code, info] of Object.entries(catalogue)) {
          const used = view[track].indicators.some((o, j) => j !== i && o.code === code);
          if (!used) select.append(h('option', { value: code }, info.label));
        }
        select.value = ind.code;
        const weight = numberInput(ind.weight, `${name}第 ${i + 1} 项${A.scoring.weight}`);
        const full = numberInput(showFull(ind.code, ind.full_at), `${name}第 ${i + 1} 项${A.scoring.fullAt}`);
        const suffix = h('span', { class: 'suffix' }, A.scoring.units[unitOf(ind.code)] ?? '');
        const meaning = h('td', { class: 'meaning' }, catalogue[ind.code] ? catalogue[ind.code].meaning : '');
        const remove = h('button', { type: 'button', class: 'small', 'aria-label': A.scoring.removeLabel(catalogue[ind.code]?.label || '') }, A.scoring.remove);
        select.addEventListener('change', () => {
          collect(false);
          view[track].indicators[i].code = select.value;
          render();
        });
        remove.addEventListener('click', () => {
          collect(false);
          view[track].indicators.splice(i, 1);
          render();
        });
        rows.push({ select, weight, full, index: i });
        tbody.append(h('tr', {},
          h('td', { 'data-field': `${track}.indicators.${i}.code` }, select),
          h('td', { class: 'num', 'data-field': `${track}.indicators.${i}.weight` }, weight),
          h('td', { class: 'num', 'data-field': `${track}.indicators.${i}.full_at` }, full, ' ', suffix),
          meaning, h('td', {}, remove)));
      });
      view.inputs.indicators[track] = rows;
      const add = h('button', { type: 'button', class: 'small' }, A.scoring.add);
      const unused = Object.keys(catalogue).filter((c) => !view[track].indicators.some((o) => o.code === c));
      add.disabled = unused.length === 0;
      add.addEventListener('click', () => {
        collect(false);
        const code = Object.keys(catalogue).find((c) => !view[track].indicators.some((o) => o.code === c));
        if (code) view[track].indicators.push({ code, weight: 10, full_at: unitOf(code) === '%' ? 1 : (code === 'average_far' ? 2 : 1.5) });
        render();
      });
      const table = h('table', { class: 'data indicators-table stack' },
        h('thead', {}, h('tr', {}, h('th', {}, A.scoring.indicator), h('th', { class: 'num' }, A.scoring.weight),
          h('th', { class: 'num' }, A.scoring.fullAt), h('th', {}, A.scoring.meaning), h('th'))), tbody);
      labelCells(table);
      fs.append(h('div', { class: 'table-wrap' }, table),
      h('p', { class: 'actions' }, add, h('span', { class: 'hint' }, unused.length ? A.scoring.fullAtHint : A.scoring.allUsed)));
      form.append(fs);
    }

    const bonus = h('fieldset', {}, h('legend', {}, A.scoring.bonus));
    view.inputs.bonus.k = numberInput(view.scale_bonus.points_per_100_mu, A.scoring.perHundred, { id: 'bonus-k' });
    view.inputs.bonus.cap = numberInput(view.scale_bonus.cap_points, A.scoring.cap, { id: 'bonus-cap' });
    bonus.append(field(A.scoring.perHundred, view.inputs.bonus.k, { name: 'scale_bonus.points_per_100_mu', cls: 'inline' }),
      field(A.scoring.cap, view.inputs.bonus.cap, { name: 'scale_bonus.cap_points', cls: 'inline' }),
      h('p', { class: 'hint' }, A.scoring.bonusHint));
    form.append(bonus);

    const schedule = h('fieldset', { 'data-field': 'schedule' }, h('legend', {}, A.scoring.schedule));
    const grid = h('div', { class: 'schedule-grid' });
    view.schedule.forEach((v, i) => {
      const input = numberInput(round(v * 100, 2), A.scoring.monthLabel(i + 1), { size: '5' });
      view.inputs.schedule.push(input);
      grid.append(field(A.scoring.monthLabel(i + 1), input, { name: `schedule.${i}`, cls: 'month' }));
    });
    const linear = h('button', { type: 'button', class: 'small' }, A.scoring.linear);
    linear.addEventListener('click', () => {
      collect(false);
      view.schedule = range(1, 12).map((m) => m / 12);
      render();
    });
    schedule.append(grid, h('p', { class: 'actions' }, linear, h('span', { class: 'hint' }, A.scoring.scheduleHint)));
    form.append(schedule);
    form.append(h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'scoring-save' }, A.scoring.save)));
  }

  /** Read the form into ``view``; with ``strict``, return the body to send or the problems found. */
  function collect(strict = true) {
    const errors = [];
    const body = { contiguous: { weight: 0, indicators: [] }, scattered: { weight: 0, indicators: [] }, scale_bonus: {}, schedule: [] };
    for (const track of ['contiguous', 'scattered']) {
      const name = A.scoring.trackNames[track];
      const w = readNumber(view.inputs.tracks[track], A.scoring.trackWeight(name), errors, `${track}.weight`);
      body[track].weight = w;
      if (w !== null) view[track].weight = w;
      view.inputs.indicators[track].forEach((row) => {
        const i = row.index;
        const code = row.select.value;
        const weight = readNumber(row.weight, `${name}第 ${i + 1} 项${A.scoring.weight}`, errors, `${track}.indicators.${i}.weight`);
        const fullShown = readNumber(row.full, `${name}第 ${i + 1} 项${A.scoring.fullAt}`, errors, `${track}.indicators.${i}.full_at`);
        const full = fullShown === null ? null : readFull(code, fullShown);
        body[track].indicators.push({ code, weight, full_at: full });
        if (weight !== null) view[track].indicators[i].weight = weight;
        if (full !== null) view[track].indicators[i].full_at = full;
      });
    }
    const k = readNumber(view.inputs.bonus.k, A.scoring.perHundred, errors, 'scale_bonus.points_per_100_mu');
    const cap = readNumber(view.inputs.bonus.cap, A.scoring.cap, errors, 'scale_bonus.cap_points');
    body.scale_bonus = { points_per_100_mu: k, cap_points: cap };
    if (k !== null) view.scale_bonus.points_per_100_mu = k;
    if (cap !== null) view.scale_bonus.cap_points = cap;
    view.inputs.schedule.forEach((input, i) => {
      const shown = readNumber(input, A.scoring.monthLabel(i + 1), errors, `schedule.${i}`);
      if (shown === null) { body.schedule.push(null); return; }
      // A month left as it was read sends the exact share back (m/12, not a rounded 83.33 %).
      const before = view.schedule[i];
      const value = round(before * 100, 2) === shown ? before : shown / 100;
      body.schedule.push(value);
      view.schedule[i] = value;
    });
    return strict ? { body, errors } : null;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    const { body, errors } = collect(true);
    if (errors.length) { showFieldErrors(form, box, localError(errors), () => null, { list: false }); return; }
    const button = document.getElementById('scoring-save');
    busy(button, true);
    try {
      await api(`/api/progress/config/${year.value}`, { method: 'PUT', body });
      await load(false);
      done(box, A.scoring.savedAt(year.value));
    } catch (err) {
      refuse(form, box, err);
    } finally {
      busy(button, false);
    }
  });

  async function load(clear = true) {
    panelState(panel, 'loading');
    if (clear) clearErrors(panel, box);
    const data = await fetchJson(`/api/progress/config/${year.value}`);
    catalogue = data.indicator_catalogue;
    original = data.config;
    view = JSON.parse(JSON.stringify(original));
    meta.textContent = data.is_default ? A.scoring.isDefault : A.scoring.lastChange(data.updated_by_name, when(data.updated_at));
    render();
    panelState(panel, 'ready');
  }

  year.addEventListener('change', () => load().catch((err) => showError(box, err)));
  return load();
}

// ---- 用户 -----------------------------------------------------------------------------------

function roleSelect(value) {
  const select = h('select');
  for (const [code, label] of ROLES) select.append(h('option', { value: code }, label));
  select.value = value;
  return select;
}

function unitSelect(value) {
  const select = h('select');
  select.append(h('option', { value: '' }, A.users.noUnit));
  for (const u of units) select.append(h('option', { value: u.code }, u.name));
  select.value = value || '';
  return select;
}

function buildUsers(panel) {
  const box = h('div', { class: 'message', id: 'users-message', 'aria-live': 'polite' });
  const username = h('input', { type: 'text', maxlength: '64', autocomplete: 'off', id: 'new-username' });
  const displayName = h('input', { type: 'text', maxlength: '64', autocomplete: 'off', id: 'new-display-name' });
  const role = roleSelect('planner');
  role.id = 'new-role';
  const unit = unitSelect('');
  unit.id = 'new-unit';
  const password = h('input', { type: 'password', maxlength: '256', autocomplete: 'new-password', id: 'new-password' });
  const create = h('form', { class: 'card grid-form', id: 'user-create', novalidate: true },
    h('h4', {}, A.users.create),
    field(A.users.username, username, { name: 'username', hint: A.users.usernameHint }),
    field(A.users.displayName, displayName, { name: 'display_name' }),
    field(A.users.role, role, { name: 'role' }),
    field(A.users.unit, unit, { name: 'unit', hint: A.users.unitHint }),
    field(A.users.password, password, { name: 'password', hint: A.users.passwordHint }),
    h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, A.users.createButton)));
  const tbody = h('tbody');
  const editor = h('div', { class: 'card', id: 'user-editor', hidden: true });
  panel.append(h('h3', {}, A.users.heading), create, box,
    h('h4', {}, A.users.list),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data stack', id: 'users-table' },
      h('thead', {}, h('tr', {}, ...[A.users.username, A.users.displayName, A.users.role, A.users.unit, A.users.status,
        A.users.lastLogin, A.users.actions].map((t) => h('th', {}, t)))), tbody)),
    editor);

  function needsUnit(roleValue, unitValue, errors) {
    if (roleValue === 'unit_officer' && !unitValue) errors.push({ field: 'unit', message: A.users.needUnit });
  }

  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(create, box);
    const errors = [];
    if (!username.value.trim()) errors.push({ field: 'username', message: A.users.required(A.users.username) });
    if (!password.value) errors.push({ field: 'password', message: A.users.required(A.users.password) });
    needsUnit(role.value, unit.value, errors);
    if (errors.length) { showFieldErrors(create, box, localError(errors), () => null, { list: false }); return; }
    const button = create.querySelector('button[type=submit]');
    busy(button, true);
    try {
      const { data } = await api('/api/users', {
        method: 'POST',
        body: { username: username.value.trim(), display_name: displayName.value.trim() || null, role: role.value,
          unit: role.value === 'unit_officer' ? unit.value : null, password: password.value },
      });
      create.reset();
      await load();
      done(box, A.users.created(data.display_name));
    } catch (err) {
      refuse(create, box, err);
    } finally {
      busy(button, false);
    }
  });

  function status(u) {
    if (!u.is_active) return A.users.inactive;
    return A.users.active;
  }

  function openEditor(u) {
    editor.textContent = '';
    editor.hidden = false;
    const ebox = h('div', { class: 'message', 'aria-live': 'polite' });
    const name = h('input', { type: 'text', maxlength: '64', value: u.display_name, id: 'edit-display-name' });
    const r = roleSelect(u.role);
    r.id = 'edit-role';
    const un = unitSelect(u.unit);
    un.id = 'edit-unit';
    const active = h('input', { type: 'checkbox', id: 'edit-active' });
    active.checked = u.is_active;
    const form = h('form', { class: 'grid-form', novalidate: true },
      h('h4', {}, A.users.editTitle(u.display_name)),
      field(A.users.displayName, name, { name: 'display_name' }),
      field(A.users.role, r, { name: 'role' }),
      field(A.users.unit, un, { name: 'unit', hint: A.users.unitHint }),
      h('label', { class: 'check', 'data-field': 'is_active' }, active, A.users.isActive),
      h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, A.users.saveUser),
        h('button', { type: 'button', class: 'cancel' }, A.users.cancel)));
    const pw1 = h('input', { type: 'password', autocomplete: 'new-password', id: 'reset-password' });
    const pw2 = h('input', { type: 'password', autocomplete: 'new-password', id: 'reset-password-2' });
    const reset = h('form', { class: 'grid-form', novalidate: true },
      h('h4', {}, A.users.resetTitle(u.display_name)),
      field(A.users.newPassword, pw1, { name: 'password', hint: A.users.passwordHint }),
      field(A.users.confirmPassword, pw2, { name: 'password2' }),
      h('p', { class: 'actions' }, h('button', { type: 'submit' }, A.users.resetButton)));
    editor.append(form, reset, ebox);
    form.querySelector('.cancel').addEventListener('click', () => { editor.hidden = true; });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(editor, ebox);
      const errors = [];
      if (!name.value.trim()) errors.push({ field: 'display_name', message: A.users.required(A.users.displayName) });
      needsUnit(r.value, un.value, errors);
      if (errors.length) { showFieldErrors(form, ebox, localError(errors), () => null, { list: false }); return; }
      const button = form.querySelector('button[type=submit]');
      busy(button, true);
      try {
        const { data } = await api(`/api/users/${encodeURIComponent(u.username)}`, {
          method: 'PATCH', etag: `"${u.version}"`,
          body: { display_name: name.value.trim(), role: r.value, unit: r.value === 'unit_officer' ? un.value : null, is_active: active.checked },
        });
        Object.assign(u, data);
        await load();
        done(ebox, A.users.savedUser(data.display_name));
      } catch (err) {
        refuse(form, ebox, err);
        if (err.status === 409) await load();
      } finally {
        busy(button, false);
      }
    });
    reset.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(editor, ebox);
      const errors = [];
      if (!pw1.value) errors.push({ field: 'password', message: A.users.required(A.users.newPassword) });
      else if (pw1.value !== pw2.value) errors.push({ field: 'password2', message: A.users.mismatch });
      if (errors.length) { showFieldErrors(reset, ebox, localError(errors), () => null, { list: false }); return; }
      const button = reset.querySelector('button[type=submit]');
      busy(button, true);
      try {
        await api(`/api/users/${encodeURIComponent(u.username)}/password`, { method: 'POST', body: { password: pw1.value } });
        reset.reset();
        done(ebox, A.users.resetDone(u.display_name));
      } catch (err) {
        refuse(reset, ebox, err);
      } finally {
        busy(button, false);
      }
    });
    editor.scrollIntoView({ block: 'nearest' });
    name.focus();
  }

  async function load() {
    panelState(panel, 'loading');
    const { data } = await api('/api/users');
    tbody.textContent = '';
    for (const u of data.data) {
      const edit = h('button', { type: 'button', class: 'small' }, A.users.edit);
      edit.addEventListener('click', () => openEditor(u));
      tbody.append(h('tr', { 'data-user': u.username, class: u.is_active ? '' : 'inactive' },
        h('td', {}, u.username), h('td', {}, u.display_name), h('td', {}, u.role_label),
        h('td', {}, u.unit_name || A.dash), h('td', {}, status(u)),
        h('td', {}, u.last_login_at ? when(u.last_login_at) : A.users.never), h('td', {}, edit)));
    }
    labelCells(document.getElementById('users-table'));
    panelState(panel, 'ready');
  }
  return load();
}

// ---- 接口密钥 -------------------------------------------------------------------------------

function buildKeys(panel) {
  const box = h('div', { class: 'message', id: 'keys-message', 'aria-live': 'polite' });
  const name = h('input', { type: 'text', maxlength: '128', placeholder: A.keys.namePlaceholder, id: 'key-name', autocomplete: 'off' });
  const rate = h('input', { type: 'text', inputmode: 'numeric', placeholder: A.keys.ratePlaceholder, id: 'key-rate', size: '10', autocomplete: 'off' });
  const scope = h('select', { id: 'key-scope' },
    ...Object.entries(A.keys.scopes).map(([value, label]) => h('option', { value }, label)));
  const department = h('input', { type: 'text', maxlength: '64', placeholder: A.keys.departmentPlaceholder, id: 'key-department', autocomplete: 'off' });
  const boxes = Object.entries(A.keys.figureFields).map(([value, label]) =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', value, name: 'figure_fields', style: 'width: auto' }), ` ${label}`));
  const figureSet = h('fieldset', { class: 'field wide', 'data-field': 'figure_fields', id: 'key-figure-fields' },
    h('legend', {}, A.keys.figureFieldsLabel), h('p', { class: 'hint' }, A.keys.figureFieldsHint), h('div', {}, ...boxes));
  const departmentField = field(A.keys.department, department, { name: 'department' });
  const create = h('form', { class: 'card grid-form', id: 'key-create', novalidate: true },
    h('h4', {}, A.keys.create),
    field(A.keys.name, name, { name: 'name' }),
    field(A.keys.scope, scope, { name: 'scope' }),
    departmentField,
    field(A.keys.rate, rate, { name: 'rate_limit_per_minute' }),
    figureSet,
    h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, A.keys.createButton)));
  const showScope = () => {
    const writes = scope.value === 'figures_write';
    departmentField.hidden = !writes;
    figureSet.hidden = !writes;
  };
  scope.addEventListener('change', showScope);
  showScope();
  const fresh = h('div', { class: 'card new-key', id: 'new-key', hidden: true });
  const tbody = h('tbody');
  panel.append(h('h3', {}, A.keys.heading), h('p', { class: 'hint' }, A.keys.intro), create, fresh, box,
    h('h4', {}, A.keys.list),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data stack', id: 'keys-table' },
      h('thead', {}, h('tr', {}, ...[A.keys.name, A.keys.number, A.keys.scope, A.keys.prefix, A.keys.rate, A.keys.createdAt, A.keys.status, A.users.actions]
        .map((t) => h('th', {}, t)))), tbody)));

  function showKey(created) {
    fresh.textContent = '';
    fresh.hidden = false;
    const keyInput = h('input', { type: 'text', readonly: true, value: created.key, id: 'new-key-value', class: 'key-value',
      'aria-label': A.keys.newKeyLabel(created.name), spellcheck: 'false' });
    const copy = h('button', { type: 'button', class: 'primary', id: 'copy-key' }, A.keys.copy);
    const note = h('span', { class: 'hint', role: 'status' });
    copy.addEventListener('click', async () => {
      keyInput.select();
      try {
        await navigator.clipboard.writeText(created.key);
        note.textContent = A.keys.copied;
      } catch (_) {
        note.textContent = document.execCommand && document.execCommand('copy') ? A.keys.copied : A.keys.copyFailed;
      }
    });
    fresh.append(h('h4', {}, A.keys.newKeyLabel(created.name)), h('p', { class: 'notice' }, A.keys.shownOnce),
      h('div', { class: 'key-row' }, keyInput, copy), note);
    keyInput.focus();
    keyInput.select();
  }

  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(create, box);
    const errors = [];
    if (!name.value.trim()) errors.push({ field: 'name', message: A.keys.required(A.keys.name) });
    const r = rate.value.trim();
    if (r !== '' && (!/^\d+$/.test(r) || Number(r) < 1 || Number(r) > 100000)) errors.push({ field: 'rate_limit_per_minute', message: A.keys.rateInvalid });
    const writes = scope.value === 'figures_write';
    if (writes && !department.value.trim()) errors.push({ field: 'department', message: A.keys.required(A.keys.department) });
    if (errors.length) { showFieldErrors(create, box, localError(errors), () => null, { list: false }); return; }
    const button = create.querySelector('button[type=submit]');
    busy(button, true);
    try {
      const picked = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      const body = { name: name.value.trim(), rate_limit_per_minute: r === '' ? null : Number(r), scope: scope.value };
      if (writes) Object.assign(body, { department: department.value.trim(), figure_fields: picked.length ? picked : null });
      const { data } = await api('/api/apikeys', { method: 'POST', body });
      create.reset();
      showScope();
      showKey(data);
      await load();
    } catch (err) {
      refuse(create, box, err);
    } finally {
      busy(button, false);
    }
  });

  async function revoke(k, button) {
    const ok = await confirmAction(A.keys.revokeQuestion(k.name), { lines: A.keys.revokeLines, ok: A.keys.revoke });
    if (!ok) return;
    busy(button, true);
    try {
      await api(`/api/apikeys/${k.id}/revoke`, { method: 'POST' });
      await load();
      done(box, A.keys.revoked(k.name));
    } catch (err) {
      showError(box, err);
      busy(button, false);
    }
  }

  async function load() {
    panelState(panel, 'loading');
    const { data } = await api('/api/apikeys');
    tbody.textContent = '';
    if (!data.keys.length) tbody.append(h('tr', {}, h('td', { colspan: '8' }, A.keys.none)));
    for (const k of [...data.keys].reverse()) {
      const cell = h('td');
      if (!k.revoked) {
        const button = h('button', { type: 'button', class: 'small danger' }, A.keys.revoke);
        button.addEventListener('click', () => revoke(k, button));
        cell.append(button);
      }
      tbody.append(h('tr', { 'data-key': String(k.id), class: k.revoked ? 'revoked' : '' },
        h('td', {}, k.name), h('td', {}, String(k.id)), h('td', { class: 'key-scope' }, A.keys.scopeOf(k)), h('td', {}, h('code', {}, k.prefix)),
        h('td', {}, A.keys.perMinute(k.rate_limit_per_minute)), h('td', {}, when(k.created_at)),
        h('td', { class: 'key-state' }, k.revoked ? A.keys.revokedAt(when(k.revoked_at)) : A.keys.inUse), cell));
    }
    labelCells(document.getElementById('keys-table'));
    panelState(panel, 'ready');
  }
  return load();
}

// ---- 月度通报 -------------------------------------------------------------------------------

function buildReports(panel) {
  const box = h('div', { class: 'message', id: 'reports-message', 'aria-live': 'polite' });
  const year = h('select', { id: 'report-year' });
  const month = h('select', { id: 'report-month' });
  for (const m of range(1, 12)) month.append(h('option', { value: String(m) }, A.monthOption(m)));
  const preview = h('a', { class: 'button', id: 'report-preview', target: '_blank', rel: 'noopener' }, A.reports.preview);
  const previewXlsx = h('a', { class: 'button', id: 'report-preview-xlsx' }, A.reports.previewXlsx);
  const state = h('div', { id: 'report-state' });
  const issueNo = h('input', { type: 'text', inputmode: 'numeric', id: 'issue-no', size: '5', autocomplete: 'off' });
  const body = h('input', { type: 'text', maxlength: '64', id: 'issuing-body', autocomplete: 'off' });
  const date = h('input', { type: 'date', id: 'issue-date' });
  const signer = h('input', { type: 'text', maxlength: '32', id: 'signed-by', placeholder: A.reports.signedByPlaceholder, autocomplete: 'off' });
  const noHint = h('span', { class: 'hint' });
  const issueButton = h('button', { type: 'submit', class: 'primary', id: 'issue-report' }, A.reports.issue);
  const form = h('form', { class: 'card grid-form', id: 'issue-form', novalidate: true },
    field(A.reports.issueNo, issueNo, { name: 'issue_no' }),
    field(A.reports.body, body, { name: 'issuing_body', cls: 'wide' }),
    field(A.reports.date, date, { name: 'issue_date' }),
    field(A.reports.signedBy, signer, { name: 'signed_by' }),
    h('p', { class: 'actions' }, issueButton, noHint));
  const result = h('div', { class: 'card', id: 'issue-result', hidden: true });
  const tbody = h('tbody');
  panel.append(h('h3', {}, A.reports.heading), h('p', { class: 'hint' }, A.reports.intro),
    h('div', { class: 'toolbar' }, field(A.reports.year, year, { cls: 'inline' }), field(A.reports.month, month, { cls: 'inline' }), preview, previewXlsx),
    state, form, box, result,
    h('h4', {}, A.reports.list),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data stack', id: 'reports-table' },
      h('thead', {}, h('tr', {}, ...[A.reports.monthCol, A.reports.issueCol, A.reports.bodyCol, A.reports.dateCol, A.reports.signedCol,
        A.reports.issuerCol, A.reports.links].map((t) => h('th', {}, t)))), tbody)));
  const years = periods.years.length ? periods.years : [periods.default_year];
  yearOptions(year, years, periods.default_year);
  month.value = String(periods.default_month);

  function links(r) {
    return h('span', { class: 'links' }, h('a', { href: r.links.print, target: '_blank', rel: 'noopener' }, A.reports.printLink), ' ',
      h('a', { href: r.links.xlsx }, A.reports.downloadXlsx));
  }

  async function loadList() {
    const list = await fetchJson('/api/progress/reports');
    tbody.textContent = '';
    if (!list.reports.length) tbody.append(h('tr', {}, h('td', { colspan: '7' }, A.reports.none)));
    for (const r of list.reports) {
      tbody.append(h('tr', { 'data-report': `${r.year}-${r.month}` },
        h('td', {}, A.reports.monthText(r.year, r.month)), h('td', {}, A.reports.issueText(r.year, r.issue_label)),
        h('td', {}, r.issuing_body), h('td', {}, r.issue_date), h('td', {}, r.signed_by), h('td', {}, r.issued_by_name),
        h('td', {}, links(r))));
    }
    labelCells(document.getElementById('reports-table'));
  }

  async function loadMonth() {
    panelState(panel, 'loading');
    clearErrors(form, box);
    result.hidden = true;
    const next = await fetchJson(`/api/progress/reports/next?year=${year.value}&month=${month.value}`);
    preview.href = next.links.preview;
    previewXlsx.href = next.links.xlsx;
    issueNo.value = String(next.issue_no);
    body.value = next.issuing_body;
    date.value = next.issue_date;
    date.max = next.issue_date;
    noHint.textContent = A.reports.issueNoHint(next.year, next.issue_no);
    state.textContent = '';
    const blocked = next.issued || !next.month_over;
    if (next.issued) {
      const r = next.issued;
      state.append(h('p', { class: 'notice' }, A.reports.alreadyIssued(r.year, r.month, r.issue_label, r.issue_date), ' ', links(r)));
    } else if (!next.month_over) {
      state.append(h('p', { class: 'notice' }, A.reports.notOver(next.year, next.month, next.due_on)));
    }
    for (const el of form.querySelectorAll('input, button')) el.disabled = Boolean(blocked);
    form.hidden = Boolean(next.issued);
    panel.dataset.issueNo = String(next.issue_no);
    panelState(panel, 'ready');
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    const errors = [];
    const n = issueNo.value.trim();
    if (n !== '' && (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > 999)) errors.push({ field: 'issue_no', message: A.reports.issueNoInvalid });
    if (!body.value.trim()) errors.push({ field: 'issuing_body', message: A.reports.required(A.reports.body) });
    if (!date.value) errors.push({ field: 'issue_date', message: A.reports.required(A.reports.date) });
    if (!signer.value.trim()) errors.push({ field: 'signed_by', message: A.reports.required(A.reports.signedBy) });
    if (errors.length) { showFieldErrors(form, box, localError(errors), () => null, { list: false }); return; }
    const y = Number(year.value);
    const m = Number(month.value);
    const ok = await confirmAction(A.reports.issueQuestion(y, m, n || panel.dataset.issueNo), {
      lines: A.reports.issueLines(body.value.trim(), date.value, signer.value.trim()), ok: A.reports.issueOk,
    });
    if (!ok) return;
    busy(issueButton, true);
    try {
      const { data } = await api('/api/progress/reports', {
        method: 'POST',
        body: { year: y, month: m, issue_no: n === '' ? null : Number(n), issuing_body: body.value.trim(), issue_date: date.value, signed_by: signer.value.trim() },
      });
      await loadMonth();
      await loadList();
      result.textContent = '';
      result.hidden = false;
      result.append(h('p', { class: 'ok', role: 'status' }, A.reports.issued(data.year, data.month, data.issue_label)),
        h('p', { class: 'actions' },
          h('a', { class: 'button primary', href: data.links.print, target: '_blank', rel: 'noopener', id: 'open-issued' }, A.reports.openIssued),
          h('a', { class: 'button', href: data.links.xlsx, id: 'issued-xlsx' }, A.reports.downloadXlsx)));
      result.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      refuse(form, box, err);
    } finally {
      busy(issueButton, false);
      if (form.hidden) issueButton.disabled = true;
    }
  });

  const reload = () => loadMonth().catch((err) => showError(box, err));
  year.addEventListener('change', reload);
  month.addEventListener('change', reload);
  return Promise.all([loadMonth(), loadList()]);
}

// ---- 月报报送 -------------------------------------------------------------------------------

/** The status of a unit's month, visibly distinct without colour: a mark, the word, a border style. */
function reportingBadge(status, label) {
  const R = A.reporting;
  return h('span', { class: `report-status status-${status}`, 'data-status': status },
    h('span', { class: 'mark', 'aria-hidden': 'true' }, R.statusMark[status] || ''), ' ', label);
}

function buildReporting(panel) {
  const R = A.reporting;
  const box = h('div', { class: 'message', id: 'reporting-message', 'aria-live': 'polite' });
  const year = h('select', { id: 'reporting-year' });
  const month = h('select', { id: 'reporting-month' });
  for (const m of range(1, 12)) month.append(h('option', { value: String(m) }, A.monthOption(m)));
  const openLine = h('p', { class: 'hint', id: 'reporting-open' });
  const summary = h('div', { class: 'card reporting-summary', id: 'reporting-summary' });
  const deadlineButton = h('button', { type: 'button', id: 'deadline-open' }, R.deadline);
  const deadlineBox = h('div', { id: 'deadline-editor', hidden: true });
  const tbody = h('tbody');
  const heads = [R.unit, R.status, R.submittedAt, R.submittedBy, R.summary, R.entries, R.completedParcels, R.completedMu, R.actions];
  const table = h('table', { class: 'data stack', id: 'reporting-table' },
    h('thead', {}, h('tr', {}, ...heads.map((t, i) => h('th', { class: i >= 5 && i <= 7 ? 'num' : null }, t)))), tbody);
  panel.append(h('h3', {}, R.heading), h('p', { class: 'hint' }, R.intro),
    h('div', { class: 'toolbar' }, field(R.year, year, { cls: 'inline' }), field(R.month, month, { cls: 'inline' })),
    openLine, summary, deadlineBox, box,
    h('div', { class: 'table-wrap' }, table));

  let today = null; // the server's today (Asia/Shanghai), from GET /api/progress/reporting/open
  let overview = null;

  function label() { return overview ? overview.label : ''; }

  function renderSummary(o) {
    summary.textContent = '';
    summary.dataset.open = String(Boolean(o.open));
    summary.dataset.dueOn = o.due_on;
    summary.dataset.moved = String(Boolean(o.deadline_moved));
    const due = h('p', { class: 'due', id: 'reporting-due' }, h('strong', {}, R.monthTitle(o.label)), ' · ', R.due(R.dateText(o.due_on)));
    if (o.open && today) {
      const days = Math.round((Date.parse(o.due_on) - Date.parse(today)) / 86400000);
      due.append('（', R.daysLeft(days), '）');
    } else if (!o.open) {
      due.append('（', R.closed, '）');
    }
    summary.append(due);
    if (o.deadline_moved) summary.append(h('p', { class: 'moved', id: 'reporting-moved' }, R.moved(o.deadline_reason || A.dash)));
    summary.append(h('p', { class: 'count', id: 'reporting-count' }, R.count(o.submitted, o.total)));
    if (o.open) summary.append(h('p', { class: 'actions' }, deadlineButton));
  }

  function statusCell(u) {
    const cell = h('td', { class: 'status-cell' }, reportingBadge(u.status, u.status_label));
    const s = u.submission;
    if (u.status === 'returned' && s) {
      cell.append(h('span', { class: 'returned-note' }, R.returnReason(s.return_reason || A.dash)));
      if (s.returned_by_name) cell.append(h('span', { class: 'hint' }, R.returnedBy(s.returned_by_name, when(s.returned_at))));
    }
    return cell;
  }

  async function showEntries(u, tr, button) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('entries-row')) {
      next.remove();
      button.textContent = R.view;
      button.setAttribute('aria-expanded', 'false');
      button.setAttribute('aria-label', R.viewLabel(u.unit_name));
      return;
    }
    // The report sits in a box as wide as the row, never wider: its own table scrolls inside it.
    const cell = h('div', { class: 'entries-box' }, h('p', { class: 'hint' }, R.loadingEntries));
    const row = h('tr', { class: 'entries-row', 'data-entries-of': u.unit_code, id: `entries-${u.unit_code}` },
      h('td', { colspan: String(heads.length), class: 'entries-cell' }, cell));
    tr.after(row);
    button.textContent = R.hide;
    button.setAttribute('aria-expanded', 'true');
    button.setAttribute('aria-label', R.hideLabel(u.unit_name));
    row.dataset.state = 'loading';
    try {
      const data = await fetchJson(`/api/progress/entries?year=${overview.year}&month=${overview.month}&unit=${encodeURIComponent(u.unit_code)}`);
      cell.textContent = '';
      cell.append(h('h4', {}, R.entriesOf(u.unit_name, overview.label)));
      if (u.submission && u.submission.summary) cell.append(h('p', {}, `${R.summary}：${u.submission.summary}`));
      if (!data.entries.length) {
        cell.append(h('p', { class: 'hint' }, R.noEntries));
      } else {
        const body = h('tbody');
        for (const e of data.entries) {
          const evidence = h('td', { class: 'evidence' });
          if (e.evidence && e.evidence.length) {
            for (const f of e.evidence) {
              evidence.append(h('a', { href: f.url, target: '_blank', rel: 'noopener', class: 'evidence-link' }, f.filename), ' ');
            }
          } else {
            evidence.append(R.noEvidence);
          }
          const marks = h('span', { class: 'entry-marks' });
          if (e.late) marks.append(h('span', { class: 'tag late' }, R.late));
          if (e.withdrawn) marks.append(h('span', { class: 'tag withdrawn' }, R.withdrawn));
          body.append(h('tr', { 'data-entry': String(e.id), class: e.withdrawn ? 'withdrawn' : '' },
            h('td', {}, e.subject_label, marks),
            h('td', {}, R.changeText(e.previous_status_label, e.status_label)),
            h('td', { class: 'nowrap' }, e.happened_on),
            h('td', { class: 'num' }, e.built_floor_area_m2 === null || e.built_floor_area_m2 === undefined ? A.dash : num(e.built_floor_area_m2, 2)),
            h('td', {}, e.note || A.dash), evidence,
            h('td', {}, R.recordedText(e.recorded_by_name || A.dash, when(e.recorded_at)))));
        }
        const inner = h('table', { class: 'data stack entries-table' },
          h('thead', {}, h('tr', {}, ...[R.subject, R.change, R.happenedOn, R.builtArea, R.note, R.evidence, R.recordedBy]
            .map((t) => h('th', {}, t)))), body);
        labelCells(inner);
        cell.append(h('div', { class: 'table-wrap' }, inner));
      }
      row.dataset.state = 'ready';
      row.dataset.count = String(data.entries.length);
    } catch (err) {
      row.dataset.state = 'error';
      showError(cell, err);
    }
  }

  async function giveBack(u, button) {
    const s = u.submission;
    const reason = await confirmAction(R.backQuestion(u.unit_name, overview.label), { lines: R.backLines, input: R.backReason, ok: R.back });
    if (!reason) return;
    clearErrors(panel, box);
    busy(button, true);
    try {
      await api(`/api/progress/submissions/${s.id}/return`, { method: 'POST', body: { reason } });
      await load();
      done(box, R.backDone(u.unit_name));
      focusRow(u.unit_code);
    } catch (err) {
      showError(box, err);
      busy(button, false);
      await load().catch(() => null);
      focusRow(u.unit_code);
    }
  }

  /** After the table is redrawn, keyboard focus goes back to the unit's row (its 查看报告 button). */
  function focusRow(code) {
    const button = tbody.querySelector(`tr[data-unit="${CSS.escape(code)}"] button.view-entries`);
    if (button) button.focus();
  }

  function renderUnits(o) {
    tbody.textContent = '';
    for (const u of o.units) {
      const s = u.submission;
      const view = h('button', { type: 'button', class: 'small view-entries', 'aria-expanded': 'false', 'aria-label': R.viewLabel(u.unit_name) }, R.view);
      const actions = h('td', { class: 'row-actions' }, view);
      if (u.status === 'submitted' && s && o.open) { // a closed month cannot be returned any more
        const back = h('button', { type: 'button', class: 'small danger give-back', 'aria-label': R.backLabel(u.unit_name) }, R.back);
        back.addEventListener('click', () => giveBack(u, back));
        actions.append(' ', back);
      }
      const tr = h('tr', { 'data-unit': u.unit_code, 'data-status': u.status, class: `status-${u.status}` },
        h('th', { scope: 'row' }, u.unit_name),
        statusCell(u),
        h('td', { class: 'nowrap' }, s && s.submitted_at ? when(s.submitted_at) : A.dash),
        h('td', {}, s && s.submitted_by_name ? s.submitted_by_name : A.dash),
        h('td', { class: 'summary-cell' }, s && s.summary ? s.summary : A.dash),
        h('td', { class: 'num' }, String(u.entries)),
        h('td', { class: 'num' }, String(u.completed_parcels)),
        h('td', { class: 'num' }, num(u.completed_mu, 2)),
        actions);
      view.addEventListener('click', () => showEntries(u, tr, view));
      tbody.append(tr);
    }
    labelCells(table);
  }

  function openDeadline() {
    const o = overview;
    deadlineBox.textContent = '';
    deadlineBox.hidden = false;
    const ebox = h('div', { class: 'message', id: 'deadline-message', 'aria-live': 'polite' });
    const due = h('input', { type: 'date', id: 'deadline-due', value: o.due_on, min: today || null });
    const reason = h('input', { type: 'text', id: 'deadline-reason', maxlength: '200', placeholder: R.reasonPlaceholder, autocomplete: 'off' });
    const save = h('button', { type: 'submit', class: 'primary', id: 'deadline-save' }, R.saveDeadline);
    const cancel = h('button', { type: 'button' }, R.cancel);
    const form = h('form', { class: 'card grid-form', id: 'deadline-form', novalidate: true },
      h('h4', {}, R.deadlineTitle(o.label)), h('p', { class: 'hint wide-hint' }, R.deadlineIntro),
      field(R.newDue, due, { name: 'due_on' }), field(R.reason, reason, { name: 'reason', cls: 'wide' }),
      h('p', { class: 'actions' }, save, cancel));
    deadlineBox.append(form, ebox);
    cancel.addEventListener('click', () => { deadlineBox.hidden = true; deadlineButton.focus(); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form, ebox);
      const errors = [];
      if (!due.value) errors.push({ field: 'due_on', message: R.required(R.newDue) });
      if (!reason.value.trim()) errors.push({ field: 'reason', message: R.required(R.reason) });
      if (errors.length) { showFieldErrors(form, ebox, localError(errors), () => null, { list: false }); return; }
      busy(save, true);
      try {
        const { data } = await api(`/api/progress/deadlines/${o.year}/${o.month}`, {
          method: 'PUT', body: { due_on: due.value, reason: reason.value.trim() },
        });
        overview = data;
        render(data);
        deadlineBox.hidden = true;
        done(box, R.deadlineDone(R.dateText(data.due_on)));
        deadlineButton.focus();
      } catch (err) {
        refuse(form, ebox, err);
      } finally {
        busy(save, false);
      }
    });
    due.focus();
  }
  deadlineButton.addEventListener('click', openDeadline);

  function render(o) {
    renderSummary(o);
    renderUnits(o);
    if (!o.open) deadlineBox.hidden = true;
    panel.dataset.year = String(o.year);
    panel.dataset.month = String(o.month);
    panel.dataset.submitted = String(o.submitted);
  }

  let asked = 0; // the latest month asked for: an earlier answer arriving late is dropped
  async function load() {
    panelState(panel, 'loading');
    const mine = ++asked;
    const data = await fetchJson(`/api/progress/reporting?year=${year.value}&month=${month.value}`);
    if (mine !== asked) return;
    overview = data;
    render(data);
    panelState(panel, 'ready');
  }

  async function start() {
    const open = await fetchJson('/api/progress/reporting/open');
    today = open.today;
    const first = open.months[0] || { year: Number(today.slice(0, 4)), month: Number(today.slice(5, 7)) };
    const lastYear = Math.max(first.year, ...open.months.map((m) => m.year));
    yearOptions(year, range(FIRST_YEAR, lastYear), first.year);
    month.value = String(first.month);
    openLine.textContent = '';
    if (open.months.length) {
      openLine.append(R.openMonths);
      open.months.forEach((m, i) => {
        const pick = h('button', { type: 'button', class: 'link open-month', 'data-year': String(m.year), 'data-month': String(m.month) },
          R.openMonth(m.label, R.dateText(m.due_on)));
        pick.addEventListener('click', () => { year.value = String(m.year); month.value = String(m.month); reload(); });
        if (i) openLine.append('、');
        openLine.append(pick);
      });
    }
    await load();
  }

  const reload = () => {
    clearErrors(panel, box);
    deadlineBox.hidden = true;
    return load().catch((err) => { panelState(panel, 'error'); showError(box, err); });
  };
  year.addEventListener('change', reload);
  month.addEventListener('change', reload);
  return start();
}

// ---- 行动计划 -------------------------------------------------------------------------------

// The plan's fields as the service names them, in the form's order: [name, label, input mode, group].
const PLAN_FIELDS = [
  ['doc_no', 'docNo', 'text', 'facts'],
  ['title', 'title', 'text', 'facts'],
  ['start_year', 'startYear', 'numeric', 'facts'],
  ['end_year', 'endYear', 'numeric', 'facts'],
  ['target_total_mu', 'targetTotal', 'decimal', 'headline'],
  ['target_new_floor_area_m2', 'targetFloor', 'decimal', 'headline'],
  ['target_average_far', 'targetFar', 'decimal', 'headline'],
  ['min_block_mu', 'minBlock', 'decimal', 'thresholds'],
  ['max_blocks_per_unit_per_year', 'maxBlocks', 'numeric', 'thresholds'],
  ['min_parcel_mu', 'minParcel', 'decimal', 'thresholds'],
  ['min_far', 'minFar', 'decimal', 'thresholds'],
  ['min_merged_parcel_mu', 'minMerged', 'decimal', 'thresholds'],
  ['tolerance_m', 'tolerance', 'decimal', 'thresholds'],
  ['max_outside_park_mu', 'maxOutsidePark', 'decimal', 'thresholds'],
  ['report_due_day', 'reportDueDay', 'numeric', 'reporting'],
];

function planValue(plan, name) {
  if (!plan) return '';
  const v = name in plan ? plan[name] : (plan.thresholds || {})[name];
  return v === null || v === undefined ? '' : String(v);
}

function buildPlans(panel) {
  const P = A.plans;
  const box = h('div', { class: 'message', id: 'plans-message', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const create = h('button', { type: 'button', class: 'primary', id: 'plan-new' }, P.create);
  const editor = h('div', { class: 'card', id: 'plan-editor', hidden: true });
  let plans = [];
  panel.append(h('h3', {}, P.heading), h('p', { class: 'hint' }, P.intro),
    h('h4', {}, P.list),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data stack', id: 'plans-table' },
      h('thead', {}, h('tr', {}, ...[P.docNo, P.title, P.period, P.targetTotal, P.minBlock, P.state, P.actions]
        .map((t) => h('th', {}, t)))), tbody)),
    h('p', { class: 'actions' }, create), box, editor);

  function stateOf(p) {
    const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));
    if (p.in_force_now) return P.inForce;
    return p.end_year < year ? P.past : P.future;
  }

  function openEditor(plan) {
    editor.textContent = '';
    editor.hidden = false;
    clearErrors(panel, box);
    const ebox = h('div', { class: 'message', id: 'plan-editor-message', 'aria-live': 'polite' });
    const last = plans[plans.length - 1];
    // A new plan starts after the last one and copies its figures, to be changed where the new plan differs.
    const start = last ? last.end_year + 1 : new Date().getFullYear();
    const seed = plan || (last ? { ...last, doc_no: '', title: '', note: '', start_year: start, end_year: start + 2 } : null);
    const inputs = {};
    const groups = { facts: [], headline: [], thresholds: [], reporting: [] };
    for (const [name, key, mode, group] of PLAN_FIELDS) {
      const input = h('input', { type: 'text', id: `plan-${name.replace(/_/g, '-')}`, autocomplete: 'off',
        inputmode: mode === 'text' ? undefined : mode, value: planValue(seed, name) });
      if (mode === 'text') input.maxLength = name === 'doc_no' ? 64 : 200;
      inputs[name] = input;
      const hint = { tolerance_m: P.toleranceHint, max_outside_park_mu: P.maxOutsideParkHint,
        report_due_day: P.reportDueDayHint }[name] || null;
      groups[group].push(field(P[key], input, { name, hint, cls: name === 'title' ? 'wide' : '' }));
    }
    const note = h('textarea', { id: 'plan-note', rows: '3', maxlength: '2000' });
    note.value = seed ? seed.note || '' : '';
    const form = h('form', { class: 'grid-form', id: 'plan-form', novalidate: true },
      h('h4', {}, plan ? P.editTitle(plan.title) : P.newTitle),
      ...groups.facts,
      h('h4', {}, P.headline), ...groups.headline,
      h('h4', {}, P.thresholds), ...groups.thresholds,
      h('h4', {}, P.reporting), ...groups.reporting,
      field(P.note, note, { name: 'note', hint: P.noteHint, cls: 'wide' }),
      h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'plan-save' },
        plan ? P.save : P.createButton), h('button', { type: 'button', class: 'cancel' }, P.cancel)));
    editor.append(form, ebox);
    if (plan && plan.years) {
      const ybody = h('tbody');
      for (const y of plan.years) {
        ybody.append(h('tr', {}, h('td', {}, A.yearOption(y.year, false)), h('td', { class: 'num' }, String(y.units_with_target)),
          h('td', { class: 'num' }, y.target_mu === null ? P.notSet : num(y.target_mu, 2))));
      }
      const table = h('table', { class: 'data stack', id: 'plan-years' },
        h('thead', {}, h('tr', {}, ...[P.year, P.unitsWithTarget, P.yearTotal].map((t) => h('th', {}, t)))), ybody);
      editor.append(h('h4', {}, P.years), h('div', { class: 'table-wrap' }, table));
      labelCells(table);
      if (plan.updated_at) editor.append(h('p', { class: 'hint' }, P.updatedBy(plan.updated_by_name, when(plan.updated_at))));
    }
    form.querySelector('.cancel').addEventListener('click', () => { editor.hidden = true; });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(editor, ebox);
      const body = {};
      const errors = [];
      for (const [name, key, mode] of PLAN_FIELDS) {
        const t = inputs[name].value.trim();
        if (t === '') { errors.push({ field: name, message: P.required(P[key]) }); continue; }
        body[name] = mode === 'text' || !/^-?\d+(\.\d+)?$/.test(t) ? t : Number(t);
      }
      body.note = note.value.trim();
      if (errors.length) { showFieldErrors(form, ebox, localError(errors), () => null, { list: false }); return; }
      const button = form.querySelector('button[type=submit]');
      busy(button, true);
      try {
        const { data } = plan
          ? await api(`/api/action-plans/${plan.id}`, { method: 'PUT', etag: plan.etag, body })
          : await api('/api/action-plans', { method: 'POST', body });
        await load();
        const fresh = (await api(`/api/action-plans/${data.id}`)).data;
        openEditor(fresh);
        done(document.getElementById('plan-editor-message'), plan ? P.saved(data.title) : P.created(data.title));
      } catch (err) {
        refuse(form, ebox, err);
        if (err.status === 409 && plan && !(err.data && err.data.code === 'action_plan_overlap')) {
          await load();
          ebox.append(h('p', {}, P.staleReloaded));
        }
      } finally {
        busy(button, false);
      }
    });
    editor.scrollIntoView({ block: 'nearest' });
    inputs.doc_no.focus();
  }

  create.addEventListener('click', () => openEditor(null));

  async function load() {
    panelState(panel, 'loading');
    const { data } = await api('/api/action-plans');
    plans = data.plans;
    tbody.textContent = '';
    if (!plans.length) tbody.append(h('tr', {}, h('td', { colspan: '7' }, P.none)));
    for (const p of plans) {
      const open = h('button', { type: 'button', class: 'small' }, P.open);
      open.addEventListener('click', async () => openEditor((await api(`/api/action-plans/${p.id}`)).data));
      tbody.append(h('tr', { 'data-plan': String(p.id), class: p.in_force_now ? 'in-force' : '' },
        h('td', {}, p.doc_no), h('td', {}, p.title), h('td', { class: 'nowrap' }, P.periodText(p.start_year, p.end_year)),
        h('td', { class: 'num' }, num(p.target_total_mu, 0)), h('td', { class: 'num' }, num(p.thresholds.min_block_mu, 0)),
        h('td', {}, stateOf(p)), h('td', {}, open)));
    }
    labelCells(document.getElementById('plans-table'));
    panelState(panel, 'ready');
  }
  return load();
}

// ---- the page -------------------------------------------------------------------------------

const BUILDERS = { targets: buildTargets, scoring: buildScoring, plans: buildPlans, users: buildUsers, keys: buildKeys, reports: buildReports,
  reporting: buildReporting, evalconfig: buildEvalConfig };
const tabs = {};
const panels = {};

function show(name, { focus = false } = {}) {
  if (!SECTIONS.includes(name)) name = SECTIONS[0];
  for (const s of SECTIONS) {
    const on = s === name;
    tabs[s].setAttribute('aria-selected', String(on));
    tabs[s].tabIndex = on ? 0 : -1;
    panels[s].hidden = !on;
  }
  if (focus) tabs[name].focus();
  document.body.dataset.adminSection = name;
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  if (!loaded.has(name)) {
    loaded.add(name);
    setStatus(A.loading);
    Promise.resolve(BUILDERS[name](panels[name]))
      .then(() => setStatus(''))
      .catch((err) => {
        loaded.delete(name);
        panelState(panels[name], 'error');
        setStatus(A.loadFailed(err.message));
      });
  }
}

function buildPage() {
  const nav = document.getElementById('admin-tabs');
  const holder = document.getElementById('admin-panels');
  for (const s of SECTIONS) {
    tabs[s] = h('button', { type: 'button', role: 'tab', id: `tab-${s}`, 'aria-controls': `panel-${s}`, 'data-section': s }, A.sections[s]);
    panels[s] = h('section', { role: 'tabpanel', id: `panel-${s}`, 'aria-labelledby': `tab-${s}`, class: 'admin-panel', hidden: true, 'data-state': 'idle' });
    tabs[s].addEventListener('click', () => show(s));
    nav.append(tabs[s]);
    holder.append(panels[s]);
  }
  nav.addEventListener('keydown', (ev) => {
    const i = SECTIONS.indexOf(document.body.dataset.adminSection);
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[ev.key];
    if (step) { ev.preventDefault(); show(SECTIONS[(i + step + SECTIONS.length) % SECTIONS.length], { focus: true }); }
    if (ev.key === 'Home') { ev.preventDefault(); show(SECTIONS[0], { focus: true }); }
    if (ev.key === 'End') { ev.preventDefault(); show(SECTIONS[SECTIONS.length - 1], { focus: true }); }
  });
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
}

async function main() {
  const user = await mountShell({ page: 'admin', roles: ['admin'] });
  if (!user) { document.body.dataset.adminState = 'refused'; return; }
  [periods] = await Promise.all([fetchJson('/api/progress/periods'), loadUnits()]);
  buildPage();
  show(location.hash.slice(1) || SECTIONS[0]);
  document.body.dataset.adminState = 'ready';
}

main().catch((err) => {
  document.body.dataset.adminState = 'error';
  setStatus(A.loadFailed(err.message));
});
