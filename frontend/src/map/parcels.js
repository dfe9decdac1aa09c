// The parcel layer, kept smooth at any size of data set:
//  - up to `allLimit` parcels matching the filter: all of them, fetched once, drawn on canvas;
//  - more: below `detailZoom` nothing is drawn here (the units layer shows per-unit
//    aggregates instead); from `detailZoom` on, only the parcels in a padded view box
//    are fetched and drawn, and fetched again when the view leaves that box.
/* global L */
import { fetchJson, query } from './api.js';
import { parcelColour } from './styles.js';

const DEFAULTS = {
  allLimit: 6000, // at most this many parcels are drawn without a bbox
  detailZoom: 16, // large sets: parcels drawn from this zoom on (~1.2 × 0.8 km on a desktop screen)
  boxPad: 0.35, // fetch this fraction of the view size around it
  boxLimit: 8000, // at most this many parcels per view box
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
    this.loadedKey = null;
    this.visible = true;
    this.seq = 0;
    this.aggregated = false;
    this.onMoveEnd = () => this.refresh();
  }

  addTo(map) {
    this.group.addTo(map);
    map.on('moveend', this.onMoveEnd);
    return this;
  }

  remove() {
    this.map.off('moveend', this.onMoveEnd);
    this.group.remove();
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
    this.colourMode = mode;
    this.group.eachLayer((layer) => layer.setStyle(this.style(layer.feature)));
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) {
      this.group.addTo(this.map);
      this.refresh();
    } else {
      this.group.remove();
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
    if (!this.visible) return;
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
    if (this.map.getZoom() < this.options.detailZoom) {
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

  report(seq, truncated = this.truncated) {
    if (seq !== this.seq) return null;
    const state = { drawn: this.group.getLayers().length, aggregated: this.aggregated, truncated: Boolean(truncated) };
    this.options.onChange?.(state);
    return state;
  }

  /** The drawn parcel with this code, if any. */
  find(code) {
    return this.group.getLayers().find((l) => l.feature.properties.code === code) || null;
  }
}
