// 规范管理 · 典型案例 (docs/subsidies.md): each quarter's 现场会 block with its notes and photos, the
// administrator's form (one block a quarter; photos JPEG or PNG) and the Excel export. Every permission
// is the server's.
import { api, clearFieldErrors, fetchAll, h, showError, showFieldErrors } from '../common/api.js';
import { K } from './cases.strings.js';

let root = null;
let me = null;

function say(kind, text) {
  const box = root.querySelector('.case-message');
  box.textContent = '';
  if (text) box.append(h('p', { class: kind, role: 'status' }, text));
}

function field(label, name, input) {
  input.setAttribute('name', name);
  return h('label', { class: 'case-field', 'data-field': name }, label, input);
}

export async function mount(section, { user }) {
  root = section;
  me = user;
  section.classList.add('cases-tab');
  await show();
}

export async function show() {
  root.dataset.state = 'loading';
  root.textContent = '';
  root.append(h('div', { class: 'case-head' }, h('h3', {}, K.heading),
    h('a', { class: 'button', href: '/api/cases/export.xlsx', download: '' }, K.export)),
  h('p', { class: 'hint' }, K.intro), h('p', { class: 'hint' }, me.role === 'admin' ? K.readers.admin : K.readers.other),
  h('div', { class: 'case-message', 'aria-live': 'polite' }));
  const list = h('div', { class: 'case-list' });
  try {
    if (me.role === 'admin') root.append(await adminForm());
    root.append(list);
    await drawList(list);
  } catch (err) {
    showError(root.querySelector('.case-message'), err);
  }
  root.dataset.state = 'ready';
}

async function drawList(box) {
  const { data } = await api('/api/cases');
  box.textContent = '';
  if (!data.data.length) { box.append(h('p', { class: 'hint' }, K.empty)); return; }
  const wrap = h('div', { class: 'table-wrap' });
  const table = h('table', { class: 'data stack', 'data-testid': 'case-list', 'aria-label': K.caption });
  const head = h('tr');
  for (const k of ['quarter', 'block', 'unit', 'held_on', 'notes', 'photos']) head.append(h('th', { scope: 'col' }, K.cols[k]));
  table.append(h('thead', {}, head));
  const body = h('tbody');
  for (const c of data.data) {
    const photos = h('td', { 'data-label': K.cols.photos, class: 'case-photos' });
    c.photos.forEach((p, i) => photos.append(h('a', { href: p.url, target: '_blank', rel: 'noopener' },
      h('img', { src: p.url, alt: K.photoAlt(c.block_name, i + 1), loading: 'lazy' }))));
    if (!c.photos.length) photos.append(h('span', { class: 'hint' }, K.noPhotos));
    if (me.role === 'admin') photos.append(addPhotos(c));
    body.append(h('tr', { 'data-id': c.id, 'data-block': c.block },
      h('td', { 'data-label': K.cols.quarter }, c.label),
      h('td', { 'data-label': K.cols.block }, `${c.block_name}（${c.block}）`),
      h('td', { 'data-label': K.cols.unit }, c.unit_name),
      h('td', { 'data-label': K.cols.held_on }, c.held_on),
      h('td', { 'data-label': K.cols.notes, class: 'case-notes' }, c.notes), photos));
  }
  table.append(body);
  wrap.append(table);
  box.append(wrap);
}

function addPhotos(c) {
  const input = h('input', { type: 'file', accept: 'image/jpeg,image/png', multiple: true, 'aria-label': K.form.addPhotos });
  const label = h('label', { class: 'case-add' }, K.form.addPhotos, input);
  input.addEventListener('change', async () => {
    if (!input.files.length) return;
    const form = new FormData();
    for (const f of input.files) form.append('photos', f);
    try {
      const { etag } = await api(`/api/cases/${c.id}`);
      await api(`/api/cases/${c.id}/photos`, { method: 'POST', form, etag });
      say('ok', K.form.added);
      await drawList(root.querySelector('.case-list'));
    } catch (err) { showError(root.querySelector('.case-message'), err); }
  });
  return label;
}

async function adminForm() {
  const box = h('section', { class: 'card case-form', 'data-testid': 'case-form', 'aria-labelledby': 'case-form-h' },
    h('h3', { id: 'case-form-h' }, K.form.heading));
  const now = new Date();
  const year = h('input', { type: 'number', min: '2000', max: '2100', value: String(now.getFullYear()), required: true });
  const quarter = h('select', { required: true });
  for (const q of [1, 2, 3, 4]) quarter.append(h('option', { value: String(q) }, K.form.quarterOption(q)));
  quarter.value = String(Math.floor(now.getMonth() / 3) + 1);
  const block = h('select', { required: true });
  block.append(h('option', { value: '' }, K.form.blockPick));
  const blocks = (await fetchAll('/api/blocks?limit=1000')).features.map((f) => f.properties)
    .sort((a, b) => String(a.code).localeCompare(String(b.code)));
  for (const b of blocks) block.append(h('option', { value: b.code }, `${b.name}（${b.code}）`));
  const heldOn = h('input', { type: 'date', value: now.toLocaleDateString('sv-SE'), required: true });
  const notes = h('textarea', { rows: '3', maxlength: '5000', required: true });
  const photos = h('input', { type: 'file', accept: 'image/jpeg,image/png', multiple: true });
  const msg = h('div', { class: 'case-form-message', 'aria-live': 'polite' });
  const form = h('form', { novalidate: true });
  form.append(h('div', { class: 'case-grid' }, field(K.form.year, 'year', year), field(K.form.quarter, 'quarter', quarter),
    field(K.form.block, 'block', block), field(K.form.heldOn, 'held_on', heldOn)),
  field(K.form.notes, 'notes', notes), field(K.form.photos, 'photos', photos), msg,
  h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, K.form.submit)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData();
    for (const [k, input] of [['year', year], ['quarter', quarter], ['block', block], ['held_on', heldOn], ['notes', notes]]) {
      data.append(k, input.value);
    }
    for (const f of photos.files) data.append('photos', f);
    try {
      const { data: c } = await api('/api/cases', { method: 'POST', form: data });
      msg.textContent = '';
      clearFieldErrors(form);
      say('ok', K.form.done(c.label, c.block_name));
      notes.value = '';
      photos.value = '';
      await drawList(root.querySelector('.case-list'));
    } catch (err) { showFieldErrors(form, msg, err, undefined, { list: false }); }
  });
  box.append(form);
  return box;
}
