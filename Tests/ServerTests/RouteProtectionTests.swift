import Foundation
import HTTPTypes
import Hummingbird
import Storage
import TestSupport
import Testing

extension ServerStateTests {
    /// Every route documented in `/openapi.yaml`, tried with each kind of caller.
    @Suite("Route protection: every route without credentials, as a viewer, as an admin, with a revoked token")
    struct RouteProtectionTests {
        /// Who may call what when login is enforced (`AccessPolicy`): the test's own copy, so a change there is seen.
        static let publicPaths: Set<String> = ["/login", "/logout", "/v2/health/live", "/v2/health/ready", "/openapi.yaml"]
        static let adminPrefixes = ["/v1/tokens", "/admin", "/v1/heads", "/heads"]
        /// Viewers read these; POST and DELETE are for admins.
        static let adminWritePrefixes = ["/v1/streams"]
        /// Server-sent events stay open until the server stops: the authorised loops cannot wait for their end
        /// (the streams suites read them); without credentials they are refused at once like every other route.
        static let openEnded: Set<String> = ["/v1/events"]

        static func isPublic(_ path: String) -> Bool { publicPaths.contains(path) || path.hasPrefix("/assets/") }
        static func isAdmin(_ method: HTTPRequest.Method, _ path: String) -> Bool {
            func under(_ prefix: String) -> Bool { path == prefix || path.hasPrefix(prefix + "/") || path.hasPrefix(prefix + ".") }
            return adminPrefixes.contains(where: under) || (![.get, .head].contains(method) && adminWritePrefixes.contains(where: under))
        }

        /// (method, concrete path) for every operation of the served document.
        static func operations(_ client: any TestClientProtocol) async throws -> [(HTTPRequest.Method, String)] {
            let yaml = try await client.execute(uri: "/openapi.yaml", method: .get).text
            var operations: [(HTTPRequest.Method, String)] = []
            var inPaths = false
            var path: String?
            for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
                if line == "paths:" { inPaths = true; continue }
                guard inPaths else { continue }
                if !line.isEmpty, !line.hasPrefix(" ") { break }
                if let match = line.wholeMatch(of: #/  (/\S*):/#) {
                    path = String(match.1)
                } else if let match = line.wholeMatch(of: #/    (get|post|put|patch|delete):/#), let path {
                    let concrete = path.replacingOccurrences(of: "{model}", with: "resnet18")
                        .replacingOccurrences(of: "{version}", with: "1")
                        .replacing(#/\{[a-z_]+\}/#, with: "some-id")
                    operations.append((HTTPRequest.Method(rawValue: String(match.1).uppercased())!, concrete))
                }
            }
            return operations
        }

        @Test("Without credentials: 401 (pages: 303 to /login) except the public routes", arguments: TestDatabases.backends)
        func withoutCredentials(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let operations = try await Self.operations(client)
                    #expect(operations.count >= 20)
                    for (method, path) in operations {
                        let answer = try await client.execute(uri: path, method: method)
                        if Self.isPublic(path) {
                            #expect(answer.status != .unauthorized && answer.status != .forbidden, "\(method) \(path): \(answer.status)")
                        } else {
                            #expect(answer.status == .unauthorized, "\(method) \(path) without credentials: \(answer.status)")
                            #expect(answer.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(method) \(path)")
                            #expect(try answer.object["code"] as? String == "unauthenticated")
                        }
                    }
                    // A browser asking for a page is sent to the login page, and back after it.
                    let page = try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html"])
                    #expect(page.status == .seeOther)
                    #expect(page.headers[.location] == "/login?next=/")
                    // An unknown path is not revealed either.
                    #expect(try await client.execute(uri: "/no/such/route", method: .get).status == .unauthorized)
                }
            }
        }

        @Test("A viewer (session or token) may use every route but the admin ones (403)", arguments: TestDatabases.backends)
        func viewer(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let admin = try await client.signIn(AuthBed.adminName, AuthBed.adminPassword)
                    let token = try await client.makeToken("viewer-program", role: .viewer, as: admin)
                    let session = try await client.signIn(AuthBed.viewerName, AuthBed.viewerPassword)
                    for (method, path) in try await Self.operations(client) where path != "/logout" && !Self.openEnded.contains(path) {
                        let tokenHeaders: HTTPFields = [.authorization: "Bearer \(token.secret)"]
                        for (kind, headers) in [("token", tokenHeaders), ("session", session.headersWithCSRF)] {
                            let answer = try await client.execute(uri: path, method: method, headers: headers)
                            if Self.isAdmin(method, path) {
                                #expect(answer.status == .forbidden, "viewer \(kind) \(method) \(path): \(answer.status)")
                                #expect(try answer.object["code"] as? String == "forbidden")
                            } else {
                                #expect(answer.status != .unauthorized && answer.status != .forbidden, "viewer \(kind) \(method) \(path): \(answer.status)")
                            }
                        }
                    }
                    #expect(try await client.classifyJPEG(headers: [.authorization: "Bearer \(token.secret)"]).status == .ok)
                    #expect(try await client.classifyJPEG(headers: session.headersWithCSRF).status == .ok)
                    // No other spelling of an admin route lets a viewer in.
                    for spelling in ["//v1/tokens", "/v1//tokens", "/v1/%74okens", "/v1/tokens/", "/V1/TOKENS", "/admin/", "/%61dmin"] {
                        let answer = try await client.execute(uri: spelling, method: .get, headers: [.authorization: "Bearer \(token.secret)"])
                        #expect(answer.status == .forbidden || answer.status == .notFound, "viewer GET \(spelling): \(answer.status)")
                    }
                }
            }
        }

        @Test("An admin (session or token) may use every route", arguments: TestDatabases.backends)
        func admin(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let session = try await client.signIn(AuthBed.adminName, AuthBed.adminPassword)
                    let token = try await client.makeToken("admin-program", role: .admin, as: session)
                    for (method, path) in try await Self.operations(client) where path != "/logout" && !Self.openEnded.contains(path) {
                        let tokenHeaders: HTTPFields = [.authorization: "Bearer \(token.secret)"]
                        for (kind, headers) in [("token", tokenHeaders), ("session", session.headersWithCSRF)] {
                            let answer = try await client.execute(uri: path, method: method, headers: headers)
                            #expect(answer.status != .unauthorized && answer.status != .forbidden, "admin \(kind) \(method) \(path): \(answer.status)")
                        }
                    }
                }
            }
        }

        @Test("A revoked token, an unknown one and another scheme get 401 on every protected route", arguments: TestDatabases.backends)
        func revokedToken(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let admin = try await client.signIn(AuthBed.adminName, AuthBed.adminPassword)
                    let token = try await client.makeToken("soon-revoked", role: .admin, as: admin)
                    #expect(try await client.classifyJPEG(headers: [.authorization: "Bearer \(token.secret)"]).status == .ok)
                    let revoke = try await client.execute(uri: "/v1/tokens/\(token.id)", method: .delete, headers: admin.headersWithCSRF)
                    #expect(revoke.status == .noContent)
                    for (method, path) in try await Self.operations(client) where !Self.isPublic(path) {
                        for authorization in ["Bearer \(token.secret)", "Bearer r18_unknown", "Basic YWRhOmFkYS1wYXNzd29yZC0x"] {
                            let answer = try await client.execute(uri: path, method: method, headers: [.authorization: authorization])
                            #expect(answer.status == .unauthorized, "\(authorization.prefix(12)) \(method) \(path): \(answer.status)")
                        }
                    }
                    let listed = try await client.execute(uri: "/v1/tokens", method: .get, headers: admin.headers)
                    let tokens = try #require(try listed.object["tokens"] as? [[String: Any]])
                    let entry = try #require(tokens.first { $0["id"] as? String == token.id })
                    #expect(entry["revoked_at"] is String)
                    #expect(entry["token"] == nil, "the secret is never listed")
                    #expect(!listed.text.contains(token.secret))
                }
            }
        }
    }
}
