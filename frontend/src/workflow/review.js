import { api, el, mu, showError, whoami } from "./api.js";

const holder = document.getElementById("batch");
const box = document.getElementById("message");

function reportList(report) {
  const ul = el("ul");
  for (const v of report.violations) ul.append(el("li", { class: v.severity === "error" ? "error" : "" }, v.message_zh));
  if (!report.violations.length) ul.append(el("li", { class: "ok" }, "全部规则通过"));
  return ul;
}

async function load() {
  const { data } = await api("/api/review/batch");
  holder.textContent = "";
  if (!data.count) holder.append(el("p", {}, "没有待评审的方案"));
  for (const p of data.data) {
    const v = p.submitted.properties;
    const card = el("div", { class: "card", "data-code": p.code },
      el("h3", {}, `${p.code} ${v.name}（${p.unit_name}，第 ${v.version_no} 版）`),
      el("p", {}, `面积 ${mu(v.area_mu)} 亩；宗地 ${v.parcel_count} 宗；企业 ${v.enterprise_count} 家；` +
        `${v.four_east ?? ""} ${v.four_south ?? ""} ${v.four_west ?? ""} ${v.four_north ?? ""}`),
      reportList(v.report),
      el("label", {}, "决定 ", (() => {
        const s = el("select", { name: "action" }, el("option", { value: "" }, "暂不处理"),
          el("option", { value: "approve" }, "认定"), el("option", { value: "return" }, "退回"));
        return s;
      })()),
      el("label", {}, "认定文号 ", el("input", { name: "doc_no", placeholder: "桐有更〔2023〕1号" })),
      el("label", {}, "认定日期 ", el("input", { name: "approval_date", type: "date" })),
      el("label", {}, "意见 ", el("textarea", { name: "comment", rows: "2" })));
    holder.append(card);
  }
}

document.getElementById("send").addEventListener("click", async () => {
  const decisions = [];
  for (const card of holder.querySelectorAll(".card")) {
    const get = (n) => card.querySelector(`[name=${n}]`).value;
    if (!get("action")) continue;
    decisions.push({ code: card.dataset.code, action: get("action"), comment: get("comment") || null,
      doc_no: get("doc_no") || null, approval_date: get("approval_date") || null });
  }
  if (!decisions.length) return;
  try {
    const { data } = await api("/api/review/batch", { method: "POST", body: { decisions } });
    box.textContent = "";
    box.append(el("p", { class: "ok" }, `认定 ${data.approved} 个，退回 ${data.returned} 个，未成功 ${data.failed} 个`));
    for (const r of data.results.filter((r) => !r.ok)) box.append(el("p", { class: "error" }, `${r.code}：${r.detail}`));
    await load();
  } catch (err) { showError(box, err); }
});

await whoami(document.getElementById("who"));
await load();
