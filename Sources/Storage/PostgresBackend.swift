import Foundation
import Logging
import PostgresNIO
import Synchronization

/// PostgreSQL through postgres-nio's `PostgresConnection`, in a small pool of this back-end's own.
/// Every write is a transaction committed by the server before the call returns.
///
/// Not postgres-nio's `PostgresClient`: when its pool's reconnect met a restarting server ("the database system is
/// starting up", FATAL 57P03) on a loaded machine, it made no more connections, and a lease waited on it could not
/// be cancelled, so the history writer stalled until the process restarted. Here a connection is made when one is
/// needed, dropped on any error, and closed when a statement outlives its deadline, which fails that statement at
/// once: nothing waits on the server longer than `answerTimeout`, and the next write simply connects again.
final class PostgresBackend: DatabaseBackend {
    let settings: DatabaseLocation.PostgresSettings
    private let pool: ConnectionPool
    private let logger: Logger

    /// A fixed key for `pg_advisory_xact_lock`, so replicas starting together migrate one at a time.
    static let migrationLockKey: Int64 = 0x7265_736e_6574_3138 // "resnet18"

    init(settings: DatabaseLocation.PostgresSettings, logger: Logger) async throws(StorageError) {
        self.settings = settings
        self.logger = logger
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try Self.connectionConfiguration(settings)
        } catch {
            throw Self.storageError(error, settings: settings, opening: true)
        }
        pool = ConnectionPool(configuration: configuration, maximum: 8, logger: logger)
        // One connection first, so a refused or misconfigured server fails at once with its own reason
        // (refused, no such database, bad password); it stays in the pool for the first statements.
        do {
            try await pool.warmUp()
        } catch {
            throw Self.storageError(error, settings: settings, opening: true)
        }
    }

    private static func connectionConfiguration(_ settings: DatabaseLocation.PostgresSettings) throws -> PostgresConnection.Configuration {
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
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// How long a statement may take, from asking for a connection to its last row. A connection still busy then
    /// is closed, which fails the statement; the caller hears `unavailable`.
    static let answerTimeout: Duration = .seconds(10)

    func read(_ statement: SQLStatement) async throws(StorageError) -> [SQLRow] {
        do {
            let logger = self.logger
            return try await pool.withConnection(deadline: Self.answerTimeout, settings: settings) { connection in
                try await Self.rows(try await connection.query(Self.query(statement), logger: logger))
            }
        } catch {
            throw Self.storageError(error, settings: settings, opening: false)
        }
    }

    func writeTransaction(_ statements: [SQLStatement]) async throws(StorageError) -> [[SQLRow]] {
        do {
            let logger = self.logger
            // A timeout after COMMIT was sent but before its answer is ambiguous: the caller retries, and the rows may
            // then be stored twice (never lost).
            return try await pool.withConnection(deadline: Self.answerTimeout, settings: settings) { connection in
                if statements.count == 1 {
                    // A single statement is its own transaction on the server.
                    return [try await Self.rows(try await connection.query(Self.query(statements[0]), logger: logger))]
                }
                return try await connection.withTransaction(logger: logger) { connection in
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
        /// Which migration failed, carried out of the connection's closure.
        struct Failure: Error {
            let id: String
            let error: any Error
        }
        let logger = self.logger
        do {
            // No deadline: a replica may wait here for another one's migration (the advisory lock).
            try await pool.withConnection(deadline: nil, settings: settings) { connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))"), logger: logger)
                    try await connection.query(PostgresQuery(unsafeSQL: Migration.trackingTable(dialect)), logger: logger)
                }
                for migration in migrations {
                    do {
                        try await connection.withTransaction(logger: logger) { connection in
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
                    } catch {
                        throw Failure(id: migration.id, error: error)
                    }
                }
            }
        } catch let failure as Failure {
            switch Self.storageError(failure.error, settings: settings, opening: false) {
            case .statementFailed(let reason): throw .migrationFailed(id: failure.id, reason: reason)
            case let mapped: throw mapped
            }
        } catch {
            throw Self.storageError(error, settings: settings, opening: false)
        }
    }

    func close() async {
        await pool.closeAll()
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
        if let error = error as? PostgresTransactionError {
            // The statement's own error, not the wrapper's.
            if let inner = error.beginError ?? error.closureError ?? error.commitError {
                return storageError(inner, settings: settings, opening: opening)
            }
        }
        let location = settings.redactedURL
        guard let error = error as? PSQLError else { return .statementFailed(reason: "PostgreSQL: \(error)") }
        let message = error.serverInfo?[.message]
        switch error.serverInfo?[.sqlState] {
        case "25006": return .readOnly(location: location)
        case "57P01", "57P02", "57P03":
            // Shutting down, crashed, or starting up: it is coming back; writes are retried.
            return .unavailable(location: location, reason: message ?? "the server is restarting")
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

/// Up to `maximum` connections, made on demand. A connection goes back to the pool only after a statement that
/// succeeded; one that failed, timed out or was closed by the server is closed and forgotten.
private actor ConnectionPool {
    private let configuration: PostgresConnection.Configuration
    private let maximum: Int
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var nextID = 1
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var closed = false

    init(configuration: PostgresConnection.Configuration, maximum: Int, logger: Logger) {
        self.configuration = configuration
        self.maximum = maximum
        self.logger = logger
    }

    func warmUp() async throws {
        let connection = try await lease()
        release(connection, healthy: true)
    }

    /// Runs `body` on a connection. With a deadline, a connection still busy when it passes is closed (failing the
    /// statement at once) and the call throws `unavailable`.
    func withConnection<T: Sendable>(deadline: Duration?, settings: DatabaseLocation.PostgresSettings,
                                     _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let expired = CallDeadline()
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try await Task.sleep(for: deadline)
                expired.set()
                await self?.wakeWaiters()  // a call still waiting for a connection gives up
                if let connection = expired.connection { try? await connection.close() }
            }
        }
        defer { timer?.cancel() }
        do {
            let leased = try await lease(unless: expired)
            expired.connection = leased
            let value = try await body(leased)
            release(leased, healthy: !expired.isSet)
            return value
        } catch {
            if let connection = expired.connection { release(connection, healthy: false) }
            if expired.isSet, let deadline {
                throw StorageError.unavailable(location: settings.redactedURL, reason: "no answer within \(deadline.components.seconds) s")
            }
            throw error
        }
    }

    private func lease(unless expired: CallDeadline? = nil) async throws -> PostgresConnection {
        while true {
            if closed { throw StorageError.unavailable(location: "PostgreSQL", reason: "the database is closed") }
            if expired?.isSet == true { throw CancellationError() }
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
                open -= 1
                try? await connection.close()
            }
            if open < maximum {
                open += 1
                let id = nextID
                nextID += 1
                do {
                    return try await PostgresConnection.connect(on: PostgresConnection.defaultEventLoopGroup.next(),
                                                                configuration: configuration, id: id, logger: logger)
                } catch {
                    open -= 1
                    wakeWaiters()
                    throw error
                }
            }
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    private func release(_ connection: PostgresConnection, healthy: Bool) {
        if healthy && !closed && !connection.isClosed {
            idle.append(connection)
        } else {
            open -= 1
            // Kept until its channel has closed (a connection must not go away open).
            connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
        }
        wakeWaiters()
    }

    private func wakeWaiters() {
        let woken = waiting
        waiting.removeAll()
        for waiter in woken { waiter.resume() }
    }

    deinit {
        // A database dropped without close(): its connections still close (kept until their channels have).
        for connection in idle { connection.close().whenComplete { _ in withExtendedLifetime(connection) {} } }
    }

    func closeAll() async {
        closed = true
        let connections = idle
        idle.removeAll()
        open -= connections.count
        for connection in connections { try? await connection.close() }
        wakeWaiters()
    }
}

/// One call's deadline: set once when it passes, and the connection the call holds (which the timer closes).
private final class CallDeadline: Sendable {
    private let passed = Mutex(false)
    private let held = Mutex<PostgresConnection?>(nil)
    var isSet: Bool { passed.withLock { $0 } }
    func set() { passed.withLock { $0 = true } }
    var connection: PostgresConnection? {
        get { held.withLock { $0 } }
        set { held.withLock { $0 = newValue } }
    }
}
