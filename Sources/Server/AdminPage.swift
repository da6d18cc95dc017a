import Hummingbird
import NIOCore

/// `GET /admin`: API tokens for admins (list, make, revoke), drawn by `/assets/admin.js` from `/v1/tokens`.
enum AdminPage {
    static func register(on router: Router<BasicRequestContext>) {
        router.get("/admin") { _, _ in
            page(html, type: "text/html; charset=utf-8", extra: [.contentSecurityPolicy: WebPage.contentSecurityPolicy, .cacheControl: "no-store"])
        }
        router.get("/assets/account.css") { _, _ in page(LoginPage.css, type: "text/css; charset=utf-8") }
        router.get("/assets/admin.js") { _, _ in page(javascript, type: "text/javascript; charset=utf-8") }
        router.get("/assets/session.js") { _, _ in page(SessionScript.javascript, type: "text/javascript; charset=utf-8") }
    }

    private static func page(_ body: String, type: String, extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Admin · ResNet-18 image recognition</title>
        <link rel="stylesheet" href="/assets/account.css">
        <script src="/assets/session.js"></script>
        <script src="/assets/admin.js" defer></script>
        </head>
        <body>
        <main class="card wide">
          <nav><a href="/">← Back to the page</a> · signed in as <span id="account-name">…</span></nav>
          <h1>API tokens</h1>
          <p class="hint">Programs send a token as <code>Authorization: Bearer TOKEN</code>. A token is shown once, when it is made;
          the server keeps only its hash. Users are managed on the server with <code>resnet18 user add|remove|list|passwd</code>.</p>
          <p id="admin-error" class="error" role="alert" hidden></p>
          <form id="token-form" class="inline">
            <label>What it is for <input id="token-name" name="name" required maxlength="100" placeholder="prometheus"></label>
            <label>Role <select id="token-role" name="role"><option value="viewer">viewer</option><option value="admin">admin</option></select></label>
            <label>Expires in days <input id="token-days" name="expires_in_days" type="number" min="1" max="3650" placeholder="never"></label>
            <button id="token-create" type="submit">Make token</button>
          </form>
          <div id="token-made" class="notice" hidden>
            <p>Copy this token now: it will not be shown again.</p>
            <p id="token-secret" class="secret"></p>
          </div>
          <h2>Tokens</h2>
          <table>
            <thead><tr><th>name</th><th>role</th><th>made by</th><th>made</th><th>expires</th><th>state</th><th></th></tr></thead>
            <tbody id="token-rows"></tbody>
          </table>
        </main>
        </body>
        </html>
        """

    /// Every server-provided string goes through `textContent`; `/assets/session.js` adds the CSRF token to state changes.
    static let javascript = #"""
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
              try { message = (await response.json()).error || message; } catch (_) {}
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
        """#
}
