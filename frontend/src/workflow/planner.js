import { api, el, mu, showError, whoami } from "./api.js";

const box = document.getElementById("message");
const cmp = document.getElementById("compare");

async function compare(code, from, to) {
  try {
    const { data } = await api(`/api/plans/${encodeURIComponent(code)}/compare?from=${from}&to=${to}`);
    const parts = Object.fromEntries(data.geometry.features.map((f) => [f.properties.change, f.properties.area_mu]));
    cmp.hidden = false;
    cmp.textContent = "";
    cmp.append(el("h3", {}, `${code}：第 ${from} 版 → 第 ${to} 版`),
      el("p", {}, `面积 ${mu(data.area_mu.from)} → ${mu(data.area_mu.to)} 亩（新增 ${mu(parts.added)} 亩，减少 ${mu(parts.removed)} 亩）`),
      el("p", {}, `宗地增加：${data.parcels.added.map((p) => p.code).join("、") || "无"}；减少：${data.parcels.removed.map((p) => p.code).join("、") || "无"}`),
      el("p", {}, `企业增加：${data.enterprises.added.map((e) => e.name).join("、") || "无"}；减少：${data.enterprises.removed.map((e) => e.name).join("、") || "无"}`));
  } catch (err) { showError(box, err); }
}

async function load() {
  const { data } = await api("/api/plans");
  const tbody = document.querySelector("#plans tbody");
  for (const p of data.data) {
    const versions = el("td");
    for (const v of p.versions) {
      versions.append(el("a", { href: `/api/plans/${encodeURIComponent(p.code)}/versions/${v.version_no}` },
        `v${v.version_no} ${v.status_label}${v.approval_doc_no ? "（" + v.approval_doc_no + "）" : ""}`), " ");
    }
    if (p.versions.length > 1) {
      const n = p.versions.length;
      versions.append(el("button", { onclick: () => compare(p.code, p.versions[n - 2].version_no, p.versions[n - 1].version_no) }, "比较最近两版"));
    }
    // An approved block under revision: the approved version stays in force until the new one is approved.
    const revising = p.current_version_no && p.working_version_no && p.working_version_no !== p.current_version_no;
    const status = revising ? `${p.status_label}（修订第 ${p.working_version_no} 版；第 ${p.current_version_no} 版已认定，仍有效）` : p.status_label;
    const area = revising ? `${mu(p.area_mu)}（修订稿）` : mu(p.area_mu);
    tbody.append(el("tr", {}, el("td", {}, p.code), el("td", {}, p.name ?? ""), el("td", {}, p.unit_name),
      el("td", {}, status), el("td", {}, p.stage_label ?? "—"), el("td", {}, area), versions));
  }
}

await whoami(document.getElementById("who"));
await load();
