import { api, el, mu, showError, whoami } from "./api.js";

const form = document.getElementById("draft");
const box = document.getElementById("message");
let editing = null; // { code, etag } while a draft is open in the form

function fill(plan, version) {
  editing = { code: plan.code, etag: `"${plan.version}"` };
  document.getElementById("draft-title").textContent = `修改 ${plan.code} 第 ${version.version_no} 版`;
  form.code.value = plan.code;
  form.code.disabled = true;
  for (const k of ["name", "year", "four_east", "four_south", "four_west", "four_north", "change_note"]) {
    form[k].value = version[k] ?? "";
  }
  form.parcels.value = version.parcels.map((p) => p.code).join("\n");
}

async function open(code) {
  const { data: plan } = await api(`/api/plans/${encodeURIComponent(code)}`);
  const { data: v } = await api(`/api/plans/${encodeURIComponent(code)}/versions/${plan.working_version_no}`);
  fill(plan, v.properties);
}

async function act(code, path, body) {
  try {
    await api(`/api/plans/${encodeURIComponent(code)}/${path}`, { method: "POST", body });
    box.innerHTML = "";
    box.append(el("p", { class: "ok" }, "已完成"));
    await load();
  } catch (err) { showError(box, err); }
}

async function load() {
  const { data } = await api("/api/plans");
  const tbody = document.querySelector("#plans tbody");
  tbody.textContent = "";
  for (const p of data.data.filter((p) => p.can_edit)) {
    const ops = el("td");
    if (["draft", "returned"].includes(p.status)) {
      ops.append(el("button", { onclick: () => open(p.code) }, "修改"), " ",
        el("button", { onclick: () => act(p.code, "submit") }, "提交评审"));
    }
    if (p.status === "approved" && p.working_version_no === null) {
      ops.append(el("button", { onclick: () => {
        const note = prompt("变更说明（为何调整边界或企业清单）");
        if (note) act(p.code, "revisions", { change_note: note });
      } }, "发起变更"));
      const next = { planned: "started", started: "in_progress", in_progress: "completed" }[p.stage];
      if (next) ops.append(" ", el("button", { onclick: () => act(p.code, "stage", { stage: next }) }, "推进到下一阶段"));
    }
    const last = p.versions[p.versions.length - 1] || {};
    tbody.append(el("tr", {}, el("td", {}, p.code), el("td", {}, p.name ?? ""),
      el("td", {}, p.status_label + (last.review_comment ? `（${last.review_comment}）` : "")),
      el("td", {}, p.stage_label ?? "—"), el("td", {}, mu(p.area_mu)), ops));
  }
  const notes = await api("/api/notifications?unread=true");
  const sec = document.getElementById("notes");
  sec.textContent = "";
  for (const n of notes.data.data) {
    sec.append(el("p", { class: n.kind === "approved" ? "ok" : "error" }, n.message, " ",
      el("button", { onclick: async () => { await api(`/api/notifications/${n.id}/read`, { method: "POST" }); load(); } }, "知道了")));
  }
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = {};
  for (const k of ["name", "four_east", "four_south", "four_west", "four_north", "change_note"]) {
    if (form[k].value) body[k] = form[k].value;
  }
  if (form.year.value) body.year = Number(form.year.value);
  body.parcels = form.parcels.value.split(/\s+/).filter(Boolean);
  try {
    if (editing) {
      await api(`/api/plans/${encodeURIComponent(editing.code)}/draft`, { method: "PATCH", body, etag: editing.etag });
    } else {
      await api("/api/plans", { method: "POST", body: { ...body, code: form.code.value } });
    }
    box.innerHTML = "";
    box.append(el("p", { class: "ok" }, "草稿已保存"));
    reset();
    await load();
  } catch (err) { showError(box, err); }
});

function reset() {
  editing = null;
  form.reset();
  form.code.disabled = false;
  document.getElementById("draft-title").textContent = "新建方案";
}
document.getElementById("new").addEventListener("click", reset);

await whoami(document.getElementById("who"));
await load();
