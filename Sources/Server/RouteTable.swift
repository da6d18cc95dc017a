import Hummingbird

/// Every route the service answers, declared once: each `*Routes.register(on:)` adds its routes here, then
/// `register(on:)` puts them on the Hummingbird router. The "405 with Allow" answers (`methodsByPath`) and the check
/// against `openapi.yaml` (`RouteTableTests`) read this same list.
final class RouteTable {
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    /// A method and a path pattern as the router takes it (`{name}` captures one segment).
    struct Route: Hashable, Sendable {
        let method: HTTPRequest.Method
        let path: String
    }

    private(set) var routes: [Route] = []
    private var handlers: [Handler] = []

    func on<Output: ResponseGenerator>(_ path: RouterPath, method: HTTPRequest.Method,
                                       use handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Output) {
        let route = Route(method: method, path: path.description)
        precondition(!routes.contains(route), "\(method) \(route.path) is registered twice")
        routes.append(route)
        handlers.append { request, context in try await handler(request, context).response(from: request, context: context) }
    }

    func get<Output: ResponseGenerator>(_ path: RouterPath, use handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Output) {
        on(path, method: .get, use: handler)
    }

    func post<Output: ResponseGenerator>(_ path: RouterPath, use handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Output) {
        on(path, method: .post, use: handler)
    }

    func delete<Output: ResponseGenerator>(_ path: RouterPath, use handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Output) {
        on(path, method: .delete, use: handler)
    }

    /// The methods each path pattern takes, for the 405 answers.
    var methodsByPath: [String: [HTTPRequest.Method]] {
        routes.reduce(into: [:]) { methods, route in methods[route.path, default: []].append(route.method) }
    }

    /// Registers every route on `router` (after its middleware: the router wraps each route in the middleware
    /// added before it).
    func register(on router: Router<BasicRequestContext>) {
        for (route, handler) in zip(routes, handlers) {
            router.on(RouterPath(route.path), method: route.method, use: handler)
        }
    }
}
