// 一图: the planners' map. State is reported on <body data-*> for people and tests:
// data-map-state (loading | ready | error), data-parcels-drawn, data-render-seq
// (incremented after every completed redraw), data-aggregated, data-block.
/* global L */
import { fetchJson, fetchAll, query, escapeHtml, num as formatNumber } from '../common/api.js';
import { T } from './strings.js';
import { infoTable } from './format.js';
import { STAGE_COLOURS, unitColour } from './styles.js';
import { LegendControl, CoordsControl } from './controls.js';
import { ExportControl } from './export.js';
import { basemapChoices } from './basemap.js';
import { buildSidePanel } from './sidepanel.js';
import { buildSearch } from './search.js';
import { BlockPanel } from './blockpanel.js';
import { ParcelLayer } from './parcels.js';
import { ParksLayer } from './parks.js';
import { MarketFlagsLayer } from './panel/market.js';
import { registerView, route, startRouting } from './nav.js';
import { mountShell } from '../common/shell.js';

const INITIAL_VIEW = { center: [30.63, 120.50], zoom: 11 }; // Tongxiang

const body = document.body;
const statusEl = document.getElementById('status');
let renderSeq = 0;

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', isError);
}

function parcelPopup(p) {
  const rows = [
    [T.parcel.enterprise, p.enterprise_name || T.parcel.none],
    [T.parcel.unit, p.block_code ? p.block_code : T.parcel.scattered],
    [T.parcel.area, `${formatNumber(p.land_area_mu)} 亩`],
    [T.parcel.far, formatNumber(p.far)],
    [T.parcel.plannedFar, formatNumber(p.planned_far)],
    [T.parcel.tax, p.tax_per_mu === null ? T.dash : `${formatNumber(p.tax_per_mu)} ${T.parcel.taxUnit}`],
    [T.parcel.classification, p.classification ? T.classification[p.classification] : T.legend.unclassified],
  ];
  const open = p.block_code ? `<p><button type="button" class="link open-block" data-code="${escapeHtml(p.block_code)}">${escapeHtml(T.parcel.openBlock)}</button></p>` : '';
  return `<div class="popup"><h3>${escapeHtml(T.parcel.title(p.code))}</h3>${infoTable(rows)}${open}${reportLink(p)}</div>`;
}

// The user the shell resolved (null when nobody is logged in): an officer of the parcel's unit, or an
// administrator, reports the parcel's progress from its popup (月报报送); the server checks it again.
let currentUser = null;

function reportLink(p) {
  const u = currentUser;
  const mayReport = u && (u.role === 'admin' || (u.role === 'unit_officer' && u.unit && u.unit === p.unit_code));
  if (!mayReport) return '';
  const q = new URLSearchParams({ parcel: p.code });
  if (u.role === 'admin' && p.unit_code) q.set('unit', p.unit_code);
  return `<p class="report-progress"><a class="button" href="/reporting?${escapeHtml(q.toString())}">${escapeHtml(T.parcel.report)}</a></p>`;
}

function unitPopup(p, agg) {
  const rows = [
    [T.unit.kind, p.kind_label],
    [T.unit.area, `${formatNumber(p.area_mu, 0)} 亩`],
    [T.unit.boundary, p.is_schematic ? T.unit.schematic : T.dash],
  ];
  if (agg) {
    rows.push(
      [T.unit.blocks, agg.block_count],
      [T.unit.parcels, T.unit.summary(agg.parcel_count, formatNumber(agg.land_area_mu))],
      [T.unit.contiguous, `${formatNumber(agg.contiguous_mu)} 亩`],
      [T.unit.scattered, `${formatNumber(agg.scattered_mu)} 亩`],
      [T.unit.far, formatNumber(agg.far)],
      [T.unit.tax, agg.tax_per_mu === null ? T.dash : `${formatNumber(agg.tax_per_mu)} ${T.parcel.taxUnit}`],
    );
  }
  return `<div class="popup"><h3>${escapeHtml(p.name)}</h3>${infoTable(rows)}</div>`;
}

/** Give a map shape (an SVG path) a name and make Enter/Space do what a click does. */
function focusable(element, name, activate) {
  if (!element) return;
  element.setAttribute('tabindex', '0');
  element.setAttribute('role', 'button');
  element.setAttribute('aria-label', name);
  element.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); }
  });
}

/**
 * The layer panel as a drawer: a close button in it and a 图层 button on the map to open it again.
 * It starts open on a wide screen and closed on a phone; Escape closes it on a phone.
 */
function buildDrawer(side, map) {
  const narrow = window.matchMedia('(max-width: 860px)');
  const opener = L.control({ position: 'topleft' });
  let openButton = null;
  opener.onAdd = () => {
    openButton = L.DomUtil.create('button', 'drawer-open');
    openButton.type = 'button';
    openButton.textContent = T.panelToggle;
    openButton.title = T.panelOpen;
    openButton.setAttribute('aria-controls', 'side');
    L.DomEvent.disableClickPropagation(openButton);
    openButton.addEventListener('click', () => setOpen(true));
    return openButton;
  };
  opener.addTo(map);
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'drawer-close';
  close.setAttribute('aria-label', T.panelClose);
  close.title = T.panelClose;
  close.textContent = '×';
  close.addEventListener('click', () => { setOpen(false); openButton.focus(); });
  side.prepend(close);
  function setOpen(open) {
    document.body.classList.toggle('side-closed', !open);
    openButton.setAttribute('aria-expanded', String(open));
    if (open) side.querySelector('input, select, button:not(.drawer-close)')?.focus({ preventScroll: true });
  }
  side.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && narrow.matches) { setOpen(false); openButton.focus(); }
  });
  document.body.classList.toggle('side-closed', narrow.matches);
  openButton.setAttribute('aria-expanded', String(!narrow.matches));
}

async function main() {
  document.title = T.appTitle;
  const map = L.map('map', { zoomControl: false, keyboard: true, minZoom: 9, maxZoom: 19 })
    .setView(INITIAL_VIEW.center, INITIAL_VIEW.zoom);
  map.getContainer().setAttribute('aria-label', T.appTitle);
  L.control.zoom({ zoomInTitle: T.zoomIn, zoomOutTitle: T.zoomOut }).addTo(map);
  map.attributionControl.setPrefix(false); // no flag, no English: the data sources' credits only
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  new CoordsControl().addTo(map);
  const legend = new LegendControl().addTo(map);
  // Leaflet names every popup's close button in English ("Close popup"): name it in Chinese, for all layers.
  map.on('popupopen', (e) => {
    const close = e.popup.getElement()?.querySelector('.leaflet-popup-close-button');
    close?.setAttribute('aria-label', T.popupClose);
    close?.setAttribute('title', T.popupClose);
  });

  // The per-unit figures take longest: ask for them first, alongside the rest.
  let firstSummary = fetchJson('/api/map/units');
  const [config, user, unitsFc, blocksFc] = await Promise.all([
    fetchJson('/api/map/config'),
    mountShell({ page: location.hash === '#/upload' ? 'upload' : 'map', skipTo: 'map' }).catch(() => null),
    fetchAll('/api/units?limit=5000'),
    fetchAll('/api/blocks?limit=5000'),
  ]);
  currentUser = user;

  const side = document.getElementById('side');
  buildDrawer(side, map);
  const uploadHost = document.getElementById('upload-view');
  registerView('map', { show: () => { side.hidden = false; }, hide: () => { side.hidden = true; } });
  let upload = null;
  registerView('upload', {
    show: async () => {
      uploadHost.hidden = false;
      if (!upload) {
        const { UploadScreen } = await import('./upload.js');
        upload = new UploadScreen(uploadHost, map, { onCommitted: () => applyFilter(state.filter).catch(fail) });
      }
      upload.show();
    },
    hide: () => { uploadHost.hidden = true; upload?.hide(); },
  });

  const state = { filter: {}, mode: 'classification', aggregates: new Map(), aggregated: false, total: 0 };
  const blockPanel = new BlockPanel(document.getElementById('block-panel'), map);
  new ExportControl({ getFilter: () => state.filter }).addTo(map); // 导出: what is on the screen

  // Units: outlines with names; in the aggregated view, filled by the unit's figures.
  const unitLayers = new Map();
  const unitsLayer = L.geoJSON(unitsFc, {
    style: () => ({ className: 'layer-units', color: '#52606d', weight: 1.5, dashArray: '4 4', fillColor: '#cbd2d9', fillOpacity: 0.12 }),
    onEachFeature: (f, layer) => {
      unitLayers.set(f.properties.code, layer);
      layer.on('add', () => focusable(layer.getElement(), T.unitName(f.properties.name), () => layer.openPopup()));
      layer.bindPopup(() => unitPopup(f.properties, state.aggregates.get(f.properties.code)));
      layer.bindTooltip(f.properties.name, { permanent: true, direction: 'center', className: 'unit-label' });
    },
  }).addTo(map);

  const styleUnits = () => {
    for (const [code, layer] of unitLayers) {
      const agg = state.aggregates.get(code);
      const selected = state.filter.unit === code;
      const dimmed = state.filter.unit && !selected;
      layer.setStyle(state.aggregated
        ? { fillColor: agg ? unitColour(state.mode, agg) : '#cbd2d9', fillOpacity: dimmed ? 0.05 : 0.55, weight: selected ? 3 : 1.5 }
        : { fillColor: '#cbd2d9', fillOpacity: dimmed ? 0.02 : 0.12, weight: selected ? 3 : 1.5 });
      const name = layer.feature.properties.name;
      layer.setTooltipContent(state.aggregated && agg
        ? `${escapeHtml(name)}<br><small>${escapeHtml(T.unit.summary(agg.parcel_count, formatNumber(agg.land_area_mu, 0)))}</small>`
        : escapeHtml(name));
    }
  };

  // Blocks: outlined by stage, filtered here (there are few), open the panel on click.
  const blockVisible = (p) => (!state.filter.unit || p.unit_code === state.filter.unit)
    && (!state.filter.year || String(p.designated_year) === String(state.filter.year))
    && (!state.filter.stage || p.stage === state.filter.stage)
    && state.filter.kind !== 'scattered';
  const blocksLayer = L.geoJSON(null, {
    style: (f) => ({ className: 'layer-blocks', color: STAGE_COLOURS[f.properties.stage] || '#333', weight: 3, fillOpacity: 0.04 }),
    onEachFeature: (f, layer) => {
      const open = () => blockPanel.open(f.properties.code, { fly: false, opener: layer.getElement() });
      layer.on('click', open);
      layer.bindTooltip(`${f.properties.name}（${f.properties.stage_label}）`, { sticky: true });
      // Reachable by keyboard: a named button that Enter or Space opens.
      layer.on('add', () => focusable(layer.getElement(), T.blockName(f.properties.name, f.properties.code, f.properties.stage_label), open));
    },
  }).addTo(map);
  const drawBlocks = () => {
    blocksLayer.clearLayers();
    blocksLayer.addData({ type: 'FeatureCollection', features: blocksFc.features.filter((f) => blockVisible(f.properties)) });
    return blocksLayer.getLayers().length;
  };

  // ?parcel_all_limit=N lowers the size from which parcels are aggregated (for tests and demos).
  const params = new URLSearchParams(location.search);
  const allLimit = Number(params.get('parcel_all_limit')) || undefined;
  // The parcel last opened (click or search), outlined above everything else.
  const highlight = L.featureGroup().addTo(map);
  const showParcel = (feature, latlng) => {
    highlight.clearLayers();
    if (feature.geometry) {
      L.geoJSON(feature, { style: { color: '#ffd400', weight: 4, fill: false, className: 'parcel-selected' }, interactive: false }).addTo(highlight);
    }
    const popup = L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(parcelPopup(feature.properties)).openOn(map);
    const btn = popup.getElement()?.querySelector('button.open-block');
    btn?.addEventListener('click', () => { map.closePopup(); blockPanel.open(btn.dataset.code, { fly: true }); });
  };
  map.on('popupclose', () => highlight.clearLayers());

  const parcels = new ParcelLayer(map, {
    ...(allLimit ? { allLimit } : {}),
    tiles: params.get('tiles') === '0' ? null : config.parcel_tiles,
    onClick: showParcel,
    onAggregate: (aggregated) => {
      state.aggregated = aggregated;
      body.dataset.aggregated = String(aggregated);
      legend.update({ aggregated });
      styleUnits();
    },
    onChange: ({ drawn, tiles }) => {
      body.dataset.parcelsDrawn = String(drawn);
      body.dataset.parcelTiles = String(Boolean(tiles));
      body.dataset.renderSeq = String(++renderSeq);
    },
  }).addTo(map);

  const updateStatus = () => {
    const blocksShown = blocksLayer.getLayers().length;
    setStatus(T.statusCounts(unitsFc.features.length, blocksShown, state.total));
  };

  const applyFilter = async (filter) => {
    state.filter = filter;
    body.dataset.mapState = 'loading';
    // The preloaded first summary is the unfiltered one: use it only for an empty filter.
    const agg = await (firstSummary && !Object.keys(filter).length ? firstSummary : fetchJson(`/api/map/units${query(filter)}`));
    firstSummary = null;
    state.aggregates = new Map(agg.units.map((u) => [u.code, u]));
    state.total = agg.parcel_count;
    body.dataset.blocks = String(drawBlocks());
    body.dataset.parcelsMatched = String(agg.parcel_count);
    await parcels.setFilter(filter, agg.parcel_count);
    styleUnits();
    // Show what the filter chose: the unit, or else the blocks of that year or stage.
    const fit = { paddingTopLeft: [300, 20], paddingBottomRight: [20, 20], maxZoom: 16, animate: false };
    if (filter.unit && unitLayers.has(filter.unit)) map.fitBounds(unitLayers.get(filter.unit).getBounds(), fit);
    else if ((filter.year || filter.stage) && blocksLayer.getLayers().length) map.fitBounds(blocksLayer.getBounds(), fit);
    updateStatus();
    body.dataset.mapState = 'ready';
  };

  // Basemap (none by default, or the server's own tile server when one is set).
  const basemaps = basemapChoices(config);
  let currentBasemap = null;
  const setBasemap = (id) => {
    if (currentBasemap) currentBasemap.remove();
    const choice = basemaps.find((b) => b.id === id);
    currentBasemap = choice?.layer || null;
    if (currentBasemap) currentBasemap.addTo(map).bringToBack?.();
    body.dataset.basemap = id;
  };
  const initialBasemap = config.basemap_url ? 'custom' : 'none';
  setBasemap(initialBasemap);

  const years = [...new Set(blocksFc.features.map((f) => f.properties.designated_year).filter(Boolean))].sort();
  const layersByName = { units: unitsLayer, blocks: blocksLayer };
  const sidePanel = buildSidePanel(document.getElementById('side'), {
    units: unitsFc.features.map((f) => ({ code: f.properties.code, name: f.properties.name })),
    years,
    basemaps,
    initialBasemap,
    onLayer: (name, on) => {
      if (name === 'parcels') parcels.setVisible(on);
      else if (on) layersByName[name].addTo(map);
      else layersByName[name].remove();
      body.dataset[`layer${name[0].toUpperCase()}${name.slice(1)}`] = String(on);
    },
    onMode: (mode) => {
      state.mode = mode;
      parcels.setColourMode(mode);
      legend.update({ mode });
      styleUnits();
      body.dataset.colourMode = mode;
    },
    onFilter: (f) => applyFilter(f).catch(fail),
    onBasemap: setBasemap,
  });
  new ParksLayer(map, document.getElementById('side')); // 开发区和工业园区 (parks.js: its own checkbox)
  new MarketFlagsLayer(map, document.getElementById('side'), () => legend.update({})); // 转让租赁预警 (panel/market.js)

  buildSearch(document.getElementById('search-host'), {
    onChoose: (r) => flyToResult(r).catch(fail),
    onError: (msg) => setStatus(msg, true),
  });

  async function flyToResult(r) {
    route('map');
    const [minx, miny, maxx, maxy] = r.bbox;
    const bounds = L.latLngBounds([miny, minx], [maxy, maxx]);
    if (r.kind === 'block') {
      await blockPanel.open(r.code, { fly: true });
      return;
    }
    if (r.kind === 'unit') {
      map.flyToBounds(bounds, { padding: [20, 20], duration: 0.6 });
      return;
    }
    // A parcel or an enterprise: land on the parcel at street zoom and open it.
    const [lon, lat] = r.point;
    const zoom = Math.max(parcels.options.detailZoom, Math.min(17, map.getBoundsZoom(bounds.pad(1.5))));
    await new Promise((resolve) => { map.once('moveend', resolve); map.flyTo([lat, lon], zoom, { duration: 0.6 }); });
    await parcels.refresh();
    const feature = await parcels.feature(r.parcel_code, L.latLng(lat, lon));
    if (feature) {
      showParcel(feature, L.latLng(lat, lon));
      body.dataset.parcel = r.parcel_code;
    } else {
      setStatus(T.search.none(r.code), true);
    }
  }

  // ?parcel=CODE (links from 一库 and elsewhere): the parcel found as the search finds it, then opened.
  async function openParcel(code) {
    const body = await fetchJson(`/api/search${query({ q: code })}`);
    const hit = body.results.find((r) => r.kind === 'parcel' && r.code === code);
    if (hit) await flyToResult(hit);
    else setStatus(T.search.none(code), true);
  }

  // ?view=lat,lon,zoom opens a given view (shareable links, the benchmark); else the whole city.
  const view = (params.get('view') || '').split(',').map(Number);
  const bounds = unitsLayer.getBounds();
  if (view.length === 3 && view.every(Number.isFinite)) map.setView([view[0], view[1]], view[2], { animate: false });
  else if (bounds.isValid()) {
    const clear = body.classList.contains('side-closed') ? 10 : 290; // keep the city clear of an open layer panel
    map.fitBounds(bounds, { paddingTopLeft: [clear, 10], paddingBottomRight: [10, 10] });
  }
  // ?debug=1 hands the Leaflet map to the browser benchmark (bench/bench_map.py); no global otherwise.
  if (params.get('debug') === '1') window.cloudmapDebug = { map };
  body.dataset.units = String(unitsFc.features.length);
  // Deep links from the dashboard and the review pages: ?unit=&year=&stage=&kind= preset the
  // filter, ?block=CODE opens that block.
  const initial = {};
  for (const name of ['unit', 'year', 'stage', 'kind']) {
    const value = params.get(name);
    const select = sidePanel.elements[name];
    if (value && [...select.options].some((o) => o.value === value)) {
      select.value = value;
      initial[name] = value;
    }
  }
  await applyFilter(initial);
  if (params.get('block')) await blockPanel.open(params.get('block'), { fly: true });
  else if (params.get('parcel')) await openParcel(params.get('parcel'));
  startRouting();
}

function fail(error) {
  body.dataset.mapState = 'error';
  setStatus(T.loadFailed(error.message), true);
  console.error(error); // eslint-disable-line no-console
}

main().catch(fail);
