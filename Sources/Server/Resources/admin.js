"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  function showError(message) {
    $("admin-error").textContent = message;
    $("admin-error").hidden = false;
  }

  async function call(method, url, body) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try { message = (await response.json()).error || message; } catch (_) { /* not JSON: keep the status line */ }
      throw new Error(message);
    }
    return response.status === 204 ? null : response.json();
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    return td;
  }

  async function loadTokens() {
    const answer = await call("GET", "/v1/tokens");
    const rows = $("token-rows");
    rows.replaceChildren();
    for (const token of answer.tokens) {
      const row = document.createElement("tr");
      row.dataset.id = token.id;
      row.append(cell(token.name), cell(token.role), cell(token.created_by), cell(token.created_at),
                 cell(token.expires_at || "never"), cell(token.revoked_at ? "revoked " + token.revoked_at : "active"));
      const actions = document.createElement("td");
      if (!token.revoked_at) {
        const button = document.createElement("button");
        button.className = "quiet revoke";
        button.textContent = "Revoke";
        button.addEventListener("click", async () => {
          try { await call("DELETE", "/v1/tokens/" + encodeURIComponent(token.id)); await loadTokens(); }
          catch (error) { showError(error.message); }
        });
        actions.append(button);
      }
      row.append(actions);
      rows.append(row);
    }
  }

  async function start() {
    try {
      const session = await call("GET", "/v1/session");
      $("account-name").textContent = session.user + " (" + session.role + ")";
      await loadTokens();
    } catch (error) { showError(error.message); }
  }

  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("admin-error").hidden = true;
    const body = { name: $("token-name").value, role: $("token-role").value };
    if ($("token-days").value) body.expires_in_days = Number($("token-days").value);
    try {
      const made = await call("POST", "/v1/tokens", body);
      $("token-secret").textContent = made.token;
      $("token-made").hidden = false;
      $("token-name").value = "";
      await loadTokens();
    } catch (error) { showError(error.message); }
  });

  start();
})();
