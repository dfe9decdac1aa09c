// The top bar's navigation: 一图 (this map), 一表 (the progress dashboard), 数据上传
// (the upload screen, a panel over this map so offending features show on it) and
// 方案审核 (the review screen). Pages built outside this app are linked when the
// server reports them in /api/map/config.
import { T } from './strings.js';
import { escapeHtml } from './format.js';

const views = new Map(); // name -> {show(), hide()}
let navEl = null;

export function registerView(name, view) {
  views.set(name, view);
}

export function route(name) {
  if (location.hash !== `#/${name}`) history.replaceState(null, '', name === 'map' ? location.pathname : `#/${name}`);
  for (const [n, v] of views) {
    if (n === name) v.show(); else v.hide();
  }
  navEl?.querySelectorAll('a[data-view]').forEach((a) => {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  document.body.dataset.view = name;
}

/** @param {HTMLElement} host  @param {object} pages  {dashboard: url|null, review: url|null} */
export function buildNav(host, pages = {}) {
  navEl = host;
  const link = (view, href, label) => `<a href="${escapeHtml(href)}"${view ? ` data-view="${view}"` : ''}>${escapeHtml(label)}</a>`;
  const render = (p) => {
    host.innerHTML = [
      link('map', '#/map', T.nav.map),
      p.dashboard ? link(null, p.dashboard, T.nav.dashboard) : '',
      link('upload', '#/upload', T.nav.upload),
      p.review ? link(null, p.review, T.nav.review) : '',
    ].join('') + (p.login ? `<a class="login" href="${escapeHtml(p.login)}">${escapeHtml(T.nav.login)}</a>` : '');
  };
  render(pages);
  window.addEventListener('hashchange', () => route(currentRoute()));
  return {
    setPages: render,
    ready: () => route(currentRoute()),
  };
}

function currentRoute() {
  const name = location.hash.replace(/^#\//, '');
  return views.has(name) ? name : 'map';
}
