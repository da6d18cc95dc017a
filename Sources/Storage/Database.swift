import Logging

/// resnet18's database, SQLite or PostgreSQL behind one small async API. Opening it applies the pending
/// schema migrations (`Migrations.all`). Stores (`HistoryStore`, …) take it in their initialiser.
public final class Database: Sendable {
    /// Where it is (never shows a password).
    public let location: DatabaseLocation
    /// Which SQL dialect the stores write column types in.
    public let dialect: SQLDialect
    private let backend: any DatabaseBackend
    /// The ids of the migrations it was opened with, in their order: ties of `applied_at_ms` (several applied in
    /// one millisecond) are listed in this order.
    private let migrationOrder: [String]

    private init(location: DatabaseLocation, dialect: SQLDialect, backend: any DatabaseBackend, migrationOrder: [String]) {
        self.migrationOrder = migrationOrder
        self.location = location
        self.dialect = dialect
        self.backend = backend
    }

    /// Opens (creating a SQLite file and its directory when missing) and migrates the database.
    /// `.none` is refused: a caller with history off holds no `Database`.
    public static func open(_ location: DatabaseLocation, migrations: [Migration] = Migrations.all,
                            logger: Logger = Logger(label: "resnet18.storage")) async throws(StorageError) -> Database {
        let database: Database
        switch location {
        case let .sqlite(path):
            database = Database(location: location, dialect: .sqlite, backend: try SQLiteBackend(path: path),
                                migrationOrder: migrations.map(\.id))
        case let .postgres(settings):
            database = Database(location: location, dialect: .postgres, backend: try await PostgresBackend(settings: settings, logger: logger),
                                migrationOrder: migrations.map(\.id))
        case .none:
            throw .invalidLocation("--db none turns history off: there is no database to open")
        }
        do {
            try await database.backend.migrate(migrations, dialect: database.dialect)
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    /// Runs a statement that reads; its rows.
    public func read(_ statement: SQLStatement) async throws(StorageError) -> [SQLRow] {
        try await backend.read(statement)
    }

    /// Runs a statement that writes, in its own transaction (committed when this returns); its rows (`RETURNING`).
    @discardableResult
    public func write(_ statement: SQLStatement) async throws(StorageError) -> [SQLRow] {
        try await backend.writeTransaction([statement])[0]
    }

    /// Runs the statements in one transaction: all are committed when this returns, or none; the rows of each.
    @discardableResult
    public func writeTransaction(_ statements: [SQLStatement]) async throws(StorageError) -> [[SQLRow]] {
        guard !statements.isEmpty else { return [] }
        return try await backend.writeTransaction(statements)
    }

    /// The ids of the migrations this database has applied, in the order they were applied.
    public func appliedMigrations() async throws(StorageError) -> [String] {
        let rows = try await read(SQLStatement("SELECT id, applied_at_ms FROM schema_migrations"))
        let applied = try rows.map { row throws(StorageError) in (id: try row.string("id"), ms: row.optionalInt64("applied_at_ms") ?? 0) }
        let position = Dictionary(migrationOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return applied.sorted {
            ($0.ms, position[$0.id] ?? Int.max, $0.id) < ($1.ms, position[$1.id] ?? Int.max, $1.id)
        }.map(\.id)
    }

    /// Closes the files or connections. Further calls fail.
    public func close() async {
        await backend.close()
    }
}

/// What each back-end implements; everything above it is shared.
protocol DatabaseBackend: Sendable {
    func read(_ statement: SQLStatement) async throws(StorageError) -> [SQLRow]
    func writeTransaction(_ statements: [SQLStatement]) async throws(StorageError) -> [[SQLRow]]
    func migrate(_ migrations: [Migration], dialect: SQLDialect) async throws(StorageError)
    func close() async
}

extension Migration {
    /// The table that remembers applied migrations, the same on both back-ends.
    static func trackingTable(_ d: SQLDialect) -> String {
        "CREATE TABLE IF NOT EXISTS schema_migrations (id \(d.text) PRIMARY KEY NOT NULL, applied_at_ms \(d.integer) NOT NULL)"
    }

    static let isAppliedQuery = "SELECT id FROM schema_migrations WHERE id = ?"
    static let markAppliedStatement = "INSERT INTO schema_migrations (id, applied_at_ms) VALUES (?, ?)"
}
