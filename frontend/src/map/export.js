// The map's 导出 control: the parcels on the screen — the current view's bbox and the side
// panel's filter — as a file of the chosen format and CRS, from GET /api/export.
/* global L */
import { T } from './strings.js';
import { escapeHtml } from '../common/api.js';

const FORMATS = ['geojson', 'gpkg', 'shp', 'csv', 'kml', 'dxf', 'xlsx'];
const CRSS = ['EPSG:4490', 'EPSG:4549', 'EPSG:4528'];
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** The export URL of ``filter`` ({unit, year, stage, kind}) inside ``bounds`` (a Leaflet LatLngBounds). */
export function exportUrl(filter, bounds, format, crs) {
  const bbox = [
    clamp(bounds.getWest(), -180, 180), clamp(bounds.getSouth(), -90, 90),
    clamp(bounds.getEast(), -180, 180), clamp(bounds.getNorth(), -90, 90),
  ].map((v) => v.toFixed(6)).join(',');
  const params = new URLSearchParams({ layer: 'parcels', format, crs, bbox });
  for (const [name, value] of Object.entries(filter || {})) if (value) params.set(name, value);
  return `/api/export?${params}`;
}

export const ExportControl = L.Control.extend({
  options: { position: 'topright', getFilter: () => ({}) },

  onAdd(map) {
    this.map = map;
    const div = L.DomUtil.create('div', 'export-control');
    // The legend's box (style.css is shared; the look is the legend's, set here).
    div.style.cssText = 'background:var(--panel,#fff);border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);'
      + 'font-size:12px;padding:8px 10px;line-height:18px;max-width:200px';
    div.setAttribute('role', 'region');
    div.setAttribute('aria-label', T.exportMap.title);
    const option = (value, label) => `<option value="${escapeHtml(value)}">${escapeHtml(label)}</option>`;
    div.innerHTML = `
      <button type="button" class="export-toggle" aria-expanded="false" aria-controls="export-body">${escapeHtml(T.exportMap.button)} ▸</button>
      <div id="export-body" class="export-body" hidden style="margin-top:6px">
        <label style="display:block;margin:4px 0">${escapeHtml(T.exportMap.format)}<br>
          <select name="format" style="max-width:100%">${FORMATS.map((f) => option(f, T.exportMap.formats[f])).join('')}</select></label>
        <label style="display:block;margin:4px 0">${escapeHtml(T.exportMap.crs)}<br>
          <select name="crs" style="max-width:100%">${CRSS.map((c) => option(c, T.exportMap.crss[c])).join('')}</select></label>
        <p class="hint export-kml" hidden>${escapeHtml(T.exportMap.kmlLonLat)}</p>
        <p class="hint">${escapeHtml(T.exportMap.scope)}</p>
        <p style="margin:6px 0 0"><a class="button primary export-download" download href="#">${escapeHtml(T.exportMap.download)}</a></p>
      </div>`;
    this.toggle = div.querySelector('.export-toggle');
    this.body = div.querySelector('.export-body');
    this.format = div.querySelector('select[name=format]');
    this.crs = div.querySelector('select[name=crs]');
    this.link = div.querySelector('.export-download');
    this.kmlNote = div.querySelector('.export-kml');
    this.toggle.addEventListener('click', () => this.setOpen(this.body.hidden));
    div.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.body.hidden) { this.setOpen(false); this.toggle.focus(); }
    });
    div.addEventListener('change', () => this.update());
    this.link.addEventListener('click', () => this.update()); // the view as it is at the click
    this.onMove = () => this.update();
    map.on('moveend', this.onMove);
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    this.setOpen(false);
    return div;
  },

  onRemove(map) {
    map.off('moveend', this.onMove);
  },

  setOpen(open) {
    this.body.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    this.toggle.textContent = `${T.exportMap.button} ${open ? '▾' : '▸'}`;
    this.toggle.title = open ? T.exportMap.hide : T.exportMap.show;
    if (open) this.update();
  },

  /** KML is lon/lat only: its CRS is fixed; then the link for the view and filter of now. */
  update() {
    const kml = this.format.value === 'kml';
    if (kml) this.crs.value = 'EPSG:4490';
    this.crs.disabled = kml;
    this.kmlNote.hidden = !kml;
    this.link.href = exportUrl(this.options.getFilter(), this.map.getBounds(), this.format.value, this.crs.value);
  },
});
