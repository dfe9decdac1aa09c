// 规范管理 · 扶持资金 (docs/subsidies.md): the fund's totals (and the administrator's setting), the
// 区块范围查询 box, the 申请 form with its live answer "是否在已批准区块范围内", and the ledger with its
// filters, the 审核 and 拨付 actions each role may take, and the Excel export. Every permission is the
// server's: the page shows what the API returns (each entry's ``can``).
import { api, clearFieldErrors, h, num, query, showError, showFieldErrors, today } from '../common/api.js';
import { S } from './subsidies.strings.js';

let root = null;
let me = null;
let fundEtag = null;

const APPLICANTS = ['unit_officer', 'admin'];


function say(kind, text) {
  const box = root.querySelector('.sub-message');
  box.textContent = '';
  if (text) box.append(h('p', { class: kind, role: kind === 'error' ? 'alert' : 'status' }, text));
}

function cell(label, ...children) { return h('td', { 'data-label': label }, ...children); }
function money(label, value) { return h('td', { class: 'num', 'data-label': label }, value === null ? S.dash : num(value)); }

function field(label, name, input) {
  input.setAttribute('name', name);
  return h('label', { class: 'sub-field', 'data-field': name }, label, input);
}

export async function mount(section, { user }) {
  root = section;
  me = user;
  section.classList.add('subsidies-tab');
  await show();
}

export async function show() {
  root.dataset.state = 'loading';
  root.textContent = '';
  root.append(h('div', { class: 'sub-head' }, h('h3', {}, S.heading)),
    h('p', { class: 'hint' }, S.intro), h('p', { class: 'hint' }, S.readers[me.role] || S.readers.other),
    h('div', { class: 'sub-message', 'aria-live': 'polite' }));
  const fundBox = h('section', { class: 'card sub-fund', 'data-testid': 'subsidy-fund', 'aria-labelledby': 'sub-fund-h' });
  const tools = h('div', { class: 'sub-tools' });
  const listBox = h('section', { class: 'sub-ledger', 'aria-labelledby': 'sub-list-h' });
  root.append(fundBox, tools, listBox);
  tools.append(lookupBox());
  if (APPLICANTS.includes(me.role)) tools.append(applyBox());
  try {
    await Promise.all([drawFund(fundBox), drawLedger(listBox)]);
  } catch (err) {
    showError(root.querySelector('.sub-message'), err);
  }
  root.dataset.state = 'ready';
}

async function refresh() {
  await Promise.all([drawFund(root.querySelector('.sub-fund')), loadLedger()]);
}

// --- the fund ------------------------------------------------------------------------------------------

async function drawFund(box) {
  const { data, etag } = await api('/api/subsidies/fund');
  fundEtag = data.stored ? etag : null;
  box.textContent = '';
  box.append(h('h3', { id: 'sub-fund-h' }, data.name || S.fund.heading));
  if (!data.stored) box.append(h('p', { class: 'notice' }, S.fund.notSet));
  const figures = h('dl', { class: 'sub-figures' });
  for (const [key, label] of [['total_10k', S.fund.total], ['committed_10k', S.fund.committed],
    ['paid_10k', S.fund.paid], ['remaining_10k', S.fund.remaining], ['pending_10k', S.fund.pending],
    ['unpaid_10k', S.fund.unpaid]]) {
    figures.append(h('div', { class: `sub-figure f-${key}`, 'data-figure': key },
      h('dt', {}, label), h('dd', {}, h('span', { class: 'num' }, num(data[key])), ` ${S.fund.unit}`)));
  }
  box.append(figures);
  const total = Number(data.total_10k) || 0;
  const paidPct = total ? Math.min(100, (Number(data.paid_10k) / total) * 100) : 0;
  const committedPct = total ? Math.min(100, (Number(data.committed_10k) / total) * 100) : 0;
  const label = S.fund.bar(num(paidPct, 1), num(committedPct, 1));
  box.append(h('div', { class: 'sub-bar', role: 'img', 'aria-label': label },
    h('span', { class: 'sub-bar-committed', style: `width:${committedPct}%` }),
    h('span', { class: 'sub-bar-paid', style: `width:${paidPct}%` })), h('p', { class: 'hint' }, label));
  if (me.role === 'admin') box.append(fundForm(data));
  box.append(sumsTable(S.sums.heading, data.units, false), sumsTable(S.sums.blocksHeading, data.blocks, true));
}

function fundForm(data) {
  const details = h('details', { class: 'sub-fund-edit' }, h('summary', {}, S.fund.edit));
  const form = h('form', { novalidate: true });
  const name = h('input', { type: 'text', value: data.name, maxlength: '128', required: true });
  const total = h('input', { type: 'number', value: Number(data.total_10k), min: '0', step: '0.01', required: true, inputmode: 'decimal' });
  const note = h('input', { type: 'text', value: data.note || '', maxlength: '2000' });
  const box = h('div', { class: 'sub-form-message', 'aria-live': 'polite' });
  form.append(h('div', { class: 'sub-grid' }, field(S.fund.name, 'name', name), field(S.fund.totalField, 'total_10k', total),
    field(S.fund.note, 'note', note)), box, h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, S.fund.save)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('/api/subsidies/fund', { method: 'PUT', etag: fundEtag,
        body: { name: name.value, total_10k: total.value || '0', note: note.value || null } });
      say('ok', S.fund.saved);
      await refresh();
    } catch (err) { showFieldErrors(form, box, err, undefined, { list: false }); }
  });
  details.append(form);
  return details;
}

function sumsTable(title, rows, byBlock) {
  const wrap = h('div', { class: 'table-wrap sub-sums' }, h('h4', {}, title));
  if (!rows.length) { wrap.append(h('p', { class: 'hint' }, S.sums.empty)); return wrap; }
  const table = h('table', { class: 'data stack' });
  const head = h('tr');
  const cols = byBlock ? ['block', 'unit'] : ['unit'];
  for (const k of [...cols, 'entries', 'pending', 'committed', 'paid', 'unpaid']) {
    head.append(h('th', { scope: 'col', class: ['block', 'unit'].includes(k) ? null : 'num' }, S.sums[k]));
  }
  table.append(h('thead', {}, head));
  const body = h('tbody');
  for (const r of rows) {
    const tr = h('tr', { 'data-key': byBlock ? r.block : r.unit });
    if (byBlock) tr.append(cell(S.sums.block, r.block_name));
    tr.append(cell(S.sums.unit, r.unit_name), h('td', { class: 'num', 'data-label': S.sums.entries }, String(r.entries)),
      money(S.sums.pending, r.pending_10k), money(S.sums.committed, r.committed_10k), money(S.sums.paid, r.paid_10k),
      money(S.sums.unpaid, r.unpaid_10k));
    body.append(tr);
  }
  table.append(body);
  wrap.append(table);
  return wrap;
}

// --- 区块范围查询 and the live answer ------------------------------------------------------------------

function kindSelect() {
  const sel = h('select', {});
  sel.append(h('option', { value: 'enterprise' }, S.lookup.enterprise), h('option', { value: 'parcel' }, S.lookup.parcel));
  return sel;
}

async function ask(kind, code, on) {
  const { data } = await api(`/api/boundary-membership${query({ [kind]: code.trim(), on })}`);
  return data;
}

function lookupBox() {
  const box = h('section', { class: 'card sub-lookup', 'data-testid': 'boundary-lookup', 'aria-labelledby': 'sub-lookup-h' },
    h('h3', { id: 'sub-lookup-h' }, S.lookup.heading), h('p', { class: 'hint' }, S.lookup.hint));
  const form = h('form', { novalidate: true });
  const kind = kindSelect();
  const code = h('input', { type: 'text', maxlength: '64', autocomplete: 'off' });
  const on = h('input', { type: 'date', value: today() });
  const out = h('div', { class: 'sub-lookup-answer', 'aria-live': 'polite' });
  form.append(h('div', { class: 'sub-grid' }, field(S.lookup.kind, 'kind', kind), field(S.lookup.code, 'code', code),
    field(S.lookup.on, 'on', on)), h('p', { class: 'actions' }, h('button', { type: 'submit' }, S.lookup.go)), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.textContent = '';
    if (!code.value.trim()) { out.append(h('p', { class: 'error' }, S.lookup.codeMissing)); return; }
    try {
      const data = await ask(kind.value, code.value, on.value);
      out.append(h('p', { class: data.inside ? 'ok' : 'error', 'data-testid': 'lookup-sentence' }, data.sentence));
      out.append(historyTable(data.history, kind.value === 'parcel'));
    } catch (err) { showError(out, err); }
  });
  box.append(form);
  return box;
}

function historyTable(rows, parcel) {
  const wrap = h('div', { class: 'table-wrap' }, h('h4', {}, S.lookup.history));
  if (!rows.length) { wrap.append(h('p', { class: 'hint' }, S.lookup.none)); return wrap; }
  const table = h('table', { class: 'data stack' });
  const head = h('tr');
  const keys = ['block', 'version', 'docNo', 'from', 'to', ...(parcel ? ['share'] : [])];
  for (const k of keys) head.append(h('th', { scope: 'col' }, S.lookup[k]));
  table.append(h('thead', {}, head));
  const body = h('tbody');
  for (const r of rows) {
    const tr = h('tr', {}, cell(S.lookup.block, `${r.block_name}（${r.block}）`), cell(S.lookup.version, S.lookup.versionNo(r.version_no)),
      cell(S.lookup.docNo, r.doc_no || S.dash), cell(S.lookup.from, r.from), cell(S.lookup.to, r.to || S.lookup.stillInForce));
    if (parcel) tr.append(cell(S.lookup.share, r.share_inside === null ? S.dash : `${num(r.share_inside * 100, 1)}%`));
    body.append(tr);
  }
  table.append(body);
  wrap.append(table);
  return wrap;
}

// --- 申请 ------------------------------------------------------------------------------------------------

function applyBox() {
  const box = h('section', { class: 'card sub-apply', 'data-testid': 'subsidy-apply', 'aria-labelledby': 'sub-apply-h' },
    h('h3', { id: 'sub-apply-h' }, S.apply.heading));
  const form = h('form', { novalidate: true });
  const kind = kindSelect();
  const code = h('input', { type: 'text', maxlength: '64', autocomplete: 'off', required: true });
  const on = h('input', { type: 'date', value: today(), required: true });
  const amount = h('input', { type: 'number', min: '0.01', step: '0.01', inputmode: 'decimal', required: true });
  const project = h('input', { type: 'text', maxlength: '128' });
  const admission = h('input', { type: 'number', min: '1', step: '1', inputmode: 'numeric' });
  const basis = h('textarea', { rows: '2', maxlength: '2000', required: true });
  const live = h('p', { class: 'sub-live', 'data-testid': 'subsidy-live', 'aria-live': 'polite' });
  const box2 = h('div', { class: 'sub-form-message', 'aria-live': 'polite' });
  // the enterprise or parcel field carries the server's error, whichever was asked for
  const codeField = field(S.apply.code, 'code', code);
  codeField.dataset.field = 'enterprise';
  form.append(h('div', { class: 'sub-grid' }, field(S.apply.kind, 'kind', kind), codeField, field(S.apply.on, 'applied_on', on),
    field(S.apply.amount, 'amount_10k', amount), field(S.apply.projectName, 'project_name', project),
    field(S.apply.admission, 'admission_id', admission)),
  field(S.apply.basis, 'basis', basis), live, box2,
  h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, S.apply.submit)));
  let timer = null;
  let asked = 0;
  async function check() {
    const mine = ++asked;
    live.textContent = '';
    live.className = 'sub-live';
    if (!code.value.trim() || !on.value) return;
    live.textContent = `${S.apply.live}${S.apply.checking}`;
    try {
      const data = await ask(kind.value, code.value, on.value);
      if (mine !== asked) return;
      live.textContent = S.apply.live + (data.inside ? S.apply.yes(data.membership) : S.apply.no);
      live.className = `sub-live ${data.inside ? 'ok' : 'error'}`;
      live.dataset.inside = data.inside ? 'yes' : 'no';
    } catch (err) {
      if (mine !== asked) return;
      live.textContent = err.message;
      live.className = 'sub-live error';
      live.dataset.inside = 'no';
    }
  }
  const later = () => { clearTimeout(timer); timer = setTimeout(check, 300); };
  for (const input of [code, on]) input.addEventListener('input', later);
  kind.addEventListener('change', () => { codeField.dataset.field = kind.value; later(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!code.value.trim() || !on.value) { showError(box2, { message: S.apply.fillIn, errors: [] }); return; }
    try {
      const { data } = await api('/api/subsidies/entries', { method: 'POST', body: {
        [kind.value]: code.value.trim(), applied_on: on.value, amount_10k: amount.value || '0',
        project_name: project.value || null, basis: basis.value,
        admission_id: admission.value ? Number(admission.value) : null } });
      box2.textContent = '';
      clearFieldErrors(form);
      say('ok', S.apply.done(data.id));
      form.reset();
      on.value = today();
      live.textContent = '';
      await refresh();
    } catch (err) { showFieldErrors(form, box2, err, undefined, { list: false }); }
  });
  box.append(form);
  return box;
}

// --- the ledger ----------------------------------------------------------------------------------------

let loadLedger = async () => {};

async function drawLedger(box) {
  box.textContent = '';
  box.append(h('h3', { id: 'sub-list-h' }, S.list.heading));
  const status = h('select', { name: 'status', 'aria-label': S.list.statusFilter });
  status.append(h('option', { value: '' }, S.list.allStatuses));
  for (const [k, v] of Object.entries(S.list.statuses)) status.append(h('option', { value: k }, v));
  const { data: sums } = await api('/api/subsidies/fund');
  const block = h('select', { name: 'block', 'aria-label': S.list.blockFilter });
  block.append(h('option', { value: '' }, S.list.allBlocks));
  for (const b of sums.blocks) block.append(h('option', { value: b.block }, b.block_name));
  const unit = h('select', { name: 'unit', 'aria-label': S.list.unitFilter });
  unit.append(h('option', { value: '' }, S.list.allUnits));
  for (const u of sums.units) unit.append(h('option', { value: u.unit }, u.unit_name));
  const search = h('input', { type: 'search', name: 'q', maxlength: '64', placeholder: S.list.search, 'aria-label': S.list.search });
  const exportLink = h('a', { class: 'button', href: '/api/subsidies/export.xlsx', download: '' }, S.list.export);
  const count = h('span', { class: 'hint' });
  const filters = h('div', { class: 'actions sub-filters' }, h('label', { class: 'inline' }, `${S.list.statusFilter} `, status));
  if (me.role !== 'unit_officer') filters.append(h('label', { class: 'inline' }, `${S.list.unitFilter} `, unit));
  filters.append(h('label', { class: 'inline' }, `${S.list.blockFilter} `, block), search, exportLink, count);
  box.append(filters);
  const wrap = h('div', { class: 'table-wrap' });
  box.append(wrap);
  loadLedger = async () => {
    const { data } = await api(`/api/subsidies/entries${query({
      status: status.value, unit: unit.value, block: block.value, q: search.value.trim() })}`);
    count.textContent = S.list.total(data.total);
    wrap.textContent = '';
    if (!data.data.length) { wrap.append(h('p', { class: 'hint' }, S.list.empty)); return; }
    const table = h('table', { class: 'data stack', 'data-testid': 'subsidy-list', 'aria-label': S.list.caption });
    const head = h('tr');
    for (const k of ['id', 'applied_on', 'subject', 'block', 'unit', 'applied', 'approved', 'paid', 'status', 'action']) {
      head.append(h('th', { scope: 'col', class: ['applied', 'approved', 'paid'].includes(k) ? 'num' : null }, S.list.cols[k]));
    }
    table.append(h('thead', {}, head));
    const body = h('tbody');
    for (const e of data.data) body.append(...entryRows(e));
    table.append(body);
    wrap.append(table);
  };
  let timer = null;
  const reload = () => loadLedger().catch((err) => showError(root.querySelector('.sub-message'), err));
  for (const sel of [status, unit, block]) sel.addEventListener('change', reload);
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(reload, 300); });
  await loadLedger();
}

function entryRows(e) {
  const who = `${e.subject.kind === 'enterprise' ? S.list.enterprise : S.list.parcel}：${e.subject.name}`;
  const subject = cell(S.list.cols.subject, h('div', {}, who),
    e.subject.kind === 'enterprise' ? h('div', { class: 'hint' }, e.subject.code) : '',
    e.project_name ? h('div', {}, e.project_name) : '', h('div', { class: 'hint' }, `${S.list.basis}：${e.basis}`));
  subject.classList.add('sub-subject');
  if (e.reviewed_by) subject.append(h('div', { class: 'hint' }, S.list.reviewed(e.reviewed_by, e.review_comment)));
  if (e.payments.length) {
    subject.append(h('div', { class: 'hint' }, `${S.list.payments}：${e.payments.map((p) => `${p.paid_on} ${num(p.amount_10k)}`).join('；')}`));
  }
  const actions = h('td', { class: 'row-actions' });
  const row = h('tr', { 'data-id': e.id, 'data-status': e.status },
    cell(S.list.cols.id, String(e.id)), cell(S.list.cols.applied_on, e.applied_on), subject,
    cell(S.list.cols.block, e.block_name), cell(S.list.cols.unit, e.unit_name),
    money(S.list.cols.applied, e.amount_applied_10k), money(S.list.cols.approved, e.approved_10k),
    money(S.list.cols.paid, e.paid_10k),
    cell(S.list.cols.status, h('span', { class: `sub-status s-${e.status}` }, e.status_label)), actions);
  const extra = h('tr', { class: 'sub-action-row', hidden: true }, h('td', { colspan: '10' }));
  if (e.can.approve) actions.append(h('button', { type: 'button', class: 'small', 'data-action': 'review', onclick: () => reviewForm(e, extra) }, S.list.review));
  if (e.can.pay) actions.append(h('button', { type: 'button', class: 'small', 'data-action': 'pay', onclick: () => payForm(e, extra) }, S.list.pay));
  if (!actions.childNodes.length) actions.append(S.dash);
  return [row, extra];
}

function openExtra(extra, form) {
  const td = extra.firstChild;
  td.textContent = '';
  td.append(form);
  extra.hidden = false;
  const first = form.querySelector('input, textarea');
  if (first) first.focus();
}

async function entryEtag(id) {
  const { etag } = await api(`/api/subsidies/entries/${id}`);
  return etag;
}

function reviewForm(e, extra) {
  const form = h('form', { class: 'sub-inline', novalidate: true, 'data-testid': 'review-form' });
  const amount = h('input', { type: 'number', min: '0.01', step: '0.01', value: Number(e.amount_applied_10k), inputmode: 'decimal' });
  const comment = h('input', { type: 'text', maxlength: '2000' });
  const box = h('div', { class: 'sub-form-message', 'aria-live': 'polite' });
  const reject = h('button', { type: 'button', class: 'danger' }, S.review.reject);
  const cancel = h('button', { type: 'button' }, S.review.cancel);
  form.append(h('div', { class: 'sub-grid' }, field(S.review.amount, 'approved_10k', amount), field(S.review.comment, 'comment', comment)),
    box, h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, S.review.approve), reject, cancel));
  cancel.addEventListener('click', () => { extra.hidden = true; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/subsidies/entries/${e.id}/approve`, { method: 'POST', etag: await entryEtag(e.id),
        body: { approved_10k: amount.value || '0', comment: comment.value || null } });
      say('ok', S.review.approved(e.id));
      await refresh();
    } catch (err) { showFieldErrors(form, box, err, undefined, { list: false }); }
  });
  reject.addEventListener('click', async () => {
    if (!comment.value.trim()) { showError(box, { message: S.review.rejectReason, errors: [] }); comment.focus(); return; }
    try {
      await api(`/api/subsidies/entries/${e.id}/reject`, { method: 'POST', etag: await entryEtag(e.id), body: { comment: comment.value } });
      say('ok', S.review.rejected(e.id));
      await refresh();
    } catch (err) { showFieldErrors(form, box, err, undefined, { list: false }); }
  });
  openExtra(extra, form);
}

function payForm(e, extra) {
  const form = h('form', { class: 'sub-inline', novalidate: true, 'data-testid': 'pay-form' });
  const paidOn = h('input', { type: 'date', value: today() });
  const amount = h('input', { type: 'number', min: '0.01', step: '0.01', value: Number(e.unpaid_10k), inputmode: 'decimal' });
  const note = h('input', { type: 'text', maxlength: '2000' });
  const box = h('div', { class: 'sub-form-message', 'aria-live': 'polite' });
  const cancel = h('button', { type: 'button' }, S.pay.cancel);
  form.append(h('div', { class: 'sub-grid' }, field(S.pay.paidOn, 'paid_on', paidOn), field(S.pay.amount, 'amount_10k', amount),
    field(S.pay.note, 'note', note)), box, h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, S.pay.confirm), cancel));
  cancel.addEventListener('click', () => { extra.hidden = true; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/subsidies/entries/${e.id}/payments`, { method: 'POST', etag: await entryEtag(e.id),
        body: { paid_on: paidOn.value, amount_10k: amount.value || '0', note: note.value || null } });
      say('ok', S.pay.done(e.id));
      await refresh();
    } catch (err) { showFieldErrors(form, box, err, undefined, { list: false }); }
  });
  openExtra(extra, form);
}
