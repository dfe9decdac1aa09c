// 领导小组评审: every submitted plan with its map (boundary, parcels by classification, neighbours
// named, a revision's added and removed area), its figures, rule report, parcel and enterprise
// lists; approve (认定文号 and date) or return with a reason, one by one or as a batch, after a
// confirmation. Every refusal of the server is shown in the page.
/* global L */
import { api, confirmAction, h as el, mu, showError, showFieldErrors } from "../common/api.js";
import { mountShell } from "../common/shell.js";
import {
  bboxParam, boundaryLayer, classColour, diffLayer, fourLabels, gapsLayer, legend, MIX_COLOURS, neighboursLayer, planMap,
} from "./planmap.js";
import { far, findings, reportView } from "./report.js";
import { CLASS_LABELS, SIDES, T } from "./strings.js";

const holder = document.getElementById("batch");
const box = document.getElementById("message");
const pageBox = document.getElementById("page-message");
const sendButton = document.getElementById("send");

function when(t) {
  return t ? t.slice(0, 16).replace("T", " ") : "";
}

function table(cols, rows) {
  const t = el("table", { class: "list" });
  const head = el("tr");
  for (const c of cols) head.append(el("th", { scope: "col" }, c));
  t.append(el("thead", {}, head));
  const body = el("tbody");
  for (const r of rows) body.append(el("tr", {}, ...r.map((c) => el("td", {}, c))));
  t.append(body);
  return el("div", { class: "table-wrap" }, t);
}

function decisionControls(code) {
  const action = el("select", { name: "action", "aria-label": `${code} ${T.review.decision}` },
    el("option", { value: "" }, T.review.none_), el("option", { value: "approve" }, T.review.approve),
    el("option", { value: "return" }, T.review.return));
  const docNo = el("input", { name: "doc_no", placeholder: T.review.docNoPlaceholder, maxlength: "64" });
  const date = el("input", { name: "approval_date", type: "date" });
  const comment = el("textarea", { name: "comment", rows: "2", maxlength: "2000" });
  const approveOne = el("button", { type: "button", class: "primary", "data-one": "approve" }, T.review.approve);
  const returnOne = el("button", { type: "button", "data-one": "return" }, T.review.return);
  return el("fieldset", { class: "decision" }, el("legend", {}, T.review.decision),
    el("label", { "data-field": "action" }, T.review.decision, action),
    el("label", { "data-field": "doc_no" }, T.review.docNo, docNo),
    el("label", { "data-field": "approval_date" }, T.review.date, date),
    el("label", { "data-field": "comment" }, T.review.comment, comment),
    el("p", { class: "actions" }, approveOne, " ", returnOne),
    el("div", { class: "card-message", role: "alert" }));
}

/** The plan's map: neighbours, the version in force and a revision's changes, parcels, boundary. */
async function drawMap(host, code, version, report, comparison) {
  const map = planMap(host, { scrollWheelZoom: false });
  const boundary = boundaryLayer(version.geometry, version.properties.boundary_source);
  const bounds = boundary.getBounds();
  map.fitBounds(bounds, { padding: [30, 30] });
  const [{ data: parcels }, { data: around }, { data: blocks }] = await Promise.all([
    api(`/api/plans/${encodeURIComponent(code)}/versions/${version.properties.version_no}/parcels`),
    api(`/api/parcels?bbox=${bboxParam(bounds, 0.6)}&limit=2000`),
    api(`/api/blocks?bbox=${bboxParam(bounds, 0.6)}&limit=200`),
  ]);
  const own = new Set(parcels.features.map((f) => f.id));
  neighboursLayer(around, { ...blocks, features: blocks.features.filter((f) => f.properties.code !== code) }, own).addTo(map);
  if (comparison) diffLayer(comparison).addTo(map);
  L.geoJSON(parcels, {
    style: (f) => ({ color: "#243b53", weight: 1.5, fillColor: classColour(f.properties), fillOpacity: 0.65 }),
    onEachFeature: (f, layer) => layer.bindTooltip([f.id, f.properties.enterprise_name || CLASS_LABELS.no_enterprise,
      f.properties.classification_label || CLASS_LABELS.unclassified, `${mu(f.properties.land_area_mu)} ${T.mu}`].join(" · "),
    { sticky: true }),
  }).addTo(map);
  boundary.addTo(map);
  if (report) {
    gapsLayer(report.contiguity).addTo(map);
    fourLabels(bounds, report.four_boundaries).addTo(map);
  }
  const rows = [
    [MIX_COLOURS.upgrade, CLASS_LABELS.upgrade], [MIX_COLOURS.transform, CLASS_LABELS.transform],
    [MIX_COLOURS.clear_out, CLASS_LABELS.clear_out], [MIX_COLOURS.unclassified, CLASS_LABELS.unclassified],
    [MIX_COLOURS.no_enterprise, CLASS_LABELS.no_enterprise],
    ["#6a1b9a", version.properties.boundary_source === "derived" ? T.map.derived : T.map.drawn, "dashed"],
  ];
  if (comparison) rows.push(["#66bb6a", T.map.added], ["#ef5350", T.map.removed]);
  legend(rows).addTo(map);
  return parcels;
}

async function card(p) {
  const v = p.submitted;
  const props = v.properties;
  const node = el("section", { class: "card review-card", "data-code": p.code, "aria-labelledby": `h-${p.code}` });
  const based = props.based_on_version_no;
  node.append(
    el("h3", { id: `h-${p.code}` }, `${p.code} ${props.name}（${p.unit_name}，${T.review.version(props.version_no)}）`
      + (based ? ` · ${T.review.revision(based)}` : "")),
    el("p", { class: "hint" }, T.review.submittedBy(props.submitted_by ? props.submitted_by.display_name : T.dash,
      when(props.submitted_at))),
  );
  const [{ data: report }, comparison] = await Promise.all([
    api(`/api/plans/${encodeURIComponent(p.code)}/check`),
    based ? api(`/api/plans/${encodeURIComponent(p.code)}/compare?from=${based}&to=${props.version_no}`).then((r) => r.data)
      : Promise.resolve(null),
  ]);
  const { warnings } = findings(report);
  if (warnings.length) {
    const ul = el("ul");
    for (const w of warnings) ul.append(el("li", {}, w.message_zh));
    node.append(el("div", { class: "warn-box", role: "note" }, el("strong", {}, T.review.warningsFirst), ul));
  }
  const mapHost = el("div", { class: "plan-map", role: "img", "aria-label": `${p.code} ${T.map.inForce}` });
  const facts = el("div", { class: "facts" });
  const four = SIDES.map(([field, , label]) => props[field] || `${label}${T.dash}`).join("，");
  const info = el("table", { class: "info" });
  const rows = [
    [T.review.four, four],
    [T.review.mode, props.renewal_mode_label || T.dash],
    [T.review.newFloor, props.planned_new_floor_area_m2 === null ? T.dash : `${Number(props.planned_new_floor_area_m2).toLocaleString("zh-CN")} ${T.m2}`],
    [T.review.boundary, props.boundary_source_label],
    [T.review.guidance, (props.industry_guidance || []).join("、") || T.review.noGuidance],
  ];
  if (props.change_note) rows.push([T.review.changeNote, props.change_note]);
  for (const [k, val] of rows) info.append(el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, val)));
  facts.append(reportView(report), info);
  if (comparison) {
    const parts = Object.fromEntries(comparison.geometry.features.map((f) => [f.properties.change, f.properties.area_mu]));
    facts.append(el("div", { class: "diff" }, el("h4", {}, T.review.diff(based)),
      el("p", {}, `${mu(comparison.area_mu.from)} → ${mu(comparison.area_mu.to)} ${T.mu}（${T.review.diffArea(mu(parts.added || 0), mu(parts.removed || 0))}）`),
      el("p", {}, T.review.diffParcels(comparison.parcels.added.map((x) => x.code).join("、"), comparison.parcels.removed.map((x) => x.code).join("、"))),
      el("p", {}, T.review.diffEnterprises(comparison.enterprises.added.map((x) => x.name).join("、"), comparison.enterprises.removed.map((x) => x.name).join("、")))));
  }
  node.append(el("div", { class: "review-grid" }, mapHost, facts));
  const lists = el("div", { class: "review-grid" });
  node.append(lists, decisionControls(p.code));
  // Wired before the map and lists load: a button that shows must work.
  for (const b of node.querySelectorAll("[data-one]")) {
    b.addEventListener("click", () => {
      node.querySelector("[name=action]").value = b.dataset.one;
      send([node]);
    });
  }
  holder.append(node);
  const parcels = await drawMap(mapHost, p.code, v, report, comparison);
  lists.append(
    el("div", {}, el("h4", {}, T.review.parcels(parcels.features.length)), table(T.review.parcelCols, parcels.features.map((f) => [
      f.id, mu(f.properties.land_area_mu), f.properties.enterprise_name || CLASS_LABELS.no_enterprise,
      f.properties.classification_label || CLASS_LABELS.unclassified, far(f.properties.far)]))),
    el("div", {}, el("h4", {}, T.review.enterprises(props.enterprises.length)), table(T.review.entCols, props.enterprises.map((e) => [
      e.name, e.credit_code || T.codePending, e.classification_label || CLASS_LABELS.unclassified, e.reason || T.dash]))),
  );
}

function decisionOf(node) {
  const get = (n) => node.querySelector(`[name=${n}]`).value.trim();
  return { code: node.dataset.code, action: get("action"), comment: get("comment") || null,
    doc_no: get("doc_no") || null, approval_date: get("approval_date") || null };
}

/** What is missing before the server is asked, beside the field of the plan it concerns. */
function incomplete(node, d) {
  const errors = [];
  if (d.action === "approve" && !d.doc_no) errors.push({ field: "doc_no", message: T.review.docMissing });
  if (d.action === "approve" && !d.approval_date) errors.push({ field: "approval_date", message: T.review.dateMissing });
  if (d.action === "return" && !d.comment) errors.push({ field: "comment", message: T.review.reasonMissing });
  const err = new Error(errors.length ? errors[0].message : "");
  err.errors = errors;
  showFieldErrors(node, node.querySelector(".card-message"), err, undefined, { list: false });
  if (!errors.length) node.querySelector(".card-message").textContent = "";
  return errors.length > 0;
}

async function send(nodes) {
  box.textContent = "";
  const chosen = nodes.map((n) => [n, decisionOf(n)]).filter(([, d]) => d.action);
  if (!chosen.length) {
    box.append(el("p", { class: "error" }, T.review.nothingChosen));
    return;
  }
  if (chosen.map(([n, d]) => incomplete(n, d)).some(Boolean)) return;
  const decisions = chosen.map(([, d]) => d);
  const approved = decisions.filter((d) => d.action === "approve");
  const returned = decisions.filter((d) => d.action === "return");
  const lines = [
    ...approved.map((d) => `${T.review.approve} ${d.code}：${d.doc_no}（${d.approval_date}）`),
    ...returned.map((d) => `${T.review.return} ${d.code}：${d.comment}`),
  ];
  if (!await confirmAction(T.confirm.decisions(approved.length, returned.length), { lines })) return;
  try {
    const { data } = await api("/api/review/batch", { method: "POST", body: { decisions } });
    // The queue is redrawn first, so the result is announced over the list it describes.
    await load().catch((err) => showError(pageBox, err));
    box.append(el("p", { class: data.failed ? "error" : "ok" }, T.review.result(data.approved, data.returned, data.failed)));
    for (const r of data.results.filter((x) => !x.ok)) box.append(el("p", { class: "error" }, `${r.code}：${r.detail}`));
    box.scrollIntoView({ block: "nearest" });
  } catch (err) { showError(box, err); }
}

async function load() {
  const { data } = await api("/api/review/batch");
  holder.textContent = "";
  sendButton.hidden = !data.count;
  if (!data.count) holder.append(el("p", {}, T.review.none));
  for (const p of data.data) await card(p);
}

sendButton.addEventListener("click", () => send([...holder.querySelectorAll(".review-card")]));

async function start() {
  try {
    await mountShell({ page: "review" });
    await load();
  } catch (err) {
    sendButton.hidden = true;
    holder.textContent = "";
    showError(pageBox, err.status === 403 ? Object.assign(new Error(T.forbiddenPage(err.message)), { errors: [] }) : err);
  }
  document.body.dataset.ready = "true";
}

start();
