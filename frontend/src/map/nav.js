// The map page's two views: 一图 (the map with its layer panel) and 数据上传 (the upload panel
// over the same map, so offending features show on it), switched by the hash (#/upload). The top
// bar itself is the shared shell's (common/shell.js); this marks which of its entries is current.
import { setCurrent } from '../common/shell.js';

const views = new Map(); // name -> {show(), hide()}

export function registerView(name, view) {
  views.set(name, view);
}

export function route(name) {
  if (location.hash !== `#/${name}` && !(name === 'map' && !location.hash.startsWith('#/'))) {
    history.replaceState(null, '', name === 'map' ? location.pathname + location.search : `#/${name}`);
  }
  for (const [n, v] of views) {
    if (n === name) v.show(); else v.hide();
  }
  setCurrent(name);
  document.body.dataset.view = name;
}

function currentRoute() {
  const name = location.hash.replace(/^#\//, '');
  return views.has(name) ? name : 'map';
}

/** Follow the hash from now on, and show the view it names. */
export function startRouting() {
  window.addEventListener('hashchange', () => route(currentRoute()));
  route(currentRoute());
}
