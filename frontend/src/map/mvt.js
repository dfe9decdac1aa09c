// Parcels from Mapbox vector tiles (the OGC API's /ogc/collections/parcels/tiles),
// decoded with @mapbox/vector-tile + pbf and painted on one canvas per tile. Tiles are
// fetched once per view and cached by the server, so a pan fetches only the new edge
// and a restyle (colour mode) or a new filter repaints without fetching: the tiles carry
// every property the colour modes and the filter bar read. Only the `parcels` layer is
// painted; the tiles' `parcels_label` layer (one point per parcel) is for clients that label.
/* global L */
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

export const MvtLayer = L.GridLayer.extend({
  options: {
    url: '', // template with {z}/{x}/{y}
    layerName: 'parcels',
    fill: () => '#999', // (properties) => colour
    filter: null, // (properties) => boolean: the features drawn, clicked and counted; null: all
    stroke: '#3e4c59',
    fillOpacity: 0.72,
    updateWhenZooming: false,
    keepBuffer: 1,
  },

  initialize(options) {
    L.setOptions(this, options);
    this.featuresByTile = new Map();
    this.on('tileunload', (e) => this.featuresByTile.delete(this._tileCoordsToKey(e.coords)));
  },

  createTile(coords, done) {
    const size = this.getTileSize();
    const ratio = window.devicePixelRatio || 1;
    const canvas = L.DomUtil.create('canvas', 'mvt-tile');
    canvas.width = size.x * ratio;
    canvas.height = size.y * ratio;
    canvas.style.width = `${size.x}px`;
    canvas.style.height = `${size.y}px`;
    const url = L.Util.template(this.options.url, { z: coords.z, x: coords.x, y: coords.y });
    const key = this._tileCoordsToKey(coords);
    fetch(url)
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.arrayBuffer();
      })
      .then((buffer) => {
        const features = [];
        if (buffer.byteLength) {
          const layer = new VectorTile(new PbfReader(buffer)).layers[this.options.layerName];
          const scale = size.x / (layer ? layer.extent : 4096);
          for (let i = 0; layer && i < layer.length; i += 1) {
            const f = layer.feature(i);
            features.push({
              properties: f.properties,
              rings: f.loadGeometry().map((ring) => ring.map((p) => [p.x * scale, p.y * scale])),
            });
          }
        }
        this.featuresByTile.set(key, features);
        this.paint(canvas, features);
        done(null, canvas);
      })
      .catch((err) => done(err, canvas));
    return canvas;
  },

  paint(canvas, features) {
    const ratio = window.devicePixelRatio || 1;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 0.6;
    ctx.strokeStyle = this.options.stroke;
    const keep = this.options.filter;
    for (const f of features) {
      if (keep && !keep(f.properties)) continue;
      ctx.beginPath();
      for (const ring of f.rings) {
        ctx.moveTo(ring[0][0], ring[0][1]);
        for (let j = 1; j < ring.length; j += 1) ctx.lineTo(ring[j][0], ring[j][1]);
        ctx.closePath();
      }
      ctx.globalAlpha = this.options.fillOpacity;
      ctx.fillStyle = this.options.fill(f.properties);
      ctx.fill('evenodd');
      ctx.globalAlpha = 1;
      ctx.stroke();
    }
  },

  /** Repaint every loaded tile with a new fill, without fetching. */
  setFill(fill) {
    this.options.fill = fill;
    this.repaint();
  },

  /** Draw only the features ``filter`` keeps (null: all); ``key`` names it, so the same filter does not repaint. */
  setFilter(filter, key) {
    if (key === this.filterKey) return;
    this.filterKey = key;
    this.options.filter = filter;
    this.repaint();
  },

  repaint() {
    for (const [key, tile] of Object.entries(this._tiles || {})) {
      const features = this.featuresByTile.get(key);
      if (features) this.paint(tile.el, features);
    }
  },

  /** Properties of the parcel under a point, or null (even-odd test in tile pixels). */
  featureAt(latlng) {
    const map = this._map;
    const zoom = this._tileZoom;
    if (!map || zoom === undefined) return null;
    const size = this.getTileSize();
    const p = map.project(latlng, zoom);
    const coords = L.point(Math.floor(p.x / size.x), Math.floor(p.y / size.y));
    coords.z = zoom;
    const features = this.featuresByTile.get(this._tileCoordsToKey(coords)) || [];
    const x = p.x - coords.x * size.x;
    const y = p.y - coords.y * size.y;
    const keep = this.options.filter;
    for (let i = features.length - 1; i >= 0; i -= 1) {
      if (keep && !keep(features[i].properties)) continue;
      let inside = false;
      for (const ring of features[i].rings) {
        for (let a = 0, b = ring.length - 1; a < ring.length; b = a, a += 1) {
          const [xa, ya] = ring[a];
          const [xb, yb] = ring[b];
          if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
        }
      }
      if (inside) return features[i].properties;
    }
    return null;
  },

  /** Number of parcels painted in the tiles of the current view (a parcel on several tiles once). */
  drawnCount() {
    const keep = this.options.filter;
    const codes = new Set();
    for (const [key, tile] of Object.entries(this._tiles)) {
      if (!tile.current) continue;
      for (const f of this.featuresByTile.get(key) || []) {
        if (!keep || keep(f.properties)) codes.add(f.properties.code);
      }
    }
    return codes.size;
  },
});
