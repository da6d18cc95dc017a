import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// Finds out who calls (API token, session cookie, or nobody), applies `AccessPolicy`, checks the CSRF token on
/// cookie-authenticated state changes, and runs the route with `Caller.current` set. While the service is open
/// every request runs as `Caller(credential: .open)` and nothing is checked.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let gate: AuthenticationGate
    let credentials: CredentialService?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard try await gate.isEnforced() else {
            return try await Caller.$current.withValue(Caller(credential: .open)) { try await next(request, context) }
        }
        guard let credentials else { throw APIError.internalError("login is enforced but there is no credential store") }
        var request = request
        let requirement = AccessPolicy.requirement(for: request.uri.path, method: request.method)
        let caller = try await identify(request, requirement: requirement, credentials: credentials)
        if case let .role(role) = requirement {
            guard let caller else {
                if wantsPage(request) { return Self.redirectToLogin(from: request) }
                throw APIError.unauthenticated("sign in at /login, or send `Authorization: Bearer TOKEN` (an admin makes tokens at /admin)")
            }
            guard caller.role.includes(role) else {
                throw APIError.forbidden("\(request.uri.path) is for admins; \(caller.name) is a \(caller.role.rawValue)")
            }
        }
        if let caller, case let .session(session) = caller.credential, AccessPolicy.changesState(request.method),
           request.uri.path != "/login" {
            try await checkCSRF(&request, session: session)
        }
        return try await Caller.$current.withValue(caller) { [request] in try await next(request, context) }
    }

    /// A bearer token wins over a cookie. A bad token is refused on protected routes (the client meant to use it);
    /// an unknown or expired session cookie just means "not signed in".
    private func identify(_ request: Request, requirement: AccessPolicy.Requirement, credentials: CredentialService) async throws -> Caller? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer",
               let token = try await credentials.token(secret: parts[1].trimmingCharacters(in: .whitespaces)) {
                return Caller(credential: .token(token))
            }
            guard requirement == .everyone else {
                throw APIError.unauthenticated(parts.first?.lowercased() == "bearer"
                    ? "the API token is unknown, revoked or expired: ask an admin for a new one"
                    : "only `Authorization: Bearer TOKEN` is accepted (or sign in at /login)")
            }
            return nil
        }
        if let secret = SessionCookie.value(SessionCookie.session, in: request),
           let session = try await credentials.session(secret: secret) {
            return Caller(credential: .session(session))
        }
        return nil
    }

    private func checkCSRF(_ request: inout Request, session: SessionRecord) async throws {
        var presented = request.headers[AccessPolicy.csrfHeader]
        if presented == nil, FormFields.isForm(request.headers[.contentType]) {
            let body = try await request.collectBody(upTo: AccessPolicy.largestFormBytes)
            presented = FormFields(String(buffer: body))["csrf_token"]
        }
        guard let presented, SecretToken.equal(presented, session.csrfToken) else {
            throw APIError.csrfRejected(presented == nil
                ? "this request changes state with a session cookie but carries no CSRF token: send the header X-CSRF-Token (from GET /v1/session) or the form field csrf_token"
                : "the CSRF token does not belong to this session: reload the page and try again")
        }
    }

    /// A browser asking for a page (not a script asking for JSON): send it to the login page instead of a 401.
    private func wantsPage(_ request: Request) -> Bool {
        request.method == .get && (request.headers[.accept]?.contains("text/html") ?? false)
    }

    static func redirectToLogin(from request: Request) -> Response {
        let next = request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-_."))) ?? "/"
        return Response(status: .seeOther, headers: [.location: "/login?next=\(next)", .cacheControl: "no-store"])
    }
}
