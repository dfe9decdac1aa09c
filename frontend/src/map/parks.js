// 开发区和镇街工业园区 on the map (issue 19, docs/parks.md): dashed outlines by kind in a pane under the
// blocks, a popup with the park's figures and the 示意 note, and a 图层 checkbox of its own
// (body data-layer-parks, data-parks = the number drawn).
/* global L */
import { fetchAll, escapeHtml, num as formatNumber } from '../common/api.js';
import { T } from './strings.js';
import { infoTable } from './format.js';
import { PARK_COLOURS } from './styles.js';

function parkPopup(p) {
  const rows = [
    [T.park.kind, p.kind_label],
    [T.park.unit, p.unit_name || T.dash],
    [T.park.area, `${formatNumber(p.area_mu, 0)} 亩`],
    [T.park.approval, p.approval || T.dash],
  ];
  const note = p.is_schematic ? `<p class="note">${escapeHtml(T.park.schematic)}</p>` : '';
  return `<div class="popup"><h3>${escapeHtml(p.name)}</h3>${infoTable(rows)}${note}</div>`;
}

export class ParksLayer {
  /** @param {L.Map} map  @param {HTMLElement} side  the layer panel (its first fieldset gets the checkbox) */
  constructor(map, side) {
    this.map = map;
    map.createPane('parks').style.zIndex = 390; // under the blocks and parcels (overlayPane 400)
    this.layer = L.geoJSON(null, {
      pane: 'parks',
      style: (f) => ({ className: `layer-parks park-${f.properties.kind}`, color: PARK_COLOURS[f.properties.kind] || '#555',
        weight: 2.5, dashArray: '8 4', fill: false }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        layer.bindTooltip(p.name, { sticky: true });
        layer.bindPopup(() => parkPopup(p));
      },
    }).addTo(map);
    this.addCheckbox(side);
    this.ready = fetchAll('/api/parks?limit=5000').then((fc) => {
      this.layer.addData(fc);
      document.body.dataset.parks = String(fc.features.length);
      return fc.features.length;
    }).catch(() => { document.body.dataset.parks = 'error'; });
  }

  addCheckbox(side) {
    const fieldset = side.querySelector('fieldset');
    if (!fieldset) return;
    const label = document.createElement('label');
    label.className = 'check';
    label.innerHTML = `<input type="checkbox" name="park-layer" value="parks" checked> ${escapeHtml(T.layers.parks)}`;
    fieldset.append(label);
    const box = label.querySelector('input');
    box.addEventListener('change', (e) => {
      e.stopPropagation();
      this.setVisible(box.checked);
    });
    document.body.dataset.layerParks = 'true';
  }

  setVisible(on) {
    if (on) this.layer.addTo(this.map);
    else this.layer.remove();
    document.body.dataset.layerParks = String(on);
  }
}
