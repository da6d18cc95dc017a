import Foundation
import Logging
import PostgresNIO

/// PostgreSQL through postgres-nio's `PostgresClient` (a connection pool run by a task this back-end owns).
/// Every write is a transaction committed by the server before the call returns.
final class PostgresBackend: DatabaseBackend {
    let settings: DatabaseLocation.PostgresSettings
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    /// A fixed key for `pg_advisory_xact_lock`, so replicas starting together migrate one at a time.
    static let migrationLockKey: Int64 = 0x7265_736e_6574_3138 // "resnet18"

    init(settings: DatabaseLocation.PostgresSettings, logger: Logger) async throws(StorageError) {
        self.settings = settings
        self.logger = logger
        var configuration: PostgresClient.Configuration
        if let socket = settings.unixSocketPath {
            configuration = .init(unixSocketPath: socket, username: settings.username, password: settings.password, database: settings.database)
        } else {
            let tls: PostgresClient.Configuration.TLS = switch settings.sslMode {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
            configuration = .init(host: settings.host, port: settings.port, username: settings.username,
                                  password: settings.password, database: settings.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 8
        // One direct connection first: the pool would retry a refused or misconfigured server quietly forever,
        // while this fails at once with the server's own reason (refused, no such database, bad password).
        do {
            let probe = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: try Self.probeConfiguration(settings),
                id: 0, logger: logger).get()
            try await probe.close()
        } catch {
            throw Self.storageError(error, settings: settings, opening: true)
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // The pool runs in its own task; queries wait until it has started (a lease before then works but makes
        // PostgresNIO warn on every start).
        let (started, starting) = AsyncStream<Void>.makeStream()
        runTask = Task {
            starting.finish()
            await client.run()
        }
        for await _ in started {}
        await Task.yield()
    }

    private static func probeConfiguration(_ settings: DatabaseLocation.PostgresSettings) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socket = settings.unixSocketPath {
            configuration = .init(unixSocketPath: socket, username: settings.username, password: settings.password, database: settings.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS = switch settings.sslMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: settings.host, port: settings.port, username: settings.username,
                                  password: settings.password, database: settings.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    /// How long a statement may wait for a connection and its answer. The pool retries a lost server quietly:
    /// without a limit, a request would wait for it forever.
    static let answerTimeout: Duration = .seconds(10)

    func read(_ statement: SQLStatement) async throws(StorageError) -> [SQLRow] {
        do {
            let client = self.client, logger = self.logger
            return try await Self.withDeadline(settings) {
                try await Self.rows(try await client.query(Self.query(statement), logger: logger))
            }
        } catch {
            throw Self.storageError(error, settings: settings, opening: false)
        }
    }

    func writeTransaction(_ statements: [SQLStatement]) async throws(StorageError) -> [[SQLRow]] {
        do {
            let client = self.client, logger = self.logger
            // A timeout after COMMIT was sent but before its answer is ambiguous: the caller retries, and the rows may
            // then be stored twice (never lost).
            return try await Self.withDeadline(settings) {
                if statements.count == 1 {
                    // A single statement is its own transaction on the server.
                    return [try await Self.rows(try await client.query(Self.query(statements[0]), logger: logger))]
                }
                return try await client.withTransaction(logger: logger) { connection in
                    var results: [[SQLRow]] = []
                    for statement in statements {
                        results.append(try await Self.rows(try await connection.query(Self.query(statement), logger: logger)))
                    }
                    return results
                }
            }
        } catch {
            throw Self.storageError(error, settings: settings, opening: false)
        }
    }

    func migrate(_ migrations: [Migration], dialect: SQLDialect) async throws(StorageError) {
        let logger = self.logger
        var current = ""
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))"), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: Migration.trackingTable(dialect)), logger: logger)
            }
            for migration in migrations {
                current = migration.id
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))"), logger: logger)
                    let applied = try await Self.rows(try await connection.query(
                        Self.query(SQLStatement(Migration.isAppliedQuery, [.text(migration.id)])), logger: logger))
                    guard applied.isEmpty else { return }
                    for sql in migration.statements(dialect) {
                        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                    }
                    try await connection.query(Self.query(SQLStatement(Migration.markAppliedStatement,
                        [.text(migration.id), .integer(Int64(Date().timeIntervalSince1970 * 1000))])), logger: logger)
                }
            }
        } catch {
            let mapped = Self.storageError(error, settings: settings, opening: false)
            switch mapped {
            case .statementFailed(let reason) where !current.isEmpty: throw .migrationFailed(id: current, reason: reason)
            default: throw mapped
            }
        }
    }

    func close() async {
        runTask.cancel()
        _ = await runTask.value
    }

    /// Runs the body, or fails with `unavailable` once `answerTimeout` has passed (the body is cancelled).
    private static func withDeadline<T: Sendable>(_ settings: DatabaseLocation.PostgresSettings,
                                                  _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: answerTimeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw StorageError.unavailable(location: settings.redactedURL, reason: "no answer within \(answerTimeout.components.seconds) s")
            }
            return value
        }
    }

    private static func query(_ statement: SQLStatement) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: statement.arguments.count)
        for argument in statement.arguments {
            switch argument {
            case .null: bindings.appendNull()
            case let .integer(value): bindings.append(value)
            case let .real(value): bindings.append(value)
            case let .text(value): bindings.append(value)
            case let .blob(bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: statement.numberedPlaceholders, binds: bindings)
    }

    private static func rows(_ sequence: PostgresRowSequence) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for try await row in sequence {
            var columns: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                values.append(try value(of: cell))
            }
            rows.append(SQLRow(columns: columns, values: values))
        }
        return rows
    }

    private static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        default: return .text(try cell.decode(String.self))
        }
    }

    /// Turns PostgreSQL's SQLSTATEs and connection failures into errors that say what to do.
    static func storageError(_ error: any Error, settings: DatabaseLocation.PostgresSettings, opening: Bool) -> StorageError {
        if let error = error as? StorageError { return error }
        let location = settings.redactedURL
        guard let error = error as? PSQLError else { return .statementFailed(reason: "PostgreSQL: \(error)") }
        let message = error.serverInfo?[.message]
        switch error.serverInfo?[.sqlState] {
        case "25006": return .readOnly(location: location)
        case "53100": return .diskFull(location: location)
        case "55P03", "40P01": return .locked(location: location)
        case "3D000": return .cannotOpen(location: location, reason: "the database \(settings.database) does not exist (create it with: createdb \(settings.database))")
        case "28P01", "28000": return .cannotOpen(location: location, reason: "the server refused user \(settings.username): \(message ?? "authentication failed")")
        case "42501": return opening ? .cannotOpen(location: location, reason: "permission denied: \(message ?? "")") : .readOnly(location: location)
        case let state?: return .statementFailed(reason: "PostgreSQL \(state): \(message ?? "error")\(error.serverInfo?[.detail].map { " (\($0))" } ?? "")")
        case nil:
            let underlying = error.underlying.map { "\($0)" } ?? "\(error.code)"
            if opening {
                return .cannotOpen(location: location, reason: "cannot connect: \(underlying)")
            }
            if error.code == .connectionError || error.code == .serverClosedConnection || error.code == .uncleanShutdown {
                return .unavailable(location: location, reason: "\(error.code): \(underlying)")
            }
            return .statementFailed(reason: "PostgreSQL \(error.code): \(underlying)")
        }
    }
}
