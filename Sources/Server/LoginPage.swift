/// `GET /login`: a plain form (no script), posted to `/login` with the form's CSRF token; and the stylesheet the
/// login and admin pages share (`/assets/account.css`).
enum LoginPage {
    /// The form, with a message (an error, or why no login is needed) and where to go after signing in.
    static func html(csrfToken: String, next: String, message: String? = nil, isError: Bool = false) -> String {
        let notice = message.map { #"<p id="login-message" class="\#(isError ? "error" : "notice")" role="alert">\#(HTMLText.escape($0))</p>"# } ?? ""
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sign in · ResNet-18 image recognition</title>
            <link rel="stylesheet" href="/assets/account.css">
            </head>
            <body>
            <main class="card">
              <h1>Sign in</h1>
              \(notice)
              <form id="login-form" method="post" action="/login">
                <input type="hidden" name="csrf_token" value="\(HTMLText.escape(csrfToken))">
                <input type="hidden" name="next" value="\(HTMLText.escape(next))">
                <label>User name <input id="username" name="username" autocomplete="username" required autofocus></label>
                <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
                <button id="sign-in" type="submit">Sign in</button>
              </form>
              <p class="hint">Accounts are made on the server with <code>resnet18 user add</code>.</p>
            </main>
            </body>
            </html>
            """
    }

    /// No script, so the login page needs nothing but its stylesheet.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    static let css = """
        :root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee8; --accent: #2f6fde; --bad: #b3261e; --paper: #f6f7fb; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--paper); }
        .card { max-width: 420px; margin: 48px auto; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 24px; }
        .wide { max-width: 960px; }
        h1 { font-size: 1.5rem; margin: 0 0 16px; }
        h2 { font-size: 1.15rem; margin: 24px 0 8px; }
        label { display: block; margin: 0 0 12px; font-weight: 600; }
        input, select { display: block; width: 100%; margin-top: 4px; padding: 8px 10px; font: inherit; border: 1px solid var(--line); border-radius: 8px; }
        button { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 10px 18px; font: inherit; font-weight: 600; cursor: pointer; }
        button.quiet { background: #e4e8f0; color: var(--ink); padding: 4px 10px; font-weight: 500; }
        .error { background: #fdecea; color: var(--bad); border: 1px solid #f4c7c3; border-radius: 8px; padding: 10px 14px; overflow-wrap: anywhere; }
        .notice { background: #eef3fd; border: 1px solid #c9d8f6; border-radius: 8px; padding: 10px 14px; }
        .error[hidden], .notice[hidden] { display: none; }
        .hint { color: var(--muted); font-size: .9rem; }
        table { width: 100%; border-collapse: collapse; font-size: .9rem; }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
        .secret { font-family: ui-monospace, monospace; background: #f0f2f7; padding: 8px; border-radius: 6px; overflow-wrap: anywhere; }
        .inline { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
        .inline label { flex: 1 1 160px; margin-bottom: 0; }
        nav a { color: var(--accent); }
        """
}
