import Hummingbird

/// Answers 405 with `Allow`, instead of the router's 404, when the path is a route but the method is not one it
/// takes (any method, including ones the router has never heard of).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods each path pattern takes (`{name}` matches one segment): `RouteTable.methodsByPath`.
    let routes: [String: [HTTPRequest.Method]]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = allowedMethods(for: request.uri.path) else { throw error }
            throw APIError.methodNotAllowed(allowed: allowed.map(\.rawValue))
        }
    }

    private func allowedMethods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (pattern, methods) in routes {
            let patternSegments = pattern.split(separator: "/", omittingEmptySubsequences: false)
            guard patternSegments.count == segments.count else { continue }
            let matches = zip(patternSegments, segments).allSatisfy { expected, actual in
                expected.hasPrefix("{") ? !actual.isEmpty : expected == actual
            }
            if matches { return methods }
        }
        return nil
    }
}
