import Foundation
import Storage

/// Decides whether login is enforced. Bound to loopback with no users, the service runs open; bound to any other
/// address it refuses to start without a user unless `--no-auth` is given. An open loopback service looks for
/// users again at most once a second, so the first `resnet18 user add` turns login on without a restart;
/// once on, it stays on until the process ends. A look that cannot reach the database changes nothing.
actor AuthenticationGate {
    enum Mode: Sendable, Equatable {
        /// `--no-auth`: open on purpose, whatever the users.
        case disabled
        /// Loopback and no users yet.
        case openWithoutUsers
        case enforced
    }

    private let store: (any CredentialStore)?
    private let host: String
    private let noAuth: Bool
    /// The command that adds the first admin to this server's database, as the hints print it.
    private let userAdd: String
    private var mode: Mode?
    private var lastLook = ContinuousClock.now

    init(store: (any CredentialStore)?, host: String, noAuth: Bool, database: DatabaseLocation) {
        self.store = store
        self.host = host
        self.noAuth = noAuth
        self.userAdd = Self.userAddCommand(database)
    }

    /// `resnet18 user add NAME --role admin --db …`, naming the database this server reads (a PostgreSQL URL with
    /// its password masked), so the user lands where the server looks.
    static func userAddCommand(_ database: DatabaseLocation) -> String {
        switch database {
        case let .sqlite(path): "resnet18 user add NAME --role admin --db \(shellQuoted(path))"
        case let .postgres(settings): "resnet18 user add NAME --role admin --db \(shellQuoted(settings.redactedURL))"
        case .none: "resnet18 user add NAME --role admin"
        }
    }

    /// A word as a POSIX shell reads it back: bare when it is safe, else in single quotes.
    static func shellQuoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-")
        if !word.isEmpty && word.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Decides the mode before the server listens; throws when it must not start.
    @discardableResult
    func start() async throws -> Mode {
        if let mode { return mode }
        let decided: Mode
        if noAuth {
            decided = .disabled
        } else if try await store?.userCount() ?? 0 > 0 {
            decided = .enforced
        } else if Self.isLoopback(host) {
            decided = .openWithoutUsers
        } else {
            throw AuthenticationError.noUsers(host: host, hasDatabase: store != nil, userAdd: userAdd)
        }
        mode = decided
        lastLook = .now
        return decided
    }

    /// Whether requests must carry credentials now.
    func isEnforced() async throws -> Bool {
        switch try await start() {
        case .disabled: return false
        case .enforced: return true
        case .openWithoutUsers:
            guard let store, ContinuousClock.now - lastLook >= .seconds(1) else { return false }
            lastLook = .now
            // The database out of reach (PostgreSQL restarting): no user can have been added meanwhile, so the
            // service stays as open as it was a second ago and looks again in a second, instead of failing every
            // request that happens to come when it looks.
            guard let users = try? await store.userCount() else { return false }
            if users > 0 {
                mode = .enforced
                return true
            }
            return false
        }
    }

    /// The start-up line that says how the service is protected.
    func summary(of mode: Mode) -> String {
        switch mode {
        case .disabled:
            "auth: OFF (--no-auth): anyone who can reach \(host) may classify, read the history and manage streams and tokens"
        case .openWithoutUsers:
            "auth: open: no users yet and bound to loopback (\(host)), so no login is asked; `\(userAdd)` turns login on"
        case .enforced:
            "auth: login required (users in the database); API clients send `Authorization: Bearer TOKEN`"
        }
    }

    /// 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// Why the service will not start, or a login cannot work.
public enum AuthenticationError: Error, CustomStringConvertible, Sendable {
    case noUsers(host: String, hasDatabase: Bool, userAdd: String)

    public var description: String {
        switch self {
        case let .noUsers(host, hasDatabase, userAdd):
            "refusing to serve on \(host) without any user: anyone on the network could use the service. "
                + (hasDatabase
                    ? "Add one first with `\(userAdd)`, "
                    : "Users live in the database, and --db none has none: give --db a SQLite path or a postgres:// URL and run `resnet18 user add NAME --role admin` with it, ")
                + "or bind to 127.0.0.1, or pass --no-auth to run open on purpose"
        }
    }
}
