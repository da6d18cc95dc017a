import Foundation
import Hummingbird
import NIOCore
import Storage

/// `GET/POST /login`, `POST /logout` and `GET /v1/session` (who is signed in, and the CSRF token for the page's script).
struct LoginRoutes: Sendable {
    let gate: AuthenticationGate
    let credentials: CredentialService?
    let throttle: LoginThrottle
    let sessionLifetimeSeconds: Int
    let secureCookies: Bool

    /// The answer of `GET /v1/session`.
    struct SessionInfo: Encodable {
        /// `session`, `token`, or `open` when no login is asked.
        let auth: String
        let user: String
        let role: String
        /// For cookie sessions: the value of the `X-CSRF-Token` header on POST and DELETE requests.
        let csrfToken: String?
        let expiresAt: String?

        enum CodingKeys: String, CodingKey {
            case auth, user, role, csrfToken = "csrf_token", expiresAt = "expires_at"
        }
    }

    func register(on router: RouteTable) {
        router.get("/login") { request, _ in
            let message = try await gate.isEnforced() ? nil : "No login is needed: this service runs open. Add a user with `resnet18 user add` to turn login on."
            return loginPage(request, status: .ok, message: message, isError: false, next: Self.safeNext(request.formParameters["next"].map(String.init)))
        }
        router.post("/login") { request, _ in try await signIn(request) }
        router.post("/logout") { request, _ in
            if case .session? = Caller.current?.credential, let credentials,
               let secret = SessionCookie.value(SessionCookie.session, in: request) {
                try await credentials.endSession(secret: secret)
            }
            var headers: HTTPFields = [.location: "/login", .cacheControl: "no-store"]
            headers.append(.init(name: .setCookie, value: SessionCookie.clearing(SessionCookie.session, secure: SessionCookie.isSecure(request, always: secureCookies))))
            return Response(status: .seeOther, headers: headers)
        }
        router.get("/v1/session") { _, _ in
            let caller = Caller.current ?? Caller(credential: .open)
            var info = SessionInfo(auth: "open", user: caller.name, role: caller.role.rawValue, csrfToken: nil, expiresAt: nil)
            switch caller.credential {
            case .open: break
            case let .session(session):
                info = SessionInfo(auth: "session", user: caller.name, role: caller.role.rawValue, csrfToken: session.csrfToken, expiresAt: Timestamp.iso8601(session.expiresAt))
            case let .token(token):
                info = SessionInfo(auth: "token", user: caller.name, role: caller.role.rawValue, csrfToken: nil, expiresAt: token.expiresAt.map(Timestamp.iso8601))
            }
            return try JSONBody.response(info, headers: [.cacheControl: "no-store"])
        }
    }

    private func signIn(_ request: Request) async throws -> Response {
        guard FormFields.isForm(request.headers[.contentType]) else {
            throw APIError.unsupportedContentType("POST /login takes the login form (application/x-www-form-urlencoded); programs use API tokens instead")
        }
        var request = request
        let form = FormFields(String(buffer: try await request.collectBody(upTo: AccessPolicy.largestFormBytes)))
        let next = Self.safeNext(form["next"])
        guard let presented = form["csrf_token"], let expected = SessionCookie.value(SessionCookie.login, in: request),
              SecretToken.equal(presented, expected)
        else {
            return loginPage(request, status: .forbidden, message: "The login form has expired (or cookies are off): please try again.", next: next)
        }
        guard let name = form["username"], !name.isEmpty, let password = form["password"], !password.isEmpty else {
            return loginPage(request, status: .badRequest, message: "Enter a user name and a password.", next: next)
        }
        let client = ClientAddress.current
        if let seconds = await throttle.retryAfterSeconds(user: name, client: client) {
            var response = loginPage(request, status: .tooManyRequests,
                                     message: "Too many failed logins: try again in \(seconds) s.", next: next)
            response.headers[.retryAfter] = String(seconds)
            return response
        }
        guard let credentials, let user = try await credentials.user(named: name, password: password) else {
            await throttle.recordFailure(user: name, client: client)
            return loginPage(request, status: .unauthorized, message: "Wrong user name or password.", next: next)
        }
        await throttle.recordSuccess(user: name, client: client)
        let (secret, _) = try await credentials.startSession(for: user)
        let secure = SessionCookie.isSecure(request, always: secureCookies)
        var headers: HTTPFields = [.location: next, .cacheControl: "no-store"]
        headers.append(.init(name: .setCookie, value: SessionCookie.setting(SessionCookie.session, value: secret, maxAgeSeconds: sessionLifetimeSeconds, secure: secure)))
        headers.append(.init(name: .setCookie, value: SessionCookie.clearing(SessionCookie.login, secure: secure)))
        return Response(status: .seeOther, headers: headers)
    }

    /// The login page with a fresh form token, set in its cookie too.
    private func loginPage(_ request: Request, status: HTTPResponse.Status, message: String?, isError: Bool = true, next: String) -> Response {
        let token = SecretToken.make()
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: LoginPage.contentSecurityPolicy,
        ]
        headers.append(.init(name: .setCookie, value: SessionCookie.setting(SessionCookie.login, value: token, maxAgeSeconds: 3600,
                                                                             secure: SessionCookie.isSecure(request, always: secureCookies))))
        return Response(status: status, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: LoginPage.html(csrfToken: token, next: next, message: message, isError: isError))))
    }

    /// Only a path on this server (no `//host`, no scheme), so the login cannot send the browser elsewhere.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
              next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else { return "/" }
        return next
    }
}
