import Foundation
import HTTPTypes
import Hummingbird
import Server
import Storage
import TestSupport
import Testing

extension ServerStateTests {
    @Suite("Login: sessions, cookies, CSRF, logout, the slow-down after failed logins")
    struct LoginTests {
        @Test("Signing in sets an HttpOnly SameSite=Lax session cookie and redirects to `next`", arguments: TestDatabases.backends)
        func signIn(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let page = try await client.execute(uri: "/login?next=/admin", method: .get)
                    #expect(page.status == .ok)
                    #expect(page.text.contains(#"<form id="login-form" method="post" action="/login">"#))
                    #expect(page.text.contains(#"name="next" value="/admin""#))
                    let answer = try await client.postLogin(AuthBed.adminName, AuthBed.adminPassword, next: "/admin")
                    #expect(answer.status == .seeOther)
                    #expect(answer.headers[.location] == "/admin")
                    let line = try #require(answer.setCookieLine(SessionCookieName.session))
                    #expect(line.contains("HttpOnly"))
                    #expect(line.contains("SameSite=Lax"))
                    #expect(line.contains("Path=/"))
                    #expect(line.contains("Max-Age=43200"))
                    #expect(!line.contains("Secure"), "plain http on loopback: a Secure cookie would never come back")
                    // Elsewhere than this server is never a target.
                    let away = try await client.postLogin(AuthBed.adminName, AuthBed.adminPassword, next: "//evil.example/x")
                    #expect(away.headers[.location] == "/")
                }
            }
        }

        @Test("Behind an https proxy (X-Forwarded-Proto) the cookie is Secure; --secure-cookies makes it always so")
        func secureCookie() async throws {
            try await AuthBed.with(.sqlite) { bed in
                try await bed.run(AuthBed.configuration { $0.secureCookies = true }) { client in
                    let answer = try await client.postLogin(AuthBed.viewerName, AuthBed.viewerPassword)
                    #expect(try #require(answer.setCookieLine(SessionCookieName.session)).contains("; Secure"))
                }
                try await bed.run { client in
                    let form = try await client.loginForm()
                    let answer = try await client.execute(
                        uri: "/login", method: .post,
                        headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "\(SessionCookieName.login)=\(form.cookie)",
                                  HTTPField.Name("X-Forwarded-Proto")!: "https"],
                        body: ByteBuffer(string: "csrf_token=\(form.field)&username=vic&password=vic-password-1"))
                    #expect(try #require(answer.setCookieLine(SessionCookieName.session)).contains("; Secure"))
                }
            }
        }

        @Test("Wrong password, unknown user, missing fields, and a login form without its cookie are refused", arguments: TestDatabases.backends)
        func refusedLogins(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let wrong = try await client.postLogin(AuthBed.adminName, "not-the-password")
                    #expect(wrong.status == .unauthorized)
                    #expect(wrong.text.contains("Wrong user name or password."))
                    #expect(wrong.cookie(SessionCookieName.session) == nil)
                    #expect(try await client.postLogin("nobody", "whatever-password").status == .unauthorized)
                    #expect(try await client.postLogin(AuthBed.adminName, "").status == .badRequest)
                    // Login CSRF: a form posted from elsewhere has no matching cookie.
                    let forged = try await client.execute(
                        uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                        body: ByteBuffer(string: "csrf_token=made-up&username=ada&password=ada-password-1"))
                    #expect(forged.status == .forbidden)
                    #expect(forged.cookie(SessionCookieName.session) == nil)
                    let json = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/json"],
                                                        body: ByteBuffer(string: #"{"username": "ada"}"#))
                    #expect(json.status == .unsupportedMediaType)
                }
            }
        }

        @Test("A session's state changes need its CSRF token (header or form field); GETs and bearer requests do not", arguments: TestDatabases.backends)
        func csrf(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let viewer = try await client.signIn(AuthBed.viewerName, AuthBed.viewerPassword)
                    let missing = try await client.classifyJPEG(headers: viewer.headers)
                    #expect(missing.status == .forbidden)
                    #expect(try missing.object["code"] as? String == "csrf_token_invalid")
                    var bad = viewer.headers
                    bad[HTTPField.Name("X-CSRF-Token")!] = "not-" + viewer.csrfToken
                    #expect(try await client.classifyJPEG(headers: bad).status == .forbidden)
                    // Another session's token is no good either.
                    let admin = try await client.signIn(AuthBed.adminName, AuthBed.adminPassword)
                    bad[HTTPField.Name("X-CSRF-Token")!] = admin.csrfToken
                    #expect(try await client.classifyJPEG(headers: bad).status == .forbidden)
                    #expect(try await client.classifyJPEG(headers: viewer.headersWithCSRF).status == .ok)
                    #expect(try await client.execute(uri: "/v1/model", method: .get, headers: viewer.headers).status == .ok)
                    // The log-out form carries the token as a field.
                    var formHeaders = viewer.headers
                    formHeaders[.contentType] = "application/x-www-form-urlencoded"
                    let forgedLogout = try await client.execute(uri: "/logout", method: .post, headers: formHeaders, body: ByteBuffer(string: "csrf_token=wrong"))
                    #expect(forgedLogout.status == .forbidden)
                    let token = try await client.makeToken("no-csrf-needed", role: .viewer, as: admin)
                    #expect(try await client.classifyJPEG(headers: [.authorization: "Bearer \(token.secret)"]).status == .ok)
                }
            }
        }

        @Test("Logging out ends the session on the server, not only in the browser", arguments: TestDatabases.backends)
        func logout(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let viewer = try await client.signIn(AuthBed.viewerName, AuthBed.viewerPassword)
                    var headers = viewer.headers
                    headers[.contentType] = "application/x-www-form-urlencoded"
                    let out = try await client.execute(uri: "/logout", method: .post, headers: headers,
                                                       body: ByteBuffer(string: "csrf_token=\(viewer.csrfToken.formEncoded)"))
                    #expect(out.status == .seeOther)
                    #expect(out.headers[.location] == "/login")
                    #expect(try #require(out.setCookieLine(SessionCookieName.session)).contains("Max-Age=0"))
                    // The old cookie, replayed, is dead.
                    #expect(try await client.execute(uri: "/v1/model", method: .get, headers: viewer.headers).status == .unauthorized)
                }
            }
        }

        @Test("Sessions live in the database: they survive a restart and end when they expire or the user goes", arguments: TestDatabases.backends)
        func sessionsInTheDatabase(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                let viewer = try await bed.run { client in try await client.signIn(AuthBed.viewerName, AuthBed.viewerPassword) }
                try await bed.run { (client) async throws -> Void in
                    #expect(try await client.execute(uri: "/v1/model", method: .get, headers: viewer.headers).status == .ok, "a new server process knows the session")
                }
                let hashes = try await bed.database.read(SQLStatement("SELECT id_hash FROM sessions")).map { try $0.string("id_hash") }
                #expect(hashes.count == 1)
                let firstHash = try #require(hashes.first)
                let stored = try #require(try await bed.store.session(idHash: firstHash))
                #expect(stored.userName == AuthBed.viewerName)
                #expect(stored.idHash != viewer.cookie, "only a hash of the cookie is stored")
                // Expired: insert one that ended a minute ago.
                try await bed.store.insertSession(SessionRecord(idHash: String(repeating: "ab", count: 32), userName: AuthBed.viewerName, role: .viewer,
                                                                csrfToken: "x", createdAt: Date().addingTimeInterval(-7200),
                                                                expiresAt: Date().addingTimeInterval(-60)))
                try await bed.run { (client) async throws -> Void in
                    #expect(try await client.execute(uri: "/v1/model", method: .get, headers: viewer.headers).status == .ok)
                    #expect(try await bed.store.removeUser(named: AuthBed.viewerName))
                    #expect(try await client.execute(uri: "/v1/model", method: .get, headers: viewer.headers).status == .unauthorized)
                }
            }
        }

        @Test("Repeated failed logins are answered 429 with Retry-After, for that user and from that address", arguments: TestDatabases.backends)
        func slowDown(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    for _ in 0..<5 {
                        #expect(try await client.postLogin(AuthBed.adminName, "guess-password").status == .unauthorized)
                    }
                    // Now even the right password waits: the guesser cannot tell a hit from a miss.
                    let locked = try await client.postLogin(AuthBed.adminName, AuthBed.adminPassword)
                    #expect(locked.status == .tooManyRequests)
                    let seconds = try #require(locked.headers[.retryAfter].flatMap(Int.init))
                    #expect(seconds >= 1 && seconds <= 60)
                    #expect(locked.cookie(SessionCookieName.session) == nil)
                    #expect(locked.text.contains("Too many failed logins"))
                    // The same address trying another user is held back too.
                    #expect(try await client.postLogin(AuthBed.viewerName, AuthBed.viewerPassword).status == .tooManyRequests)
                    // API tokens are not affected.
                    #expect(try await client.execute(uri: "/v2/health/ready", method: .get).status == .ok)
                }
            }
        }

        @Test("Replicas on one database share sessions and tokens: signed in on one, the cookie works on another; a token made on one works on the other; signing out on one ends it on both", arguments: TestDatabases.backends)
        func sessionsAcrossReplicas(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { first in
                    try await bed.run { second in
                        let admin = try await first.signIn(AuthBed.adminName, AuthBed.adminPassword)
                        #expect(try await second.execute(uri: "/v1/model", method: .get, headers: admin.headers).status == .ok)
                        // A state change on the other replica, with the session's CSRF token.
                        let token = try await second.makeToken("from-second", role: .viewer, as: admin)
                        let bearer: HTTPFields = [.authorization: "Bearer \(token.secret)"]
                        #expect(try await first.execute(uri: "/v1/model", method: .get, headers: bearer).status == .ok)
                        // Signing out on the first replica ends the session on the second.
                        var form = admin.headers
                        form[.contentType] = "application/x-www-form-urlencoded"
                        let out = try await first.execute(uri: "/logout", method: .post, headers: form,
                                                          body: ByteBuffer(string: "csrf_token=\(admin.csrfToken.formEncoded)"))
                        #expect(out.status == .seeOther)
                        #expect(try await second.execute(uri: "/v1/model", method: .get, headers: admin.headers).status == .unauthorized)
                    }
                }
            }
        }

        @Test("Replicas on one database throttle together: failures on one lock the user out on the other", arguments: TestDatabases.backends)
        func throttleAcrossReplicas(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { first in
                    try await bed.run { second in
                        // Three failures on one replica and two on the other: five in all.
                        for _ in 0..<3 { #expect(try await first.postLogin(AuthBed.adminName, "guess-password").status == .unauthorized) }
                        for _ in 0..<2 { #expect(try await second.postLogin(AuthBed.adminName, "guess-password").status == .unauthorized) }
                        // Both replicas hold the user back now, though neither saw five failures itself.
                        let locked = try await first.postLogin(AuthBed.adminName, AuthBed.adminPassword)
                        #expect(locked.status == .tooManyRequests)
                        #expect(locked.headers[.retryAfter] != nil)
                        #expect(try await second.postLogin(AuthBed.adminName, AuthBed.adminPassword).status == .tooManyRequests)
                    }
                }
                let rows = try await bed.database.read(SQLStatement("SELECT failures FROM login_failures WHERE throttle_key = 'user:ada'"))
                #expect(rows.first?.optionalInt64("failures") == 5)
            }
        }

        @Test("A successful login does not clear the address's failures: one valid account cannot unlock guessing across user names")
        func successKeepsAddressCount() async throws {
            try await AuthBed.with(.sqlite) { bed in
                try await bed.run { client in
                    for name in ["anna", "bob", "carl", "dora"] {
                        #expect(try await client.postLogin(name, "Summer2026!").status == .unauthorized)
                    }
                    // The attacker's own valid account signs in between guesses...
                    #expect(try await client.postLogin(AuthBed.viewerName, AuthBed.viewerPassword).status == .seeOther)
                    #expect(try await client.postLogin("erik", "Summer2026!").status == .unauthorized)
                    // ...and the address is held back all the same after its fifth failure.
                    let locked = try await client.postLogin("fred", "Summer2026!")
                    #expect(locked.status == .tooManyRequests)
                    #expect(locked.headers[.retryAfter] != nil)
                }
            }
        }

        @Test("GET /v1/session says who is signed in and gives the page its CSRF token", arguments: TestDatabases.backends)
        func sessionInfo(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                try await bed.run { client in
                    let admin = try await client.signIn(AuthBed.adminName, AuthBed.adminPassword)
                    let info = try await client.execute(uri: "/v1/session", method: .get, headers: admin.headers).object
                    #expect(info["auth"] as? String == "session")
                    #expect(info["user"] as? String == AuthBed.adminName)
                    #expect(info["role"] as? String == "admin")
                    #expect(info["csrf_token"] as? String == admin.csrfToken)
                    let token = try await client.makeToken("reader", role: .viewer, as: admin)
                    let viaToken = try await client.execute(uri: "/v1/session", method: .get, headers: [.authorization: "Bearer \(token.secret)"]).object
                    #expect(viaToken["auth"] as? String == "token")
                    #expect(viaToken["user"] as? String == "token:reader")
                    #expect(viaToken["role"] as? String == "viewer")
                    #expect(viaToken["csrf_token"] == nil)
                }
            }
        }

        @Test("The history records who classified: the user, or token:NAME", arguments: TestDatabases.backends)
        func historyRecordsTheCaller(backend: TestDatabases.Backend) async throws {
            try await AuthBed.with(backend) { bed in
                let history = HistoryStore(database: bed.database)
                var configuration = AuthBed.configuration()
                configuration.database = bed.database.location
                try await bed.run(configuration, history: history) { client in
                    let viewer = try await client.signIn(AuthBed.viewerName, AuthBed.viewerPassword)
                    let admin = try await client.signIn(AuthBed.adminName, AuthBed.adminPassword)
                    let token = try await client.makeToken("camera-script", role: .viewer, as: admin)
                    #expect(try await client.classifyJPEG(headers: viewer.headersWithCSRF).status == .ok)
                    #expect(try await client.classifyJPEG(headers: [.authorization: "Bearer \(token.secret)"]).status == .ok)
                    var users: Set<String> = []
                    for _ in 0..<100 where users.count < 2 {
                        let page = try await client.execute(uri: "/v1/history", method: .get, headers: admin.headers)
                        let items = (try page.object["entries"] as? [[String: Any]]) ?? []
                        users = Set(items.compactMap { $0["user"] as? String })
                        if users.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(users == [AuthBed.viewerName, "token:camera-script"])
                }
            }
        }
    }
}
