import Foundation
import GRDB

/// SQLite through GRDB: a `DatabasePool` in WAL mode (readers never block the writer), `synchronous = FULL`
/// (a committed transaction survives a crash of the process and of the machine), a busy timeout for other processes.
final class SQLiteBackend: DatabaseBackend {
    let path: String
    private let pool: DatabasePool

    /// How long a write waits for another process's lock before failing with `locked`.
    static let busyTimeoutSeconds: TimeInterval = 5

    init(path: String) throws(StorageError) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        let files = FileManager.default
        if !directory.isEmpty, !files.fileExists(atPath: directory) {
            do {
                try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .cannotOpen(location: path, reason: "cannot create the directory \(directory) (\(error.localizedDescription))")
            }
        }
        var isDirectory: ObjCBool = false
        if files.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .cannotOpen(location: path, reason: "it is a directory; give a file path inside it")
        }
        // SQLite writes -wal and -shm files beside the database: the directory must be writable too. access(2) also
        // says EROFS on a read-only file system, where root's permission bits would not.
        if access(directory.isEmpty ? "." : directory, W_OK) != 0
            || (files.fileExists(atPath: path) && access(path, W_OK) != 0) {
            throw .readOnly(location: path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeoutSeconds)
        configuration.label = "resnet18"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw Self.storageError(error, path: path)
        }
    }

    func read(_ statement: SQLStatement) async throws(StorageError) -> [SQLRow] {
        do {
            return try await pool.read { db in try Self.run(statement, in: db) }
        } catch {
            throw Self.storageError(error, path: path)
        }
    }

    func writeTransaction(_ statements: [SQLStatement]) async throws(StorageError) -> [[SQLRow]] {
        do {
            return try await pool.write { db in try statements.map { try Self.run($0, in: db) } }
        } catch {
            throw Self.storageError(error, path: path)
        }
    }

    func migrate(_ migrations: [Migration], dialect: SQLDialect) async throws(StorageError) {
        /// Which migration failed, carried out of GRDB's closure.
        struct Failure: Error {
            let id: String
            let error: any Error
        }
        do {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: Migration.trackingTable(dialect))
                for migration in migrations {
                    do {
                        // IMMEDIATE: another process migrating the same file waits instead of racing.
                        try db.inTransaction(.immediate) {
                            let applied = try Row.fetchOne(db, sql: Migration.isAppliedQuery, arguments: [migration.id]) != nil
                            if !applied {
                                for sql in migration.statements(dialect) { try db.execute(sql: sql) }
                                try db.execute(sql: Migration.markAppliedStatement,
                                               arguments: [migration.id, Int64(Date().timeIntervalSince1970 * 1000)])
                            }
                            return .commit
                        }
                    } catch {
                        throw Failure(id: migration.id, error: error)
                    }
                }
            }
        } catch let failure as Failure {
            switch Self.storageError(failure.error, path: path) {
            case let .statementFailed(reason): throw .migrationFailed(id: failure.id, reason: reason)
            case let other: throw other
            }
        } catch {
            throw Self.storageError(error, path: path)
        }
    }

    func close() async {
        try? pool.close()
    }

    private static func run(_ statement: SQLStatement, in db: GRDB.Database) throws -> [SQLRow] {
        let arguments = StatementArguments(statement.arguments.map(\.databaseValue))
        // Each connection keeps its statements prepared: the SQL of every query here has a fixed text (values are
        // arguments; the history filter's clauses come in a few dozen combinations), and preparing a row insert
        // took a third of its time.
        return try Row.fetchAll(db.cachedStatement(sql: statement.sql), arguments: arguments).map { row in
            SQLRow(columns: Array(row.columnNames), values: row.databaseValues.map(SQLValue.init))
        }
    }

    /// Turns SQLite's result codes into errors that say what to do.
    static func storageError(_ error: any Error, path: String) -> StorageError {
        if let error = error as? StorageError { return error }
        guard let error = error as? DatabaseError else { return .statementFailed(reason: "\(error)") }
        switch error.resultCode.primaryResultCode {
        case .SQLITE_READONLY, .SQLITE_PERM:
            return .readOnly(location: path)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .locked(location: path)
        case .SQLITE_FULL:
            return .diskFull(location: path)
        case .SQLITE_CANTOPEN:
            return .cannotOpen(location: path, reason: error.message ?? "unable to open the file")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return .cannotOpen(location: path, reason: "the file is not a SQLite database or is damaged (\(error.message ?? "corrupt"))")
        case .SQLITE_IOERR where error.message?.contains("disk") == true || error.extendedResultCode.rawValue == 13 << 8:
            return .diskFull(location: path)
        default:
            return .statementFailed(reason: "SQLite: \(error.message ?? "\(error.resultCode)") (\(error.sql ?? ""))")
        }
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case let .integer(value): value.databaseValue
        case let .real(value): value.databaseValue
        case let .text(value): value.databaseValue
        case let .blob(bytes): Data(bytes).databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case let .int64(number): self = .integer(number)
        case let .double(number): self = .real(number)
        case let .string(text): self = .text(text)
        case let .blob(data): self = .blob([UInt8](data))
        }
    }
}
