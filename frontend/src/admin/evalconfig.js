// 系统管理 · 评价配置: the per-year configuration of the 亩均效益综合评价 (GET/PUT/DELETE
// /api/evaluation/{year}/config). Every Chinese name of the configuration (indicators, choices, fields)
// comes with the GET as ``labels``; this module only lays them out. The server checks everything:
// a 422 names each problem by its path (groups[0].indicators[2].weight), shown beside that field.

import { api, confirmAction, h, num, showFieldErrors } from '../common/api.js';
import { A } from './strings.js';

const S = A.evalconfig;
const FIRST_YEAR = 2020;

/** The module's own style sheet, once (the admin page links only its own). */
function ensureStyle() {
  if (document.getElementById('evalconfig-css')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/static/admin/evalconfig.css', id: 'evalconfig-css' }));
}

function when(iso) {
  if (!iso) return '';
  const parts = Object.fromEntries(new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function thisYear() {
  return Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));
}

function field(label, control, { name = null, hint = null, cls = '' } = {}) {
  const wrap = h('label', { class: `field ${cls}`.trim(), 'data-field': name });
  wrap.append(h('span', { class: 'label' }, label), control);
  if (hint) wrap.append(h('span', { class: 'hint' }, hint));
  return wrap;
}

const text = (v) => (v === null || v === undefined ? '' : String(v));

/** A number as typed: '' → null, a plain number → a number, anything else as typed (the server names it). */
function typed(value) {
  const t = String(value).trim().replace(/,/g, '');
  if (t === '') return null;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

export function buildEvalConfig(panel) {
  ensureStyle();
  const year = h('select', { id: 'evalconfig-year', name: 'year' });
  const meta = h('p', { class: 'hint', id: 'evalconfig-meta' });
  const form = h('form', { id: 'evalconfig-form', novalidate: true });
  const box = h('div', { class: 'message', id: 'evalconfig-message', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'primary', name: 'save', form: 'evalconfig-form' }, S.save);
  const reset = h('button', { type: 'button', name: 'reset' }, S.reset);
  panel.append(h('h3', {}, S.heading), h('p', { class: 'hint' }, S.intro),
    h('div', { class: 'toolbar' }, field(S.year, year, { cls: 'inline' })), meta, form, box,
    h('p', { class: 'actions evalconfig-actions' }, save, reset));
  for (let y = thisYear() + 1; y >= FIRST_YEAR; y -= 1) year.append(h('option', { value: String(y) }, S.yearOption(y)));
  year.value = String(thisYear() - 1);

  let view = null; // the GET: {stored, version, config, labels, frozen, …}
  let cfg = null; // the configuration being edited
  let etag = null;

  const L = () => view.labels;
  const F = (key) => L().fields[key] || key;
  const choice = (value) => L().choices[value] || value;

  function select(value, options, attrs = {}) {
    const s = h('select', attrs);
    for (const [v, label] of options) s.append(h('option', { value: v }, label));
    s.value = value;
    return s;
  }

  function numberInput(value, label, onInput, attrs = {}) {
    const input = h('input', { type: 'text', inputmode: 'decimal', value: text(value), 'aria-label': label, autocomplete: 'off', size: '6', ...attrs });
    input.addEventListener('input', () => onInput(typed(input.value)));
    return input;
  }

  function indicatorLabel(code) {
    const i = L().indicators[code];
    return i ? `${i.label}（${i.unit}）` : code;
  }

  function weightSum(group) {
    let sum = 0;
    for (const i of group.indicators) sum += Number(i.weight) || 0;
    return Math.round(sum * 10000) / 10000;
  }

  function renderGroup(g, gi) {
    const path = `groups[${gi}]`;
    const fs = h('fieldset', { class: 'group', 'data-field': path, 'data-group': g.code }, h('legend', {}, L().groups[g.code] || g.label));
    if (g.scale === 'below' || g.min_land_mu !== null) {
      fs.append(field(F('min_land_mu'), numberInput(g.min_land_mu, F('min_land_mu'), (v) => { g.min_land_mu = v; }, { name: `${path}.min_land_mu` }),
        { name: `${path}.min_land_mu`, cls: 'inline' }));
    }
    // indicators
    const table = h('table', { class: 'data stack evalconfig-indicators' });
    const heads = [S.indicatorCol, F('weight'), F('kind'), `${F('factor')} / ${F('value')}`, F('mean'), F('cap'), F('direction'), ''];
    table.append(h('thead', {}, h('tr', {}, ...heads.map((t) => h('th', { scope: 'col' }, t)))));
    const tbody = h('tbody');
    const sumCell = h('td', { class: 'num weight-sum', 'data-testid': `weight-sum-${g.code}` });
    const updateSum = () => { sumCell.textContent = num(weightSum(g), (String(weightSum(g)).split('.')[1] || '').length); };
    g.indicators.forEach((ind, ii) => {
      const p = `${path}.indicators[${ii}]`;
      const label = indicatorLabel(ind.code);
      const tr = h('tr', { 'data-indicator': ind.code });
      tr.append(h('td', { class: 'ind-label', 'data-field': `${p}.code` }, label));
      tr.append(h('td', { 'data-field': `${p}.weight`, 'data-label': F('weight') }, numberInput(ind.weight, `${label} ${F('weight')}`, (v) => { ind.weight = v; updateSum(); }, { name: `${p}.weight` })));
      const kind = select(ind.benchmark.kind, [['group_mean', S.kindMean], ['set', S.kindSet]], { name: `${p}.benchmark.kind`, 'aria-label': `${label} ${F('kind')}` });
      tr.append(h('td', { 'data-field': `${p}.benchmark.kind`, 'data-label': F('kind') }, kind));
      const amount = h('td', { class: 'amount', 'data-label': ind.benchmark.kind === 'set' ? F('value') : F('factor') });
      const factor = numberInput(ind.benchmark.factor, `${label} ${F('factor')}`, (v) => { ind.benchmark.factor = v; }, { name: `${p}.benchmark.factor` });
      const value = numberInput(ind.benchmark.value, `${label} ${F('value')}`, (v) => { ind.benchmark.value = v; }, { name: `${p}.benchmark.value` });
      const factorBox = h('span', { 'data-field': `${p}.benchmark.factor`, class: 'sub' }, h('span', { class: 'suffix' }, '×'), factor);
      const valueBox = h('span', { 'data-field': `${p}.benchmark.value`, class: 'sub' }, value, h('span', { class: 'suffix' }, L().indicators[ind.code]?.unit || ''));
      amount.append(factorBox, valueBox);
      const mean = select(ind.benchmark.mean || 'aggregate', [['aggregate', choice('aggregate')], ['enterprises', choice('enterprises')]], { name: `${p}.benchmark.mean`, 'aria-label': `${label} ${F('mean')}` });
      const meanCell = h('td', { 'data-field': `${p}.benchmark.mean`, 'data-label': F('mean') }, mean);
      const showKind = () => {
        const set = ind.benchmark.kind === 'set';
        factorBox.hidden = set;
        valueBox.hidden = !set;
        mean.disabled = set;
        amount.dataset.label = set ? F('value') : F('factor');
      };
      kind.addEventListener('change', () => { ind.benchmark.kind = kind.value; showKind(); });
      mean.addEventListener('change', () => { ind.benchmark.mean = mean.value; });
      showKind();
      tr.append(amount, meanCell);
      tr.append(h('td', { 'data-field': `${p}.cap`, 'data-label': F('cap') }, numberInput(ind.cap, `${label} ${F('cap')}`, (v) => { ind.cap = v; }, { name: `${p}.cap` })));
      const dir = select(ind.direction, [['higher', choice('higher')], ['lower', choice('lower')]], { name: `${p}.direction`, 'aria-label': `${label} ${F('direction')}` });
      dir.addEventListener('change', () => { ind.direction = dir.value; });
      tr.append(h('td', { 'data-field': `${p}.direction`, 'data-label': F('direction') }, dir));
      const rm = h('button', { type: 'button', class: 'small', 'aria-label': S.removeLabel(label) }, S.remove);
      rm.addEventListener('click', () => {
        g.indicators.splice(ii, 1);
        g.ties.indicators = g.ties.indicators.filter((c) => c !== ind.code);
        render();
      });
      tr.append(h('td', { class: 'row-actions' }, rm));
      tbody.append(tr);
    });
    table.append(tbody, h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, S.weightSumRow), sumCell, h('td', { colspan: '6', class: 'hint' }, S.weightSumHint))));
    updateSum();
    fs.append(h('div', { class: 'table-wrap' }, table), h('p', { class: 'indicators-problem', 'data-field': `${path}.indicators` }));
    const unused = Object.keys(L().indicators).filter((c) => !g.indicators.some((i) => i.code === c));
    if (unused.length) {
      const pick = select('', [['', S.addPick], ...unused.map((c) => [c, indicatorLabel(c)])], { 'aria-label': S.addPick, name: `${path}.add` });
      const add = h('button', { type: 'button', class: 'small' }, S.add);
      add.addEventListener('click', () => {
        if (!pick.value) { pick.focus(); return; }
        g.indicators.push({ code: pick.value, weight: 0, benchmark: { kind: 'group_mean', value: null, factor: 2, mean: 'aggregate' }, cap: 1.2, direction: 'higher' });
        render();
      });
      fs.append(h('p', { class: 'actions add-indicator' }, pick, add));
    }
    // classes
    const classes = h('div', { class: 'classes', 'data-field': `${path}.classes` });
    g.classes.forEach((c, ci) => {
      const p = `${path}.classes[${ci}].top_pct`;
      if (ci === g.classes.length - 1) { classes.append(h('span', { class: 'field inline last-class' }, S.classLast(c.grade))); return; }
      classes.append(field(S.classPct(c.grade), numberInput(c.top_pct, S.classPct(c.grade), (v) => { c.top_pct = v; }, { name: p }), { name: p, cls: 'inline' }));
    });
    fs.append(h('h4', {}, S.classesHeading), classes);
    const rounding = select(g.rounding, ['floor', 'half_up', 'ceil'].map((v) => [v, choice(v)]), { name: `${path}.rounding` });
    rounding.addEventListener('change', () => { g.rounding = rounding.value; });
    const rule = select(g.ties.rule, ['shared', 'indicators'].map((v) => [v, choice(v)]), { name: `${path}.ties.rule` });
    const tieBox = h('span', { class: 'tie-indicators', 'data-field': `${path}.ties.indicators` }, h('span', { class: 'label' }, S.tieIndicators));
    for (const ind of g.indicators) {
      const cb = h('input', { type: 'checkbox', name: `${path}.ties.indicators`, value: ind.code, checked: g.ties.indicators.includes(ind.code) });
      cb.addEventListener('change', () => {
        g.ties.indicators = g.indicators.map((i) => i.code).filter((code) => (code === ind.code ? cb.checked : g.ties.indicators.includes(code)));
      });
      tieBox.append(h('label', { class: 'check' }, cb, L().indicators[ind.code]?.label || ind.code));
    }
    const showTies = () => { tieBox.hidden = g.ties.rule !== 'indicators'; };
    rule.addEventListener('change', () => { g.ties.rule = rule.value; showTies(); });
    showTies();
    fs.append(h('div', { class: 'toolbar' }, field(F('rounding'), rounding, { name: `${path}.rounding`, cls: 'inline' }),
      field(`${F('ties')}：${F('rule')}`, rule, { name: `${path}.ties.rule`, cls: 'inline' })), tieBox);
    return fs;
  }

  function render() {
    form.textContent = '';
    cfg.groups.forEach((g, gi) => form.append(renderGroup(g, gi)));

    const ng = h('fieldset', { class: 'not-graded', 'data-field': 'not_graded' }, h('legend', {}, F('not_graded')));
    cfg.not_graded.forEach((r, ri) => {
      const p = `not_graded[${ri}]`;
      const cb = h('input', { type: 'checkbox', name: `${p}.enabled`, checked: r.enabled });
      cb.addEventListener('change', () => { r.enabled = cb.checked; });
      const row = h('div', { class: 'rule-row', 'data-field': p }, h('label', { class: 'check', 'data-field': `${p}.enabled` }, cb, `${F('enabled')}：${L().not_graded[r.code] || r.code}`));
      if (r.years !== null && r.years !== undefined) {
        const years = numberInput(r.years, `${L().not_graded[r.code]} ${S.ruleYears}`, (v) => { r.years = v; }, { name: `${p}.years`, inputmode: 'numeric' });
        row.append(field(S.ruleYears, years, { name: `${p}.years`, cls: 'inline' }));
      }
      ng.append(row);
    });
    form.append(ng);

    const adj = h('fieldset', { class: 'adjustments', 'data-field': 'adjustments' }, h('legend', {}, F('adjustments')));
    cfg.adjustments.forEach((a, ai) => {
      const p = `adjustments[${ai}]`;
      const name = L().adjustments[a.kind] || a.kind;
      adj.append(h('div', { class: 'toolbar', 'data-field': p }, h('strong', { class: 'adj-name' }, name),
        field(F('max_bonus'), numberInput(a.max_bonus, `${name} ${F('max_bonus')}`, (v) => { a.max_bonus = v; }, { name: `${p}.max_bonus` }), { name: `${p}.max_bonus`, cls: 'inline' }),
        field(F('max_minus'), numberInput(a.max_minus, `${name} ${F('max_minus')}`, (v) => { a.max_minus = v; }, { name: `${p}.max_minus` }), { name: `${p}.max_minus`, cls: 'inline' })));
    });
    form.append(adj);

    const other = h('fieldset', { class: 'other' }, h('legend', {}, F('leased_floor')));
    const counted = h('input', { type: 'checkbox', name: 'leased_floor.counted', checked: cfg.leased_floor.counted });
    const far = numberInput(cfg.leased_floor.far, F('far'), (v) => { cfg.leased_floor.far = v; }, { name: 'leased_floor.far' });
    counted.addEventListener('change', () => { cfg.leased_floor.counted = counted.checked; far.disabled = !counted.checked; });
    far.disabled = !cfg.leased_floor.counted;
    other.append(h('div', { class: 'toolbar' }, h('label', { class: 'check', 'data-field': 'leased_floor.counted' }, counted, F('counted')),
      field(F('far'), far, { name: 'leased_floor.far', cls: 'inline' })), h('p', { class: 'hint' }, S.leasedHint),
    field(F('above_scale_revenue_10k'), numberInput(cfg.above_scale_revenue_10k, F('above_scale_revenue_10k'), (v) => { cfg.above_scale_revenue_10k = v; }, { name: 'above_scale_revenue_10k' }),
      { name: 'above_scale_revenue_10k', cls: 'inline' }));
    form.append(other);

    for (const el of form.querySelectorAll('input, select, button')) el.disabled = el.disabled || view.frozen;
  }

  function showMeta() {
    meta.textContent = view.stored ? S.stored(view.version, view.updated_by, when(view.updated_at)) : S.isDefault;
    panel.dataset.stored = String(view.stored);
    panel.dataset.frozen = String(Boolean(view.frozen));
    save.disabled = Boolean(view.frozen);
    reset.disabled = Boolean(view.frozen) || !view.stored;
    if (view.frozen) meta.append(h('span', { class: 'frozen', role: 'note' }, ` ${S.frozen}`));
  }

  async function load() {
    panel.dataset.state = 'loading';
    box.textContent = '';
    const y = year.value;
    const res = await api(`/api/evaluation/${y}/config`);
    if (y !== year.value) return;
    view = res.data;
    etag = res.etag;
    cfg = structuredClone(view.config);
    showMeta();
    render();
    panel.dataset.state = 'ready';
  }

  // A problem the page has no field for (an indicator removed since) goes to the nearest enclosing one.
  function locate() {
    return (e) => {
      if (!e.field) return null;
      let f = e.field.replace(/^config\./, '');
      while (f) {
        const el = form.querySelector(`[data-field="${CSS.escape(f)}"]`);
        if (el) return el;
        const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
        f = cut > 0 ? f.slice(0, cut) : '';
      }
      return null;
    };
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    save.textContent = A.saving;
    box.textContent = '';
    try {
      const res = await api(`/api/evaluation/${year.value}/config`, { method: 'PUT', etag: view.stored ? etag : '"0"', body: { config: cfg } });
      view = res.data;
      etag = res.etag;
      cfg = structuredClone(view.config);
      showMeta();
      render();
      box.append(h('p', { class: 'ok', role: 'status' }, S.saved));
    } catch (err) {
      if (err.status === 409 && !err.errors.length) {
        showFieldErrors(form, box, { message: err.message || S.frozenSave, errors: [] });
      } else {
        const all = err.errors || [];
        const finder = locate();
        const everyOne = all.length && all.every((e) => finder(e));
        showFieldErrors(form, box, { message: everyOne ? A.fixMarked : err.message, errors: all }, finder, { list: !everyOne });
      }
    } finally {
      save.textContent = S.save;
      save.disabled = Boolean(view && view.frozen);
    }
  });

  reset.addEventListener('click', async () => {
    if (!await confirmAction(S.resetQuestion(year.value), { ok: S.reset })) return;
    try {
      const res = await api(`/api/evaluation/${year.value}/config`, { method: 'DELETE' });
      view = res.data;
      etag = res.etag;
      cfg = structuredClone(view.config);
      showMeta();
      render();
      box.textContent = '';
      box.append(h('p', { class: 'ok', role: 'status' }, S.resetDone));
    } catch (err) {
      showFieldErrors(form, box, err);
    }
  });

  year.addEventListener('change', () => { load().catch((err) => showFieldErrors(form, box, err)); });
  return load();
}
