// The block panel's 项目准入 section (blockpanel.js calls section(code, host) after the panel is drawn):
// the block's 产业导向 in force and its admitted projects (and, for those who may read them, the pending
// ones), each linked to 规范管理 · 项目准入. Without a login, or a role that may not read them: nothing.
import { api, h, num } from '../../common/api.js';
import { A } from '../../regulation/admission.strings.js';

const STATUS_COLOURS = { draft: '#7b8794', submitted: '#b44d12', returned: '#9b2c2c', approved: '#2b8a3e' };

export async function section(code) {
  let data;
  try {
    ({ data } = await api(`/api/admissions/by-block/${encodeURIComponent(code)}`, { quiet401: true }));
  } catch (err) {
    return null;
  }
  const id = 'adm-panel-h';
  const el = h('section', { 'aria-labelledby': id, class: 'panel-admission', 'data-testid': 'panel-admission' },
    h('h3', { id }, A.panelHeading));
  const guidance = data.industry_guidance.length
    ? data.industry_guidance.map((c, k) => `${c} ${data.industry_guidance_names[k]}`.trim()).join('；') : A.noGuidance;
  el.append(h('p', { class: 'guidance' }, A.panelGuidance(guidance)));
  if (!data.data.length) {
    el.append(h('p', { class: 'hint' }, A.panelNone));
    return el;
  }
  const ul = h('ul', { class: 'admissions' });
  for (const a of data.data) {
    ul.append(h('li', { 'data-status': a.status },
      h('a', { href: `/regulation#admission/${a.id}` }, a.project_name),
      `（${a.enterprise_name}，${a.industry_code}，${num(a.investment_10k)} 万元）`,
      h('span', { class: 'tag', style: `background:${STATUS_COLOURS[a.status] || '#52606d'};margin-left:4px` }, a.status_label),
      a.flagged ? h('span', { class: 'tag flagged', style: 'background:#c92a2a;margin-left:4px' }, A.flagged) : ''));
  }
  el.append(ul, h('p', {}, h('a', { href: '/regulation#admission' }, A.panelMore)));
  return el;
}
