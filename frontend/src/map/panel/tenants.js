// The block panel's 厂中厂 section (blockpanel.js calls section(code, host) after the panel is drawn): the
// tenants registered on the block's parcels, those with a finding still to rectify marked, linked to
// 规范管理 · 厂中厂. Without a login, or a role that may not read tenants: nothing.
import { api, h, num } from '../../common/api.js';
import { T } from '../../regulation/tenants.strings.js';

const OPEN = ['pending', 'in_progress'];

export async function section(code) {
  let data;
  try {
    ({ data } = await api(`/api/tenants?block=${encodeURIComponent(code)}`, { quiet401: true }));
  } catch (err) {
    return null;
  }
  const id = 'tn-panel-h';
  const el = h('section', { 'aria-labelledby': id, class: 'panel-tenants', 'data-testid': 'panel-tenants' },
    h('h3', { id }, T.panelHeading));
  if (!data.data.length) {
    el.append(h('p', { class: 'hint' }, T.panelNone));
    return el;
  }
  const withOpen = data.data.filter((t) => t.inspections.some((i) => OPEN.includes(i.rectification_status)));
  el.append(h('p', { class: 'hint' }, T.panelCount(data.count, withOpen.length)));
  const ul = h('ul', { class: 'tenants' });
  for (const t of data.data) {
    const li = h('li', { 'data-tenant': String(t.id) }, T.panelLine({ ...t, leased_area_m2: num(t.leased_area_m2) }));
    for (const i of t.inspections.filter((x) => OPEN.includes(x.rectification_status))) {
      li.append(h('div', { style: 'border-left:3px solid #d9480f;padding-left:6px;margin:2px 0' }, i.findings, ' ',
        h('span', { class: 'tag', style: 'background:#d9480f' }, i.rectification_label)));
    }
    ul.append(li);
  }
  el.append(ul, h('p', {}, h('a', { href: `/regulation#tenants/block/${encodeURIComponent(code)}` }, T.panelMore)));
  return el;
}
