import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Server
import Storage
import TestSupport
import Testing

/// A fresh database with an admin (`ada`) and a viewer (`vic`), and the live server over it (`.live`: a real
/// socket, and a client that does not follow redirects, so cookies and `Location` can be checked).
struct AuthBed: Sendable {
    static let adminName = "ada", adminPassword = "ada-password-1"
    static let viewerName = "vic", viewerPassword = "vic-password-1"

    let database: Database
    let store: DatabaseCredentialStore

    /// Runs `body` with a fresh database on `backend` (users added unless `withUsers` is false), then drops it.
    static func with<Value: Sendable>(_ backend: TestDatabases.Backend, withUsers: Bool = true,
                                      _ body: @Sendable (AuthBed) async throws -> Value) async throws -> Value {
        let (location, cleanup) = try await TestDatabases.freshLocation(backend)
        let database = try await Database.open(location)
        let bed = AuthBed(database: database, store: DatabaseCredentialStore(database: database))
        do {
            if withUsers {
                try await bed.addUser(adminName, .admin, password: adminPassword)
                try await bed.addUser(viewerName, .viewer, password: viewerPassword)
            }
            let value = try await body(bed)
            await database.close()
            await cleanup()
            return value
        } catch {
            await database.close()
            await cleanup()
            throw error
        }
    }

    func addUser(_ name: String, _ role: Role, password: String) async throws {
        let hash = try await PasswordHasher(cost: 4).hash(password)
        try await store.addUser(UserAccount(name: name, role: role, passwordHash: hash))
    }

    /// Test defaults: port 0, bcrypt cost 4, a lockout long enough to be seen.
    static func configuration(_ change: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.bcryptCost = 4
        configuration.loginThrottle.firstLockoutSeconds = 60
        configuration.historyWaitSeconds = 120
        change(&configuration)
        return configuration
    }

    /// The live server over this database; redirects are answers to look at here, not to follow (`LiveServer`).
    func run<Value: Sendable>(_ configuration: ServerConfiguration = AuthBed.configuration(), history: HistoryStore? = nil,
                              _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        var logger = Logger(label: "resnet18.serve.test")
        logger.logLevel = .warning
        let server = RecognitionServer(recognizer: TestServer.recognizer, configuration: configuration, logger: logger,
                                       history: history, credentialStore: store)
        return try await LiveServer.run(server, followRedirects: false, body)
    }
}

/// A signed-in browser: its session cookie and the CSRF token the page would get from `/v1/session`.
struct BrowserSession: Sendable {
    let cookie: String
    let csrfToken: String

    var headers: HTTPFields { [.cookie: "\(SessionCookieName.session)=\(cookie)"] }

    /// `headers` plus the CSRF header.
    var headersWithCSRF: HTTPFields {
        var headers = self.headers
        headers[HTTPField.Name("X-CSRF-Token")!] = csrfToken
        return headers
    }
}

enum SessionCookieName {
    static let session = "resnet18_session"
    static let login = "resnet18_login"
}

extension TestClientProtocol {
    /// The login form's token and its cookie, as a browser gets them from `GET /login`.
    func loginForm() async throws -> (cookie: String, field: String) {
        let page = try await execute(uri: "/login", method: .get)
        let cookie = try #require(page.cookie(SessionCookieName.login))
        let field = try #require(page.text.firstMatch(of: #/name="csrf_token" value="([^"]+)"/#)).1
        return (cookie, String(field))
    }

    /// Posts the login form as a browser does; the raw answer (303 and a cookie on success).
    func postLogin(_ name: String, _ password: String, next: String = "/") async throws -> TestResponse {
        let form = try await loginForm()
        let body = "csrf_token=\(form.field)&next=\(next)&username=\(name.formEncoded)&password=\(password.formEncoded)"
        return try await execute(uri: "/login", method: .post,
                                 headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "\(SessionCookieName.login)=\(form.cookie)"],
                                 body: ByteBuffer(string: body))
    }

    /// Signs in and reads the CSRF token from `/v1/session`.
    func signIn(_ name: String, _ password: String) async throws -> BrowserSession {
        let answer = try await postLogin(name, password)
        guard answer.status == .seeOther, let cookie = answer.cookie(SessionCookieName.session) else {
            throw AuthTestError.signInFailed("\(answer.status): \(answer.text.prefix(300))")
        }
        let session = try await execute(uri: "/v1/session", method: .get, headers: [.cookie: "\(SessionCookieName.session)=\(cookie)"])
        let csrf = try #require(try session.object["csrf_token"] as? String)
        return BrowserSession(cookie: cookie, csrfToken: csrf)
    }

    /// Makes an API token as `admin` (a session) would on the admin page; answers its secret and id.
    func makeToken(_ name: String, role: Role, as admin: BrowserSession) async throws -> (secret: String, id: String) {
        var headers = admin.headersWithCSRF
        headers[.contentType] = "application/json"
        let answer = try await execute(uri: "/v1/tokens", method: .post, headers: headers,
                                       body: ByteBuffer(string: #"{"name": "\#(name)", "role": "\#(role.rawValue)"}"#))
        guard answer.status == .created else { throw AuthTestError.signInFailed("POST /v1/tokens: \(answer.status) \(answer.text)") }
        let object = try answer.object
        return (try #require(object["token"] as? String), try #require(object["id"] as? String))
    }

    func classifyJPEG(headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "image/jpeg"
        return try await execute(uri: "/v1/classify", method: .post, headers: headers, body: ByteBuffer(bytes: try Photos.bytes("chelsea-q90.jpg")))
    }
}

extension TestResponse {
    /// The value a `Set-Cookie` of this answer gives `name`.
    func cookie(_ name: String) -> String? {
        for header in headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0]
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return String(parts[1]) }
        }
        return nil
    }

    /// The whole `Set-Cookie` line for `name`.
    func setCookieLine(_ name: String) -> String? {
        headers[values: .setCookie].first { $0.hasPrefix(name + "=") }
    }
}

extension String {
    var formEncoded: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? self
    }
}

enum AuthTestError: Error, CustomStringConvertible {
    case signInFailed(String)
    var description: String {
        switch self { case let .signInFailed(message): "sign-in failed: \(message)" }
    }
}
