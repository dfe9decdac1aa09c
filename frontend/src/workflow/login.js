import { api, showError } from "../common/api.js";
import { HOME, mountShell } from "../common/shell.js";

/** Only a path of this site: "//host" or "/\host" would leave it. */
function safeNext() {
  const next = new URLSearchParams(location.search).get("next");
  return next && /^\/(?![/\\])/.test(next) && !next.startsWith("/login") ? next : null;
}

/* The form is wired before the shell asks who is logged in: a click in between would otherwise
   submit the form natively. Until then its button stays disabled (the page's HTML). */
const loginForm = document.getElementById("login");
loginForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const box = document.getElementById("message");
  try {
    const { data } = await api("/api/auth/login", { method: "POST",
      body: { username: form.get("username"), password: form.get("password") } });
    location.href = safeNext() || HOME[data.user.role] || "/";
  } catch (err) {
    showError(box, err);
  }
});
loginForm.querySelector("button[type=submit]").disabled = false;

const user = await mountShell({ page: "login" });
if (user) location.replace(safeNext() || HOME[user.role] || "/");
