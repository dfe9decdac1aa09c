// The block panel (right): outline on the map, 四至, area in 亩, FAR now and
// planned, enterprises with their classification, stage and review history, the
// plan's rule report, and exports.
/* global L */
import { fetchJson, ApiError, escapeHtml, num as formatNumber } from '../common/api.js';
import { T } from './strings.js';
import { fourSide, infoTable } from './format.js';
import { CLASSIFICATION_COLOURS, GRADE_COLOURS, GRADE_INK, STAGE_COLOURS } from './styles.js';
import * as admissionSection from './panel/admission.js';
import * as marketSection from './panel/market.js';
import * as tenantsSection from './panel/tenants.js';
import * as subsidiesSection from './panel/subsidies.js';

// The sections other features add below the enterprise list (项目准入, 转让与租赁, 扶持资金): each
// module's ``section(code, host)`` resolves to an element or null; a section that fails stays out.
const EXTRA_SECTIONS = [admissionSection, marketSection, tenantsSection, subsidiesSection];

export class BlockPanel {
  /** @param {HTMLElement} host  the <aside> that holds the panel */
  constructor(host, map, { onParcel } = {}) {
    this.host = host;
    this.map = map;
    this.onParcel = onParcel;
    this.outline = L.featureGroup().addTo(map);
    this.code = null;
    host.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.close(); });
  }

  close() {
    const opener = this.opener;
    this.opener = null;
    this.host.hidden = true;
    this.host.innerHTML = '';
    document.body.classList.remove('block-open');
    this.outline.clearLayers();
    this.code = null;
    document.body.dataset.block = '';
    if (opener?.isConnected) opener.focus();
  }

  /** ``opener``: what to give focus back to when the panel closes (the block's outline). */
  async open(code, { fly = true, opener = null } = {}) {
    this.code = code;
    this.opener = opener;
    // On a phone the panel is a sheet over the map: the layer drawer makes way for it.
    if (window.matchMedia('(max-width: 860px)').matches) document.body.classList.add('side-closed');
    this.host.hidden = false;
    document.body.classList.add('block-open');
    this.host.setAttribute('aria-busy', 'true');
    this.host.innerHTML = `<p class="loading">${escapeHtml(T.loading)}</p>`;
    let feature;
    let summary;
    try {
      [feature, summary] = await Promise.all([
        fetchJson(`/api/blocks/${encodeURIComponent(code)}`),
        fetchJson(`/api/map/blocks/${encodeURIComponent(code)}/summary`),
      ]);
    } catch (err) {
      this.host.innerHTML = `<p class="error" role="alert">${escapeHtml(T.loadFailed(err.message))}</p>`;
      this.host.removeAttribute('aria-busy');
      throw err;
    }
    if (this.code !== code) return;
    this.render(feature, summary);
    this.outline.clearLayers();
    const layer = L.geoJSON(feature, {
      style: { color: '#ffd400', weight: 5, opacity: 0.9, fill: false, className: 'block-selected' },
      interactive: false,
    }).addTo(this.outline);
    if (fly) {
      // Keep the block clear of the layer panel (left) and this panel (right); report the
      // block open once the flight has landed (or after 2 s, whichever comes first).
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.map.once('moveend', () => { clearTimeout(timer); resolve(); });
        const phone = window.matchMedia('(max-width: 860px)').matches;
        const padding = phone // the sheet covers the lower part of the map on a phone
          ? { paddingTopLeft: [20, 20], paddingBottomRight: [20, this.host.offsetHeight + 20] }
          : { paddingTopLeft: [300, 40], paddingBottomRight: [430, 40] };
        this.map.flyToBounds(layer.getBounds(), { ...padding, maxZoom: 17, duration: 0.6 });
      });
      if (this.code !== code) return;
    }
    this.host.removeAttribute('aria-busy');
    document.body.dataset.block = code;
    this.loadHistory(code);
    this.loadReport(code);
    this.loadExtras(code);
    this.host.querySelector('h2').focus();
  }

  render(feature, summary) {
    const p = feature.properties;
    const exportUrl = (params) => `/api/blocks/${encodeURIComponent(p.code)}/export?${params}`;
    const enterprises = summary.enterprises.map((e) => `
      <tr>
        <td>${escapeHtml(e.name)}<br><small>${escapeHtml(e.credit_code || T.codePending)}</small></td>
        <td>${e.classifications.map((c) => `<span class="tag" style="background:${CLASSIFICATION_COLOURS[c.code]}">${escapeHtml(c.label)}</span>`).join(' ')}</td>
        <td class="grade-cell">${e.evaluation_grade ? `<span class="tag grade-badge" data-grade="${escapeHtml(e.evaluation_grade)}" style="background:${GRADE_COLOURS[e.evaluation_grade]};color:${GRADE_INK[e.evaluation_grade]}" title="${escapeHtml(T.block.gradeTitle(e.evaluation_grade, e.evaluation_year))}">${escapeHtml(T.block.gradeOf(e.evaluation_grade, e.evaluation_year))}</span>` : escapeHtml(T.dash)}</td>
        <td class="num">${formatNumber(e.land_area_mu)}</td>
        <td class="num">${formatNumber(e.tax_per_mu)}</td>
      </tr>`).join('');
    this.host.innerHTML = `
      <header class="panel-head">
        <h2 tabindex="-1" id="block-title">${escapeHtml(p.name)}</h2>
        <button type="button" class="close" aria-label="${escapeHtml(T.block.close)}">×</button>
      </header>
      <p class="stage-line"><span class="tag" style="background:${STAGE_COLOURS[p.stage]}">${escapeHtml(p.stage_label)}</span>
        <span class="review">${escapeHtml(p.review_status_label)}${p.approval_doc_no ? `（${escapeHtml(p.approval_doc_no)}）` : ''}</span></p>
      ${infoTable([
        [T.block.code, p.code],
        [T.block.unit, p.unit_name],
        [T.block.year, p.designated_year ?? T.dash],
        [T.block.docNo, p.approval_doc_no || T.dash],
        [T.block.approvalDate, p.approval_date || T.dash],
        [T.block.area, `${formatNumber(p.area_mu)} ${T.block.mu}`],
        [T.block.farNow, formatNumber(summary.far_now)],
        [T.block.farPlanned, formatNumber(summary.far_planned)],
        [T.block.farPlannedRecord, formatNumber(p.planned_far)],
        [T.block.newFloor, p.planned_new_floor_area_m2 ? `${formatNumber(p.planned_new_floor_area_m2, 0)} ${T.block.m2}` : T.dash],
      ])}
      <section aria-labelledby="four-h"><h3 id="four-h">${escapeHtml(T.block.fourHeading)}</h3>
        <ul class="four" data-testid="four">
          <li>${escapeHtml(fourSide(T.block.four.east, p.four_east))}</li>
          <li>${escapeHtml(fourSide(T.block.four.south, p.four_south))}</li>
          <li>${escapeHtml(fourSide(T.block.four.west, p.four_west))}</li>
          <li>${escapeHtml(fourSide(T.block.four.north, p.four_north))}</li>
        </ul></section>
      <section aria-labelledby="ent-h"><h3 id="ent-h">${escapeHtml(T.block.enterprisesHeading(summary.enterprises.length))}</h3>
        ${summary.enterprises.length ? `<table class="list"><thead><tr><th>${T.block.entName}</th><th>${T.block.entClass}</th><th>${T.block.entGrade}</th><th>${T.block.entArea}</th><th>${T.block.entTax}</th></tr></thead><tbody>${enterprises}</tbody></table>` : `<p>${escapeHtml(T.block.noEnterprises)}</p>`}
        ${summary.parcels_without_enterprise ? `<p class="hint">${escapeHtml(T.block.withoutEnterprise(summary.parcels_without_enterprise))}</p>` : ''}
      </section>
      <div class="panel-extras" data-testid="panel-extras"></div>
      <section aria-labelledby="hist-h"><h3 id="hist-h">${escapeHtml(T.block.historyHeading)}</h3><div class="history">${escapeHtml(T.loading)}</div></section>
      <section aria-labelledby="rep-h"><h3 id="rep-h">${escapeHtml(T.block.reportHeading)}</h3><div class="report" aria-live="polite">${escapeHtml(T.block.reportLoading)}</div></section>
      <section aria-labelledby="exp-h"><h3 id="exp-h">${escapeHtml(T.block.exportHeading)}</h3>
        <p class="exports">
          <a class="button" download href="${exportUrl('format=geojson')}">${T.block.exportGeojson}</a>
          <a class="button" download href="${exportUrl('format=shp&encoding=gbk')}">${T.block.exportShpGbk}</a>
          <a class="button" download href="${exportUrl('format=shp&encoding=utf-8')}">${T.block.exportShpUtf8}</a>
          <a class="button" download href="${exportUrl('format=xlsx')}">${T.block.exportXlsx}</a>
        </p></section>`;
    this.host.querySelector('button.close').addEventListener('click', () => this.close());
  }

  async loadExtras(code) {
    const box = this.host.querySelector('.panel-extras');
    const parts = await Promise.all(EXTRA_SECTIONS.map((m) => m.section(code, this.host).catch(() => null)));
    if (this.code !== code || !box) return;
    for (const el of parts) if (el) box.append(el);
    box.dataset.state = 'ready'; // for tests: every section has answered
  }

  async loadHistory(code) {
    const box = this.host.querySelector('.history');
    // The workflow API's plan with its versions (who submitted, who approved or returned, with
    // what comment). It needs a login: without one, say so and link to the login page.
    try {
      const plan = await fetchJson(`/api/plans/${encodeURIComponent(code)}`);
      if (this.code !== code) return;
      const versions = plan.versions || [];
      const when = (t) => (t ? t.slice(0, 16).replace('T', ' ') : '');
      const who = (u) => (u ? (u.display_name || u.name || u.username || u) : '');
      box.innerHTML = `<p>${escapeHtml(T.block.historyNow(plan.stage_label || T.dash, plan.status_label))}</p>`
        + (versions.length ? `<ol class="timeline">${versions.map((v) => `<li>
          <b>${escapeHtml(T.block.version(v.version_no))}</b> ${escapeHtml(v.status_label)}${v.is_imported ? `（${escapeHtml(T.block.imported)}）` : ''}
          ${v.submitted_at ? `<br><time>${escapeHtml(when(v.submitted_at))}</time> ${escapeHtml(T.block.submitted)} ${escapeHtml(who(v.submitted_by))}` : ''}
          ${v.reviewed_at ? `<br><time>${escapeHtml(when(v.reviewed_at))}</time> ${escapeHtml(T.block.reviewed)} ${escapeHtml(who(v.reviewed_by))}` : ''}
          ${v.approval_doc_no ? `<br>${escapeHtml(T.block.docNo)}：${escapeHtml(v.approval_doc_no)}${v.approval_date ? `（${escapeHtml(T.block.approvalDate)} ${escapeHtml(v.approval_date)}）` : ''}` : ''}
          ${v.review_comment ? `<br><q>${escapeHtml(v.review_comment)}</q>` : ''}</li>`).join('')}</ol>`
          : escapeHtml(T.block.noHistory));
    } catch (err) {
      if (this.code !== code) return;
      if (err instanceof ApiError && err.status === 401) {
        box.innerHTML = `${escapeHtml(T.block.historyLogin)} <a href="/login?next=${encodeURIComponent(location.pathname)}">${escapeHtml(T.block.login)}</a>`;
      } else {
        box.textContent = err instanceof ApiError && err.status !== 404 ? err.message : T.block.noHistory;
      }
      if (!(err instanceof ApiError)) throw err;
    }
  }

  async loadReport(code) {
    const box = this.host.querySelector('.report');
    try {
      const r = await fetchJson(`/api/blocks/${encodeURIComponent(code)}/analysis`);
      if (this.code !== code) return;
      const items = [
        ...(r.violations || []),
        ...(r.problems || []),
        ...(r.parcels || []).flatMap((p) => (p.violations || []).map((v) => ({ ...v, parcel: p.id }))),
      ];
      const errors = items.filter((v) => v.severity !== 'warning');
      const warnings = items.filter((v) => v.severity === 'warning');
      const head = errors.length
        ? `<p class="verdict bad">${escapeHtml(T.block.reportFailed(errors.length))}${warnings.length ? `，${escapeHtml(T.block.reportWarnings(warnings.length))}` : ''}</p>`
        : `<p class="verdict ok">${escapeHtml(T.block.reportPassed)}${warnings.length ? `，${escapeHtml(T.block.reportWarnings(warnings.length))}` : ''}</p>`;
      box.innerHTML = head + (items.length ? `<ul class="violations">${items.map((v) => `<li class="${v.severity === 'warning' ? 'warning' : 'error'}">${v.parcel ? `<b>${escapeHtml(v.parcel)}</b>：` : ''}${escapeHtml(v.message_zh || v.message || v.code)}</li>`).join('')}</ul>` : '')
        + (r.four_boundaries?.text ? `<p class="hint">${escapeHtml(T.block.fourComputed)}：${escapeHtml(r.four_boundaries.text)}</p>` : '');
    } catch (err) {
      if (this.code !== code) return;
      box.textContent = T.block.reportFailedToLoad(err.message);
    }
  }
}
