// 一表: progress against targets, the programme's indicators, assessment scores and the
// issued monthly reports, all computed by the server from parcels and blocks. No globals:
// the page's state is reported on <body data-progress-state> for people and tests.

import { escapeHtml, fetchJson, num, pct } from '../common/api.js';
import { mountShell } from '../common/shell.js';

const statusEl = document.getElementById('status');
const yearEl = document.getElementById('year');
const monthEl = document.getElementById('month');

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', isError);
}

function card(title, value, of, rate, note, warn = false) {
  const width = Math.max(0, Math.min(100, (rate ?? 0) * 100));
  return `<div class="card${warn ? ' warn' : ''}"><h3>${escapeHtml(title)}</h3>`
    + `<div class="value">${escapeHtml(value)}</div><div class="of">${escapeHtml(of)}</div>`
    + (rate === null || rate === undefined ? '' : `<div class="bar"><span style="width:${width}%"></span></div>`)
    + (note ? `<div class="note">${escapeHtml(note)}</div>` : '')
    + '</div>';
}

function renderCards(ind, monthly, planProgress) {
  const c = ind.citywide;
  const year = yearEl.value;
  // The programme's indicators cover 2022 and 2023; a later year's card comes from its monthly table.
  const city = monthly.citywide;
  const y = c.years[year] || {
    done_mu: city.done_ytd_mu, target: city.target, completion_rate: city.completion_rate,
    done_contiguous_mu: city.done_ytd_contiguous_mu, contiguous_rate: city.contiguous_rate,
    done_scattered_mu: city.done_ytd_scattered_mu, scattered_rate: city.scattered_rate,
  };
  const blocks = c.blocks_approved[year] || { count: 0, units_over_limit: [] };
  // The headline targets are those of the 行动计划 in force in the year shown, over its own period.
  const plan = planProgress.plan;
  const period = planProgress.period;
  const indicatorsPeriod = period && [period.start_year, period.end_year].every((yy) => String(yy) in c.years);
  const cum = period
    ? { title: `${period.start_year}—${period.end_year} 年累计更新`, done: period.done_mu, target: period.target_mu, rate: period.rate }
    : { title: '2022—2023 年累计更新', done: c.programme.done_mu, target: 6000, rate: c.programme.rate };
  const floor = period
    ? { done: period.new_floor_area_m2, target: period.target_new_floor_area_m2, rate: period.new_floor_area_rate }
    : { done: c.new_floor_area.done_m2, target: 4000000, rate: c.new_floor_area.rate };
  const farTarget = plan.target_average_far ?? c.average_far.target;
  const far = period ? period.average_far : c.average_far.after;
  const farBefore = !period || indicatorsPeriod ? c.average_far.before : null;
  const farMet = far === null || far === undefined ? null : far >= farTarget;
  const maxBlocks = plan.max_blocks_per_unit_per_year ?? 2;
  const cards = [
    card(`${year} 年有机更新面积`, `${num(y.done_mu)} 亩`, y.target ? `年度任务 ${num(y.target.renewal_mu, 0)} 亩 · ${pct(y.completion_rate)}` : '年度任务尚未下达',
      y.completion_rate, y.target ? `连片 ${num(y.done_contiguous_mu)} 亩（${pct(y.contiguous_rate)}）· 零星 ${num(y.done_scattered_mu)} 亩（${pct(y.scattered_rate)}）` : ''),
    card(cum.title, `${num(cum.done)} 亩`, `目标 ${num(cum.target, 0)} 亩 · ${pct(cum.rate)}`, cum.rate,
      plan.doc_no ? `依据${plan.doc_no}` : ''),
    card('新增厂房建筑面积', `${num(floor.done / 10000)} 万 m²`, `目标 ${num(floor.target / 10000, 0)} 万 m² · ${pct(floor.rate)}`, floor.rate,
      (!period || indicatorsPeriod) && c.new_floor_area.parcels_without_plan ? `${c.new_floor_area.parcels_without_plan} 宗完成宗地无规划建筑面积` : ''),
    card('改造区域平均容积率', num(far), `目标 ≥ ${num(farTarget, 1)}${farBefore === null ? '' : ` · 改造前 ${num(farBefore)}`}`,
      far === null || far === undefined ? null : far / farTarget,
      farMet === null ? '暂无数据' : (farMet ? '已达标' : '未达标'), farMet === false),
    card('亩均税收（万元/亩）', `${num(c.tax_per_mu.after)}`, `改造前 ${num(c.tax_per_mu.before)} · ${c.tax_per_mu.ratio ? num(c.tax_per_mu.ratio) + ' 倍' : '—'}`, null,
      `同一批 ${c.tax_per_mu.parcels} 宗、${num(c.tax_per_mu.land_mu)} 亩宗地改造前后比较`),
    card(`${year} 年认定连片区块`, `${blocks.count} 个`, `每单位每年不超过 ${maxBlocks} 个`, null,
      blocks.units_over_limit.length ? `超过上限：${blocks.units_over_limit.join('、')}` : '无单位超过上限', blocks.units_over_limit.length > 0),
  ];
  document.getElementById('cards').innerHTML = cards.join('');
  document.getElementById('as-of').textContent = ind.as_of;
}

// 上年结转: what each unit did beyond (+) or below (−) its target in the previous year of the same plan.
function renderCarryOver(planProgress) {
  const el = document.getElementById('carry-over');
  if (!el) return;
  const co = planProgress.carry_over;
  if (!co) { el.hidden = true; el.textContent = ''; return; }
  const withTarget = co.units.filter((u) => u.difference_mu !== null);
  const over = withTarget.filter((u) => u.difference_mu >= 0).sort((a, b) => b.difference_mu - a.difference_mu);
  const under = withTarget.filter((u) => u.difference_mu < 0).sort((a, b) => a.difference_mu - b.difference_mu);
  const list = (rows) => rows.map((u) => `${escapeHtml(u.unit_name)} ${u.difference_mu >= 0 ? '+' : '−'}${num(Math.abs(u.difference_mu))} 亩`).join('、');
  el.innerHTML = `<strong>上年（${co.year} 年）任务结转：</strong>`
    + (over.length ? `超额 ${list(over)}` : '无单位超额')
    + '；'
    + (under.length ? `差额 ${list(under)}` : '无单位未完成')
    + '。';
  el.hidden = false;
}

// 月报报送: the units whose month is not (yet) reported carry a mark beside their name (none for 已报送,
// nor for 无需报送: a closed month that was never run as a 月报 month); while the month is open its
// figures are provisional (暂定), said above the table.
const REPORTING = {
  marks: { not_submitted: '○', returned: '↩', overdue: '!' },
  dueDay: (iso, year) => {
    const [y, m, d] = iso.split('-').map(Number);
    return `${y === Number(year) ? '' : `${y} 年 `}${m} 月 ${d} 日`;
  },
  line: (due, missing) => `本月报送截止 ${due}，数字为暂定；`
    + (missing.length ? `尚未报送：${missing.join('、')}` : '各单位均已报送'),
};

function reportingBadge(r) {
  const status = r.reporting_status;
  if (!(status in REPORTING.marks) || !r.reporting_status_label) return '';
  return ` <span class="report-badge status-${escapeHtml(status)}" data-status="${escapeHtml(status)}">`
    + `<span aria-hidden="true">${REPORTING.marks[status] || ''}</span>${escapeHtml(r.reporting_status_label)}</span>`;
}

function renderReporting(m) {
  const el = document.getElementById('reporting-line');
  const rep = m.reporting;
  if (!el) return;
  if (!rep || !rep.provisional) {
    el.hidden = true;
    el.textContent = '';
    document.body.dataset.provisional = 'false';
    return;
  }
  el.textContent = REPORTING.line(REPORTING.dueDay(rep.due_on, m.year), rep.not_submitted || []);
  el.hidden = false;
  document.body.dataset.provisional = 'true';
}

function monthlyRow(r, total = false) {
  const t = r.target;
  const change = r.change_rate === null ? '—' : `${r.change_rate > 0 ? '+' : ''}${num(r.change_rate * 100)} 个百分点`;
  const flag = t === null ? '未下达任务' : (r.behind_schedule ? '▲ 滞后' : '正常');
  const cls = [r.behind_schedule ? 'behind' : '', total ? 'total' : ''].filter(Boolean).join(' ');
  return `<tr class="${cls}" data-unit="${escapeHtml(r.unit_code)}">`
    + `<td class="num">${r.rank ?? (total ? '' : '—')}</td><td><span class="unit-name">${escapeHtml(r.unit_name)}</span>${total ? '' : reportingBadge(r)}</td>`
    + `<td class="num">${t ? num(t.renewal_mu, 0) : '—'}</td><td class="num">${num(r.done_month_mu)}</td>`
    + `<td class="num">${num(r.done_ytd_mu)}</td><td class="num">${num(r.done_ytd_contiguous_mu)}</td>`
    + `<td class="num">${num(r.done_ytd_scattered_mu)}</td><td class="num">${pct(r.completion_rate)}</td>`
    + `<td class="num${r.change_rate > 0 ? ' up' : ''}">${change}</td><td class="num">${num(r.expected_mu)}</td>`
    + `<td class="flag">${flag}</td></tr>`;
}

// Table sorting (the citywide row stays last) and the chart; both redraw from the last data.
const sortState = { key: null, descending: false };
let lastMonthly = null;
let unitsChart = null;

function sortValue(r, key) {
  if (key === 'target') return r.target ? r.target.renewal_mu : null;
  return r[key];
}

function sortedRows(rows) {
  if (!sortState.key) return rows;
  const out = [...rows];
  out.sort((a, b) => {
    const va = sortValue(a, sortState.key);
    const vb = sortValue(b, sortState.key);
    if (va === vb) return 0;
    if (va === null || va === undefined) return 1; // blanks last whichever the direction
    if (vb === null || vb === undefined) return -1;
    const cmp = typeof va === 'string' ? va.localeCompare(vb, 'zh-CN') : va - vb;
    return sortState.descending ? -cmp : cmp;
  });
  return out;
}

function initSorting() {
  document.querySelectorAll('#monthly th[data-sort]').forEach((th) => {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.sort;
      sortState.descending = sortState.key === key ? !sortState.descending : key !== 'unit_name' && key !== 'rank';
      sortState.key = key;
      document.querySelectorAll('#monthly th[data-sort]').forEach((other) => other.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', sortState.descending ? 'descending' : 'ascending');
      if (lastMonthly) renderMonthly(lastMonthly);
    });
  });
}

function renderChart(m) {
  const canvas = document.getElementById('chart-units');
  if (!window.Chart || !canvas) return;
  const labels = m.rows.map((r) => r.unit_name);
  const data = {
    labels,
    datasets: [
      { label: '年度任务', data: m.rows.map((r) => (r.target ? r.target.renewal_mu : 0)), backgroundColor: '#bcccdc', stack: 'target' },
      { label: '累计完成·连片', data: m.rows.map((r) => r.done_ytd_contiguous_mu), backgroundColor: '#1e88e5', stack: 'done' },
      { label: '累计完成·零星', data: m.rows.map((r) => r.done_ytd_scattered_mu), backgroundColor: '#ef6c00', stack: 'done' },
    ],
  };
  if (unitsChart) unitsChart.destroy();
  unitsChart = new window.Chart(canvas, {
    type: 'bar',
    data,
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: '亩' } } },
      plugins: { legend: { position: 'top' } },
    },
  });
  document.body.dataset.chartBars = String(labels.length);
}

/** 更正 and 补报 recorded in the month about earlier days (the server's Chinese sentences). */
function renderCorrections(m) {
  const box = document.getElementById('corrections');
  if (!box) return;
  const list = box.querySelector('ul');
  const lines = m.corrections || [];
  list.innerHTML = lines.map((c) => `<li>${escapeHtml(c.text)}</li>`).join('');
  box.hidden = lines.length === 0;
  box.dataset.count = String(lines.length);
}

function renderMonthly(m) {
  lastMonthly = m;
  renderCorrections(m);
  const body = document.querySelector('#monthly tbody');
  body.innerHTML = sortedRows(m.rows).map((r) => monthlyRow(r)).join('') + monthlyRow(m.citywide, true);
  document.getElementById('monthly-note').textContent = `${m.year} 年 ${m.month} 月 · 统计截至 ${m.as_of} · 序时进度 ${pct(m.schedule_rate)} · 滞后 ${m.units_behind.length} 个单位`;
  body.querySelectorAll('tr[data-unit]:not(.total)').forEach((tr) => {
    tr.addEventListener('click', () => showTrace(tr.dataset.unit, tr.querySelector('.unit-name').textContent));
  });
}

async function showTrace(unit, name) {
  const el = document.getElementById('trace');
  document.querySelectorAll('#monthly tr.selected').forEach((tr) => tr.classList.remove('selected'));
  document.querySelector(`#monthly tr[data-unit="${unit}"]`)?.classList.add('selected');
  const year = yearEl.value;
  const month = Number(monthEl.value);
  const lastDay = new Date(Number(year), month, 0).getDate();
  const asOf = `${year}-${String(month).padStart(2, '0')}-${String(lastDay).padStart(2, '0')}`;
  const data = await fetchJson(`/api/progress/parcels?unit=${encodeURIComponent(unit)}&year=${year}&as_of=${asOf}`);
  const rows = data.parcels.map((p) => `<tr><td>${escapeHtml(p.code)}</td><td>${escapeHtml(p.track_label)}</td>`
    + `<td>${escapeHtml(p.block_name || '—')}</td><td>${escapeHtml(p.renewed_on)}</td><td class="num">${num(p.land_area_mu)}</td>`
    + `<td class="num">${num(p.planned_far)}</td><td>${escapeHtml(p.enterprise_name || '（无）')}</td>`
    + `<td>${escapeHtml((p.rule_notes || []).join('；') || '—')}</td></tr>`).join('');
  el.innerHTML = `<h3>${escapeHtml(name)}：${year} 年 1 月至 ${month} 月完成宗地 ${data.count} 宗，合计 ${num(data.land_area_mu)} 亩</h3>`
    + (data.count ? `<table><thead><tr><th>宗地编号</th><th>类型</th><th>区块</th><th>完成日期</th><th>面积（亩）</th><th>规划容积率</th><th>企业</th><th>未满足的规则</th></tr></thead><tbody>${rows}</tbody></table>` : '');
  el.hidden = false;
  document.body.dataset.traceCount = String(data.count);
}

function renderScores(s) {
  document.getElementById('score-year').textContent = `${s.year}`;
  const body = document.querySelector('#scores tbody');
  body.innerHTML = s.units.map((u) => {
    const [c, sc] = u.tracks;
    return `<tr data-unit="${escapeHtml(u.unit_code)}"><td class="num">${u.rank}</td><td>${escapeHtml(u.unit_name)}</td>`
      + `<td class="num">${num(c.score)}</td><td class="num">${num(sc.score)}</td><td class="num">${num(u.base_score)}</td>`
      + `<td class="num">${num(u.scale_bonus.points)}</td><td class="num"><strong>${num(u.total)}</strong></td></tr>`;
  }).join('');
  body.querySelectorAll('tr').forEach((tr) => {
    tr.addEventListener('click', () => showBreakdown(s, s.units.find((u) => u.unit_code === tr.dataset.unit)));
  });
}

function showBreakdown(s, u) {
  const el = document.getElementById('breakdown');
  const tracks = u.tracks.map((t) => {
    const items = t.indicators.map((i) => `<tr><td>${escapeHtml(i.label)}</td><td class="num">${i.value === null ? '—' : num(i.value, 4)}</td>`
      + `<td class="num">${num(i.full_at)}</td><td class="num">${num(i.score)}</td><td class="num">${num(i.weight, 0)}</td>`
      + `<td class="num">${num(i.points)}</td><td>${escapeHtml(i.note || '')}</td></tr>`).join('');
    return `<h3>${escapeHtml(t.label)}：任务 ${num(t.target_mu)} 亩，完成 ${num(t.done_mu)} 亩；得分 ${num(t.score)} × 权重 ${num(t.track_weight, 0)}% = ${num(t.points)}</h3>`
      + `<table><thead><tr><th>指标</th><th>指标值</th><th>满分值</th><th>得分</th><th>权重</th><th>计分</th><th>说明</th></tr></thead><tbody>${items}</tbody></table>`;
  }).join('');
  const b = u.scale_bonus;
  const blocks = b.blocks.map((x) => `<li>${escapeHtml(x.block_name)}：完成 ${num(x.renewed_mu)} 亩 ÷ 区块宗地 ${num(x.block_parcel_mu)} 亩 = ${pct(x.share)}；等效 ${num(x.renewed_mu)} × ${num(x.share, 4)} = ${num(x.effective_mu)} 亩</li>`).join('');
  el.innerHTML = `<h3>${escapeHtml(u.unit_name)} ${s.year} 年得分 ${num(u.total)}（第 ${u.rank} 名）</h3>${tracks}`
    + `<h3>连片规模化加分：min(${num(b.cap_points, 0)}, ${num(b.points_per_100_mu, 0)} × ${num(b.effective_mu)} ÷ 100) = ${num(b.points)}</h3>`
    + (blocks ? `<ul>${blocks}</ul>` : '<p>本年度无已认定区块内的完成宗地。</p>');
  el.hidden = false;
}

function renderReports(list) {
  const el = document.getElementById('reports');
  el.innerHTML = list.reports.length
    ? list.reports.map((r) => `<li>${r.year} 年 ${r.month} 月 · ${r.year} 年${escapeHtml(r.issue_label)}`
      + `（${escapeHtml(r.issuing_body)}，${escapeHtml(r.issue_date)} 印发，签发人 ${escapeHtml(r.signed_by)}，经办 ${escapeHtml(r.issued_by_name)}）`
      + `<a href="${r.links.print}" target="_blank" rel="noopener">打印版</a><a href="${r.links.xlsx}">Excel</a></li>`).join('')
    : '<li>尚未印发月度通报。</li>';
  document.getElementById('reports-hint').hidden = document.body.dataset.role !== 'admin';
}

function updateLinks() {
  const y = yearEl.value;
  const m = monthEl.value;
  document.getElementById('preview-link').href = `/progress/preview/${y}/${m}`;
  document.getElementById('xlsx-link').href = `/api/progress/monthly.xlsx?year=${y}&month=${m}`;
}

async function load() {
  document.body.dataset.progressState = 'loading';
  setStatus('正在计算…');
  updateLinks();
  const y = yearEl.value;
  const m = monthEl.value;
  const lastDay = new Date(Number(y), Number(m), 0).getDate();
  const asOf = `${y}-${String(m).padStart(2, '0')}-${String(lastDay).padStart(2, '0')}`;
  const [monthly, ind, scores, list, planProgress] = await Promise.all([
    fetchJson(`/api/progress/monthly?year=${y}&month=${m}`),
    fetchJson(`/api/progress/indicators?as_of=${asOf}`),
    fetchJson(`/api/progress/scores?year=${y}&as_of=${asOf}`),
    fetchJson('/api/progress/reports'),
    fetchJson(`/api/progress/plan?year=${y}&as_of=${asOf}`),
  ]);
  renderCards(ind, monthly, planProgress);
  renderCarryOver(planProgress);
  renderMonthly(monthly);
  renderReporting(monthly);
  renderChart(monthly);
  renderScores(scores);
  renderReports(list);
  document.getElementById('trace').hidden = true;
  document.getElementById('breakdown').hidden = true;
  document.body.dataset.units = String(monthly.rows.length);
  document.body.dataset.behind = String(monthly.units_behind.length);
  document.body.dataset.progressState = 'ready';
  setStatus(`${y} 年 ${m} 月 · 累计完成 ${num(monthly.citywide.done_ytd_mu)} 亩 · 滞后单位 ${monthly.units_behind.length} 个`);
}

// The years offered are those with targets; the page opens on the latest month that has targets
// and renewed land (the server knows both), never on an empty month.
async function init() {
  monthEl.innerHTML = Array.from({ length: 12 }, (_, i) => `<option value="${i + 1}">${i + 1} 月</option>`).join('');
  initSorting();
  const reload = () => load().catch(fail);
  yearEl.addEventListener('change', reload);
  monthEl.addEventListener('change', reload);
  const periods = await fetchJson('/api/progress/periods');
  const years = periods.years.includes(periods.default_year) ? periods.years : [...periods.years, periods.default_year].sort();
  yearEl.innerHTML = years.map((y) => `<option value="${y}">${y} 年</option>`).join('');
  yearEl.value = String(periods.default_year);
  monthEl.value = String(periods.default_month);
  await load();
}

function fail(error) {
  document.body.dataset.progressState = 'error';
  setStatus(`加载失败：${error.message}`, true);
}

mountShell({ page: 'progress' }).catch(() => {}).finally(() => init().catch(fail));
