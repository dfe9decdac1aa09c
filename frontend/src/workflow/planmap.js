// The map of a block plan, shared by the officer's draft and the reviewer's cards: parcels
// coloured by classification, the boundary (derived dashed, drawn solid), the gaps the 连片 rule
// bridged and the separations it refused, neighbours with their names, and a revision's changes.
/* global L */
import { CLASSIFICATION_COLOURS, NO_DATA_COLOUR } from "../map/styles.js";
import { T } from "./strings.js";

export const MIX_COLOURS = { ...CLASSIFICATION_COLOURS, unclassified: NO_DATA_COLOUR, no_enterprise: "#8d99ae" };
const BOUNDARY = "#6a1b9a";

/** A Leaflet map in ``host`` with the controls in Chinese and no basemap (our data is the base). */
export function planMap(host, { scrollWheelZoom = true } = {}) {
  const map = L.map(host, { zoomControl: false, minZoom: 9, maxZoom: 20, scrollWheelZoom, preferCanvas: false });
  L.control.zoom({ zoomInTitle: T.map.zoomIn, zoomOutTitle: T.map.zoomOut }).addTo(map);
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  return map;
}

/** Fill colour of a parcel by the classification the plan gives it. */
export function classColour(props) {
  if (!props.enterprise_name && !props.enterprise_credit_code) return MIX_COLOURS.no_enterprise;
  return MIX_COLOURS[props.classification] || NO_DATA_COLOUR;
}

/** The boundary: dashed when derived from the parcels, solid when drawn or read from a file. */
export function boundaryLayer(geometry, source) {
  const derived = source === "derived";
  return L.geoJSON(geometry, {
    interactive: false,
    style: { className: `plan-boundary ${source}`, color: BOUNDARY, weight: derived ? 2.5 : 3, dashArray: derived ? "7 5" : null, fillColor: BOUNDARY,
      fillOpacity: 0.15 },
  });
}

/** Bridged gaps (orange) and the separations that break 连片 (red), each with its distance. */
export function gapsLayer(contiguity) {
  const group = L.layerGroup();
  if (!contiguity) return group;
  const line = (gap, colour, text) => {
    const latlngs = gap.line.map(([x, y]) => [y, x]);
    L.polyline(latlngs, { color: colour, weight: 4, opacity: 0.9 })
      .bindTooltip(text(gap.distance_m.toFixed(1)), { sticky: true })
      .addTo(group);
    L.circleMarker([gap.location[1], gap.location[0]], { radius: 4, color: colour, fillOpacity: 1 }).addTo(group);
  };
  for (const g of contiguity.gaps || []) line(g, "#ef6c00", T.map.gap);
  for (const g of contiguity.separations || []) line(g, "#c62828", T.map.separation);
  return group;
}

/** Names of the neighbours on the map: parcels around (by enterprise) and other blocks. */
export function neighboursLayer(parcels, blocks, exclude) {
  const group = L.layerGroup();
  L.geoJSON(parcels, {
    filter: (f) => !exclude.has(f.properties.code),
    style: { color: "#9aa5b1", weight: 1, fillColor: "#e4e7eb", fillOpacity: 0.5 },
    onEachFeature: (f, layer) => {
      const name = f.properties.enterprise_name || f.properties.code;
      layer.bindTooltip(name, { direction: "center", className: "neighbour-label" });
    },
  }).addTo(group);
  L.geoJSON(blocks, {
    style: { color: "#7b8794", weight: 2, dashArray: "2 4", fill: false },
    onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, { sticky: true }),
  }).addTo(group);
  return group;
}

/** The four sides' names (the 四至 suggestion) written at the edges of ``bounds``. */
export function fourLabels(bounds, four) {
  const group = L.layerGroup();
  if (!four) return group;
  const c = bounds.getCenter();
  const pad = 0.15;
  const dx = (bounds.getEast() - bounds.getWest()) * pad;
  const dy = (bounds.getNorth() - bounds.getSouth()) * pad;
  const at = {
    east: [c.lat, bounds.getEast() + dx], west: [c.lat, bounds.getWest() - dx],
    north: [bounds.getNorth() + dy, c.lng], south: [bounds.getSouth() - dy, c.lng],
  };
  for (const k of Object.keys(at)) {
    if (!four[k]) continue;
    L.marker(at[k], {
      interactive: false, keyboard: false,
      icon: L.divIcon({ className: "four-label", html: `<span>${T.map.side[k]}：${escapeText(four[k])}</span>`, iconSize: null }),
    }).addTo(group);
  }
  return group;
}

/** A revision's added (green) and removed (red) area against the version in force. */
export function diffLayer(comparison) {
  return L.geoJSON(comparison.geometry, {
    filter: (f) => f.geometry && f.properties.change !== "unchanged",
    style: (f) => (f.properties.change === "added"
      ? { color: "#1b5e20", weight: 1, fillColor: "#66bb6a", fillOpacity: 0.45 }
      : { color: "#b71c1c", weight: 1, fillColor: "#ef5350", fillOpacity: 0.45, dashArray: "3 3" }),
    onEachFeature: (f, layer) => layer.bindTooltip(
      `${f.properties.change === "added" ? T.map.added : T.map.removed} ${f.properties.area_mu.toFixed(2)} ${T.mu}`,
      { sticky: true }),
  });
}

/** A small legend: rows of [colour, label, kind] (kind: "dashed" or "outline" for lines, else a fill). */
export function legend(rows, position = "bottomright") {
  const control = L.control({ position });
  control.onAdd = () => {
    // Open on a wide screen, a one-line 图例 to tap open on a phone (the map stays visible).
    const div = L.DomUtil.create("details", "plan-legend");
    div.open = !window.matchMedia("(max-width: 900px)").matches;
    L.DomEvent.disableClickPropagation(div);
    const swatch = (colour, kind) => ({ dashed: `border:2px dashed ${colour};background:transparent`,
      outline: `border:3px solid ${colour};background:transparent` })[kind] || `background:${colour}`;
    div.innerHTML = `<summary>${T.map.legend}</summary>` + rows.map(([colour, label, kind]) => `<div><i style="${swatch(colour, kind)}"></i>${escapeText(label)}</div>`).join("");
    return div;
  };
  return control;
}

export function escapeText(value) {
  return String(value ?? "").replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);
}

/** The query string of a map's bounds, grown by ``pad`` (for neighbours around a plan). */
export function bboxParam(bounds, pad = 0) {
  const b = pad ? bounds.pad(pad) : bounds;
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
}
