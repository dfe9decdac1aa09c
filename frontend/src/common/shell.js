// The top bar every page shares: the product name, the navigation entries the user's role may use,
// who is logged in with 退出 (or 登录, which comes back to this page), a skip link, and on a phone a
// menu button that folds the navigation and the user away. A page keeps its own items in the bar
// (the map's search, a status line); the shell puts the name and navigation before them and the
// user after.
import { api, h, loginUrl } from './api.js';
import { C } from './strings.js';

const ALL = null; // an entry everyone sees, logged in or not
const SIGNED_IN = ['planner', 'gis_staff', 'unit_officer', 'reviewer', 'admin'];

/** [page, href, label, roles]: roles null = everyone, a list = only those roles. */
const ENTRIES = [
  ['map', '/', C.nav.map, ALL],
  ['progress', '/progress', C.nav.progress, ALL],
  ['enterprises', '/enterprises', C.nav.enterprises, SIGNED_IN],
  ['upload', '/#/upload', C.nav.upload, ['gis_staff', 'admin']],
  ['officer', '/workflow/officer', C.nav.officer, ['unit_officer', 'admin']],
  ['reporting', '/reporting', C.nav.reporting, ['unit_officer', 'admin']],
  ['review', '/workflow/review', C.nav.review, ['reviewer', 'admin']],
  ['planner', '/workflow/planner', C.nav.planner, SIGNED_IN],
  ['evaluation', '/evaluation', C.nav.evaluation, SIGNED_IN],
  ['regulation', '/regulation', C.nav.regulation, SIGNED_IN],
  ['admin', '/admin', C.nav.admin, ['admin']],
];

/** The first page of each role after logging in without a ``next``. */
export const HOME = {
  unit_officer: '/workflow/officer',
  reviewer: '/workflow/review',
  admin: '/admin',
  gis_staff: '/#/upload',
  planner: '/',
};

export function entriesFor(user) {
  return ENTRIES.filter(([, , , roles]) => roles === ALL || (user && roles.includes(user.role)));
}

/** The signed-in user, or null (nobody is logged in). */
export async function currentUser() {
  const { data } = await api('/api/auth/session', { quiet401: true });
  return data.user;
}

let shellState = null;

/** Mark the current entry (the map page switches between its map and upload views in place). */
export function setCurrent(page) {
  if (!shellState) return;
  shellState.page = page;
  for (const a of shellState.nav.querySelectorAll('a[data-page]')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

/**
 * Build the top bar into ``<header id="topbar">`` and resolve to the user (or null).
 * ``roles``: the page needs a login with one of these roles; anybody else is sent to the login page
 * (nobody logged in) or told, in ``main``, that this page is not for their role (and gets null).
 */
export async function mountShell({ page, roles = null, skipTo = 'main' } = {}) {
  const bar = document.getElementById('topbar');
  let user = null;
  let failed = null;
  try { user = await currentUser(); } catch (err) { failed = err; }
  if (roles && !user && !failed) {
    location.replace(loginUrl());
    return new Promise(() => {}); // the page is going away
  }

  const skip = h('a', { class: 'skip-link', href: `#${skipTo}` }, skipTo === 'map' ? C.skipToMap : C.skipToMain);
  document.body.prepend(skip);

  const brand = h('a', { class: 'brand', href: '/', title: C.product },
    h('span', { class: 'brand-long' }, C.product), h('span', { class: 'brand-short', 'aria-hidden': 'true' }, C.productShort));
  const nav = h('nav', { class: 'nav', id: 'main-nav', 'aria-label': C.mainNav });
  for (const [name, href, label] of entriesFor(user)) {
    nav.append(h('a', { href, 'data-page': name }, label));
  }
  const who = h('div', { class: 'who', id: 'who' });
  if (user) {
    const name = C.whoIs(user.display_name || user.username, user.role_label, user.unit_name);
    const out = h('button', { type: 'button', class: 'logout' }, C.logout);
    out.addEventListener('click', async () => {
      out.disabled = true;
      out.textContent = C.loggingOut;
      try { await api('/api/auth/logout', { method: 'POST', quiet401: true }); } catch (_) { /* gone anyway */ }
      location.href = (page === 'map' || page === 'progress') ? location.href.split('#')[0] : '/';
    });
    who.append(h('span', { class: 'who-name', title: name }, name), out);
  } else if (page !== 'login') {
    const link = h('a', { class: 'login', href: loginUrl() }, C.login);
    // The hash of the map (#/upload, a block) changes after the bar is built: take it at click time.
    link.addEventListener('click', () => { link.href = loginUrl(); });
    who.append(link);
  }
  const menu = h('button', { type: 'button', class: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'main-nav' },
    h('span', { 'aria-hidden': 'true' }, '☰'), h('span', { class: 'menu-label' }, C.menu));
  const toggle = (open) => {
    bar.classList.toggle('menu-open', open);
    menu.setAttribute('aria-expanded', String(open));
    menu.setAttribute('aria-label', open ? C.closeMenu : C.menu);
  };
  menu.addEventListener('click', () => toggle(!bar.classList.contains('menu-open')));
  nav.addEventListener('click', (ev) => { if (ev.target.closest('a')) toggle(false); });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && bar.classList.contains('menu-open')) { toggle(false); menu.focus(); }
  });

  // In reading order: name, menu (phones only), navigation, the page's own items, the user.
  bar.prepend(brand, menu, nav);
  bar.append(who);
  bar.dataset.ready = 'true';
  shellState = { nav, page };
  setCurrent(page);
  document.body.dataset.role = user ? user.role : 'anonymous';

  if (failed) throw failed;
  if (roles && !roles.includes(user.role)) {
    const main = document.getElementById('main') || document.querySelector('main');
    if (main) {
      main.textContent = '';
      main.append(h('p', { class: 'notice', role: 'alert' }, C.notForRole(user.role_label)));
    }
    return null;
  }
  return user;
}
