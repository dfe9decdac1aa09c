// 一库 import screens (administrators and GIS staff): 导入企业名录 (kind=register) and 导入部门数据
// (kind=figures with the year and the source department). Choose a file → upload → the server's
// report: the field mapping (each system field with a select of the sheet's columns, the suggested one
// preselected), the rows with problems first (each problem in the server's Chinese, naming row and
// column), the counts, old → new of every change; change the mapping → 重新检查; 导入 only when the
// report allows it and the mapping shown is the one checked; a summary after the commit. Another file
// can be uploaded at any time (the corrected sheet). State: each screen's data-state (idle | staged |
// committed) and data-can-commit.

import { api, clearFieldErrors, confirmAction, h, showError } from '../common/api.js';
import { ACTIONS, DEPARTMENTS, E, FIELD_LABELS, SEVERITY } from './strings.js';

const ROW_STEP = 200; // report rows drawn at once
const I = E.imports;
const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 };

function busy(button, on, label) {
  if (on) {
    button.dataset.idle = button.textContent;
    button.textContent = label;
    button.disabled = true;
  } else {
    button.textContent = button.dataset.idle || button.textContent;
    button.disabled = false;
  }
}

function thead(...names) {
  return h('thead', {}, h('tr', {}, ...names.map((n) => h('th', {}, n))));
}

function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((cell, i) => { if (heads[i] && !cell.hasAttribute('colspan')) cell.dataset.label = heads[i]; });
  }
}

/** A server refusal, with every row it names; field names the server puts in ``fields`` in Chinese. */
function showRefusal(box, err) {
  const errors = (err.errors || []).map((e) => ({ ...e, feature: e.feature ? I.rowText(e.feature) : (FIELD_LABELS[e.field] || null) }));
  showError(box, { message: err.message, errors: errors.filter((e) => e.message && e.message !== err.message) });
}

/** Worst problem first: refused rows, then rows with warnings, then information, then the rest. */
function rank(row) {
  if (row.action === 'refused') return 0;
  const worst = Math.min(3, ...row.problems.map((p) => SEVERITY_ORDER[p.severity] ?? 3));
  return worst + 1;
}

export function mountImport(host, { kind, thisYear, onList }) {
  const figures = kind === 'figures';
  const screen = { report: null, department: '', shown: ROW_STEP, fresh: false };
  host.textContent = '';
  host.dataset.state = 'idle';
  host.setAttribute('aria-labelledby', `${kind}-h`);
  const title = h('h3', { id: `${kind}-h` }, figures ? E.tabs.figures : E.tabs.register);
  const intro = h('p', { class: 'hint' }, figures ? I.figuresIntro : I.registerIntro);
  const box = h('div', { class: 'message', id: `${kind}-message`, 'aria-live': 'polite' });
  const result = h('div', { id: `${kind}-result`, class: 'import-result' });

  // Step 1: the file (and for figures the year and the department).
  const form = h('form', { id: `${kind}-form`, class: 'import-form', novalidate: true });
  const file = h('input', { type: 'file', id: `${kind}-file`, name: 'file', class: 'file-input',
    accept: '.xlsx,.xls,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-excel,text/csv',
    'aria-label': I.file });
  const chosen = h('span', { class: 'chosen hint', 'aria-live': 'polite' }, I.noFile);
  file.addEventListener('change', () => { chosen.textContent = file.files.length ? file.files[0].name : I.noFile; });
  const fileField = h('div', { class: 'field file-field', 'data-field': 'file' }, h('span', { class: 'label' }, I.file),
    h('span', { class: 'file-pick' }, h('label', { class: 'button file-button' }, I.choose, file), chosen));
  const grid = h('div', { class: 'import-grid' }, fileField);
  let year = null;
  let dept = null;
  let deptOther = null;
  if (figures) {
    year = h('input', { type: 'number', id: `${kind}-year`, name: 'year', min: '2000', max: '2100', step: '1', value: String(thisYear - 1) });
    dept = h('select', { id: `${kind}-department`, name: 'department' }, h('option', { value: '' }, '—'),
      ...DEPARTMENTS.map((d) => h('option', { value: d }, d)), h('option', { value: '__other' }, I.otherDepartment));
    deptOther = h('input', { type: 'text', id: `${kind}-department-other`, maxlength: '64', 'aria-label': I.otherDepartmentName,
      placeholder: I.otherDepartmentName, hidden: true });
    dept.addEventListener('change', () => { deptOther.hidden = dept.value !== '__other'; if (!deptOther.hidden) deptOther.focus(); });
    grid.append(
      h('div', { class: 'field', 'data-field': 'year' }, h('label', { class: 'label', for: year.id }, I.year), year),
      h('div', { class: 'field', 'data-field': 'department' }, h('label', { class: 'label', for: dept.id }, I.department), dept, deptOther));
  }
  const upload = h('button', { type: 'submit', class: 'primary', id: `${kind}-upload` }, I.upload);
  form.append(grid, h('p', { class: 'actions' }, upload));
  host.append(title, intro, form, box, result);

  const department = () => (dept ? (dept.value === '__other' ? deptOther.value.trim() : dept.value) : '');

  function refuseForm(name, message, control) {
    clearFieldErrors(form);
    const wrap = form.querySelector(`[data-field="${name}"]`);
    if (control) control.setAttribute('aria-invalid', 'true');
    wrap?.append(h('span', { class: 'field-error', role: 'alert' }, message));
    (control || file).focus();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    box.textContent = '';
    if (!file.files.length) { refuseForm('file', I.chooseFirst, null); return; }
    const fd = new FormData();
    fd.append('kind', kind);
    if (figures) {
      const y = Number(year.value);
      if (!Number.isInteger(y) || y < 2000 || y > 2100) { refuseForm('year', I.yearBad, year); return; }
      if (!department()) { refuseForm('department', I.departmentMissing, dept.value === '__other' ? deptOther : dept); return; }
      fd.append('year', String(y));
      fd.append('department', department());
      screen.department = department();
    }
    fd.append('file', file.files[0], file.files[0].name);
    busy(upload, true, I.uploading);
    try {
      const { data } = await api('/api/enterprises/imports', { method: 'POST', form: fd });
      screen.shown = ROW_STEP;
      screen.fresh = true;
      draw(data);
    } catch (err) {
      showRefusal(box, err);
      for (const e of err.errors || []) {
        const where = { file: file, year, department: dept }[e.field];
        if (where) where.setAttribute('aria-invalid', 'true');
      }
    } finally {
      busy(upload, false);
      upload.textContent = screen.report ? I.reupload : I.upload;
    }
  });

  function reset() {
    screen.report = null;
    form.reset();
    chosen.textContent = I.noFile;
    if (deptOther) deptOther.hidden = true;
    upload.textContent = I.upload;
    result.textContent = '';
    box.textContent = '';
    host.dataset.state = 'idle';
    delete host.dataset.canCommit;
    form.hidden = false;
    file.focus();
  }

  // Step 2: the report.
  function draw(report) {
    screen.report = report;
    result.textContent = '';
    box.textContent = '';
    host.dataset.state = report.status === 'committed' ? 'committed' : 'staged';
    const head = h('div', { class: 'report-head' },
      h('p', { class: 'hint' }, figures ? I.fileInfoFigures(report.filename, report.header_row, report.year)
        : I.fileInfo(report.filename, report.header_row)),
      h('p', { class: 'counts', id: `${kind}-counts` }, figures ? I.countsFigures(report.counts) : I.counts(report.counts)));
    result.append(head);
    if (report.status === 'committed') {
      result.append(h('p', { class: 'ok' }, I.committed), doneActions());
      return;
    }
    if ((report.mapping_problems || []).length) {
      const ul = h('ul', { class: 'error-list', id: `${kind}-mapping-problems` });
      for (const p of report.mapping_problems) ul.append(h('li', {}, p));
      result.append(ul);
    }
    const mapping = mappingTable(report);
    // The commit: only when the server allows it and the mapping shown is the one it checked.
    const commit = h('button', { type: 'button', class: 'primary', id: `${kind}-commit` }, I.commit);
    const why = h('p', { class: 'hint', id: `${kind}-commit-why`, 'aria-live': 'polite' });
    const restart = h('button', { type: 'button', id: `${kind}-restart` }, I.restart);
    restart.addEventListener('click', reset);
    const refresh = () => {
      const dirty = mapping.dirty();
      const ok = report.can_commit && !dirty;
      commit.disabled = !ok;
      host.dataset.canCommit = String(ok);
      if (dirty) why.textContent = I.mappingDirty;
      else if (report.counts.refused) why.textContent = I.blocked(report.counts.refused);
      else if (!report.can_commit && !(report.mapping_problems || []).length) why.textContent = I.nothing;
      else why.textContent = '';
      why.className = dirty || report.counts.refused ? 'hint error' : 'hint';
    };
    mapping.onChange(refresh);
    refresh();
    commit.addEventListener('click', async () => {
      const ok = await confirmAction(figures ? I.confirmFigures(report.counts) : I.confirm(report.counts), { ok: I.confirmOk });
      if (!ok) return;
      busy(commit, true, I.committing);
      try {
        const { data } = await api(`/api/enterprises/imports/${encodeURIComponent(report.id)}/commit`, { method: 'POST' });
        done(data);
      } catch (err) {
        busy(commit, false);
        refresh();
        showRefusal(box, err);
      }
    });
    // The rows to fix first, unless the mapping itself is what is wrong (or holds a suggestion to confirm).
    const rows = rowsTable(report);
    const mappingFirst = (report.mapping_problems || []).length || mapping.dirty() || !report.counts.refused;
    result.append(h('div', { class: 'commit-bar' }, h('p', { class: 'actions' }, commit, restart), why),
      ...(mappingFirst ? [mapping.section, rows] : [rows, mapping.section]));
    upload.textContent = I.reupload;
  }

  function mappingTable(report) {
    const section = h('section', { class: 'mapping', id: `${kind}-mapping`, 'aria-labelledby': `${kind}-mapping-h` },
      h('h4', { id: `${kind}-mapping-h` }, I.mapping), h('p', { class: 'hint' }, I.mappingHint));
    const table = h('table', { class: `data stack mapping-table${figures ? ' with-departments' : ''}` });
    const heads = [I.target, I.column];
    if (figures) heads.push(I.targetDept);
    table.append(thead(...heads));
    const tbody = h('tbody');
    const selects = [];
    const deptSelects = [];
    const listeners = [];
    const serverDepts = report.departments || {};
    for (const t of report.targets || []) {
      const current = report.mapping[t.field] || '';
      const sel = h('select', { id: `${kind}-map-${t.field}`, 'data-target': t.field, 'aria-label': t.label || FIELD_LABELS[t.field] || '' },
        h('option', { value: '' }, I.unmapped), ...(report.fields || []).map((c) => h('option', { value: c }, c)));
      sel.value = current;
      const note = h('span', { class: 'hint block' });
      const suggestion = (t.suggestions || [])[0];
      // Suggestions are preselected on the upload's first report only: a field unmapped on purpose stays so.
      if (!current && screen.fresh && suggestion && (report.fields || []).includes(suggestion.source)) {
        sel.value = suggestion.source;
        note.textContent = `${I.suggested(suggestion.like)}；${I.suggestedPicked}`;
        note.classList.add('suggested');
      }
      selects.push([t.field, sel, current]);
      const label = h('td', { class: 'target' }, t.label || FIELD_LABELS[t.field] || '',
        t.required ? h('span', { class: 'required', title: I.required }, ' *') : '');
      const cells = [label, h('td', {}, sel, note)];
      if (figures) {
        const was = serverDepts[t.field] || report.department || screen.department || '';
        const options = [...new Set([...DEPARTMENTS, was].filter(Boolean))];
        const ds = h('select', { id: `${kind}-dept-${t.field}`, 'data-target': t.field, 'aria-label': `${t.label || ''}${I.targetDept}` },
          ...options.map((d) => h('option', { value: d }, d)));
        ds.value = was;
        deptSelects.push([t.field, ds, was]);
        cells.push(h('td', {}, ds));
      }
      tbody.append(h('tr', { 'data-target': t.field, class: t.required ? 'required' : '' }, ...cells));
    }
    table.append(tbody);
    labelCells(table);
    const recheck = h('button', { type: 'button', id: `${kind}-recheck` }, I.recheck);
    const dirty = () => selects.some(([, s, was]) => s.value !== was) || deptSelects.some(([, s, was]) => s.value !== was);
    const changed = () => { recheck.classList.toggle('primary', dirty()); for (const fn of listeners) fn(); };
    for (const [, s] of [...selects, ...deptSelects]) s.addEventListener('change', changed);
    recheck.classList.toggle('primary', dirty());
    recheck.addEventListener('click', async () => {
      const mapping = {};
      for (const [f, s] of selects) mapping[f] = s.value || null;
      const bodyJson = { mapping };
      if (figures) bodyJson.departments = Object.fromEntries(deptSelects.map(([f, s]) => [f, s.value]));
      busy(recheck, true, I.rechecking);
      try {
        const { data } = await api(`/api/enterprises/imports/${encodeURIComponent(report.id)}/mapping`, { method: 'PUT', body: bodyJson });
        screen.shown = ROW_STEP;
        screen.fresh = false;
        draw(data);
        document.getElementById(`${kind}-counts`)?.scrollIntoView({ block: 'nearest' });
      } catch (err) {
        busy(recheck, false);
        showRefusal(box, err);
      }
    });
    section.append(h('div', { class: 'table-wrap' }, table), h('p', { class: 'actions' }, recheck));
    return { section, dirty, onChange: (fn) => listeners.push(fn) };
  }

  function rowsTable(report) {
    const section = h('section', { class: 'rows', id: `${kind}-rows-section`, 'aria-labelledby': `${kind}-rows-h` },
      h('h4', { id: `${kind}-rows-h` }, I.rows));
    const rows = [...(report.rows || [])].sort((a, b) => rank(a) - rank(b) || a.row - b.row);
    const quiet = rows.filter((r) => !r.problems.length).length;
    const table = h('table', { class: 'data stack report-rows', id: `${kind}-rows` });
    table.append(thead(I.row, I.code, I.name, I.action, I.problems, I.changes));
    const tbody = h('tbody');
    table.append(tbody);
    const toggle = h('input', { type: 'checkbox', id: `${kind}-show-quiet` });
    const more = h('p', { class: 'actions' });
    const drawRows = () => {
      tbody.textContent = '';
      const visible = rows.filter((r) => r.problems.length || toggle.checked);
      for (const r of visible.slice(0, screen.shown)) {
        const worst = r.action === 'refused' ? 'error' : (r.problems.some((p) => p.severity === 'warning') ? 'warning' : '');
        const problems = h('td', { class: 'problems' });
        if (r.problems.length) {
          const ul = h('ul', { class: 'problem-list' });
          for (const p of r.problems) {
            ul.append(h('li', { class: `sev-${p.severity}` }, h('span', { class: `sev sev-${p.severity}` }, SEVERITY[p.severity] || ''), ' ', p.message));
          }
          problems.append(ul);
        } else problems.append(h('span', { class: 'ok' }, I.noProblem));
        const changes = h('td', { class: 'changes' });
        if ((r.changes || []).length) {
          const ul = h('ul', { class: 'change-list' });
          for (const c of r.changes) {
            const label = c.label || FIELD_LABELS[c.field] || '';
            ul.append(h('li', { class: c.kind ? `change-${c.kind}` : '' },
              c.kind ? I.figureChange(label, c.old, c.new, c.kind) : I.change(label, c.old, c.new)));
          }
          changes.append(ul);
        } else {
          changes.append(E.dash);
          changes.classList.add('empty');
        }
        tbody.append(h('tr', { class: `row-${r.action} ${worst ? `worst-${worst}` : ''}`.trim(), 'data-row': String(r.row), 'data-action': r.action },
          h('td', { class: 'row-no' }, I.rowText(r.row)), h('td', { class: 'code' }, r.credit_code || E.dash), h('td', {}, r.name || E.dash),
          h('td', {}, h('span', { class: `badge action-${r.action}` }, ACTIONS[r.action] || E.dash)), problems, changes));
      }
      labelCells(table);
      more.textContent = '';
      if (visible.length > screen.shown) {
        const b = h('button', { type: 'button', id: `${kind}-more` }, I.more(Math.min(ROW_STEP, visible.length - screen.shown)));
        b.addEventListener('click', () => { screen.shown += ROW_STEP; drawRows(); });
        more.append(b);
      }
    };
    toggle.addEventListener('change', drawRows);
    if (quiet) section.append(h('label', { class: 'check' }, toggle, I.showQuiet(quiet)));
    if (quiet === rows.length) toggle.checked = true; // nothing to fix: show every row
    drawRows();
    section.append(h('div', { class: 'table-wrap' }, table), more);
    return section;
  }

  function doneActions() {
    const toList = h('button', { type: 'button', class: 'primary', id: `${kind}-to-list` }, I.toList);
    const another = h('button', { type: 'button', id: `${kind}-another` }, I.another);
    toList.addEventListener('click', onList);
    another.addEventListener('click', reset);
    return h('p', { class: 'actions' }, toList, another);
  }

  function done(outcome) {
    host.dataset.state = 'committed';
    delete host.dataset.canCommit;
    result.textContent = '';
    box.textContent = '';
    form.hidden = true;
    const summary = figures ? I.doneFigures(outcome) : I.doneRegister(outcome);
    const name = screen.report ? I.doneFile(screen.report.filename) : '';
    result.append(h('div', { class: 'done', id: `${kind}-done`, role: 'status' }, h('h4', {}, I.done), h('p', {}, name, summary)),
      doneActions());
  }

  return { reset };
}
