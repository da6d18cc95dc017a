import Foundation

/// Where history lives, from `--db`: a SQLite file path, a `postgres://` URL, or nothing (`none`).
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// A SQLite file (created when missing), opened in WAL mode.
    case sqlite(path: String)
    /// A PostgreSQL server.
    case postgres(PostgresSettings)
    /// No database: history is off.
    case none

    /// How to reach a PostgreSQL server, from `postgres://user:password@host:port/database?sslmode=…&host=/socket/dir`.
    public struct PostgresSettings: Sendable, Equatable {
        public var username: String
        public var password: String?
        /// TCP host name or address; ignored when `unixSocketPath` is set.
        public var host: String
        public var port: Int
        public var database: String
        /// The server's socket file (`<dir>/.s.PGSQL.<port>`), when `?host=/dir` named a directory as libpq does.
        public var unixSocketPath: String?
        /// `disable`, `prefer` (the default, as libpq) or `require`.
        public var sslMode: SSLMode

        public enum SSLMode: String, Sendable, Equatable {
            case disable, prefer, require
        }
    }

    /// Parses a `--db` argument; the error says what a valid one looks like.
    public init(argument: String) throws(StorageError) {
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            throw .invalidLocation("--db is empty: give a SQLite file path, a postgres://user:password@host:port/database URL, or none")
        }
        if trimmed.lowercased() == "none" {
            self = .none
            return
        }
        let lowered = trimmed.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(try Self.parsePostgres(trimmed))
            return
        }
        if lowered.contains("://") {
            throw .invalidLocation("--db \(Self.redacted(trimmed)): only postgres:// URLs and SQLite file paths are supported")
        }
        if trimmed.hasSuffix("/") {
            throw .invalidLocation("--db \(trimmed) names a directory: give a file path inside it, e.g. \(trimmed)history.sqlite")
        }
        self = .sqlite(path: (trimmed as NSString).expandingTildeInPath)
    }

    /// The default: `history.sqlite` in the user's data directory (`$XDG_DATA_HOME/resnet18`, else
    /// `~/.local/share/resnet18`).
    public static func defaultSQLite(environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseLocation {
        let base: String
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            base = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = (home as NSString).appendingPathComponent(".local/share")
        }
        return .sqlite(path: ((base as NSString).appendingPathComponent("resnet18") as NSString).appendingPathComponent("history.sqlite"))
    }

    /// For logs and the start-up summary: the password is never shown.
    public var description: String {
        switch self {
        case let .sqlite(path): "SQLite \(path)"
        case let .postgres(settings): "PostgreSQL \(settings.redactedURL)"
        case .none: "none (history off)"
        }
    }

    private static func parsePostgres(_ text: String) throws(StorageError) -> PostgresSettings {
        let shown = redacted(text)
        guard let components = URLComponents(string: text) else {
            throw .invalidLocation("--db \(shown) is not a valid URL: use postgres://user:password@host:port/database (percent-encode special characters in the password)")
        }
        let queryItems = components.queryItems ?? []
        func query(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }
        var socketDirectory = query("host")
        if let directory = socketDirectory, !directory.hasPrefix("/") { socketDirectory = nil }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? (socketDirectory == nil ? "localhost" : "")
        var port = components.port ?? 5432
        if let portText = query("port") {
            guard let value = Int(portText) else { throw .invalidLocation("--db \(shown): port \(portText) is not a number") }
            port = value
        }
        guard (1...65535).contains(port) else { throw .invalidLocation("--db \(shown): port must be between 1 and 65535") }
        guard let username = components.user?.removingPercentEncoding ?? query("user"), !username.isEmpty else {
            throw .invalidLocation("--db \(shown) names no user: use postgres://user:password@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidLocation("--db \(shown) names no database: end the URL with /database, e.g. postgres://\(username)@\(host.isEmpty ? "localhost" : host):\(port)/resnet18")
        }
        let sslMode: PostgresSettings.SSLMode
        switch query("sslmode") {
        case nil, "prefer", "allow": sslMode = .prefer
        case "disable": sslMode = .disable
        case "require", "verify-ca", "verify-full": sslMode = .require
        case let other?: throw .invalidLocation("--db \(shown): sslmode \(other) is not one of disable, prefer, require")
        }
        let known: Set<String> = ["host", "port", "user", "password", "sslmode"]
        if let unknown = queryItems.first(where: { !known.contains($0.name) }) {
            throw .invalidLocation("--db \(shown): unknown parameter \(unknown.name) (known: host, port, user, password, sslmode)")
        }
        return PostgresSettings(
            username: username,
            password: components.password?.removingPercentEncoding ?? query("password"),
            host: host, port: port,
            database: database.removingPercentEncoding ?? database,
            unixSocketPath: socketDirectory.map { ($0 as NSString).appendingPathComponent(".s.PGSQL.\(port)") },
            sslMode: sslMode)
    }

    /// The text with any password replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return "(an unparsable URL)" }
        if components.password != nil { components.password = "***" }
        if let items = components.queryItems, items.contains(where: { $0.name == "password" }) {
            components.queryItems = items.map { $0.name == "password" ? URLQueryItem(name: "password", value: "***") : $0 }
        }
        return components.string ?? "(an unparsable URL)"
    }
}

extension DatabaseLocation.PostgresSettings {
    /// The URL without the password.
    public var redactedURL: String {
        var text = "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
        if let unixSocketPath { text += " (socket \(unixSocketPath))" }
        return text
    }
}

extension DatabaseLocation {
    /// True for a SQLite file.
    public var isSQLite: Bool {
        if case .sqlite = self { return true }
        return false
    }
}
