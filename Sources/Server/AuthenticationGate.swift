import Foundation
import Storage

/// Decides whether login is enforced. Bound to loopback with no users, the service runs open; bound to any other
/// address it refuses to start without a user unless `--no-auth` is given. An open loopback service looks for
/// users again at most once a second, so the first `resnet18 user add` turns login on without a restart;
/// once on, it stays on until the process ends.
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
    private var mode: Mode?
    private var lastLook = ContinuousClock.now

    init(store: (any CredentialStore)?, host: String, noAuth: Bool) {
        self.store = store
        self.host = host
        self.noAuth = noAuth
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
            throw AuthenticationError.noUsers(host: host, hasDatabase: store != nil)
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
            if try await store.userCount() > 0 {
                mode = .enforced
                return true
            }
            return false
        }
    }

    /// The start-up line that says how the service is protected.
    static func summary(of mode: Mode, host: String) -> String {
        switch mode {
        case .disabled:
            "auth: OFF (--no-auth): anyone who can reach \(host) may classify, read the history and manage streams and tokens"
        case .openWithoutUsers:
            "auth: open: no users yet and bound to loopback (\(host)), so no login is asked; `resnet18 user add NAME --role admin` turns login on"
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
    case noUsers(host: String, hasDatabase: Bool)

    public var description: String {
        switch self {
        case let .noUsers(host, hasDatabase):
            "refusing to serve on \(host) without any user: anyone on the network could use the service. "
                + (hasDatabase
                    ? "Add one first with `resnet18 user add NAME --role admin` (same --db as serve), "
                    : "Users live in the database, and --db none has none: give --db a SQLite path or a postgres:// URL and run `resnet18 user add NAME --role admin` with it, ")
                + "or bind to 127.0.0.1, or pass --no-auth to run open on purpose"
        }
    }
}
