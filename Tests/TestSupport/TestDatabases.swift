import Foundation
import Storage

/// Fresh, empty databases for tests: a SQLite file in a temporary directory, or a new database on the throwaway
/// PostgreSQL server that `scripts/test.sh` starts and names in `RESNET18_TEST_POSTGRES_URL`.
public enum TestDatabases {
    /// The back-ends every store test runs on.
    public enum Backend: String, CaseIterable, Sendable{
        case sqlite, postgres
    }

    /// The server's URL, from `scripts/test.sh`.
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["RESNET18_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// True only when the person running the tests said so: then PostgreSQL cases are skipped, visibly.
    /// Otherwise a missing server is a failure, not a silent pass.
    public static var skipPostgres: Bool { ProcessInfo.processInfo.environment["RESNET18_TEST_SKIP_POSTGRES"] == "1" }

    /// The back-ends to run on: both, unless `RESNET18_TEST_SKIP_POSTGRES=1`.
    public static var backends: [Backend] { skipPostgres ? [.sqlite] : Backend.allCases }

    public static let missingPostgresMessage = """
        RESNET18_TEST_POSTGRES_URL is not set: run scripts/test.sh (it starts a throwaway PostgreSQL server and exports it), \
        or start one with `scripts/postgres-test-cluster.sh start DIR` and export the URL it prints. \
        Set RESNET18_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL cases explicitly.
        """

    /// The `--db` argument that names a location.
    public static func argument(for location: DatabaseLocation) -> String {
        switch location {
        case let .sqlite(path): return path
        case let .postgres(settings):
            let password = settings.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) } ?? ""
            var url = "postgres://\(settings.username)\(password)@\(settings.host):\(settings.port)/\(settings.database)?sslmode=\(settings.sslMode.rawValue)"
            if let socket = settings.unixSocketPath { url += "&host=" + (socket as NSString).deletingLastPathComponent }
            return url
        case .none: return "none"
        }
    }

    /// A location with nothing in it yet, and a cleanup to call when done.
    public static func freshLocation(_ backend: Backend) async throws -> (location: DatabaseLocation, cleanup: @Sendable () async -> Void) {
        switch backend {
        case .sqlite:
            let directory = try Fixtures.temporaryDirectory()
            return (.sqlite(path: directory.appendingPathComponent("history.sqlite").path),
                    { try? FileManager.default.removeItem(at: directory) })
        case .postgres:
            guard let url = postgresURL else { throw TestDatabaseError.noPostgres(missingPostgresMessage) }
            guard case let .postgres(settings) = try DatabaseLocation(argument: url) else {
                throw TestDatabaseError.noPostgres("RESNET18_TEST_POSTGRES_URL=\(url) is not a postgres:// URL")
            }
            let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let admin = try await Database.open(.postgres(settings), migrations: [])
            try await admin.write(SQLStatement("CREATE DATABASE \(name)"))
            await admin.close()
            var fresh = settings
            fresh.database = name
            return (.postgres(fresh), {
                guard let admin = try? await Database.open(.postgres(settings), migrations: []) else { return }
                _ = try? await admin.write(SQLStatement("DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
                await admin.close()
            })
        }
    }
}

public enum TestDatabaseError: Error, CustomStringConvertible {
    case noPostgres(String)
    public var description: String {
        switch self { case let .noPostgres(message): message }
    }
}
