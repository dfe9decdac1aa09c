// Leaflet controls: the legend (follows the colour mode) and the coordinate readout.
/* global L */
import { T } from './strings.js';
import { MODES, PARK_COLOURS, STAGE_COLOURS } from './styles.js';
import { escapeHtml } from '../common/api.js';

export const LegendControl = L.Control.extend({
  options: { position: 'bottomright', mode: 'classification', aggregated: false },

  onAdd() {
    this.div = L.DomUtil.create('div', 'legend');
    this.div.setAttribute('role', 'region');
    this.div.setAttribute('aria-label', T.legend.title);
    this.toggle = L.DomUtil.create('button', 'legend-toggle', this.div);
    this.toggle.type = 'button';
    this.toggle.setAttribute('aria-controls', 'legend-body');
    this.body = L.DomUtil.create('div', 'legend-body', this.div);
    this.body.id = 'legend-body';
    this.toggle.addEventListener('click', () => this.setOpen(this.body.hidden));
    this.div.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.body.hidden) { this.setOpen(false); this.toggle.focus(); }
    });
    L.DomEvent.disableClickPropagation(this.div);
    L.DomEvent.disableScrollPropagation(this.div);
    // On a phone the legend starts folded so that it does not cover the map.
    this.setOpen(!window.matchMedia('(max-width: 860px)').matches);
    this.render();
    return this.div;
  },

  setOpen(open) {
    this.body.hidden = !open;
    this.div.classList.toggle('folded', !open);
    this.toggle.setAttribute('aria-expanded', String(open));
    this.toggle.textContent = open ? `${T.legend.title} ▾` : `${T.legend.title} ▸`;
    this.toggle.title = open ? T.legend.hide : T.legend.show;
  },

  update(changes) {
    L.setOptions(this, changes);
    if (this.div) this.render();
  },

  render() {
    const mode = MODES[this.options.mode];
    const swatch = (colour, label, outline = false) => `<li><span class="swatch${outline ? ' outline' : ''}" style="${outline ? 'border-color' : 'background'}:${colour}"></span>${escapeHtml(label)}</li>`;
    this.body.innerHTML = `<h2>${escapeHtml(mode.title)}</h2><ul>${mode.items().map(([c, l]) => swatch(c, l)).join('')}</ul>`
      + `<h2>${escapeHtml(T.legend.stage)}</h2><ul>${Object.entries(STAGE_COLOURS).map(([k, c]) => swatch(c, T.stage[k], true)).join('')}</ul>`
      + `<h2>${escapeHtml(T.legend.parks)}</h2><ul>${Object.entries(PARK_COLOURS).map(([k, c]) => `<li><span class="swatch outline" style="border-color:${c};border-style:dashed"></span>${escapeHtml(T.legend.parkKind[k])}</li>`).join('')}</ul>`
      + `<p class="note">${escapeHtml(T.legend.parksNote)}</p>`
      + (document.body.dataset.layerMarketFlags ? `<h2>${escapeHtml(T.legend.marketFlags)}</h2><ul><li><span class="swatch outline" style="border-color:#111;border-style:dashed"></span>${escapeHtml(T.legend.marketFlagsOpen)}</li><li><span class="swatch outline" style="border-color:#868e96;border-style:dotted"></span>${escapeHtml(T.legend.marketFlagsReferred)}</li></ul>` : '')
      + (this.options.aggregated ? `<p class="note strong">${escapeHtml(T.legend.aggregated)}</p>` : '')
      + `<p class="note">${escapeHtml(T.legend.unitsNote)}</p>`;
  },
});

/** Longitude/latitude under the pointer (or of the view centre, for keyboard users). */
export const CoordsControl = L.Control.extend({
  options: { position: 'bottomleft' },

  onAdd(map) {
    this.div = L.DomUtil.create('div', 'coords');
    this.div.setAttribute('aria-label', T.coordsLabel);
    this.div.setAttribute('aria-live', 'off');
    this.onMove = (e) => this.show(e.latlng);
    this.onCentre = () => this.show(map.getCenter());
    map.on('mousemove', this.onMove);
    map.on('moveend', this.onCentre);
    this.show(map.getCenter());
    return this.div;
  },

  onRemove(map) {
    map.off('mousemove', this.onMove);
    map.off('moveend', this.onCentre);
  },

  show(latlng) {
    this.div.textContent = T.coords(latlng.lat, latlng.lng);
  },
});
