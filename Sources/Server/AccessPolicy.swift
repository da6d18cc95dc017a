import HTTPTypes
import Hummingbird
import Storage

/// Which routes need which credential when login is enforced. Anything not named here needs a signed-in user or
/// a token (default deny), so a route added later is protected until someone decides otherwise.
enum AccessPolicy {
    enum Requirement: Equatable {
        /// Anyone: the login page, health probes for load balancers and orchestrators, page assets, the API description.
        case everyone
        /// A viewer or an admin.
        case role(Role)
    }

    /// Paths anyone may read. `/metrics` is not among them: scrapers send a viewer token
    /// (Prometheus: `authorization: {credentials: ...}`), since request counts tell an outsider how the service is used.
    static let publicPaths: Set<String> = [
        "/login", "/logout", "/v2/health/live", "/v2/health/ready", "/openapi.yaml",
    ]
    /// Page assets (stylesheets, scripts) are code served from the binary, the same for everyone: public too, so the
    /// login page can be styled.
    static let publicPrefixes = ["/assets/"]

    /// Path prefixes only admins may use: API tokens, the admin page (users are managed with `resnet18 user`), and
    /// teaching heads (their examples are history frames and uploads; switching one on changes every answer).
    static let adminPrefixes = ["/v1/tokens", "/admin", "/v1/heads", "/heads"]
    /// Path prefixes viewers may read but only admins may change (POST, DELETE): the streams. A viewer watches the
    /// cameras and their alerts; adding or stopping one is an admin's.
    static let adminWritePrefixes = ["/v1/streams"]

    static func requirement(for rawPath: String, method: HTTPRequest.Method = .get) -> Requirement {
        let path = normalized(rawPath)
        if publicPaths.contains(path) || publicPrefixes.contains(where: path.hasPrefix) { return .everyone }
        // Lower-cased: a router that ever matched without case must not open admin routes to viewers.
        let lowered = path.lowercased()
        func under(_ prefix: String) -> Bool {
            lowered == prefix || lowered.hasPrefix(prefix + "/") || lowered.hasPrefix(prefix + ".")
        }
        if adminPrefixes.contains(where: under) { return .role(.admin) }
        if changesState(method), adminWritePrefixes.contains(where: under) { return .role(.admin) }
        return .role(.viewer)
    }

    /// The path as the router sees it: percent-decoded, empty segments dropped (`//v1/%74okens/` is `/v1/tokens`),
    /// so no spelling of an admin route passes for a viewer one.
    static func normalized(_ path: String) -> String {
        let decoded = path.removingPercentEncoding ?? path
        return "/" + decoded.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    /// The header the page's script sends the CSRF token in; forms send the field `csrf_token`.
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    /// Largest form body read for its CSRF field or login fields.
    static let largestFormBytes = 64 * 1024

    /// Methods that change state: with a session cookie they need the CSRF token.
    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }
}
