import { api, showError } from "./api.js";

const HOME = { unit_officer: "/workflow/officer", reviewer: "/workflow/review", admin: "/workflow/review" };

document.getElementById("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const box = document.getElementById("message");
  try {
    const { data } = await api("/api/auth/login", { method: "POST",
      body: { username: form.get("username"), password: form.get("password") } });
    const next = new URLSearchParams(location.search).get("next");
    // Only a path of this site: "//host" or "/\host" would leave it.
    location.href = next && /^\/(?![/\\])/.test(next) ? next : (HOME[data.user.role] || "/workflow/planner");
  } catch (err) {
    showError(box, err);
  }
});
