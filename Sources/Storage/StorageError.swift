/// A database that cannot be opened, migrated, read or written; each message says what to do.
public enum StorageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `--db` could not be understood.
    case invalidLocation(String)
    /// The database could not be opened or created.
    case cannotOpen(location: String, reason: String)
    /// The database (or its directory) is read-only: history cannot be written.
    case readOnly(location: String)
    /// Another process holds a lock on the database longer than the busy timeout.
    case locked(location: String)
    /// The disk holding the database is full.
    case diskFull(location: String)
    /// A schema migration failed; nothing of it was applied.
    case migrationFailed(id: String, reason: String)
    /// A statement failed for another reason.
    case statementFailed(reason: String)
    /// A row did not hold what the store expected (a column missing or of another type).
    case unexpectedRow(String)

    public var description: String {
        switch self {
        case let .invalidLocation(message):
            message
        case let .cannotOpen(location, reason):
            "cannot open the database \(location): \(reason). Check that the path or server is right and reachable, or pass --db none to run without history."
        case let .readOnly(location):
            "the database \(location) is read-only: give this user write access to the file and its directory (SQLite also writes -wal and -shm files beside it), choose another --db, or pass --db none to run without history."
        case let .locked(location):
            "the database \(location) is locked by another process: stop the other writer or choose another --db."
        case let .diskFull(location):
            "the disk holding the database \(location) is full: free some space (or lower --history-max-rows / --history-max-age-days); writes resume once there is room."
        case let .migrationFailed(id, reason):
            "schema migration \(id) failed and was rolled back: \(reason). Check that this database belongs to resnet18 and that this user may create tables."
        case let .statementFailed(reason):
            "database statement failed: \(reason)"
        case let .unexpectedRow(message):
            "unexpected database row: \(message). Was the database changed by another program?"
        }
    }
}
