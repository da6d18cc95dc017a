/// `GET /login`: a plain form (`Resources/login.html`, no script), posted to `/login` with the form's CSRF token.
enum LoginPage {
    private static let template = PageTemplate(file: "login.html")

    /// The form, with a message (an error, or why no login is needed) and where to go after signing in.
    static func html(csrfToken: String, next: String, message: String? = nil, isError: Bool = false) -> String {
        template.render(["csrf_token": csrfToken, "next": next, "message": message ?? "", "message_kind": isError ? "error" : "notice"])
    }

    /// No script, so the login page needs nothing but its stylesheet.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
}
