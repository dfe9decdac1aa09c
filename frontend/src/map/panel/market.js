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
  el.append(ul, h('p', {}, h('a', { href: `/regulation#market/block/${encodeURIComponent(code)}` }, M.panelMore)));
  return el;
}

/**
 * The map's 转让租赁预警 layer: the parcels a record with a flag is about (GET /api/market/flags), outlined in dashed
 * black while a flag is open (dotted grey once every flag is referred), with a popup of the flags and a checkbox of
 * its own in the 图层 panel. Only for those who may read the register; otherwise no layer and no checkbox.
 * State: body data-market-flags = the number of parcels drawn (none without access), data-layer-market-flags.
 */
export class MarketFlagsLayer {
  /** @param {() => void} onShown  called once the layer is drawn (the legend then shows it) */
  constructor(map, side, onShown = () => {}) {
    /* global L */
    this.map = map;
    map.createPane('marketFlags').style.zIndex = 420; // over the parcels (overlayPane 400), under the popups
    this.layer = L.geoJSON(null, {
      pane: 'marketFlags',
      style: (f) => {
        const open = f.properties.open_count > 0; // black (no classification or stage uses it), grey once all referred
        return { className: 'layer-market-flags', color: open ? '#111' : '#868e96', weight: open ? 4 : 3,
          dashArray: open ? '7 4' : '2 4', fill: false };
      },
      onEachFeature: (f, layer) => {
        const p = f.properties;
        layer.bindTooltip(M.layerTooltip(p), { sticky: true });
        layer.bindPopup(() => flagPopup(p));
      },
    });
    this.ready = api('/api/market/flags', { quiet401: true, accept: 'application/geo+json' }).then(({ data }) => {
      this.layer.addData(data).addTo(map);
      this.addCheckbox(side);
      document.body.dataset.marketFlags = String(data.features.length);
      onShown();
      return data.features.length;
    }).catch(() => { document.body.dataset.marketFlags = 'none'; return 0; });
  }

  addCheckbox(side) {
    const fieldset = side && side.querySelector('fieldset');
    if (!fieldset) return;
    const box = h('input', { type: 'checkbox', name: 'market-flags-layer', value: 'market-flags', checked: true });
    fieldset.append(h('label', { class: 'check' }, box, ` ${M.layerName}`));
    box.addEventListener('change', (e) => {
      e.stopPropagation();
      if (box.checked) this.layer.addTo(this.map); else this.layer.remove();
      document.body.dataset.layerMarketFlags = String(box.checked);
    });
    document.body.dataset.layerMarketFlags = 'true';
  }
}

function flagPopup(p) {
  const el = h('div', { class: 'popup' }, h('h3', {}, M.layerPopupTitle(p)));
  el.append(h('p', {}, M.layerCounts(p)));
  el.append(h('ul', {}, ...p.flags.map((t) => h('li', {}, t))));
  el.append(h('p', {}, h('a', { href: '/regulation#market' }, M.panelMore)));
  return el;
}
