// 数据上传: the upload screen for GIS staff, on the upload API (/api/uploads).
// Drag and drop (or choose) a file → progress bar → what was detected (encoding,
// CRS, layer) with decoded sample values to confirm → field mapping (each open field
// with the file's likely fields suggested; 重新检查 checks again on the server, from the
// file it keeps) → the per-feature report, offending features red on the map → what to
// do with owners the enterprise register does not know → commit, the result beside the
// button, and 在地图上查看 for what was imported.
//
// State for people and tests on <body data-*>: data-upload (uploading | staged | committed |
// failed), data-upload-revision (the report's revision), data-upload-problems, data-upload-shown.
/* global L */
import { api, ApiError, escapeHtml, num as formatNumber, csrfToken, loginUrl } from '../common/api.js';
import { C } from '../common/strings.js';
import { T } from './strings.js';
import { route } from './nav.js';

const U = T.upload;
const SEVERITY_STYLE = {
  error: { color: '#b71c1c', fillColor: '#e53935', weight: 3, fillOpacity: 0.45 },
  warning: { color: '#8d6e00', fillColor: '#fbc02d', weight: 2, fillOpacity: 0.35 },
  ok: { color: '#1b5e20', fillColor: '#43a047', weight: 1.5, fillOpacity: 0.3 },
};
const IMPORTED_STYLE = { color: '#ffd400', weight: 4, fill: true, fillColor: '#ffd400', fillOpacity: 0.15, className: 'upload-imported' };
const COMMON_CRS = [
  ['EPSG:4549', 'CGCS2000 3 度带 CM120E（EPSG:4549）'],
  ['EPSG:4528', 'CGCS2000 3 度带 40 带带号（EPSG:4528）'],
  ['EPSG:4490', 'CGCS2000 经纬度（EPSG:4490）'],
  ['EPSG:4326', 'WGS 84 经纬度（EPSG:4326）'],
];
const ENCODINGS = [['gbk', 'GBK'], ['utf-8', 'UTF-8'], ['gb18030', 'GB18030']];
const POLL_MS = 400;
const PREVIEW = '?limit=100000';
const OWNER_FEATURES_SHOWN = 5;
const REFUSALS_SHOWN = 20;

const option = (value, label, selected) => `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;

/** How a suggested field came about, in words (the known name it resembles shown as people write it). */
function suggestionText(s) {
  if (s.score >= 1) return `${s.source}${U.suggestionSame}`;
  const like = s.kind === 'close' ? s.like : s.like.toUpperCase();
  return `${s.source}${U.suggestionLike(U.suggestionKinds[s.kind] || '', like)}`;
}

export class UploadScreen {
  /** @param {object} options  onCommitted(): the map redraws its layers with the new features */
  constructor(host, map, options = {}) {
    this.host = host;
    this.map = map;
    this.options = options;
    this.layer = L.featureGroup();
    this.imported = L.featureGroup();
    this.file = null;
    this.upload = null;
    this.etag = null;
    this.overrides = {};
    this.render();
  }

  show() {
    this.imported.remove();
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
        <select name="target"><option value="parcels">${U.kinds.parcels}</option><option value="blocks">${U.kinds.blocks}</option><option value="parks">${U.kinds.parks}</option></select></label>
      <div class="dropzone" tabindex="-1">
        <p>${escapeHtml(U.drop)} <label class="button secondary" for="upload-file">${escapeHtml(U.choose)}</label></p>
        <input id="upload-file" type="file" class="sr-only" accept=".zip,.gpkg,.geojson,.json,.csv" aria-label="${escapeHtml(U.fileLabel)}">
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
    a.href = loginUrl('/#/upload');
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
    this.imported.clearLayers();
    document.body.dataset.upload = 'uploading';
    const form = new FormData();
    form.append('target', this.host.querySelector('select[name=target]').value);
    for (const [k, v] of Object.entries(this.overrides)) {
      if (v !== null && v !== undefined && v !== '') form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    form.append('file', this.file, this.file.name);
    try {
      const created = await this.post(form);
      const report = created.status === 'staging' ? await this.poll(created.id) : await this.load(created.id);
      this.progress(null);
      this.showReport(report);
    } catch (err) {
      this.progress(null);
      document.body.dataset.upload = 'failed';
      this.message(U.failed(err.message));
      if (err.status === 401) this.loginLink();
      else this.offerRecovery(err.body);
      if (!(err instanceof ApiError)) throw err;
    }
  }

  /**
   * A file refused before any report because the service cannot tell which layer, which encoding or
   * which coordinate system to read: the choice right under the message, and the same file read again.
   */
  offerRecovery(body) {
    const ask = {
      layer_required: 'layer', layer_unknown: 'layer', encoding_undetected: 'encoding',
      encoding_mismatch: 'encoding', crs_required: 'crs',
    }[body?.code];
    if (!ask || !this.file) return;
    const layers = (body.errors || []).find((e) => e.field === 'layer')?.choices || [];
    const choices = { layer: layers.map((l) => [l, l]), encoding: ENCODINGS, crs: COMMON_CRS }[ask];
    if (!choices.length) return;
    const label = { layer: U.layer, encoding: U.encoding, crs: U.crs }[ask];
    const box = this.host.querySelector('.upload-result');
    box.innerHTML = `<form class="recover" data-testid="upload-recover">
        <label class="field">${escapeHtml(U.recoverHint)}${escapeHtml(label)}
          <select name="${ask}">${choices.map(([v, l], i) => option(v, l, i === 0)).join('')}</select></label>
        <button type="submit">${escapeHtml(U.recover)}</button>
      </form>`;
    const form = box.querySelector('form');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.overrides = { ...this.overrides, [ask]: form.elements[ask].value };
      this.send();
    });
    form.elements[ask].focus();
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
      xhr.onerror = () => reject(new ApiError(C.networkError, 0, null));
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else if (xhr.status === 401) reject(new ApiError(U.loginFirst, 401, body));
        else if (xhr.status === 404) reject(new ApiError(U.unavailable, 404, body));
        else reject(new ApiError(body?.detail || U.failed(''), xhr.status, body));
      };
      this.progress(0, U.uploading(0));
      xhr.send(form);
    });
  }

  /** The report with the staged features; its ETag (the revision) goes back with 重新检查 and 确认入库. */
  async load(id) {
    const { data, etag } = await api(`/api/uploads/${id}${PREVIEW}`, { quiet401: true });
    this.etag = etag;
    return data;
  }

  async poll(id) {
    for (;;) {
      const report = await this.load(id);
      if (report.status === 'failed') {
        const refusal = report.outcome?.error;
        throw new ApiError(refusal?.detail || U.failed(''), 400, refusal || report);
      }
      if (report.status !== 'staging') return report;
      const p = report.progress;
      if (p && p.total) this.progress((p.done / p.total) * 100, `${U.processing} ${p.done}/${p.total}`);
      await new Promise((r) => { setTimeout(r, POLL_MS); });
    }
  }

  // ---- the report ------------------------------------------------------------------------

  /** The source field each model field's select starts on: the mapping, else the best suggestion not taken. */
  startingMapping(r) {
    const chosen = { ...(r.mapping || {}) };
    const taken = new Set(Object.values(chosen));
    for (const m of r.mapping_fields || []) {
      if (chosen[m.field]) continue;
      const s = (m.suggestions || []).find((x) => !taken.has(x.source));
      if (s) { chosen[m.field] = s.source; taken.add(s.source); }
    }
    return chosen;
  }

  mappingRows(r, start) {
    const fields = r.fields || [];
    const missing = new Set(r.mapping_missing || []);
    return (r.mapping_fields || []).map((m) => {
      const id = `map-${m.field}`;
      const hints = (m.suggestions || []).map(suggestionText).join('、');
      const isMissing = missing.has(m.field);
      return `<tr data-field="${escapeHtml(m.field)}" class="${isMissing ? 'missing' : ''}">
        <td><label for="${id}">${escapeHtml(m.label)}${m.required ? `<span class="required">${escapeHtml(U.required)}</span>` : ''}</label></td>
        <td><select id="${id}" data-field="${escapeHtml(m.field)}"${isMissing ? ' aria-invalid="true"' : ''} aria-describedby="${id}-hint">
            ${option('', U.notMapped, !start[m.field])}${fields.map((f) => option(f, f, start[m.field] === f)).join('')}</select>
          <small class="map-hint" id="${id}-hint">${isMissing ? `<span class="missing-note">${escapeHtml(U.missingRequired)}</span> ` : ''}${hints ? escapeHtml(U.suggestion + hints) : ''}<span class="pending-note"></span></small></td></tr>`;
    }).join('');
  }

  /** Rows whose select differs from the mapping the report was made with say so. */
  markPending() {
    const box = this.host.querySelector('.upload-result');
    const mapping = this.upload?.mapping || {};
    let pending = 0;
    box.querySelectorAll('select[data-field]').forEach((s) => {
      const differs = (s.value || '') !== (mapping[s.dataset.field] || '');
      const note = document.getElementById(`${s.id}-hint`).querySelector('.pending-note');
      const row = s.closest('tr');
      row.classList.toggle('pending', differs);
      note.textContent = differs ? ` ${row.dataset.suggested === s.value ? U.preselected : U.pending}` : '';
      if (differs) pending += 1;
    });
    box.querySelector('.recheck').classList.toggle('primary', pending > 0);
    return pending;
  }

  ownersSection(r) {
    const o = r.unknown_owners;
    if (!o) return '';
    const items = o.names.map((n) => {
      const shown = n.features.slice(0, OWNER_FEATURES_SHOWN)
        .map((f) => `<button type="button" class="link" data-feature="${f}">${escapeHtml(U.feature)} ${f}</button>`).join('、');
      const more = n.count > OWNER_FEATURES_SHOWN ? ` ${escapeHtml(U.ownerMoreFeatures(n.count))}` : '';
      return `<li><strong>${escapeHtml(n.name)}</strong> <small>${escapeHtml(U.ownerFeatures(n.count))}${shown}${more}</small></li>`;
    }).join('');
    const unlisted = o.count - o.names.length;
    return `
      <section class="owners" aria-labelledby="owners-title" data-testid="unknown-owners">
        <h3 id="owners-title">${escapeHtml(U.owners)}</h3>
        <p class="owners-summary">${escapeHtml(U.ownersSummary(o.count, o.features))}</p>
        <ul class="owner-list">${items}</ul>
        ${unlisted > 0 ? `<p class="hint">${escapeHtml(U.ownersMore(unlisted))}</p>` : ''}
        <fieldset class="owner-choice"${r.status === 'staged' ? '' : ' disabled'}>
          <legend>${escapeHtml(U.ownersChoice)}</legend>
          <label class="check"><input type="radio" name="unknown_owners" value="register"> ${escapeHtml(U.ownersRegister)}</label>
          <label class="check"><input type="radio" name="unknown_owners" value="none"> ${escapeHtml(U.ownersNone)}</label>
        </fieldset>
      </section>`;
  }

  showReport(r, { focus = null } = {}) {
    this.upload = r;
    this.preview = r.features || { type: 'FeatureCollection', features: [] };
    const box = this.host.querySelector('.upload-result');
    const counts = r.counts || {};
    const sampleFields = r.fields || [];
    const samples = r.encoding?.samples || [];
    const crsChoices = COMMON_CRS.some(([v]) => v === `EPSG:${r.crs?.epsg}`) ? COMMON_CRS : [[`EPSG:${r.crs?.epsg}`, `EPSG:${r.crs?.epsg}`], ...COMMON_CRS];
    // 字段未对应 is on every feature: said once, above the list, not once per feature.
    // 与库中相同 (unchanged) is counted in the verdict, not listed feature by feature.
    const problems = (r.problems || []).filter((p) => p.code !== 'field_unmapped' && p.code !== 'unchanged');
    const unchanged = counts.unchanged || 0;
    const problemsByFeature = new Map();
    for (const p of problems) {
      if (!problemsByFeature.has(p.feature)) problemsByFeature.set(p.feature, []);
      problemsByFeature.get(p.feature).push(p);
    }
    const errorFeatures = new Set((r.problems || []).filter((p) => p.severity === 'error').map((p) => p.feature));
    const warningFeatures = new Set(problems.filter((p) => p.severity !== 'error' && !errorFeatures.has(p.feature)).map((p) => p.feature));
    const bad = errorFeatures.size + warningFeatures.size;
    const labels = Object.fromEntries((r.mapping_fields || []).map((m) => [m.field, m.label]));
    const missing = (r.mapping_missing || []).map((f) => labels[f] || f);
    const start = this.startingMapping(r);
    const staged = r.status === 'staged';
    const geometry = U.geometryTypes[r.geometry_type] || U.geometryTypes.Unknown;
    box.innerHTML = `
      <h3>${escapeHtml(U.detected)}</h3>
      ${fileNotes(r).map((n) => `<p class="hint file-note" data-testid="file-note">${escapeHtml(n.message)}</p>`).join('')}
      <table class="info">
        <tr><th scope="row">${U.layer}</th><td>${(r.layers || []).length > 1
          ? `<select name="layer" aria-label="${U.layer}">${r.layers.map((l) => option(l, l, l === r.layer)).join('')}</select>`
          : escapeHtml(r.layer)}（${escapeHtml(U.formats[r.format] || '')}，${escapeHtml(geometry)}）</td></tr>
        <tr><th scope="row">${U.encoding}</th><td><select name="encoding" aria-label="${U.encoding}">${ENCODINGS.map(([v, l]) => option(v, l, v === (r.encoding?.name || '').toLowerCase())).join('')}</select>
          <small>${escapeHtml(U.encodingSources[r.encoding?.source] || '')}</small></td></tr>
        <tr><th scope="row">${U.crs}</th><td><select name="crs" aria-label="${U.crs}">${crsChoices.map(([v, l]) => option(v, l, v === `EPSG:${r.crs?.epsg}`)).join('')}</select>
          <br><small>${escapeHtml(r.crs?.explanation_zh || '')}</small>
          ${r.crs?.needs_confirmation ? `<br><label class="check"><input type="checkbox" name="confirm_crs"> ${escapeHtml(U.confirmCrs(r.crs.epsg))}</label>` : ''}</td></tr>
        <tr><th scope="row">${U.features}</th><td>${escapeHtml(U.featureCount(counts.features, formatNumber(counts.area_mu)))}</td></tr>
      </table>
      <h4 class="hint">${escapeHtml(U.samples)}</h4>
      <div class="samples"><table class="list" data-testid="samples"><thead><tr>${sampleFields.map((f) => `<th>${escapeHtml(f)}</th>`).join('')}</tr></thead>
        <tbody>${samples.map((s) => `<tr>${sampleFields.map((f) => `<td>${escapeHtml(s[f])}</td>`).join('')}</tr>`).join('')}</tbody></table></div>
      <h3 id="mapping-title">${escapeHtml(U.mapping)}</h3>
      ${missing.length ? `<p class="missing-banner" role="alert" data-testid="field-unmapped">${escapeHtml(U.missingBanner(missing.join('”“')))}</p>` : ''}
      <p class="hint">${escapeHtml(U.mappingHint)}</p>
      <table class="list mapping" aria-labelledby="mapping-title"><thead><tr><th>${U.mappingTarget}</th><th>${U.mappingSource}</th></tr></thead>
        <tbody>${this.mappingRows(r, start)}</tbody></table>
      <div class="recheck-bar">
        <button type="button" class="secondary recheck"${staged ? '' : ' disabled'}>${escapeHtml(U.recheck)}</button>
        <div class="recheck-result"></div>
      </div>
      <h3>${escapeHtml(U.report)}</h3>
      <p class="verdict ${errorFeatures.size ? 'bad' : 'ok'}" data-testid="upload-verdict" tabindex="-1">${escapeHtml(bad ? U.reportBad(counts.features, errorFeatures.size, warningFeatures.size) : U.reportOk(counts.features))}</p>
      ${unchanged ? `<p class="hint" data-testid="upload-unchanged">${escapeHtml(U.reportUnchanged(unchanged, counts.features))}</p>` : ''}
      <ul class="report-list">${[...problemsByFeature].map(([f, ps]) => `<li class="${errorFeatures.has(f) ? 'bad' : 'warn'}" data-feature="${f}"><button type="button" class="link" data-feature="${f}">${escapeHtml(U.feature)} ${f}${ps[0].feature_code ? `（${escapeHtml(ps[0].feature_code)}）` : ''}</button>
        <ul>${ps.map((p) => `<li class="${p.severity === 'error' ? 'error' : 'warning'}">${p.field ? `［${escapeHtml(p.field)}］` : ''}${escapeHtml(p.message)}</li>`).join('')}</ul></li>`).join('')}</ul>
      ${this.ownersSection(r)}
      ${r.needs_repair_acceptance ? `<label class="check"><input type="checkbox" name="accept_repairs"> ${escapeHtml(U.acceptRepairs)}</label>` : ''}
      ${counts.existing > unchanged ? `<label class="field">${escapeHtml(U.existing(counts.existing - unchanged))} <select name="on_existing">${option('keep', U.keepExisting, true)}${option('replace', U.replaceExisting, false)}</select></label>` : ''}
      <div class="upload-actions">
        <button type="button" class="commit primary"${staged && (r.can_commit || r.needs_repair_acceptance) ? '' : ' disabled'}>${escapeHtml(U.commit)}</button>
        <button type="button" class="secondary restart">${escapeHtml(U.cancel)}</button>
      </div>
      <div class="commit-result"></div>`;
    box.querySelectorAll('select[data-field]').forEach((s) => {
      if (s.value && s.value !== (r.mapping?.[s.dataset.field] || '')) s.closest('tr').dataset.suggested = s.value;
      s.addEventListener('change', () => this.markPending());
    });
    this.markPending();
    this.drawFeatures(r);
    box.querySelector('.recheck').addEventListener('click', () => this.recheck());
    box.querySelector('.restart').addEventListener('click', () => { this.layer.clearLayers(); this.imported.clearLayers(); this.render(); });
    box.querySelector('.commit').addEventListener('click', () => this.commit());
    box.querySelectorAll('button[data-feature]').forEach((b) => b.addEventListener('click', () => this.focusFeature(Number(b.dataset.feature))));
    // A choice made clears the reminder to make one.
    box.querySelectorAll('input[name=unknown_owners]').forEach((i) => i.addEventListener('change', () => {
      box.querySelector('.commit-result').innerHTML = '';
    }));
    document.body.dataset.upload = r.status;
    document.body.dataset.uploadRevision = String(r.revision ?? 0);
    document.body.dataset.uploadProblems = String(problemsByFeature.size);
    if (focus === 'verdict') box.querySelector('.verdict').focus({ preventScroll: false });
    // 字段未对应: what to do is in the field mapping, further down the panel; show it.
    else if (missing.length) box.querySelector('#mapping-title').scrollIntoView({ block: 'start' });
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
    if (b.isValid()) this.map.fitBounds(b, { paddingTopLeft: [this.panelWidth(), 60], paddingBottomRight: [60, 60], maxZoom: 17, animate: false });
  }

  /** Room the panel over the map takes on the left (none at phone size, where it covers the map). */
  panelWidth() {
    return window.innerWidth > 860 ? 560 : 20;
  }

  focusFeature(n) {
    const layer = this.featureLayers?.get(n);
    if (!layer) return;
    this.map.fitBounds(layer.getBounds(), { paddingTopLeft: [this.panelWidth(), 80], paddingBottomRight: [80, 80], maxZoom: 18, animate: false });
    // At the box centre: Leaflet's polygon centroid divides by the signed area, which is
    // zero for the self-crossing 'bow ties' this screen exists to show.
    layer.openPopup(layer.getBounds().getCenter());
  }

  // ---- 重新检查 -----------------------------------------------------------------------------

  /** The mapping as the selects say: every model field, null where nothing is chosen. */
  chosenMapping() {
    const mapping = {};
    this.host.querySelectorAll('.upload-result select[data-field]').forEach((s) => { mapping[s.dataset.field] = s.value || null; });
    return mapping;
  }

  /**
   * Check again with the mapping chosen: on the server, from the file it keeps (PUT …/mapping).
   * A changed encoding, CRS or layer changes how the file is read: then it is sent again.
   */
  async recheck() {
    const box = this.host.querySelector('.upload-result');
    const r = this.upload;
    const mapping = this.chosenMapping();
    const layerSel = box.querySelector('select[name=layer]');
    const read = {
      encoding: box.querySelector('select[name=encoding]').value,
      crs: box.querySelector('select[name=crs]').value,
      layer: layerSel ? layerSel.value : '',
    };
    const reread = read.encoding !== (r.encoding?.name || '').toLowerCase() || read.crs !== `EPSG:${r.crs?.epsg}`
      || (layerSel && read.layer !== r.layer);
    if (reread) {
      this.overrides = { mapping, ...read };
      return this.send();
    }
    const btn = box.querySelector('.recheck');
    const result = box.querySelector('.recheck-result');
    btn.disabled = true;
    btn.textContent = U.rechecking;
    box.setAttribute('aria-busy', 'true');
    try {
      const { data, etag } = await api(`/api/uploads/${r.id}/mapping`, { method: 'PUT', body: { mapping }, etag: this.etag });
      this.etag = etag;
      box.removeAttribute('aria-busy');
      this.showReport(data, { focus: 'verdict' });
    } catch (err) {
      box.removeAttribute('aria-busy');
      if (err.body?.code === 'upload_source_lost' && this.file) {
        // The server no longer has the file (a database restart): this page still does.
        this.overrides = { mapping, ...read };
        return this.send();
      }
      btn.disabled = false;
      btn.textContent = U.recheck;
      if (err.status === 409 && (err.errors || []).some((e) => e.field === 'If-Match')) {
        this.showReport(await this.load(r.id));  // checked again elsewhere meanwhile: show that report
        box.querySelector('.recheck-result').innerHTML = `<p class="error" role="alert">${escapeHtml(U.staleReloaded)}</p>`;
        return null;
      }
      result.innerHTML = `<p class="error" role="alert">${escapeHtml(U.recheckFailed(err.message))}</p>`;
      if (!(err instanceof ApiError)) throw err;
    }
    return null;
  }

  // ---- 确认入库 -----------------------------------------------------------------------------

  /** The commit's answer (or refusal) right under its button, focused so that it is read out. */
  commitResult(html, kind) {
    const holder = this.host.querySelector('.commit-result');
    holder.innerHTML = `<div class="commit-${kind}" role="${kind === 'ok' ? 'status' : 'alert'}" tabindex="-1">${html}</div>`;
    const node = holder.firstElementChild;
    node.focus();
    return node;
  }

  async commit() {
    const box = this.host.querySelector('.upload-result');
    const btn = box.querySelector('.commit');
    const owners = box.querySelector('input[name=unknown_owners]:checked')?.value || null;
    if (this.upload.needs_owner_choice && !owners) {
      this.commitResult(`<p>${escapeHtml(U.ownersChooseFirst)}</p>`, 'bad');
      return;
    }
    btn.disabled = true;
    btn.textContent = U.committing;
    const options = {
      accept_repairs: Boolean(box.querySelector('input[name=accept_repairs]')?.checked),
      confirm_crs: Boolean(box.querySelector('input[name=confirm_crs]')?.checked),
      on_existing: box.querySelector('select[name=on_existing]')?.value || 'keep',
    };
    if (owners) options.unknown_owners = owners;
    try {
      const { data: r } = await api(`/api/uploads/${this.upload.id}/commit`, { method: 'POST', body: options, etag: this.etag });
      this.committed(r, options.on_existing);
      this.options.onCommitted?.();
    } catch (err) {
      btn.disabled = false;
      btn.textContent = U.commit;
      const errors = err.errors || [];
      const list = errors.slice(0, REFUSALS_SHOWN).map((e) => `<li>${e.feature ? escapeHtml(U.refusedFeature(e.feature)) : ''}${escapeHtml(e.message)}</li>`).join('');
      const more = errors.length > REFUSALS_SHOWN ? `<p class="hint">${escapeHtml(U.refusedMore(errors.length - REFUSALS_SHOWN))}</p>` : '';
      this.commitResult(`<p>${escapeHtml(U.refused(err.message))}</p>${list ? `<ul>${list}</ul>` : ''}${more}`, 'bad');
      if (err.status === 409 && errors.some((e) => e.field === 'If-Match')) {
        // Someone checked it again meanwhile (another tab): show the report as it is now.
        this.showReport(await this.load(this.upload.id));
        this.commitResult(`<p>${escapeHtml(U.staleReloaded)}</p>`, 'bad');
      }
      if (!(err instanceof ApiError)) throw err;
    }
  }

  /** Committed: the counts beside the button, the staged preview off the map, 在地图上查看 for what went in. */
  committed(r, onExisting) {
    this.upload = r;
    const box = this.host.querySelector('.upload-result');
    const o = r.outcome || {};
    document.body.dataset.upload = r.status;
    this.layer.clearLayers();
    const written = (this.preview?.features || []).filter((f) => !f.properties.existing
      || (onExisting === 'replace' && !f.properties.values?.unchanged));
    this.written = { type: 'FeatureCollection', features: written };
    const owners = o.owners || {};
    const lines = [U.committedDetail(o)];
    if (owners.registered) lines.push(U.ownersRegistered(owners.registered));
    if (owners.without_owner) lines.push(U.ownersLeftOut(owners.without_owner));
    if (owners.linked_since_check) lines.push(U.ownersLinked(owners.linked_since_check));
    const node = this.commitResult(`<p>${lines.map(escapeHtml).join('<br>')}</p>
      ${written.length || o.bbox ? `<p><button type="button" class="link show-on-map">${escapeHtml(U.showOnMap)}</button></p>` : ''}`, 'ok');
    node.querySelector('.show-on-map')?.addEventListener('click', () => this.showOnMap());
    const btn = box.querySelector('.commit');
    btn.disabled = true;
    btn.textContent = U.committedButton;
    box.querySelector('.recheck').disabled = true;
    box.querySelector('.restart').textContent = U.next;
    box.querySelectorAll('select[data-field], input[name=unknown_owners], input[name=accept_repairs], input[name=confirm_crs], select[name=on_existing]')
      .forEach((el) => { el.disabled = true; });
  }

  /** The map view, fitted to what this upload wrote, outlined in yellow above the redrawn layers. */
  showOnMap() {
    route('map');
    this.imported.clearLayers();
    const geo = L.geoJSON(this.written, { style: () => IMPORTED_STYLE, interactive: false }).addTo(this.imported);
    this.imported.addTo(this.map);
    let bounds = geo.getBounds();
    const bbox = this.upload?.outcome?.bbox;
    if (!bounds.isValid() && bbox) bounds = L.latLngBounds([bbox[1], bbox[0]], [bbox[3], bbox[2]]);
    const wide = window.innerWidth > 860;
    if (bounds.isValid()) {
      this.map.fitBounds(bounds, { paddingTopLeft: [wide ? 300 : 20, 40], paddingBottomRight: [40, 40], maxZoom: 17, animate: false });
    }
    document.body.dataset.uploadShown = String(this.written.features.length);
    const status = document.getElementById('status');
    if (status) status.textContent = U.shownOnMap(this.written.features.length);
    this.map.getContainer().focus({ preventScroll: true });
  }
}

/** The file-level notices shown above the details (which layer was taken, what was left out); owners have their own section. */
function fileNotes(r) {
  return (r.notes || []).filter((n) => n.code !== 'enterprise_unknown' && n.message);
}
