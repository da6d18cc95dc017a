import Foundation
import HTTPTypes
import Hummingbird
import Server
import Storage
import TestSupport
import Testing

extension ServerStateTests {
    @Suite("Open mode: loopback with no users runs open; other addresses need a user or --no-auth")
    struct OpenModeTests {
        @Test("On loopback with no users every route is open, and the first user added turns login on", arguments: TestDatabases.backends)
        func loopbackWithoutUsers(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend, withUsers: false) { bed in
                let summary = try await RecognitionServer.checkAuthentication(AuthBed.configuration(), credentialStore: bed.store)
                #expect(summary.hasPrefix("auth: open"))
                try await bed.run { client in
                    #expect(try await client.classifyJPEG().status == .ok)
                    let session = try await client.execute(uri: "/v1/session", method: .get).object
                    #expect(session["auth"] as? String == "open")
                    #expect(try await client.execute(uri: "/v1/tokens", method: .get).status == .ok)
                    let login = try await client.execute(uri: "/login", method: .get)
                    #expect(login.text.contains("No login is needed"))

                    try await bed.addUser("first", .admin, password: "first-password")
                    // The server looks again at most once a second: wait for it (no time limit is asserted).
                    var status = HTTPResponse.Status.ok
                    for _ in 0..<200 where status == .ok {
                        try await Task.sleep(for: .milliseconds(100))
                        status = try await client.execute(uri: "/v1/model", method: .get).status
                    }
                    #expect(status == .unauthorized)
                    #expect(try await client.signIn("first", "first-password").csrfToken.count > 20)
                }
            }
        }

        @Test("Bound to 0.0.0.0 with no users it refuses to start, naming `resnet18 user add` and --no-auth", arguments: TestDatabases.backends)
        func refusesWithoutUsers(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend, withUsers: false) { bed in
                let configuration = AuthBed.configuration { $0.host = "0.0.0.0" }
                let error = await #expect(throws: AuthenticationError.self) {
                    try await RecognitionServer.checkAuthentication(configuration, credentialStore: bed.store)
                }
                #expect(error?.description.contains("resnet18 user add") == true)
                #expect(error?.description.contains("--no-auth") == true)
                // The application itself will not listen either.
                let server = RecognitionServer(recognizer: TestServer.recognizer, configuration: configuration, credentialStore: bed.store)
                do {
                    try await server.makeApplication().runService(gracefulShutdownSignals: [])
                    Issue.record("the server started on 0.0.0.0 without users")
                } catch {
                    #expect("\(error)".contains("resnet18 user add"))
                }
                // Without a database at all, the same.
                await #expect(throws: AuthenticationError.self) {
                    try await RecognitionServer.checkAuthentication(configuration, credentialStore: nil)
                }
            }
        }

        @Test("--no-auth serves 0.0.0.0 open on purpose, and says so")
        func noAuth() async throws {
            try await AuthBed.with(.sqlite) { bed in
                let configuration = AuthBed.configuration { $0.host = "0.0.0.0"; $0.noAuth = true }
                let summary = try await RecognitionServer.checkAuthentication(configuration, credentialStore: bed.store)
                #expect(summary.contains("OFF (--no-auth)"))
                try await bed.run(configuration) { (client) async throws -> Void in
                    #expect(try await client.classifyJPEG().status == .ok, "users exist, but --no-auth wins")
                }
            }
        }

        @Test("Bound to 0.0.0.0 with a user it starts and asks for a login")
        func nonLoopbackWithUsers() async throws {
            try await AuthBed.with(.sqlite) { bed in
                let configuration = AuthBed.configuration { $0.host = "0.0.0.0" }
                let summary = try await RecognitionServer.checkAuthentication(configuration, credentialStore: bed.store)
                #expect(summary.hasPrefix("auth: login required"))
                try await bed.run(configuration) { (client) async throws -> Void in
                    #expect(try await client.classifyJPEG().status == .unauthorized)
                }
            }
        }
    }
}
