// 一图: the planners' map. Loads units, blocks and parcels from the API and
// draws them with a layer switcher, a legend and popups. No globals: the
// page's state is reported on <body data-map-state> for people and tests.
/* global L */

const CLASSIFICATION_COLOURS = {
  upgrade: '#2e7d32', // 改造提升
  transform: '#ef6c00', // 优化转型
  clear_out: '#c62828', // 整治清退
};
const UNCLASSIFIED_COLOUR = '#9aa5b1';
const STAGE_COLOURS = {
  planned: '#7b8794', // 谋划
  started: '#1e88e5', // 启动
  in_progress: '#8e24aa', // 推进
  completed: '#2e7d32', // 完成
};
const LEGEND = {
  classification: [
    ['upgrade', '改造提升'],
    ['transform', '优化转型'],
    ['clear_out', '整治清退'],
  ],
  stage: [
    ['planned', '谋划'],
    ['started', '启动'],
    ['in_progress', '推进'],
    ['completed', '完成'],
  ],
};
const PAGE_LIMIT = 5000;
// Tongxiang, for the first view before data arrives.
const INITIAL_VIEW = { center: [30.63, 120.50], zoom: 11 };

const statusEl = document.getElementById('status');

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', isError);
}

async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/geo+json, application/json' } });
  if (!response.ok) {
    let detail = `${response.status}`;
    try {
      detail = (await response.json()).detail || detail;
    } catch (_) { /* not JSON: keep the status code */ }
    throw new Error(detail);
  }
  return response.json();
}

/** Fetch every page of a collection by following its ``next`` links. */
async function fetchAll(url) {
  const features = [];
  let next = url;
  while (next) {
    const page = await fetchJson(next);
    features.push(...page.features);
    const link = (page.links || []).find((l) => l.rel === 'next');
    next = link ? link.href : null;
  }
  return { type: 'FeatureCollection', features };
}

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function formatNumber(value, digits = 2) {
  if (value === null || value === undefined) return '—';
  return Number(value).toLocaleString('zh-CN', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function popupTable(title, rows) {
  const body = rows
    .map(([label, value]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  return `<div class="popup"><h3>${escapeHtml(title)}</h3><table>${body}</table></div>`;
}

function parcelPopup(p) {
  return popupTable(`宗地 ${p.code}`, [
    ['企业', p.enterprise_name || '（无）'],
    ['所属', `${p.unit_name}${p.block_name ? ' · ' + p.block_name : ' · 零星'}`],
    ['用地面积', `${formatNumber(p.land_area_mu)} 亩`],
    ['现状容积率', formatNumber(p.far)],
    ['规划容积率', formatNumber(p.planned_far)],
    ['分类', p.classification_label || '未分类'],
    ['改造类型', p.renewal_type_label || '—'],
    ['进度', p.status_label || '—'],
  ]);
}

function blockPopup(p) {
  return popupTable(p.name, [
    ['编号', p.code],
    ['所属', p.unit_name],
    ['面积', `${formatNumber(p.area_mu)} 亩`],
    ['阶段', p.stage_label],
    ['认定', `${p.review_status_label}${p.approval_doc_no ? '（' + p.approval_doc_no + '）' : ''}`],
    ['四至', `东至${p.four_east || '—'}，南至${p.four_south || '—'}，西至${p.four_west || '—'}，北至${p.four_north || '—'}`],
    ['规划容积率', formatNumber(p.planned_far)],
    ['宗地数', p.parcel_count],
  ]);
}

function unitPopup(p) {
  return popupTable(p.name, [
    ['类别', p.kind_label],
    ['面积', `${formatNumber(p.area_mu, 0)} 亩`],
    ['边界', p.is_schematic ? '示意边界，非法定界线' : '—'],
  ]);
}

function buildLegend() {
  const legend = L.control({ position: 'bottomright' });
  legend.onAdd = () => {
    const div = L.DomUtil.create('div', 'legend');
    const swatches = (items, colours, outline) => items
      .map(([code, label]) => `<div><span class="swatch${outline ? ' outline' : ''}" style="background:${colours[code]};border-color:${colours[code]}"></span>${label}</div>`)
      .join('');
    div.innerHTML = '<h2>宗地分类</h2>'
      + swatches(LEGEND.classification, CLASSIFICATION_COLOURS, false)
      + `<div><span class="swatch" style="background:${UNCLASSIFIED_COLOUR}"></span>未分类</div>`
      + '<h2>区块阶段</h2>'
      + swatches(LEGEND.stage, STAGE_COLOURS, true)
      + '<div class="note">镇街边界为示意，非法定行政界线</div>';
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  return legend;
}

function unitsLayer(data) {
  return L.geoJSON(data, {
    style: { className: 'layer-units', color: '#52606d', weight: 1.5, dashArray: '4 4', fillColor: '#cbd2d9', fillOpacity: 0.15 },
    onEachFeature: (feature, layer) => {
      layer.bindPopup(unitPopup(feature.properties));
      layer.bindTooltip(feature.properties.name, { permanent: true, direction: 'center', className: 'unit-label' });
    },
  });
}

function blocksLayer(data) {
  return L.geoJSON(data, {
    style: (feature) => ({
      className: 'layer-blocks',
      color: STAGE_COLOURS[feature.properties.stage] || '#333',
      weight: 3,
      fillOpacity: 0.05,
    }),
    onEachFeature: (feature, layer) => layer.bindPopup(blockPopup(feature.properties)),
  });
}

function parcelsLayer(data) {
  return L.geoJSON(data, {
    style: (feature) => ({
      className: 'layer-parcels',
      color: '#3e4c59',
      weight: 0.6,
      fillColor: CLASSIFICATION_COLOURS[feature.properties.classification] || UNCLASSIFIED_COLOUR,
      fillOpacity: 0.65,
    }),
    onEachFeature: (feature, layer) => layer.bindPopup(parcelPopup(feature.properties)),
  });
}

async function main() {
  const map = L.map('map', { preferCanvas: false }).setView(INITIAL_VIEW.center, INITIAL_VIEW.zoom);
  L.control.scale({ imperial: false }).addTo(map);
  buildLegend().addTo(map);

  const config = await fetchJson('/api/config');
  const baseLayers = {};
  if (config.basemap_url) {
    baseLayers['底图'] = L.tileLayer(config.basemap_url, {
      attribution: config.basemap_attribution || '',
      maxZoom: 19,
    }).addTo(map);
  }

  const [units, blocks, parcels] = await Promise.all([
    fetchAll(`/api/units?limit=${PAGE_LIMIT}`),
    fetchAll(`/api/blocks?limit=${PAGE_LIMIT}`),
    fetchAll(`/api/parcels?limit=${PAGE_LIMIT}`),
  ]);
  const overlays = {
    '镇街边界（示意）': unitsLayer(units).addTo(map),
    '连片改造区块': blocksLayer(blocks).addTo(map),
    '宗地（按分类着色）': parcelsLayer(parcels).addTo(map),
  };
  L.control.layers(baseLayers, overlays, { collapsed: false, position: 'topright' }).addTo(map);

  const bounds = overlays['镇街边界（示意）'].getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });

  document.body.dataset.units = String(units.features.length);
  document.body.dataset.blocks = String(blocks.features.length);
  document.body.dataset.parcels = String(parcels.features.length);
  document.body.dataset.mapState = 'ready';
  setStatus(`镇街 ${units.features.length} 个 · 区块 ${blocks.features.length} 个 · 宗地 ${parcels.features.length} 宗`);
}

main().catch((error) => {
  document.body.dataset.mapState = 'error';
  setStatus(`加载失败：${error.message}`, true);
});
