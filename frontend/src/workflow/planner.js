import { api, h as el, mu, showError } from "../common/api.js";
import { mountShell } from "../common/shell.js";
import { T } from "./strings.js";

const box = document.getElementById("message");
const cmp = document.getElementById("compare");

async function compare(code, from, to) {
  try {
    const { data } = await api(`/api/plans/${encodeURIComponent(code)}/compare?from=${from}&to=${to}`);
    const parts = Object.fromEntries(data.geometry.features.map((f) => [f.properties.change, f.properties.area_mu]));
    cmp.hidden = false;
    cmp.textContent = "";
    cmp.append(el("h3", {}, T.planner.compareTitle(code, from, to)),
      el("p", {}, T.planner.compareArea(mu(data.area_mu.from), mu(data.area_mu.to), mu(parts.added), mu(parts.removed))),
      el("p", {}, T.review.diffParcels(data.parcels.added.map((p) => p.code).join("、"), data.parcels.removed.map((p) => p.code).join("、"))),
      el("p", {}, T.review.diffEnterprises(data.enterprises.added.map((e) => e.name).join("、"), data.enterprises.removed.map((e) => e.name).join("、"))));
  } catch (err) { showError(box, err); }
}

async function load() {
  const { data } = await api("/api/plans");
  const tbody = document.querySelector("#plans tbody");
  for (const p of data.data) {
    const versions = el("td");
    for (const v of p.versions) {
      const approved = v.approval_doc_no ? `（${v.approval_doc_no}${v.approval_date ? "，" + v.approval_date : ""}）` : "";
      versions.append(el("span", { class: "version" }, `v${v.version_no} ${v.status_label}${approved}`), " ");
    }
    if (p.current_version_no) {
      versions.append(el("a", { href: `/?block=${encodeURIComponent(p.code)}` }, T.planner.onMap), " ");
    }
    if (p.versions.length > 1) {
      const n = p.versions.length;
      versions.append(el("button", { onclick: () => compare(p.code, p.versions[n - 2].version_no, p.versions[n - 1].version_no) }, T.planner.compare));
    }
    // An approved block under revision: the approved version stays in force until the new one is approved.
    const revising = p.current_version_no && p.working_version_no && p.working_version_no !== p.current_version_no;
    const status = revising ? T.planner.revising(p.status_label, p.working_version_no, p.current_version_no) : p.status_label;
    const area = revising ? T.planner.revisedArea(mu(p.area_mu)) : mu(p.area_mu);
    tbody.append(el("tr", {}, el("td", {}, p.code), el("td", {}, p.name ?? ""), el("td", {}, p.unit_name),
      el("td", {}, status), el("td", {}, p.stage_label ?? T.dash), el("td", {}, area), versions));
  }
}

try {
  if (await mountShell({ page: "planner", roles: ["planner", "gis_staff", "unit_officer", "reviewer", "admin"] })) await load();
} catch (err) {
  showError(box, err);
}
