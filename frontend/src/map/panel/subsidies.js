// The block panel's 扶持资金 section (blockpanel.js calls section(code, host) after the panel is drawn): the
// block's subsidies (entries, committed, paid, pending) and, when it was a quarter's 现场会 block, which
// quarter — linked to 规范管理 · 扶持资金 and · 典型案例. Without a login: nothing.
import { api, h, num } from '../../common/api.js';
import { S } from '../../regulation/subsidies.strings.js';

export async function section(code) {
  let sums;
  let cases;
  try {
    [{ data: sums }, { data: cases }] = await Promise.all([
      api(`/api/subsidies/blocks/${encodeURIComponent(code)}`, { quiet401: true }),
      api(`/api/cases?block=${encodeURIComponent(code)}`, { quiet401: true }),
    ]);
  } catch (err) {
    return null;
  }
  const id = 'sub-panel-h';
  const el = h('section', { 'aria-labelledby': id, class: 'panel-subsidies', 'data-testid': 'panel-subsidies' },
    h('h3', { id }, S.panel.heading));
  const body = h('tbody');
  for (const [label, value] of [[S.panel.entries, String(sums.entries)],
    [S.panel.committed, `${num(sums.committed_10k)} ${S.panel.unit}`], [S.panel.paid, `${num(sums.paid_10k)} ${S.panel.unit}`],
    [S.panel.pending, `${num(sums.pending_10k)} ${S.panel.unit}`]]) {
    body.append(h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'num' }, value)));
  }
  el.append(h('table', { class: 'list' }, body));
  for (const c of cases.data) {
    el.append(h('p', { class: 'meeting', 'data-testid': 'panel-meeting' }, S.panel.meeting(c.label), `（${c.held_on}）`));
  }
  el.append(h('p', {}, h('a', { href: '/regulation#subsidies' }, S.panel.link),
    cases.data.length ? ' · ' : '', cases.data.length ? h('a', { href: '/regulation#cases' }, S.panel.casesLink) : ''));
  return el;
}
