// 规范管理 (三.(四).3–5 of the plan): one page, five tabs — 项目准入 (admission.js), 转让与租赁
// (market.js), 厂中厂 (tenants.js), 扶持资金 (subsidies.js) and 典型案例 (cases.js). This file is the frame
// only: the shell, the tabs and the hash routing (#admission, #market, #tenants, …, each optionally followed by
// /<what the tab shows>, e.g. #admission/12). Each tab module exports
// ``mount(section, { user, path })`` (called once, when the tab is first shown) and may export
// ``show(path)`` (called whenever its hash changes afterwards). State for people and tests:
// <body data-regulation-state> (loading | ready | error) and data-tab.

import { h, showError } from '../common/api.js';
import { mountShell } from '../common/shell.js';
import { R } from './strings.js';

const SIGNED_IN = ['planner', 'gis_staff', 'unit_officer', 'reviewer', 'admin'];
/** [tab, module, roles that see it] */
const TABS = [
  ['admission', './admission.js', SIGNED_IN],
  ['market', './market.js', SIGNED_IN],
  ['tenants', './tenants.js', SIGNED_IN],
  ['subsidies', './subsidies.js', SIGNED_IN],
  ['cases', './cases.js', SIGNED_IN],
];

const body = document.body;
const statusEl = document.getElementById('reg-status');
const mounted = {}; // tab → the promise of its module, mounted
let user = null;

function visibleTabs() {
  return TABS.filter(([, , roles]) => user && roles.includes(user.role));
}

function parseHash() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, ''));
  const [tab, ...rest] = raw.split('/');
  return { tab, path: rest.join('/') };
}

async function route() {
  const tabs = visibleTabs();
  if (!tabs.length) return;
  let { tab, path } = parseHash();
  if (tab === 'main') return; // the skip link
  if (!tabs.some(([t]) => t === tab)) { tab = tabs[0][0]; path = ''; }
  body.dataset.tab = tab;
  for (const [t] of TABS) document.getElementById(`tab-${t}`).hidden = t !== tab;
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const section = document.getElementById(`tab-${tab}`);
  const [, module] = TABS.find(([t]) => t === tab);
  try {
    // The promise is kept, not the module: a second route() while the first still imports (the hash
    // changed during loading) waits for that one mount instead of mounting the tab twice.
    const first = !mounted[tab];
    if (first) {
      mounted[tab] = import(module).then(async (m) => { await m.mount(section, { user, path }); return m; });
      mounted[tab].catch(() => { delete mounted[tab]; });
    }
    const m = await mounted[tab];
    if (!first && m.show) await m.show(path);
    statusEl.textContent = '';
    body.dataset.regulationState = 'ready';
  } catch (err) {
    body.dataset.regulationState = 'error';
    showError(document.getElementById('page-message'), err);
  }
}

async function main() {
  user = await mountShell({ page: 'regulation', roles: SIGNED_IN });
  if (!user) { body.dataset.regulationState = 'ready'; statusEl.textContent = ''; return; }
  const nav = document.getElementById('tabs');
  for (const [tab] of visibleTabs()) nav.append(h('a', { href: `#${tab}`, 'data-tab': tab, class: 'tab' }, R.tabs[tab]));
  window.addEventListener('hashchange', route);
  await route();
}

main();
