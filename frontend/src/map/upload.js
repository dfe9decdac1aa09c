// 数据上传: the upload screen for GIS staff, on the upload API (/api/uploads).
// Drag and drop (or choose) a file → progress bar → what was detected (encoding,
// CRS, layer) with decoded sample values to confirm → field mapping → the
// per-feature report, offending features red on the map → commit.
/* global L */
import { api, fetchJson, ApiError, escapeHtml, num as formatNumber, csrfToken } from '../common/api.js';
import { T } from './strings.js';

const U = T.upload;
const SEVERITY_STYLE = {
  error: { color: '#b71c1c', fillColor: '#e53935', weight: 3, fillOpacity: 0.45 },
  warning: { color: '#8d6e00', fillColor: '#fbc02d', weight: 2, fillOpacity: 0.35 },
  ok: { color: '#1b5e20', fillColor: '#43a047', weight: 1.5, fillOpacity: 0.3 },
};
const COMMON_CRS = [
  ['EPSG:4549', 'CGCS2000 3 度带 CM120E（EPSG:4549）'],
  ['EPSG:4528', 'CGCS2000 3 度带 40 带带号（EPSG:4528）'],
  ['EPSG:4490', 'CGCS2000 经纬度（EPSG:4490）'],
  ['EPSG:4326', 'WGS 84 经纬度（EPSG:4326）'],
];
const ENCODINGS = [['gbk', 'GBK'], ['utf-8', 'UTF-8'], ['gb18030', 'GB18030']];
const POLL_MS = 400;

export class UploadScreen {
  /** @param {object} options  onCommitted(): the map redraws its layers with the new features */
  constructor(host, map, options = {}) {
    this.host = host;
    this.map = map;
    this.options = options;
    this.layer = L.featureGroup();
    this.file = null;
    this.upload = null;
    this.overrides = {};
    this.render();
  }

  show() {
    this.layer.addTo(this.map);
  }

  hide() {
    this.layer.remove();
  }

  render() {
    this.host.innerHTML = `
      <h2>${escapeHtml(U.title)}</h2>
      <p class="hint">${escapeHtml(U.intro)}</p>
      <label class="field">${escapeHtml(U.kindLabel)}
        <select name="target"><option value="parcels">${U.kinds.parcels}</option><option value="blocks">${U.kinds.blocks}</option></select></label>
      <div class="dropzone" tabindex="-1">
        <p>${escapeHtml(U.drop)} <label class="button secondary" for="upload-file">${escapeHtml(U.choose)}</label></p>
        <input id="upload-file" type="file" class="sr-only" accept=".zip,.gpkg,.geojson,.json" aria-label="${escapeHtml(U.fileLabel)}">
      </div>
      <div class="upload-progress" hidden>
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" aria-label="${escapeHtml(U.uploading(0))}"><div></div></div>
        <p class="progress-text hint" aria-live="polite"></p>
      </div>
      <p class="message" role="alert" hidden></p>
      <div class="upload-result"></div>`;
    const input = this.host.querySelector('#upload-file');
    const zone = this.host.querySelector('.dropzone');
    input.addEventListener('change', () => { if (input.files[0]) this.start(input.files[0]); });
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      if (e.dataTransfer.files[0]) this.start(e.dataTransfer.files[0]);
    });
  }

  message(text, kind = 'bad') {
    const m = this.host.querySelector('.message');
    m.hidden = !text;
    m.textContent = text || '';
    m.className = `message ${kind}`;
  }

  /** Uploads need a GIS staff login: link to the login page, which comes back here. */
  loginLink() {
    const m = this.host.querySelector('.message');
    const a = document.createElement('a');
    a.href = `/login?next=${encodeURIComponent('/#/upload')}`;
    a.textContent = ` ${U.login}`;
    m.append(a);
  }

  progress(pct, text) {
    const box = this.host.querySelector('.upload-progress');
    box.hidden = pct === null;
    if (pct === null) return;
    const bar = box.querySelector('.progress');
    bar.setAttribute('aria-valuenow', String(Math.round(pct)));
    bar.firstElementChild.style.width = `${pct}%`;
    box.querySelector('.progress-text').textContent = text;
  }

  /** A new file: forget overrides and stage it. */
  start(file) {
    this.file = file;
    this.overrides = {};
    return this.send();
  }

  /** POST the file (with any overrides), following the upload and the staging progress. */
  async send() {
    this.message('');
    this.host.querySelector('.upload-result').innerHTML = '';
    this.layer.clearLayers();
    document.body.dataset.upload = 'uploading';
    const form = new FormData();
    form.append('target', this.host.querySelector('select[name=target]').value);
    for (const [k, v] of Object.entries(this.overrides)) {
      if (v !== null && v !== undefined && v !== '') form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    form.append('file', this.file, this.file.name);
    try {
      const created = await this.post(form);
      const report = created.status === 'staging' ? await this.poll(created.id) : await fetchJson(`/api/uploads/${created.id}?limit=100000`);
      this.progress(null);
      this.showReport(report);
    } catch (err) {
      this.progress(null);
      document.body.dataset.upload = 'failed';
      this.message(U.failed(err.message));
      if (err.status === 401) this.loginLink();
      if (!(err instanceof ApiError)) throw err;
    }
  }

  post(form) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/uploads');
      // Staged in the background: the answer is 202 and poll() follows the checking progress.
      xhr.setRequestHeader('Prefer', 'respond-async');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('X-CSRF-Token', csrfToken());
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.round((e.loaded / e.total) * 100);
        this.progress(pct, pct < 100 ? U.uploading(pct) : U.processing);
      };
      xhr.onerror = () => reject(new ApiError(T.networkError, 0, null));
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else if (xhr.status === 401) reject(new ApiError(U.loginFirst, 401, body));
        else if (xhr.status === 404) reject(new ApiError(U.unavailable, 404, body));
        else reject(new ApiError(body?.detail || `HTTP ${xhr.status}`, xhr.status, body));
      };
      this.progress(0, U.uploading(0));
      xhr.send(form);
    });
  }

  async poll(id) {
    for (;;) {
      const report = await fetchJson(`/api/uploads/${id}?limit=100000`);
      if (report.status === 'failed') throw new ApiError(report.outcome?.error?.detail || U.failed(''), 400, report);
      if (report.status !== 'staging') return report;
      const p = report.progress;
      if (p && p.total) this.progress((p.done / p.total) * 100, `${U.processing} ${p.done}/${p.total}`);
      await new Promise((r) => { setTimeout(r, POLL_MS); });
    }
  }

  showReport(r) {
    this.upload = r;
    const box = this.host.querySelector('.upload-result');
    const counts = r.counts || {};
    const bad = (counts.errors || 0) + (counts.warnings || 0);
    const sampleFields = r.fields || [];
    const samples = r.encoding?.samples || [];
    const option = (value, label, selected) => `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
    const crsChoices = COMMON_CRS.some(([v]) => v === `EPSG:${r.crs?.epsg}`) ? COMMON_CRS : [[`EPSG:${r.crs?.epsg}`, r.crs?.name || `EPSG:${r.crs?.epsg}`], ...COMMON_CRS];
    const problemsByFeature = new Map();
    for (const p of r.problems || []) {
      if (!problemsByFeature.has(p.feature)) problemsByFeature.set(p.feature, []);
      problemsByFeature.get(p.feature).push(p);
    }
    const errorFeatures = new Set((r.problems || []).filter((p) => p.severity === 'error').map((p) => p.feature));
    const warningFeatures = new Set((r.problems || []).filter((p) => p.severity !== 'error' && !errorFeatures.has(p.feature)).map((p) => p.feature));
    box.innerHTML = `
      <h3>${escapeHtml(U.detected)}</h3>
      <table class="info">
        <tr><th scope="row">${U.layer}</th><td>${(r.layers || []).length > 1
          ? `<select name="layer" aria-label="${U.layer}">${r.layers.map((l) => option(l, l, l === r.layer)).join('')}</select>`
          : escapeHtml(r.layer)}（${escapeHtml(r.format)}，${escapeHtml(r.geometry_type || '')}）</td></tr>
        <tr><th scope="row">${U.encoding}</th><td><select name="encoding" aria-label="${U.encoding}">${ENCODINGS.map(([v, l]) => option(v, l, v === (r.encoding?.name || '').toLowerCase())).join('')}</select>
          <small>${escapeHtml(r.encoding?.source || '')}</small></td></tr>
        <tr><th scope="row">${U.crs}</th><td><select name="crs" aria-label="${U.crs}">${crsChoices.map(([v, l]) => option(v, l, v === `EPSG:${r.crs?.epsg}`)).join('')}</select>
          <br><small>${escapeHtml(r.crs?.explanation_zh || '')}</small>
          ${r.crs?.needs_confirmation ? `<br><label class="check"><input type="checkbox" name="confirm_crs"> 确认坐标系为 EPSG:${escapeHtml(r.crs.epsg)}</label>` : ''}</td></tr>
        <tr><th scope="row">${U.features}</th><td>${escapeHtml(counts.features)}（${formatNumber(counts.area_mu)} 亩）</td></tr>
      </table>
      <h4 class="hint">${escapeHtml(U.samples)}</h4>
      <div class="samples"><table class="list" data-testid="samples"><thead><tr>${sampleFields.map((f) => `<th>${escapeHtml(f)}</th>`).join('')}</tr></thead>
        <tbody>${samples.map((s) => `<tr>${sampleFields.map((f) => `<td>${escapeHtml(s[f])}</td>`).join('')}</tr>`).join('')}</tbody></table></div>
      <h3>${escapeHtml(U.mapping)}</h3>
      <table class="list mapping"><thead><tr><th>${U.mappingTarget}</th><th>${U.mappingSource}</th></tr></thead><tbody>
        ${(r.mapping_fields || []).map((m) => `<tr><td><label for="map-${m.field}">${escapeHtml(m.label)}${m.required ? ' *' : ''}</label></td>
          <td><select id="map-${m.field}" data-field="${m.field}">${option('', U.notMapped, !r.mapping?.[m.field])}${sampleFields.map((f) => option(f, f, r.mapping?.[m.field] === f)).join('')}</select></td></tr>`).join('')}
      </tbody></table>
      <p><button type="button" class="secondary recheck">${escapeHtml(U.recheck)}</button></p>
      <h3>${escapeHtml(U.report)}</h3>
      <p class="verdict ${errorFeatures.size ? 'bad' : 'ok'}" data-testid="upload-verdict">${escapeHtml(bad ? U.reportBad(counts.features, errorFeatures.size, warningFeatures.size) : U.reportOk(counts.features))}</p>
      <ul class="report-list">${[...problemsByFeature].map(([f, ps]) => `<li class="${errorFeatures.has(f) ? 'bad' : 'warn'}" data-feature="${f}"><button type="button" class="link" data-feature="${f}">${escapeHtml(U.feature)} ${f}${ps[0].feature_code ? `（${escapeHtml(ps[0].feature_code)}）` : ''}</button>
        <ul>${ps.map((p) => `<li class="${p.severity === 'warning' ? 'warning' : 'error'}">${p.field ? `[${escapeHtml(p.field)}] ` : ''}${escapeHtml(p.message)}</li>`).join('')}</ul></li>`).join('')}</ul>
      ${r.needs_repair_acceptance ? '<label class="check"><input type="checkbox" name="accept_repairs"> 接受系统对无效几何的修复结果</label>' : ''}
      ${counts.existing ? `<label class="field">编号已存在的 ${counts.existing} 个要素 <select name="on_existing"><option value="keep">保留库中原有要素</option><option value="replace">用文件中的替换（原要素存入历史）</option></select></label>` : ''}
      <div class="upload-actions">
        <button type="button" class="commit"${r.status === 'staged' && (r.can_commit || r.needs_repair_acceptance) ? '' : ' disabled'}>${escapeHtml(U.commit)}</button>
        <button type="button" class="secondary restart">${escapeHtml(U.cancel)}</button>
      </div>`;
    this.drawFeatures(r);
    box.querySelector('.recheck').addEventListener('click', () => this.recheck());
    box.querySelector('.restart').addEventListener('click', () => { this.layer.clearLayers(); this.render(); });
    box.querySelector('.commit').addEventListener('click', () => this.commit());
    box.querySelectorAll('button[data-feature]').forEach((b) => b.addEventListener('click', () => this.focusFeature(Number(b.dataset.feature))));
    document.body.dataset.upload = r.status;
    document.body.dataset.uploadProblems = String(problemsByFeature.size);
  }

  drawFeatures(r) {
    this.layer.clearLayers();
    this.featureLayers = new Map();
    const fc = r.features || { type: 'FeatureCollection', features: [] };
    const geo = L.geoJSON(fc, {
      style: (f) => ({ ...SEVERITY_STYLE[f.properties.severity] || SEVERITY_STYLE.ok, className: `upload-feature upload-${f.properties.severity}` }),
      onEachFeature: (f, layer) => {
        this.featureLayers.set(f.properties.feature, layer);
        const problems = (f.properties.problems || []).map((p) => `<li>${escapeHtml(p.message)}</li>`).join('');
        const row = f.properties.source || {};
        // in the file's field order (the stored JSON object keeps its own order)
        const names = (r.fields || []).filter((k) => k in row).concat(Object.keys(row).filter((k) => !(r.fields || []).includes(k)));
        const source = names
          .map((k) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(row[k] === null ? '' : String(row[k]))}</td></tr>`).join('');
        const areaLabel = f.properties.repairable ? U.repairedArea : U.computedArea;
        const area = f.properties.area_mu === null ? '' : `<p>${escapeHtml(areaLabel)} ${Number(f.properties.area_mu).toFixed(2)} 亩</p>`;
        layer.bindPopup(`<div class="popup"><h3>${escapeHtml(U.feature)} ${f.properties.feature}${f.properties.code ? ` · ${escapeHtml(f.properties.code)}` : ''}</h3>${problems ? `<ul class="violations">${problems}</ul>` : ''}${area}${source ? `<table class="source-row"><caption>${escapeHtml(U.sourceRow)}</caption>${source}</table>` : ''}</div>`, { maxWidth: 360 });
      },
    }).addTo(this.layer);
    const b = geo.getBounds();
    // Clear of this panel on the left; no animation, so a click right after cannot race it.
    if (b.isValid()) this.map.fitBounds(b, { paddingTopLeft: [560, 60], paddingBottomRight: [60, 60], maxZoom: 17, animate: false });
  }

  focusFeature(n) {
    const layer = this.featureLayers?.get(n);
    if (!layer) return;
    this.map.fitBounds(layer.getBounds(), { paddingTopLeft: [560, 80], paddingBottomRight: [80, 80], maxZoom: 18, animate: false });
    // At the box centre: Leaflet's polygon centroid divides by the signed area, which is
    // zero for the self-crossing 'bow ties' this screen exists to show.
    layer.openPopup(layer.getBounds().getCenter());
  }

  recheck() {
    const box = this.host.querySelector('.upload-result');
    const mapping = {};
    box.querySelectorAll('select[data-field]').forEach((s) => { mapping[s.dataset.field] = s.value || null; });
    const layerSel = box.querySelector('select[name=layer]');
    this.overrides = {
      mapping,
      encoding: box.querySelector('select[name=encoding]').value,
      crs: box.querySelector('select[name=crs]').value,
      layer: layerSel ? layerSel.value : '',
    };
    return this.send();
  }

  async commit() {
    const box = this.host.querySelector('.upload-result');
    const btn = box.querySelector('.commit');
    btn.disabled = true;
    btn.textContent = U.committing;
    const options = {
      accept_repairs: Boolean(box.querySelector('input[name=accept_repairs]')?.checked),
      confirm_crs: Boolean(box.querySelector('input[name=confirm_crs]')?.checked),
      on_existing: box.querySelector('select[name=on_existing]')?.value || 'keep',
    };
    try {
      const { data: r } = await api(`/api/uploads/${this.upload.id}/commit`, { method: 'POST', body: options });
      document.body.dataset.upload = r.status;
      const written = r.outcome?.written ?? r.outcome?.inserted ?? r.counts?.features;
      this.message(U.committed(written), 'ok');
      this.options.onCommitted?.();
      btn.textContent = U.commit;
    } catch (err) {
      btn.disabled = false;
      btn.textContent = U.commit;
      this.message(U.failed(err.message));
      if (!(err instanceof ApiError)) throw err;
    }
  }
}
