"use strict";
(() => {
  const plainFetch = window.fetch.bind(window);
  const session = plainFetch("/v1/session", { headers: { "Accept": "application/json" } })
    .then((response) => response.ok ? response.json() : null)
    .catch(() => null);
  // Page scripts read the caller from here instead of asking /v1/session again.
  window.resnet18Session = session;

  function sameOrigin(url) {
    try { return new URL(url, location.href).origin === location.origin; } catch (_) { return false; }
  }

  window.fetch = async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    const method = (init.method || (typeof input === "string" ? "GET" : input.method) || "GET").toUpperCase();
    if (sameOrigin(url) && !["GET", "HEAD", "OPTIONS"].includes(method)) {
      const current = await session;
      if (current && current.csrf_token) {
        const headers = new Headers(init.headers || (typeof input === "string" ? undefined : input.headers));
        headers.set("X-CSRF-Token", current.csrf_token);
        init = { ...init, headers };
      }
    }
    const response = await plainFetch(input, init);
    if (response.status === 401 && sameOrigin(url)) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname);
    }
    return response;
  };

  document.addEventListener("DOMContentLoaded", async () => {
    const current = await session;
    const account = document.getElementById("account");
    if (!account || !current || current.auth !== "session") return;
    document.getElementById("account-name").textContent = current.user + " (" + current.role + ")";
    document.getElementById("logout-csrf").value = current.csrf_token;
    document.getElementById("admin-link").hidden = current.role !== "admin";
    document.getElementById("heads-link").hidden = current.role !== "admin";
    account.hidden = false;
  });
})();
