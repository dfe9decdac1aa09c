// The block panel's 转让与租赁 section (blockpanel.js calls section(code, host) after the panel is drawn): the
// block's transfers and leases with their flags, linked to 规范管理 · 转让与租赁 where they are referred or
// registered. Without a login, or a role that may not read the register: nothing.
import { api, h } from '../../common/api.js';
import { M } from '../../regulation/market.strings.js';

export async function section(code) {
  let data;
  try {
    ({ data } = await api(`/api/market/records?block=${encodeURIComponent(code)}`, { quiet401: true }));
  } catch (err) {
    return null;
  }
  const id = 'mk-panel-h';
  const el = h('section', { 'aria-labelledby': id, class: 'panel-market', 'data-testid': 'panel-market' },
    h('h3', { id }, M.panelHeading));
  if (!data.data.length) {
    el.append(h('p', { class: 'hint' }, M.panelNone));
    return el;
  }
  el.append(h('p', { class: 'hint' }, M.panelCount(data.count, data.flagged)));
  const ul = h('ul', { class: 'market-records' });
  for (const r of data.data) {
    const li = h('li', { 'data-record': String(r.id) }, M.panelLine(r));
    for (const f of r.flags) {
      const colour = f.status === 'open' ? '#c92a2a' : (f.status === 'registered' ? '#2b8a3e' : '#52606d');
      li.append(h('div', { class: 'market-flag', style: `border-left:3px solid ${colour};padding-left:6px;margin:2px 0` },
        f.text, ' ', h('span', { class: 'tag', style: `background:${colour}` }, f.status_label)));
    }
    ul.append(li);
  }
  el.append(ul, h('p', {}, h('a', { href: '/regulation#market' }, M.panelMore)));
  return el;
}
