// Basemaps. None by default: our own unit outlines are the base, and the map works
// offline. Tianditu vec_w / img_w (Web Mercator, CGCS2000 ≈ WGS 84 at map scale, so
// no datum shift) only when the server has a key; GCJ-02 basemaps are never offered
// because our CGCS2000 data would sit 300–500 m off them.
/* global L */
import { T } from './strings.js';

const TIANDITU = 'https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0'
  + '&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}';
const TIANDITU_ATTRIBUTION = '天地图 © 国家地理信息公共服务平台';

function tianditu(layer, label, key) {
  return L.layerGroup([
    L.tileLayer(TIANDITU, { layer, tk: key, subdomains: '01234567', maxZoom: 18, attribution: TIANDITU_ATTRIBUTION }),
    L.tileLayer(TIANDITU, { layer: label, tk: key, subdomains: '01234567', maxZoom: 18 }),
  ]);
}

/** The basemaps this server offers: [{id, label, layer}] with 'none' first. */
export function basemapChoices(config) {
  const choices = [{ id: 'none', label: T.basemap.none, layer: null }];
  if (config.tianditu_key) {
    choices.push({ id: 'vec', label: T.basemap.vec, layer: tianditu('vec', 'cva', config.tianditu_key) });
    choices.push({ id: 'img', label: T.basemap.img, layer: tianditu('img', 'cia', config.tianditu_key) });
  }
  if (config.basemap_url) {
    choices.push({
      id: 'custom',
      label: T.basemap.custom,
      layer: L.tileLayer(config.basemap_url, { attribution: config.basemap_attribution || '', maxZoom: 19 }),
    });
  }
  return choices;
}
