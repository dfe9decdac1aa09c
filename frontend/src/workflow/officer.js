// 镇街经办人: the unit's plans, and the draft editor on the map — pick parcels by clicking or
// lassoing, see the derived boundary or draw / edit / upload one, read the live rule report, fill
// the whole draft (四至 from the suggestion, planned FAR, renewal mode, the enterprise list with
// classifications and reasons), save, submit. Every rule and permission is the server's.
/* global L */
import pointInPolygon from "point-in-polygon-hao";
import { api, confirmAction, h as el, mu, showError, showFieldErrors } from "../common/api.js";
import { mountShell } from "../common/shell.js";
import { boundaryLayer, classColour, fourLabels, gapsLayer, legend, MIX_COLOURS, planMap } from "./planmap.js";
import { findings, reportView } from "./report.js";
import { CLASS_LABELS, RENEWAL_MODES, SIDES, STAGE_LABELS, T } from "./strings.js";

const form = document.getElementById("draft");
// 产业导向 (docs/admission.md): the industry codes a new project entering the block should be in.
form.change_note.closest("label").after(el("label", { "data-field": "industry_guidance" }, `${T.draft.guidance} `,
  el("input", { name: "industry_guidance", maxlength: "300", autocomplete: "off" }),
  el("span", { class: "hint" }, T.draft.guidanceHint)));
/** 产业导向 as typed: codes separated by 、，, ; or spaces. */
const guidanceCodes = (text) => text.split(/[、，,;；\s]+/).map((c) => c.trim()).filter(Boolean);
const box = document.getElementById("message");
const listBox = document.getElementById("list-message");
const reportBox = document.querySelector("#live-report .body");
const hint = document.getElementById("tool-hint");
const boundaryStatus = document.getElementById("boundary-status");
const mapSummary = document.getElementById("map-summary");
const NEXT_STAGE = { planned: "started", started: "in_progress", in_progress: "completed" };
const BULK_LIMIT = 5000;

const state = {
  user: null,
  editing: null, // { code, etag, versionNo, status } while a saved draft is open
  selected: new Map(), // parcel code → properties
  boundary: null, // { geometry, source: "drawn" | "file" } or null (derived from the parcels)
  enterprises: [], // [{ credit_code, name, classification, reason, current, manual }]
  fourTouched: new Set(),
  fourAuto: {}, // side → the suggestion last filled in by the page
  report: null,
  tool: "pick",
  fileMessage: "",
};

// --- the map -------------------------------------------------------------------------------------

const map = planMap("plan-map");
map.pm.setLang("zh");
const parcelLayers = new Map(); // code → Leaflet layer
const parcelsGroup = L.featureGroup().addTo(map);
let boundaryGroup = L.layerGroup().addTo(map);
let gapsGroup = L.layerGroup().addTo(map);
let labelsGroup = L.layerGroup().addTo(map);
let editable = null; // the boundary layer while it is edited
let drawing = null; // "lasso" | "boundary" while geoman draws
let bboxMode = false;
legend([
  ["#0d47a1", T.map.selected, "outline"],
  [MIX_COLOURS.upgrade, CLASS_LABELS.upgrade], [MIX_COLOURS.transform, CLASS_LABELS.transform],
  [MIX_COLOURS.clear_out, CLASS_LABELS.clear_out], [MIX_COLOURS.no_enterprise, CLASS_LABELS.no_enterprise],
  ["#cbd2d9", T.map.takenLegend],
  ["#6a1b9a", T.map.derived, "dashed"],
]).addTo(map);

function pickable(p) {
  return !p.block_code || (state.editing && p.block_code === state.editing.code);
}

function parcelStyle(p) {
  if (state.selected.has(p.code)) return { color: "#0d47a1", weight: 3, dashArray: null, fillColor: classColour(p), fillOpacity: 0.6 };
  if (!pickable(p)) return { color: "#9aa5b1", weight: 1, dashArray: "3 3", fillColor: "#cbd2d9", fillOpacity: 0.6 };
  return { color: "#7b8794", weight: 1, dashArray: null, fillColor: classColour(p), fillOpacity: 0.15 };
}

function addParcels(features) {
  for (const f of features) {
    const p = f.properties;
    if (parcelLayers.has(p.code)) continue;
    // The code on the drawn shape (created once the map has a view), so a parcel can be found on the map.
    const layer = L.geoJSON(f, { style: () => parcelStyle(p),
      onEachFeature: (_, shape) => shape.on("add", () => shape.getElement().setAttribute("data-parcel", p.code)) });
    const label = [p.code, p.enterprise_name || T.draft.noEnterprise, `${mu(p.land_area_mu)} ${T.mu}`].join(" · ");
    layer.bindTooltip(pickable(p) ? label : `${label}（${T.map.taken(p.block_name || p.block_code)}）`, { sticky: true });
    layer.on("click", () => { if (state.tool === "pick") toggle(p); });
    layer.feature = f;
    parcelLayers.set(p.code, layer);
    parcelsGroup.addLayer(layer);
  }
}

function restyle() {
  for (const layer of parcelLayers.values()) layer.setStyle(parcelStyle(layer.feature.properties));
}

function unitCode() {
  if (state.user.role === "unit_officer") return state.user.unit;
  return form.unit.value || null;
}

async function loadParcels() {
  const unit = unitCode();
  if (!unit) return;
  hint.textContent = T.map.parcelsLoading;
  const { data } = await api(`/api/parcels?unit=${encodeURIComponent(unit)}&limit=${BULK_LIMIT}`);
  addParcels(data.features);
  bboxMode = data.numberMatched > data.numberReturned;
  hint.textContent = toolHint();
  if (!state.editing && parcelsGroup.getLayers().length) map.fitBounds(parcelsGroup.getBounds(), { padding: [20, 20] });
}

// A unit with more parcels than one request brings: load the ones in view as the map moves.
map.on("moveend", async () => {
  if (!bboxMode || map.getZoom() < 14) return;
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
  const { data } = await api(`/api/parcels?unit=${encodeURIComponent(unitCode())}&bbox=${bbox}&limit=${BULK_LIMIT}`);
  addParcels(data.features);
});

function toggle(p) {
  if (!pickable(p)) {
    hint.textContent = T.map.taken(p.block_name || p.block_code);
    return;
  }
  if (state.selected.has(p.code)) state.selected.delete(p.code);
  else state.selected.set(p.code, p);
  selectionChanged();
}

function selectionChanged() {
  syncEnterprises();
  restyle();
  renderParcels();
  renderEnterprises();
  schedulePreview();
}

// --- tools ---------------------------------------------------------------------------------------

function toolHint() {
  return { pick: T.tools.pickHint, lasso: T.tools.lassoHint, draw: T.tools.drawHint, edit: "" }[state.tool] || "";
}

function setTool(tool) {
  if (editable && tool !== "edit") finishEdit();
  map.pm.disableDraw();
  drawing = null;
  state.tool = tool;
  for (const b of document.querySelectorAll(".toolbar [data-tool]")) {
    if (b.hasAttribute("aria-pressed")) b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
  }
  if (tool === "lasso" || tool === "draw") {
    drawing = tool === "lasso" ? "lasso" : "boundary";
    map.pm.enableDraw("Polygon", {
      snappable: tool === "draw", snapDistance: 12, allowSelfIntersection: false,
      pathOptions: tool === "lasso" ? { color: "#1565c0", dashArray: "4 4", fillOpacity: 0.1 } : { color: "#0d47a1", weight: 3 },
    });
  }
  if (tool === "edit") startEdit();
  hint.textContent = toolHint();
}

map.on("pm:create", (e) => {
  const geometry = e.layer.toGeoJSON().geometry;
  map.removeLayer(e.layer);
  if (drawing === "lasso") {
    lassoSelect(geometry.coordinates);
    setTool("lasso"); // keep lassoing until another tool is chosen
  } else if (drawing === "boundary") {
    state.boundary = { geometry, source: "drawn" };
    setTool("pick");
    boundaryChanged();
  }
});

/** Parcels with at least half their outline inside the lasso join the plan. */
function lassoSelect(ring) {
  let added = 0;
  for (const layer of parcelLayers.values()) {
    const p = layer.feature.properties;
    if (!pickable(p) || state.selected.has(p.code)) continue;
    const g = layer.feature.geometry;
    const outer = (g.type === "MultiPolygon" ? g.coordinates.flatMap((poly) => poly[0]) : g.coordinates[0]);
    const inside = outer.filter((pt) => pointInPolygon(pt, ring) !== false).length;
    if (inside * 2 >= outer.length) {
      state.selected.set(p.code, p);
      added += 1;
    }
  }
  if (added) selectionChanged();
}

function startEdit() {
  const geometry = state.boundary ? state.boundary.geometry : state.report && state.report.boundary;
  if (!geometry) {
    hint.textContent = T.draft.noParcels;
    state.tool = "pick";
    return;
  }
  boundaryGroup.clearLayers();
  editable = L.geoJSON(geometry).getLayers()[0];
  editable.setStyle({ color: "#0d47a1", weight: 3, fill: false });
  editable.addTo(map);
  editable.pm.enable({ allowSelfIntersection: false, snappable: true });
  editable.on("pm:edit", () => {
    state.boundary = { geometry: editable.toGeoJSON().geometry, source: "drawn" };
    boundaryChanged(false);
  });
  const button = document.querySelector("[data-tool=edit]");
  button.textContent = T.tools.editDone;
  hint.textContent = "";
}

function finishEdit() {
  if (!editable) return;
  editable.pm.disable();
  map.removeLayer(editable);
  editable = null;
  document.querySelector("[data-tool=edit]").textContent = T.tools.edit;
  drawBoundary();
}

document.querySelector(".toolbar").addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-tool]");
  if (!button) return;
  const tool = button.dataset.tool;
  if (tool === "derive") {
    state.boundary = null;
    setTool("pick");
    boundaryChanged();
  } else if (tool === "edit" && editable) {
    setTool("pick");
  } else {
    setTool(tool);
  }
});

document.getElementById("boundary-file").addEventListener("change", async (ev) => {
  const file = ev.target.files[0];
  if (!file) return;
  const data = new FormData();
  data.append("file", file, file.name);
  boundaryStatus.textContent = T.loading;
  try {
    const { data: read } = await api("/api/boundaries/read", { method: "POST", form: data });
    state.boundary = { geometry: read.geometry, source: "file" };
    state.fileMessage = T.tools.uploaded(read.crs_name || read.crs || "", mu(read.area_mu))
      + (read.repaired ? ` ${T.tools.uploadRepaired}${read.problems.join("；")}` : "");
    setTool("pick");
    boundaryChanged();
    if (!state.selected.size) map.fitBounds(L.geoJSON(read.geometry).getBounds(), { padding: [30, 30] });
  } catch (err) {
    showError(boundaryStatus, err);
  } finally {
    ev.target.value = "";
  }
});

function boundaryChanged(redraw = true) {
  if (redraw) drawBoundary();
  schedulePreview();
}

function drawBoundary() {
  boundaryGroup.clearLayers();
  gapsGroup.clearLayers();
  labelsGroup.clearLayers();
  if (editable) return;
  const r = state.report;
  const geometry = state.boundary ? state.boundary.geometry : r && r.boundary;
  const source = state.boundary ? state.boundary.source : "derived";
  if (geometry) {
    const layer = boundaryLayer(geometry, source);
    boundaryGroup.addLayer(layer);
    if (r) labelsGroup.addLayer(fourLabels(layer.getBounds(), r.four_boundaries));
  }
  if (r) gapsGroup.addLayer(gapsLayer(r.contiguity));
  boundaryStatus.textContent = state.selected.size || state.boundary
    ? T.tools.boundarySource[source] + (source === "file" && state.fileMessage ? `：${state.fileMessage}` : "") : "";
}

// --- parcels and enterprises ---------------------------------------------------------------------

function renderParcels() {
  const tbody = document.querySelector("#parcel-list tbody");
  tbody.textContent = "";
  const areas = new Map((state.report ? state.report.parcels : []).map((p) => [p.id, p.area_mu]));
  let total = 0;
  for (const p of [...state.selected.values()].sort((a, b) => a.code.localeCompare(b.code))) {
    const area = areas.get(p.code) ?? p.land_area_mu;
    total += Number(area || 0);
    tbody.append(el("tr", { "data-parcel": p.code }, el("td", {}, p.code), el("td", { class: "num" }, mu(area)),
      el("td", {}, p.enterprise_name || T.draft.noEnterprise),
      el("td", {}, el("button", { type: "button", class: "small", "aria-label": `${T.draft.remove} ${p.code}`,
        onclick: () => { state.selected.delete(p.code); selectionChanged(); } }, T.draft.remove))));
  }
  document.getElementById("parcel-summary").textContent = state.selected.size
    ? T.draft.parcels(state.selected.size, mu(total)) : T.draft.noParcels;
}

/** An enterprise's key on the list: its credit code, or its name while the code is still to be
 *  completed (registered from an upload by name only; one such enterprise per name). */
function entKey(creditCode, name) {
  return creditCode || (name ? `name:${name}` : null);
}

const parcelEntKey = (p) => entKey(p.enterprise_credit_code, p.enterprise_name);

/** Every enterprise of the picked parcels is on the list; ones added by hand stay. */
function syncEnterprises() {
  const onParcels = new Map();
  for (const p of state.selected.values()) {
    const key = parcelEntKey(p);
    if (key) onParcels.set(key, { credit_code: p.enterprise_credit_code || null, name: p.enterprise_name });
  }
  state.enterprises = state.enterprises.filter((e) => e.manual || onParcels.has(entKey(e.credit_code, e.name)));
  for (const [key, { credit_code: code, name }] of onParcels) {
    if (!state.enterprises.some((e) => entKey(e.credit_code, e.name) === key)) {
      state.enterprises.push({ credit_code: code, name, classification: null, reason: "", current: undefined, manual: false });
    }
  }
}

function parcelsOf(e) {
  const key = entKey(e.credit_code, e.name);
  return [...state.selected.values()].filter((p) => parcelEntKey(p) === key).map((p) => p.code);
}

function renderEnterprises() {
  const tbody = document.querySelector("#enterprise-list tbody");
  tbody.textContent = "";
  state.enterprises.forEach((e, k) => {
    const current = e.current ? CLASS_LABELS[e.current] : null;
    const select = el("select", { "aria-label": `${e.name} ${T.draft.entCols[2]}` },
      el("option", { value: "" }, current ? T.draft.current(current) : CLASS_LABELS.unclassified),
      ...["upgrade", "transform", "clear_out"].map((c) => el("option", { value: c }, CLASS_LABELS[c])));
    select.value = e.classification || "";
    const needsReason = e.classification && e.current && e.classification !== e.current;
    const reason = el("input", { value: e.reason || "", "aria-label": `${e.name} ${T.draft.entCols[3]}`,
      placeholder: needsReason ? T.draft.reasonNeeded : T.draft.reasonPlaceholder, "aria-required": needsReason ? "true" : null });
    select.addEventListener("change", () => { e.classification = select.value || null; renderEnterprises(); schedulePreview(); });
    reason.addEventListener("input", () => { e.reason = reason.value; });
    reason.addEventListener("change", schedulePreview);
    const remove = el("button", { type: "button", class: "small", "aria-label": `${T.draft.remove} ${e.name}`,
      onclick: () => { state.enterprises.splice(k, 1); renderEnterprises(); schedulePreview(); } }, T.draft.remove);
    tbody.append(el("tr", { "data-enterprise": entKey(e.credit_code, e.name) },
      el("td", {}, e.name || e.credit_code, el("br"), el("small", {}, e.credit_code || T.codePending), el("br"),
        el("small", { class: "hint" }, `${T.draft.entCols[1]}：${parcelsOf(e).join("、") || T.dash}`)),
      el("td", { class: needsReason ? "needs" : "" }, select, reason), el("td", {}, remove)));
  });
}

document.getElementById("add-enterprise-button").addEventListener("click", async () => {
  const input = document.getElementById("add-enterprise");
  const code = input.value.trim().toUpperCase();
  if (!code) return;
  const holder = document.getElementById("enterprise-set");
  for (const old of holder.querySelectorAll(".field-error")) old.remove();
  if (state.enterprises.some((e) => e.credit_code === code)) {
    input.after(el("span", { class: "field-error", role: "alert" }, T.draft.enterpriseListed));
    return;
  }
  try {
    const { data } = await api(`/api/enterprises/${encodeURIComponent(code)}`);
    state.enterprises.push({ credit_code: data.credit_code, name: data.name, classification: null, reason: "",
      current: data.classification, manual: true });
    input.value = "";
    renderEnterprises();
    schedulePreview();
  } catch (err) {
    input.after(el("span", { class: "field-error", role: "alert" }, err.status === 404 ? T.draft.enterpriseUnknown(code) : err.message));
  }
});

document.getElementById("by-code").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const area = ev.target.codes;
  const msg = document.getElementById("by-code-message");
  msg.textContent = "";
  const codes = area.value.split(/[\s,，、;；]+/).filter(Boolean);
  const unknown = [];
  for (const code of codes) {
    const layer = parcelLayers.get(code);
    if (layer && pickable(layer.feature.properties)) state.selected.set(code, layer.feature.properties);
    else unknown.push(code);
  }
  if (unknown.length) msg.append(el("p", { class: "error" }, T.tools.unknownCodes(unknown.join("、"))));
  area.value = unknown.join("\n");
  selectionChanged();
  if (state.selected.size) map.fitBounds(selectedBounds(), { padding: [30, 30], maxZoom: 17 });
});

function selectedBounds() {
  const group = L.featureGroup([...state.selected.keys()].map((c) => parcelLayers.get(c)).filter(Boolean));
  return group.getBounds();
}

// --- 四至 ----------------------------------------------------------------------------------------

const fourRows = document.getElementById("four-rows");
for (const [field, side, label] of SIDES) {
  const input = el("input", { name: field, maxlength: "200" });
  input.addEventListener("input", () => { state.fourTouched.add(field); schedulePreview(); });
  const suggestion = el("span", { class: "suggestion", "data-side": side });
  const accept = el("button", { type: "button", class: "small", "data-accept": field, hidden: true,
    "aria-label": `${label} ${T.draft.accept}` }, T.draft.accept);
  accept.addEventListener("click", () => { input.value = accept.dataset.text; state.fourTouched.add(field); showSuggestions(); schedulePreview(); });
  fourRows.append(el("div", { class: "four-row", "data-field": field }, el("label", {}, label, " ", input), suggestion, accept));
}
document.getElementById("accept-all").addEventListener("click", () => {
  for (const b of fourRows.querySelectorAll("[data-accept]")) if (b.dataset.text) form[b.dataset.accept].value = b.dataset.text;
  showSuggestions();
  schedulePreview();
});

function suggestedText(label, name) {
  return name ? `${label}${name}` : "";
}

/** The suggestion beside each side; an untouched empty side of a new plan takes it. */
function showSuggestions() {
  let changed = false;
  const four = state.report && state.report.four_boundaries;
  for (const [field, side, label] of SIDES) {
    const row = fourRows.querySelector(`[data-field=${field}]`);
    const text = four ? suggestedText(label, four[side]) : "";
    row.querySelector(".suggestion").textContent = four ? T.draft.suggested(text || T.draft.noSuggestion) : "";
    const accept = row.querySelector("[data-accept]");
    accept.dataset.text = text;
    // A side the clerk has not typed in follows the suggestion as the parcels change (new plans only).
    const auto = !state.editing && !state.fourTouched.has(field)
      && (!form[field].value || form[field].value === state.fourAuto[field]);
    if (auto && form[field].value !== text) {
      form[field].value = text;
      changed = true;
    }
    if (auto) state.fourAuto[field] = text;
    accept.hidden = !text || form[field].value === text;
  }
  if (changed && state.report) schedulePreview(); // the report must judge the sides now shown
}

// --- the live report -----------------------------------------------------------------------------

let timer = null;
let inflight = null;

// aria-busy from the first keystroke until the report for the latest change is in (tests wait on it).
function schedulePreview() {
  clearTimeout(timer);
  reportBox.setAttribute("aria-busy", "true");
  timer = setTimeout(() => { timer = null; preview(); }, 350);
}

function numberOrNull(input) {
  return input.value === "" ? null : Number(input.value);
}

function enterpriseBody() {
  return state.enterprises.map((e) => ({ credit_code: e.credit_code, classification: e.classification || null,
    reason: (e.reason || "").trim() || null, ...(e.credit_code ? {} : { name: e.name }) }));
}

async function preview() {
  if (inflight) inflight.abort();
  if (!state.selected.size) {
    state.report = null;
    reportBox.textContent = "";
    reportBox.append(el("p", { class: "hint" }, T.report.idle));
    mapSummary.textContent = "";
    drawBoundary();
    showSuggestions();
    renderParcels();
    reportBox.removeAttribute("aria-busy");
    return;
  }
  const request = new AbortController();
  inflight = request;
  const body = {
    code: state.editing ? state.editing.code : null,
    unit: state.user.role === "unit_officer" ? null : unitCode(),
    parcels: [...state.selected.keys()],
    boundary: state.boundary ? state.boundary.geometry : null,
    enterprises: enterpriseBody(),
    year: numberOrNull(form.year),
    planned_far: numberOrNull(form.planned_far),
  };
  for (const [field] of SIDES) body[field] = form[field].value || null;
  try {
    const { data } = await api("/api/plans/preview", { method: "POST", body, signal: request.signal });
    if (inflight !== request) return; // a newer change asked again; its answer is the one to show
    state.report = data;
    for (const e of data.enterprises) {
      const row = state.enterprises.find((x) => entKey(x.credit_code, x.name) === entKey(e.credit_code, e.name));
      if (row) { row.current = e.current_classification; row.name = e.name; }
    }
    reportBox.textContent = "";
    reportBox.append(reportView(data));
    const { errors, warnings } = findings(data);
    mapSummary.textContent = T.report.summary(mu(data.land_area_mu), errors.length, warnings.length);
    mapSummary.className = `status-line ${errors.length ? "error" : "ok"}`;
    drawBoundary();
    showSuggestions();
    renderParcels();
    renderEnterprises();
  } catch (err) {
    if (err.name === "AbortError") return;
    reportBox.textContent = "";
    showError(reportBox, err);
  } finally {
    if (inflight === request) {
      inflight = null;
      if (timer === null) reportBox.removeAttribute("aria-busy");
    }
  }
}

for (const name of ["year", "planned_far"]) form[name].addEventListener("change", schedulePreview);

// --- saving and submitting -----------------------------------------------------------------------

function draftBody() {
  const body = {
    name: form.name.value.trim(),
    year: numberOrNull(form.year),
    parcels: [...state.selected.keys()],
    enterprises: enterpriseBody(),
    boundary: state.boundary ? state.boundary.geometry : null,
    planned_far: numberOrNull(form.planned_far),
    planned_new_floor_area_m2: numberOrNull(form.planned_new_floor_area_m2),
    renewal_mode: form.renewal_mode.value || null,
    change_note: form.change_note.value.trim() || null,
    industry_guidance: guidanceCodes(form.industry_guidance.value),
  };
  if (state.boundary) body.boundary_source = state.boundary.source;
  for (const [field] of SIDES) body[field] = form[field].value.trim() || null;
  return body;
}

/** A server error placed beside what it names: a parcel row, an enterprise row, a field. */
function locate(e) {
  if (e.field === "parcels" && e.feature) {
    const code = [...state.selected.keys()][e.feature - 1];
    return code ? document.querySelector(`#parcel-list tr[data-parcel="${CSS.escape(code)}"] td:first-child`) : null;
  }
  if (e.field === "enterprises" && e.feature) {
    return document.querySelectorAll("#enterprise-list tbody tr td:nth-child(2)")[e.feature - 1] || null;
  }
  if (e.field && e.field.startsWith("enterprises.")) return document.getElementById("enterprise-set");
  return null;
}

/** Check in the page first what a clerk would otherwise only learn from the server. */
function localProblems() {
  const problems = [];
  if (!state.editing && !form.code.value.trim()) problems.push({ field: "code", message: `${T.draft.code}${T.draft.required}` });
  if (!form.name.value.trim()) problems.push({ field: "name", message: `${T.draft.name}${T.draft.required}` });
  if (!form.year.value) problems.push({ field: "year", message: `${T.draft.year}${T.draft.required}` });
  if (!state.selected.size) problems.push({ field: "parcels", message: T.draft.noParcels });
  for (const name of ["planned_far", "planned_new_floor_area_m2", "year"]) {
    if (!form[name].checkValidity()) problems.push({ field: name, message: form[name].validationMessage });
  }
  return problems;
}

async function save() {
  const problems = localProblems();
  if (problems.length) {
    const err = new Error(problems[0].message);
    err.errors = problems;
    showFieldErrors(form, box, err, locate, { list: false });
    return false;
  }
  box.textContent = "";
  box.append(el("p", { class: "hint" }, T.saving));
  try {
    let result;
    if (state.editing) {
      result = await api(`/api/plans/${encodeURIComponent(state.editing.code)}/draft`, { method: "PATCH",
        body: draftBody(), etag: state.editing.etag });
    } else {
      const body = { ...draftBody(), code: form.code.value.trim() };
      if (state.user.role !== "unit_officer") body.unit = unitCode();
      result = await api("/api/plans", { method: "POST", body });
    }
    const plan = result.data;
    state.editing = { code: plan.code, etag: result.etag, versionNo: plan.working_version_no, status: plan.status };
    showFieldErrors(form, box, { message: "" });
    box.textContent = "";
    box.append(el("p", { class: "ok" }, T.saved));
    setTitle();
    await loadList();
    return true;
  } catch (err) {
    showFieldErrors(form, box, err, locate);
    return false;
  }
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  await save();
});

document.getElementById("submit-draft").addEventListener("click", async () => {
  const code = state.editing ? state.editing.code : form.code.value.trim();
  if (!await confirmAction(T.confirm.submit(code))) return;
  if (!await save()) return;
  try {
    await api(`/api/plans/${encodeURIComponent(state.editing.code)}/submit`, { method: "POST", etag: state.editing.etag });
    box.textContent = "";
    box.append(el("p", { class: "ok" }, T.submitted));
    await loadList();
    resetEditor();
  } catch (err) {
    showFieldErrors(form, box, err, locate);
  }
});

function setTitle() {
  document.getElementById("draft-title").textContent = state.editing
    ? T.draft.editTitle(state.editing.code, state.editing.versionNo) : T.draft.newTitle;
  form.code.disabled = Boolean(state.editing);
  if (state.editing) form.code.value = state.editing.code;
}

function resetEditor() {
  state.editing = null;
  state.selected.clear();
  state.boundary = null;
  state.enterprises = [];
  state.fourTouched.clear();
  state.fourAuto = {};
  state.report = null;
  state.fileMessage = "";
  const unit = form.unit.value;
  form.reset();
  form.unit.value = unit;
  form.year.value = String(new Date().getFullYear());
  setTitle();
  setTool("pick");
  selectionChanged();
  for (const old of form.querySelectorAll(".field-error")) old.remove();
}
document.getElementById("new").addEventListener("click", () => { resetEditor(); box.textContent = ""; });

async function openPlan(code) {
  const editor = document.getElementById("editor");
  editor.setAttribute("aria-busy", "true"); // until the stored draft is in the editor
  let plan, etag, v, own, number;
  try {
    ({ data: plan, etag } = await api(`/api/plans/${encodeURIComponent(code)}`));
    number = plan.working_version_no;
    ({ data: v } = await api(`/api/plans/${encodeURIComponent(code)}/versions/${number}`));
    ({ data: own } = await api(`/api/plans/${encodeURIComponent(code)}/versions/${number}/parcels`));
  } finally {
    editor.removeAttribute("aria-busy");
  }
  resetEditor();
  box.textContent = "";
  state.editing = { code, etag, versionNo: number, status: plan.status };
  if (state.user.role !== "unit_officer") form.unit.value = plan.unit;
  const p = v.properties;
  for (const k of ["name", "year", "planned_far", "planned_new_floor_area_m2", "change_note"]) form[k].value = p[k] ?? "";
  form.renewal_mode.value = p.renewal_mode || "";
  form.industry_guidance.value = (p.industry_guidance || []).join("、");
  for (const [field] of SIDES) form[field].value = p[field] ?? "";
  const known = new Map(own.features.map((f) => [f.id, f]));
  for (const parcel of p.parcels) {
    let layer = parcelLayers.get(parcel.code);
    if (!layer && known.has(parcel.code)) {
      const f = known.get(parcel.code);
      addParcels([{ ...f, properties: { ...f.properties, block_code: plan.current_version_no ? code : null } }]);
      layer = parcelLayers.get(parcel.code);
    }
    if (layer) state.selected.set(parcel.code, layer.feature.properties);
  }
  state.boundary = p.boundary_source === "derived" ? null : { geometry: v.geometry, source: p.boundary_source };
  const onParcels = new Set([...state.selected.values()].map(parcelEntKey).filter(Boolean));
  state.enterprises = p.enterprises.map((e) => ({ credit_code: e.credit_code, name: e.name,
    classification: e.classification, reason: e.reason || "", current: undefined,
    manual: !onParcels.has(entKey(e.credit_code, e.name)) }));
  setTitle();
  selectionChanged();
  if (state.selected.size) map.fitBounds(selectedBounds(), { padding: [30, 30], maxZoom: 17 });
  document.getElementById("editor").scrollIntoView({ block: "start" });
  form.name.focus({ preventScroll: true });
}

// --- the list of the unit's plans ----------------------------------------------------------------

async function act(code, path, body) {
  try {
    await api(`/api/plans/${encodeURIComponent(code)}/${path}`, { method: "POST", body });
    listBox.textContent = "";
    listBox.append(el("p", { class: "ok" }, T.done));
    await loadList();
  } catch (err) { showError(listBox, err); }
}

async function loadList() {
  const { data } = await api("/api/plans");
  const tbody = document.querySelector("#plans tbody");
  tbody.textContent = "";
  const own = data.data.filter((p) => p.can_edit);
  if (!own.length) tbody.append(el("tr", {}, el("td", { colspan: "7" }, T.list.none)));
  for (const p of own) {
    const ops = el("td");
    if (["draft", "returned"].includes(p.status)) {
      ops.append(el("button", { type: "button", onclick: () => openPlan(p.code).catch((err) => showError(listBox, err)) }, T.list.edit), " ",
        el("button", { type: "button", onclick: async () => {
          if (await confirmAction(T.confirm.submit(p.code))) act(p.code, "submit");
        } }, T.list.submit));
    }
    if (p.status === "approved" && p.working_version_no === null) {
      ops.append(el("button", { type: "button", onclick: async () => {
        const note = await confirmAction(T.confirm.revise(p.code), { input: T.confirm.reviseNote });
        if (note) act(p.code, "revisions", { change_note: note });
      } }, T.list.revise));
      const next = NEXT_STAGE[p.stage];
      if (next) {
        ops.append(" ", el("button", { type: "button", onclick: async () => {
          if (await confirmAction(T.confirm.stage(p.code, p.stage_label, STAGE_LABELS[next]))) act(p.code, "stage", { stage: next });
        } }, T.list.stage(STAGE_LABELS[next])));
      }
    }
    const last = p.versions[p.versions.length - 1] || {};
    const inForce = p.versions.find((v) => v.version_no === p.current_version_no);
    const approved = inForce && inForce.approval_doc_no ? T.list.approvedOn(inForce.approval_doc_no, inForce.approval_date || T.dash) : T.dash;
    tbody.append(el("tr", {}, el("td", {}, p.code), el("td", {}, p.name ?? ""),
      el("td", {}, p.status_label + (last.review_comment && p.status === "returned" ? `（${last.review_comment}）` : "")),
      el("td", {}, p.stage_label ?? T.dash), el("td", {}, mu(p.area_mu)), el("td", {}, approved), ops));
  }
  const notes = await api("/api/notifications?unread=true");
  const sec = document.getElementById("notes");
  sec.textContent = "";
  for (const n of notes.data.data) {
    sec.append(el("p", { class: n.kind === "approved" ? "ok" : "error" }, n.message, " ",
      el("button", { type: "button", onclick: async () => { await api(`/api/notifications/${n.id}/read`, { method: "POST" }); loadList(); } }, T.list.noticeOk)));
  }
}

// --- start ---------------------------------------------------------------------------------------

for (const [value, label] of RENEWAL_MODES) form.renewal_mode.append(el("option", { value }, label));

async function start() {
  try {
    state.user = await mountShell({ page: "officer", roles: ["unit_officer", "admin"] });
  } catch (err) {
    showError(listBox, err);
    return;
  }
  if (!state.user) return;
  if (state.user.role !== "unit_officer") {
    document.getElementById("unit-field").hidden = false;
    const { data } = await api("/api/units?limit=100");
    for (const f of data.features) form.unit.append(el("option", { value: f.properties.code }, f.properties.name));
    form.unit.addEventListener("change", () => { parcelsGroup.clearLayers(); parcelLayers.clear(); resetEditor(); loadParcels(); });
  }
  form.year.value = String(new Date().getFullYear());
  setTitle();
  renderParcels();
  try {
    await Promise.all([loadList(), loadParcels()]);
  } catch (err) {
    showError(listBox, err);
  }
  document.body.dataset.ready = "true";
}

start();
