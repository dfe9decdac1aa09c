// The parcel layer, kept smooth at any size of data set:
//  - up to `allLimit` parcels matching the filter: all of them, fetched once, drawn on canvas;
//  - more: below the tile zoom nothing is drawn here (the units layer shows per-unit
//    aggregates instead). From `tileZoom` on, the OGC API's vector tiles are painted: they
//    carry every property the colour modes read and the filter bar filters on, and the
//    filter is applied to the tiles' features here by the server's rules (FILTER_TESTS).
//    Only a server without tiles (or tiles lacking a property) leaves the GeoJSON view box:
//    from `detailZoom` on, the parcels of a padded view box are fetched and drawn, and
//    fetched again when the view leaves that box.
/* global L */
import { fetchJson, query } from '../common/api.js';
import { parcelColour } from './styles.js';
import { MvtLayer } from './mvt.js';

// What each colour mode reads from a parcel; tiles serve a mode when they carry it.
const MODE_PROPERTY = {
  classification: 'classification',
  far: 'far',
  planned_far: 'planned_far',
  tax_per_mu: 'tax_per_mu',
  contiguity: 'block_code',
  evaluation_grade: 'evaluation_grade',
};

// The map filter's rules on a tile feature's properties, as /api/map/parcels applies them
// (app/core/read/layers.py _parcel_filters): [property read, test]. A NULL is no property in a tile.
const FILTER_TESTS = {
  unit: ['unit_code', (p, v) => p.unit_code === v],
  block: ['block_code', (p, v) => p.block_code === v],
  kind: ['block_code', (p, v) => (v === 'scattered' ? !p.block_code : Boolean(p.block_code))],
  classification: ['classification', (p, v) => p.classification === v],
  year: ['designated_year', (p, v) => p.designated_year !== undefined && String(p.designated_year) === String(v)],
  stage: ['stage', (p, v) => p.stage === v],
};

const DEFAULTS = {
  allLimit: 6000, // at most this many parcels are drawn without a bbox
  detailZoom: 16, // large sets: parcels drawn from this zoom on (~1.2 × 0.8 km on a desktop screen)
  boxPad: 0.35, // fetch this fraction of the view size around it
  boxLimit: 8000, // at most this many parcels per view box
  tiles: null, // {url, properties: [...]} of the parcel vector tiles, when the server has them
  tileZoom: 14, // large sets: tiles painted from this zoom on
};

export class ParcelLayer {
  /**
   * @param {L.Map} map
   * @param {object} options  onClick(feature, latlng), onChange({mode, drawn, truncated}), and DEFAULTS
   */
  constructor(map, options = {}) {
    this.map = map;
    this.options = { ...DEFAULTS, ...options };
    this.renderer = L.canvas({ padding: 0.3, tolerance: 2 });
    this.group = L.featureGroup();
    this.filter = {};
    this.colourMode = 'classification';
    this.total = 0;
    this.loadedBox = null;
    this.loadedKey = undefined; // undefined until setFilter: refresh() waits for it
    this.visible = true;
    this.seq = 0;
    this.aggregated = false;
    this.onMoveEnd = () => this.refresh();
    this.mvt = null;
    this.onMapClick = (e) => this.clickTile(e);
  }

  addTo(map) {
    this.group.addTo(map);
    map.on('moveend', this.onMoveEnd);
    map.on('click', this.onMapClick);
    return this;
  }

  remove() {
    this.map.off('moveend', this.onMoveEnd);
    this.map.off('click', this.onMapClick);
    this.group.remove();
    this.mvt?.remove();
  }

  /** Tiles can draw the current view: they exist and carry the mode's property and the filter's. */
  get tilesFit() {
    const t = this.options.tiles;
    if (!t || !t.properties.includes(MODE_PROPERTY[this.colourMode])) return false;
    return Object.keys(this.filter).every((name) => FILTER_TESTS[name] && t.properties.includes(FILTER_TESTS[name][0]));
  }

  /** The filter as a test of a tile feature's properties; null when nothing is filtered. */
  tileFilter() {
    const rules = Object.entries(this.filter).map(([name, value]) => [FILTER_TESTS[name][1], value]);
    return rules.length ? (p) => rules.every(([test, value]) => test(p, value)) : null;
  }

  get tilesActive() {
    return Boolean(this.mvt && this.map.hasLayer(this.mvt));
  }

  get isLarge() {
    return this.total > this.options.allLimit;
  }

  /** New filter and the number of parcels it matches (from /api/map/units). */
  async setFilter(filter, total) {
    this.filter = { ...filter };
    this.total = total;
    this.loadedBox = null;
    this.loadedKey = null;
    await this.refresh(true);
  }

  setColourMode(mode) {
    const wasFit = this.tilesFit;
    this.colourMode = mode;
    this.group.eachLayer((layer) => layer.setStyle(this.style(layer.feature)));
    if (this.mvt) this.mvt.setFill((p) => parcelColour(this.colourMode, p));
    if (this.isLarge && wasFit !== this.tilesFit) this.refresh(true);
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) {
      this.group.addTo(this.map);
      this.refresh();
    } else {
      this.group.remove();
      this.mvt?.remove();
      this.options.onChange?.({ drawn: 0, aggregated: this.aggregated, truncated: false });
    }
  }

  style(feature) {
    return {
      renderer: this.renderer,
      color: '#3e4c59',
      weight: 0.6,
      fillColor: parcelColour(this.colourMode, feature.properties),
      fillOpacity: 0.72,
    };
  }

  /** Fetch and draw what the current view needs; a no-op when it is already drawn. */
  async refresh(force = false) {
    // Nothing to draw before the first filter (and its parcel count) arrives.
    if (!this.visible || this.loadedKey === undefined) return;
    const seq = ++this.seq;
    const key = JSON.stringify(this.filter);
    if (!this.isLarge) {
      this.setAggregated(false);
      if (!force && this.loadedKey === key) return this.report(seq);
      const data = await fetchJson(`/api/map/parcels${query({ ...this.filter, limit: this.options.allLimit })}`);
      if (seq !== this.seq) return null;
      this.draw(data, key, null);
      return this.report(seq, data.truncated);
    }
    const zoom = this.map.getZoom();
    if (this.tilesFit && zoom >= this.options.tileZoom) {
      this.group.clearLayers();
      this.loadedBox = null;
      this.loadedKey = null;
      this.setAggregated(false);
      if (!this.mvt) {
        this.mvt = new MvtLayer({ url: this.options.tiles.url, fill: (p) => parcelColour(this.colourMode, p), pane: 'overlayPane' });
      }
      this.mvt.setFilter(this.tileFilter(), key);
      if (!this.map.hasLayer(this.mvt)) this.mvt.addTo(this.map);
      // The grid starts its new tiles on this same moveend: look once it has.
      await new Promise((r) => { setTimeout(r, 0); });
      if (this.mvt.isLoading()) await new Promise((r) => { this.mvt.once('load', r); });
      return this.report(seq, false, this.mvt.drawnCount());
    }
    this.mvt?.remove();
    if (zoom < this.options.detailZoom) {
      this.group.clearLayers();
      this.loadedBox = null;
      this.setAggregated(true);
      return this.report(seq);
    }
    this.setAggregated(false);
    const view = this.map.getBounds();
    if (!force && this.loadedKey === key && this.loadedBox && this.loadedBox.contains(view)) return this.report(seq);
    const box = view.pad(this.options.boxPad);
    const bbox = [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map((v) => v.toFixed(6)).join(',');
    const data = await fetchJson(`/api/map/parcels${query({ ...this.filter, bbox, limit: this.options.boxLimit })}`);
    if (seq !== this.seq) return null;
    this.draw(data, key, box);
    return this.report(seq, data.truncated);
  }

  draw(data, key, box) {
    this.group.clearLayers();
    L.geoJSON(data, {
      style: (f) => this.style(f),
      onEachFeature: (feature, layer) => {
        layer.on('click', (e) => this.options.onClick?.(feature, e.latlng));
      },
    }).eachLayer((layer) => this.group.addLayer(layer));
    this.loadedKey = key;
    this.loadedBox = box;
    this.truncated = Boolean(data.truncated);
  }

  setAggregated(aggregated) {
    if (aggregated !== this.aggregated) {
      this.aggregated = aggregated;
      this.options.onAggregate?.(aggregated);
    }
  }

  report(seq, truncated = this.truncated, drawn = this.group.getLayers().length) {
    if (seq !== this.seq) return null;
    const state = { drawn, aggregated: this.aggregated, truncated: Boolean(truncated), tiles: this.tilesActive };
    this.options.onChange?.(state);
    return state;
  }

  /** The drawn parcel with this code, if any (GeoJSON view only). */
  find(code) {
    return this.group.getLayers().find((l) => l.feature.properties.code === code) || null;
  }

  /** The parcel ``code`` near ``latlng`` with all its properties: drawn, or fetched for a small box. */
  async feature(code, latlng) {
    const layer = this.find(code);
    if (layer) return layer.feature;
    const d = 0.002;
    const bbox = [latlng.lng - d, latlng.lat - d, latlng.lng + d, latlng.lat + d].map((v) => v.toFixed(6)).join(',');
    const data = await fetchJson(`/api/map/parcels${query({ bbox, limit: 2000 })}`);
    return data.features.find((f) => f.properties.code === code) || null;
  }

  async clickTile(e) {
    if (!this.tilesActive) return;
    const props = this.mvt.featureAt(e.latlng);
    if (!props) return;
    const feature = await this.feature(props.code, e.latlng);
    this.options.onClick?.(feature || { type: 'Feature', properties: props }, e.latlng);
  }
}
