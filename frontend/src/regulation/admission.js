// 规范管理 · 项目准入 (docs/admission.md): the list of applications (and 投资履约 below it), the form with
// the live check (#admission/new, #admission/<id>/edit), one application with its checks and the
// reviewer's decision (#admission/<id>). Every permission is the server's; the page shows what it returns.
import { api, h, num, showError, showFieldErrors, today } from '../common/api.js';
import { A } from './admission.strings.js';

let root = null;
let me = null;
let blocksCache = null;

const OFFICER_ROLES = ['unit_officer', 'admin'];

function message(kind, text) {
  const box = root.querySelector('.adm-message');
  box.textContent = '';
  if (text) box.append(h('p', { class: kind }, text));
}

function dataCell(label, ...children) {
  return h('td', { 'data-label': label }, ...children);
}

function ready() { root.dataset.state = 'ready'; }

export async function mount(section, { user, path }) {
  root = section;
  me = user;
  section.classList.add('admission-tab');
  await show(path);
}

export async function show(path = '') {
  root.dataset.state = 'loading';
  root.textContent = '';
  root.append(h('div', { class: 'adm-message', 'aria-live': 'polite' }));
  const [first, second] = (path || '').split('/');
  try {
    if (first === 'new') await drawForm(null);
    else if (/^\d+$/.test(first) && second === 'edit') await drawForm(Number(first));
    else if (/^\d+$/.test(first)) await drawDetail(Number(first));
    else await drawList();
  } catch (err) {
    showError(root.querySelector('.adm-message'), err);
  }
  ready();
}

// --- the list ------------------------------------------------------------------------

async function drawList() {
  const head = h('div', { class: 'adm-head' }, h('h3', {}, A.heading));
  const tools = h('div', { class: 'actions' });
  if (OFFICER_ROLES.includes(me.role)) {
    tools.append(h('a', { class: 'button primary', href: '#admission/new', 'data-testid': 'admission-new' }, A.newButton));
  }
  const status = h('select', { name: 'status', 'aria-label': A.statusFilter });
  status.append(h('option', { value: '' }, A.allStatuses));
  for (const [k, v] of Object.entries(A.statuses)) status.append(h('option', { value: k }, v));
  const exportLink = h('a', { class: 'button', href: '/api/admissions/export.xlsx', download: '' }, A.export);
  tools.append(h('label', { class: 'inline' }, `${A.statusFilter} `, status), exportLink);
  const readers = A.readers[me.role] || A.readers.other;
  root.append(head, h('p', { class: 'hint' }, A.intro), h('p', { class: 'hint' }, readers), tools);
  const wrap = h('div', { class: 'table-wrap' });
  root.append(wrap);
  async function load() {
    const q = status.value ? `?status=${encodeURIComponent(status.value)}` : '';
    exportLink.href = `/api/admissions/export.xlsx${q}`;
    const { data } = await api(`/api/admissions${q}`);
    wrap.textContent = '';
    if (!data.data.length) { wrap.append(h('p', { class: 'hint' }, A.empty)); return; }
    const table = h('table', { class: 'data stack', 'data-testid': 'admission-list', 'aria-label': A.listCaption });
    const tr = h('tr');
    for (const key of ['code', 'project', 'enterprise', 'block', 'industry', 'investment', 'status', 'checks', 'action']) {
      tr.append(h('th', { scope: 'col', class: key === 'investment' ? 'num' : null }, A.cols[key]));
    }
    table.append(h('thead', {}, tr));
    const tbody = h('tbody');
    for (const a of data.data) {
      tbody.append(h('tr', { 'data-id': a.id },
        dataCell(A.cols.code, a.code),
        dataCell(A.cols.project, a.project_name),
        dataCell(A.cols.enterprise, a.enterprise_name),
        dataCell(A.cols.block, a.block_name),
        dataCell(A.cols.industry, `${a.industry_code}${a.industry_name ? ` ${a.industry_name}` : ''}`),
        h('td', { class: 'num', 'data-label': A.cols.investment }, num(a.investment_10k)),
        dataCell(A.cols.status, h('span', { class: `adm-status s-${a.status}` }, a.status_label)),
        dataCell(A.cols.checks, a.flagged ? h('span', { class: 'adm-flagged' }, A.flagged)
          : (a.status === 'draft' ? A.dash : A.clean)),
        h('td', { class: 'row-actions' }, h('a', { class: 'button small', href: `#admission/${a.id}` }, A.open)),
      ));
    }
    table.append(tbody);
    wrap.append(table);
  }
  status.addEventListener('change', () => load().catch((err) => showError(root.querySelector('.adm-message'), err)));
  await load();
  await drawCredits();
}

// 履约: which promises were missed and by how much (未达承诺：产出 65%、税收 60%), or that no actual is entered yet.
function creditStatus(r) {
  if (r.is_defaulter) {
    const missed = (r.missed || []).map((m) => A.missedItem(m.label, Math.round(m.rate * 100)));
    return h('span', { class: 'adm-flagged' }, missed.length ? A.defaulterOf(missed.join('、')) : A.defaulter);
  }
  const actuals = [r.actual_investment_10k, r.actual_output_10k, r.actual_tax_10k];
  return actuals.every((v) => v === null || v === undefined) ? A.noActuals : A.keeping;
}

async function drawCredits() {
  const box = h('section', { class: 'card adm-credits', 'aria-labelledby': 'adm-credit-h', 'data-testid': 'credit-records' },
    h('h3', { id: 'adm-credit-h' }, A.creditsHeading), h('p', { class: 'hint' }, A.creditsIntro));
  root.append(box);
  let data;
  try {
    ({ data } = await api('/api/credit-records'));
  } catch (err) {
    if (err.status === 403) { box.append(h('p', { class: 'hint' }, A.creditsNotReadable)); return; }
    throw err;
  }
  if (!data.data.length) { box.append(h('p', { class: 'hint' }, A.creditsEmpty)); return; }
  const table = h('table', { class: 'data stack' });
  const tr = h('tr');
  for (const key of ['project', 'enterprise', 'year', 'investment', 'output', 'tax', 'status', 'note']) {
    tr.append(h('th', { scope: 'col' }, A.creditCols[key]));
  }
  table.append(h('thead', {}, tr));
  const tbody = h('tbody');
  const pair = (p, a) => `${num(p)} / ${a === null || a === undefined ? A.dash : num(a)}`;
  for (const r of data.data) {
    tbody.append(h('tr', { 'data-id': r.id },
      dataCell(A.creditCols.project, r.project_name),
      dataCell(A.creditCols.enterprise, r.enterprise),
      dataCell(A.creditCols.year, String(r.year)),
      h('td', { class: 'num', 'data-label': A.creditCols.investment }, pair(r.promised_investment_10k, r.actual_investment_10k)),
      h('td', { class: 'num', 'data-label': A.creditCols.output }, pair(r.promised_output_10k, r.actual_output_10k)),
      h('td', { class: 'num', 'data-label': A.creditCols.tax }, pair(r.promised_tax_10k, r.actual_tax_10k)),
      dataCell(A.creditCols.status, creditStatus(r)),
      dataCell(A.creditCols.note, r.note || A.dash),
    ));
  }
  table.append(tbody);
  box.append(h('div', { class: 'table-wrap' }, table));
}

// --- the checks ------------------------------------------------------------------------

function drawReport(report, { decided = false, status = null } = {}) {
  const box = h('div', { class: 'adm-report', 'data-testid': 'admission-checks' });
  if (!report) return box;
  box.append(h('h4', {}, A.checksHeading, h('span', { class: 'hint' }, decided ? A.checksDecided : A.checksNow)));
  const shown = report.flags;
  if (!shown.length) box.append(h('p', { class: 'ok' }, A.noFlags));
  const ul = h('ul', { class: 'adm-flags' });
  for (const f of shown) {
    ul.append(h('li', { class: `flag sev-${f.severity}`, 'data-code': f.code },
      h('span', { class: 'sev' }, A.severity(f.severity_label)), f.message_zh));
  }
  if (shown.length) box.append(ul);
  // what the flags mean now: open — the reviewer decides; decided — see the reviewer's comment
  if (report.flagged) box.append(h('p', { class: 'notice' }, A.flaggedNotes[status] || A.flaggedNote));
  const g = report.figures;
  const dl = h('dl', { class: 'adm-figures' });
  const add = (k, v) => dl.append(h('dt', {}, k), h('dd', {}, v));
  add(A.figures.land, num(g.land_mu));
  add(A.figures.taxPerMu, num(g.tax_per_mu_10k));
  add(A.figures.outputPerMu, num(g.output_per_mu_10k));
  add(A.figures.expected, g.expected_grade || A.dash);
  if (g.line_grade) add(A.figures.line(g.line_grade), `${num(g.line_tax_per_mu_10k)} / ${num(g.line_output_per_mu_10k)}`);
  add(A.figures.far, num(g.far));
  add(A.figures.minFar, num(g.min_far));
  add(A.figures.industry, `${g.industry_code}${g.industry_name ? ` ${g.industry_name}` : ''}`);
  add(A.figures.guidance, g.industry_guidance.length ? g.industry_guidance.join('、') : A.noGuidance);
  box.append(dl);
  const e = report.enterprise;
  const cl = h('dl', { class: 'adm-figures' });
  const addc = (k, v) => cl.append(h('dt', {}, k), h('dd', {}, v));
  if (!e.registered) addc(A.creditHeading, A.credit.newEnterprise);
  addc(A.credit.classification, e.classification_label || A.credit.none);
  addc(A.credit.grade, e.grade ? A.credit.gradeOf(e.grade, e.grade_year) : A.credit.none);
  addc(A.credit.referrals, String(e.open_referrals));
  addc(A.credit.records, String(e.records));
  addc(A.credit.defaults, e.defaults.length ? e.defaults.map((d) => `${d.year} ${d.project_name}（${d.missed}）`).join('；') : A.credit.none);
  box.append(h('h4', {}, A.creditHeading), cl);
  return box;
}

// --- the form ------------------------------------------------------------------------

const NUMBERS = [['investment_10k', 'investment'], ['output_10k', 'output'], ['tax_10k', 'tax'],
  ['floor_area_m2', 'floorArea'], ['far', 'far']];

async function drawForm(id) {
  let current = null;
  let etag = null;
  if (id) ({ data: current, etag } = await api(`/api/admissions/${id}`));
  if (!blocksCache) blocksCache = (await api('/api/admissions/blocks')).data.data;
  const blocks = blocksCache;
  root.append(h('p', {}, h('a', { href: id ? `#admission/${id}` : '#admission' }, A.back)),
    h('h3', {}, id ? A.formEdit(current.code) : A.formNew));
  if (!blocks.length) { root.append(h('p', { class: 'notice' }, A.noBlocks)); return; }
  const form = h('form', { class: 'adm-form card', novalidate: true, 'data-testid': 'admission-form' });
  const errBox = h('div', { class: 'adm-form-errors', 'aria-live': 'polite' });
  const field = (name, label, input, hint) => {
    input.name = name;
    input.id = `adm-${name}`;
    return h('div', { class: 'adm-field', 'data-field': name },
      h('label', { for: input.id }, label), input, hint ? h('p', { class: 'hint' }, hint) : '');
  };
  const blockSel = h('select', {});
  blockSel.append(h('option', { value: '' }, A.chooseBlock));
  for (const b of blocks) blockSel.append(h('option', { value: b.code }, `${b.name}（${b.code}）`));
  const guidance = h('p', { class: 'hint adm-guidance', 'data-testid': 'admission-guidance' });
  const parcelsBox = h('fieldset', { class: 'adm-parcels', 'data-field': 'parcels' }, h('legend', {}, A.parcels));
  const search = h('input', { type: 'search', list: 'adm-enterprises', autocomplete: 'off' });
  const list = h('datalist', { id: 'adm-enterprises' });
  const credit = h('input', { type: 'text', maxlength: '18', autocomplete: 'off' });
  const ename = h('input', { type: 'text', maxlength: '128' });
  const pname = h('input', { type: 'text', maxlength: '128' });
  const industry = h('input', { type: 'text', maxlength: '16', autocomplete: 'off' });
  const nums = Object.fromEntries(NUMBERS.map(([k]) => [k, h('input', { type: 'number', min: '0', step: '0.01', inputmode: 'decimal' })]));
  const start = h('input', { type: 'date' });
  const complete = h('input', { type: 'date' });
  const note = h('textarea', { rows: '2', maxlength: '2000' });

  function drawParcels(code, chosen = []) {
    for (const old of parcelsBox.querySelectorAll('label')) old.remove();
    const b = blocks.find((x) => x.code === code);
    guidance.textContent = b ? `${A.guidance}：${b.industry_guidance.length
      ? b.industry_guidance.map((c, k) => `${c} ${b.industry_guidance_names[k]}`.trim()).join('；') : A.noGuidance}` : '';
    if (!b) return;
    for (const p of b.parcels) {
      const box = h('input', { type: 'checkbox', name: 'parcel', value: p.code });
      box.checked = chosen.includes(p.code);
      parcelsBox.append(h('label', { class: 'check' }, box, A.parcelLine(p)));
    }
  }
  blockSel.addEventListener('change', () => { drawParcels(blockSel.value); schedule(); });

  let searchTimer = null;
  let found = [];
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    const pick = found.find((e) => `${e.name}（${e.credit_code}）` === search.value);
    if (pick) {
      credit.value = pick.credit_code;
      ename.value = '';
      if (!industry.value && pick.industry_code) industry.value = pick.industry_code;
      schedule();
      return;
    }
    searchTimer = setTimeout(async () => {
      if (search.value.trim().length < 2) return;
      try {
        const { data } = await api(`/api/enterprises?q=${encodeURIComponent(search.value.trim())}&limit=20&pending=false`);
        found = data.data;
        list.textContent = '';
        for (const e of found) list.append(h('option', { value: `${e.name}（${e.credit_code}）` }));
      } catch (err) { /* the search is a convenience: the code can be typed */ }
    }, 250);
  });

  form.append(
    field('block', A.block, blockSel), guidance, parcelsBox,
    h('div', { class: 'adm-grid' },
      field('enterprise_search', A.enterpriseSearch, search, A.enterpriseSearchHint), list,
      field('enterprise', A.creditCode, credit), field('enterprise_name', A.enterpriseName, ename),
      field('project_name', A.projectName, pname), field('industry_code', A.industryCode, industry),
      ...NUMBERS.map(([k, label]) => field(k, A[label], nums[k])),
      field('start_on', A.startOn, start), field('complete_on', A.completeOn, complete)),
    field('note', A.note, note),
  );
  const live = h('section', { class: 'adm-live card', 'aria-live': 'polite', 'data-testid': 'admission-live' },
    h('h4', {}, A.liveHeading), h('p', { class: 'hint' }, A.liveIdle));
  const saveBtn = h('button', { type: 'button' }, A.saveDraft);
  const submitBtn = h('button', { type: 'submit', class: 'primary' }, A.saveSubmit);
  form.append(errBox, h('div', { class: 'actions' }, submitBtn, saveBtn,
    h('a', { class: 'button', href: id ? `#admission/${id}` : '#admission' }, A.cancel)));
  root.append(h('div', { class: 'adm-form-layout' }, form, live));

  if (current) {
    blockSel.value = current.block;
    blockSel.disabled = true;
    drawParcels(current.block, current.parcels);
    credit.value = current.credit_code;
    ename.value = current.enterprise_registered ? '' : current.enterprise_name;
    pname.value = current.project_name;
    industry.value = current.industry_code;
    for (const [k] of NUMBERS) nums[k].value = current[k];
    start.value = current.start_on;
    complete.value = current.complete_on;
    note.value = current.note || '';
  } else if (blocks.length === 1) {
    blockSel.value = blocks[0].code;
    drawParcels(blocks[0].code);
  }

  function body() {
    const out = {
      block: blockSel.value, parcels: [...parcelsBox.querySelectorAll('input:checked')].map((x) => x.value),
      enterprise: credit.value.trim(), enterprise_name: ename.value.trim() || null, project_name: pname.value.trim(),
      industry_code: industry.value.trim(), start_on: start.value, complete_on: complete.value, note: note.value.trim() || null,
    };
    for (const [k] of NUMBERS) out[k] = nums[k].value === '' ? null : Number(nums[k].value);
    return out;
  }
  function complete_() {
    const b = body();
    return b.block && b.parcels.length && b.enterprise && b.project_name && b.industry_code && b.start_on && b.complete_on
      && NUMBERS.every(([k]) => b[k] !== null);
  }
  let liveTimer = null;
  let liveSeq = 0;
  function schedule() {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(runCheck, 400);
  }
  async function runCheck() {
    if (!complete_()) return;
    const seq = ++liveSeq;
    live.dataset.state = 'loading';
    try {
      const { data } = await api('/api/admissions/check', { method: 'POST', body: body() });
      if (seq !== liveSeq) return;
      live.replaceChildren(h('h4', {}, A.liveHeading), drawReport(data));
      showFieldErrors(form, errBox, { message: '', errors: [] });
      errBox.textContent = '';
    } catch (err) {
      if (seq !== liveSeq) return;
      live.replaceChildren(h('h4', {}, A.liveHeading), h('p', { class: 'hint' }, A.liveIdle));
      showFieldErrors(form, errBox, err);
    }
    live.dataset.state = 'ready';
  }
  form.addEventListener('input', (ev) => { if (ev.target !== search) schedule(); });
  form.addEventListener('change', (ev) => { if (ev.target !== search) schedule(); });

  async function save(andSubmit) {
    saveBtn.disabled = submitBtn.disabled = true;
    try {
      const res = current
        ? await api(`/api/admissions/${current.id}`, { method: 'PATCH', body: body(), etag })
        : await api('/api/admissions', { method: 'POST', body: body() });
      let saved = res.data;
      if (andSubmit) saved = (await api(`/api/admissions/${saved.id}/submit`, { method: 'POST', etag: res.etag })).data;
      blocksCache = null;
      sessionStorage.setItem('admission-flash', andSubmit ? A.submittedOk(saved.code) : A.saved(saved.code));
      location.hash = `#admission/${saved.id}`;
    } catch (err) {
      showFieldErrors(form, errBox, err);
    } finally {
      saveBtn.disabled = submitBtn.disabled = false;
    }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); save(true); });
  saveBtn.addEventListener('click', () => save(false));
  if (current) schedule();
}

// --- one application ------------------------------------------------------------------

async function drawDetail(id) {
  const { data: a, etag } = await api(`/api/admissions/${id}`);
  const flash = sessionStorage.getItem('admission-flash');
  if (flash) { sessionStorage.removeItem('admission-flash'); message('ok', flash); }
  root.append(h('p', {}, h('a', { href: '#admission' }, A.back)));
  const card = h('article', { class: 'card adm-detail', 'data-testid': 'admission-detail', 'data-status': a.status });
  card.append(h('h3', {}, A.detailHeading(a.code), ' ', h('span', { class: `adm-status s-${a.status}` }, a.status_label)),
    h('p', { class: 'adm-project' }, a.project_name));
  const dl = h('dl', { class: 'adm-figures' });
  const add = (k, v) => dl.append(h('dt', {}, k), h('dd', {}, v || A.dash));
  add(A.fields.block, `${a.block_name}（${a.block}）`);
  add(A.fields.unit, a.unit_name);
  add(A.fields.enterprise, a.enterprise_name);
  add(A.fields.creditCode, a.credit_code);
  add(A.fields.parcels, a.parcels.join('、'));
  add(A.fields.industry, `${a.industry_code}${a.industry_name ? ` ${a.industry_name}` : ''}`);
  add(A.fields.investment, num(a.investment_10k));
  add(A.fields.output, num(a.output_10k));
  add(A.fields.tax, num(a.tax_10k));
  add(A.fields.floorArea, num(a.floor_area_m2));
  add(A.fields.far, num(a.far));
  add(A.fields.dates, `${a.start_on} — ${a.complete_on}`);
  if (a.note) add(A.fields.note, a.note);
  if (a.submitted_by) add(A.fields.submitted, A.by(a.submitted_by.display_name, a.submitted_at.slice(0, 10)));
  if (a.reviewed_by) add(A.fields.reviewed, A.by(a.reviewed_by.display_name, a.reviewed_at.slice(0, 10)));
  if (a.review_comment) add(A.fields.comment, a.review_comment);
  if (a.approval_doc_no) add(A.fields.docNo, a.approval_doc_no);
  if (a.approval_date) add(A.fields.approvalDate, a.approval_date);
  if (a.credit_record_id) add(A.fields.credit, A.creditLink(a.credit_record_id));
  card.append(dl, drawReport(a.report, { decided: ['approved', 'returned'].includes(a.status), status: a.status }));
  root.append(card);
  if (a.can_edit) {
    const submitBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'admission-submit' }, A.submit);
    submitBtn.addEventListener('click', async () => {
      try {
        await api(`/api/admissions/${a.id}/submit`, { method: 'POST', etag });
        sessionStorage.setItem('admission-flash', A.submittedOk(a.code));
        await show(String(a.id));
      } catch (err) { showError(root.querySelector('.adm-message'), err); }
    });
    root.append(h('div', { class: 'actions' }, submitBtn, h('a', { class: 'button', href: `#admission/${a.id}/edit` }, A.edit)));
  }
  if (a.can_decide) {
    const form = h('form', { class: 'card adm-decide', novalidate: true, 'data-testid': 'admission-decide' });
    const errBox = h('div', { 'aria-live': 'polite' });
    const comment = h('textarea', { id: 'adm-comment', name: 'comment', rows: '3', maxlength: '2000' });
    const docNo = h('input', { id: 'adm-doc', name: 'doc_no', type: 'text', maxlength: '64' });
    const date = h('input', { id: 'adm-date', name: 'approval_date', type: 'date', value: today() });
    const approveBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'admission-approve' }, A.approve);
    const returnBtn = h('button', { type: 'button', 'data-testid': 'admission-return' }, A.returnIt);
    form.append(h('h4', {}, A.decideHeading),
      h('div', { 'data-field': 'comment' }, h('label', { for: 'adm-comment' }, A.comment), comment),
      h('div', { class: 'adm-grid' },
        h('div', { 'data-field': 'doc_no' }, h('label', { for: 'adm-doc' }, A.docNo), docNo),
        h('div', { 'data-field': 'approval_date' }, h('label', { for: 'adm-date' }, A.approvalDate), date)),
      errBox, h('div', { class: 'actions' }, approveBtn, returnBtn));
    async function decide(action) {
      approveBtn.disabled = returnBtn.disabled = true;
      try {
        const payload = action === 'approve'
          ? { comment: comment.value.trim() || null, doc_no: docNo.value.trim() || null, approval_date: date.value || null }
          : { comment: comment.value.trim() };
        await api(`/api/admissions/${a.id}/${action}`, { method: 'POST', body: payload, etag });
        sessionStorage.setItem('admission-flash', action === 'approve' ? A.approvedOk(a.code) : A.returnedOk(a.code));
        await show(String(a.id));
      } catch (err) {
        showFieldErrors(form, errBox, err, () => null, { list: false });
        approveBtn.disabled = returnBtn.disabled = false;
      }
    }
    approveBtn.addEventListener('click', () => decide('approve'));
    returnBtn.addEventListener('click', () => decide('return'));
    root.append(form);
  }
}
