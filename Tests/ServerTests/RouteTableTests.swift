import HTTPTypes
@testable import Server
import Testing

extension ServerTests {
    /// The routes the server registers are the ones `openapi.yaml` documents: a route added without its
    /// description, or described but not served, fails here.
    @Suite("Route table against openapi.yaml")
    struct RouteTableTests {
        /// (method, path) of every operation under the document's `paths:` (two-space path keys, four-space
        /// methods: the document's own indentation).
        static func documented(_ yaml: String) -> Set<RouteTable.Route> {
            var routes: Set<RouteTable.Route> = []
            var inPaths = false
            var path: String?
            for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
                if line == "paths:" { inPaths = true; continue }
                guard inPaths else { continue }
                if !line.isEmpty, !line.hasPrefix(" ") { break }
                if let match = line.wholeMatch(of: #/  (/\S*):/#) {
                    path = String(match.1)
                } else if let match = line.wholeMatch(of: #/    (get|put|post|delete|options|head|patch|trace):/#), let path {
                    routes.insert(.init(method: HTTPRequest.Method(rawValue: match.1.uppercased())!, path: path))
                }
            }
            return routes
        }

        static func registered() -> [RouteTable.Route] {
            RecognitionServer(recognizer: TestServer.recognizer, configuration: TestServer.configuration()).assemble().routes.routes
        }

        @Test("every registered route is in openapi.yaml, and every documented one is registered")
        func sameRoutes() {
            let registered = Self.registered()
            let documented = Self.documented(OpenAPIDocument.yaml)
            #expect(registered.count == Set(registered).count)
            #expect(documented.count >= 40)
            for route in Set(registered).subtracting(documented).sorted(by: { $0.path < $1.path }) {
                Issue.record("\(route.method) \(route.path) is served but not in openapi.yaml")
            }
            for route in documented.subtracting(registered).sorted(by: { $0.path < $1.path }) {
                Issue.record("\(route.method) \(route.path) is in openapi.yaml but not served")
            }
        }

        @Test("the document reader sees paths and their methods, and stops at the next top-level key")
        func reader() {
            let yaml = """
                paths:
                  /a/{id}:
                    get:
                      summary: x
                    delete:
                      responses: {}
                  /b:
                    post:
                      parameters:
                        - name: get
                components:
                  /c:
                    get: {}
                """
            #expect(Self.documented(yaml) == [.init(method: .get, path: "/a/{id}"), .init(method: .delete, path: "/a/{id}"),
                                              .init(method: .post, path: "/b")])
        }

        @Test("the 405 map comes from the same routes")
        func methodsByPath() {
            let table = RouteTable()
            table.get("/v1/things") { _, _ in "list" }
            table.post("/v1/things") { _, _ in "made" }
            table.delete("/v1/things/{id}") { _, _ in "gone" }
            #expect(table.methodsByPath == ["/v1/things": [.get, .post], "/v1/things/{id}": [.delete]])
        }
    }
}
