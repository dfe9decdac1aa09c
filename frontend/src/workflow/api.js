// Shared helpers for the workflow pages: JSON requests with the CSRF token, error display.
// Every permission is checked by the server; the pages only show what the API returns.

function csrfToken() {
  const m = document.cookie.match(/(?:^|; )cloudmap_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function api(path, { method = "GET", body, etag } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (etag) headers["If-Match"] = etag;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin" });
  if (res.status === 401 && !path.startsWith("/api/auth/login")) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new Error("请先登录");
  }
  const data = res.status === 204 ? null : await res.json();
  if (!res.ok) {
    const err = new Error(data && data.detail ? data.detail : `请求失败（${res.status}）`);
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
    else node.setAttribute(k, v);
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
  } }, "退出");
  header.append(" ", out);
  return u;
}
