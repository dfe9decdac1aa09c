// Shared helpers for the workflow pages: JSON requests with the CSRF token, error display,
// confirmations. Every permission is checked by the server; the pages only show what the API returns.
import { T } from "./strings.js";

function csrfToken() {
  const m = document.cookie.match(/(?:^|; )cloudmap_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function api(path, { method = "GET", body, etag, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (etag) headers["If-Match"] = etag;
  return respond(path, () => fetch(path, { method, headers, signal,
    body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" }));
}

/** A multipart upload (a boundary file) with the CSRF token. */
export async function upload(path, form) {
  return respond(path, () => fetch(path, { method: "POST", body: form, credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() } }));
}

async function respond(path, send) {
  let res;
  try {
    res = await send();
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new Error(T.networkError);
  }
  if (res.status === 401 && !path.startsWith("/api/auth/login")) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new Error(T.loginFirst);
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (err) { if (err.name === "AbortError") throw err; data = null; }
  }
  if (!res.ok) {
    const err = new Error(data && typeof data.detail === "string" ? data.detail : T.requestFailed(res.status));
    err.errors = (data && data.errors) || [];
    err.status = res.status;
    throw err;
  }
  return { data, etag: res.headers.get("ETag") };
}

// Areas in 亩 always with two decimals, as the rule messages and the map write them.
export function mu(value) {
  return value === null || value === undefined ? "" : Number(value).toFixed(2);
}

export function showError(box, err) {
  box.textContent = "";
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = err.message;
  box.appendChild(p);
  if (err.errors && err.errors.length) {
    const ul = document.createElement("ul");
    for (const e of err.errors) {
      const li = document.createElement("li");
      li.textContent = (e.feature ? `[${e.feature}] ` : "") + e.message;
      ul.appendChild(li);
    }
    box.appendChild(ul);
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

export async function whoami(header) {
  const { data } = await api("/api/auth/me");
  const u = data.user;
  header.textContent = `${u.display_name}（${u.role_label}${u.unit_name ? "，" + u.unit_name : ""}）`;
  const out = el("button", { type: "button", onclick: async () => {
    await api("/api/auth/logout", { method: "POST" });
    location.href = "/login";
  } }, T.logout);
  header.append(" ", out);
  return u;
}

/**
 * Ask before an action that cannot be undone: a modal dialog with the question, optional lines
 * (what will happen to which plan) and an optional text field that must be filled. Resolves to
 * false (cancelled), true, or the text entered.
 */
export function confirmAction(question, { lines = [], input = null, ok = T.ok } = {}) {
  return new Promise((resolve) => {
    const dialog = el("dialog", { class: "confirm", "aria-labelledby": "confirm-q" });
    const form = el("form", { method: "dialog" });
    form.append(el("p", { id: "confirm-q" }, question));
    if (lines.length) {
      const ul = el("ul");
      for (const line of lines) ul.append(el("li", {}, line));
      form.append(ul);
    }
    let field = null;
    const problem = el("p", { class: "error", role: "alert" });
    if (input) {
      field = el("textarea", { name: "text", rows: "3", "aria-label": input });
      form.append(el("label", {}, input, field), problem);
    }
    const yes = el("button", { type: "submit", value: "ok", class: "primary" }, ok);
    const no = el("button", { type: "button", value: "cancel" }, T.cancel);
    form.append(el("p", { class: "actions" }, yes, " ", no));
    dialog.append(form);
    document.body.append(dialog);
    const finish = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); finish(false); });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (field && !field.value.trim()) {
        problem.textContent = T.fillIn(input);
        field.focus();
        return;
      }
      finish(field ? field.value.trim() : true);
    });
    dialog.showModal();
    (field || yes).focus();
  });
}

/** Show a server refusal (403, 409, 422 …) beside the fields it names, and in ``box``. */
export function showFieldErrors(root, box, err, locate = () => null, { list = true } = {}) {
  for (const old of root.querySelectorAll(".field-error")) old.remove();
  for (const bad of root.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
  showError(box, list ? err : { message: err.message, errors: [] });
  for (const e of err.errors || []) {
    const target = locate(e) || (e.field && root.querySelector(`[data-field="${CSS.escape(e.field)}"]`));
    if (!target) continue;
    const input = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    if (input) input.setAttribute("aria-invalid", "true");
    target.append(el("span", { class: "field-error", role: "alert" }, e.message));
  }
}
