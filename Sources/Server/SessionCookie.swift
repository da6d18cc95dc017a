import Hummingbird

/// The cookies login uses. `resnet18_session` holds the session's secret: HttpOnly (scripts cannot read it),
/// SameSite=Lax (not sent on cross-site POSTs; sent when following a link here, so a bookmark from a mail stays
/// signed in: every state change also needs the CSRF token). `Secure` is added with `--secure-cookies`, or when a
/// proxy says the browser used https (`X-Forwarded-Proto: https`), since the server cannot see TLS it does not end.
/// `resnet18_login` carries the login form's own CSRF token (double submit), so another site cannot sign a
/// browser into an account of its choosing.
enum SessionCookie {
    static let session = "resnet18_session"
    static let login = "resnet18_login"

    static func setting(_ name: String, value: String, maxAgeSeconds: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAgeSeconds); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    static func clearing(_ name: String, secure: Bool) -> String {
        setting(name, value: "", maxAgeSeconds: 0, secure: secure)
    }

    static func isSecure(_ request: Request, always: Bool) -> Bool {
        always || request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    static func value(_ name: String, in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty else { return nil }
        return value
    }
}
