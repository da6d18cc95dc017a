import Foundation

/// The `login_failures` table (`Migration.loginFailures`): failed-login counts and lockouts shared by every replica
/// on the database. Each change is one statement, so replicas failing logins at once count every failure.
public final class LoginFailureStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Counts a failure for `key` at `now` (a record older than `forgetBefore` starts again from one); the count.
    public func recordFailure(key: String, now: Date, forgetBefore: Date) async throws(StorageError) -> Int {
        let rows = try await database.write(SQLStatement(
            """
            INSERT INTO login_failures (throttle_key, failures, last_failure_ms, locked_until_ms) VALUES (?, 1, ?, 0)
            ON CONFLICT (throttle_key) DO UPDATE SET
                failures = CASE WHEN login_failures.last_failure_ms < ? THEN 1 ELSE login_failures.failures + 1 END,
                last_failure_ms = excluded.last_failure_ms
            RETURNING failures
            """,
            [.text(key), .integer(Self.milliseconds(now)), .integer(Self.milliseconds(forgetBefore))]))
        return Int(rows.first?.optionalInt64("failures") ?? 1)
    }

    /// Locks `key` until `until` (a later lockout already set stays).
    public func lock(key: String, until: Date) async throws(StorageError) {
        _ = try await database.write(SQLStatement(
            "UPDATE login_failures SET locked_until_ms = ? WHERE throttle_key = ? AND locked_until_ms < ?",
            [.integer(Self.milliseconds(until)), .text(key), .integer(Self.milliseconds(until))]))
    }

    /// The latest lockout among `keys` (distant past when none is locked).
    public func lockedUntil(keys: [String]) async throws(StorageError) -> Date {
        var latest = Date.distantPast
        for key in keys {
            let rows = try await database.read(SQLStatement(
                "SELECT locked_until_ms FROM login_failures WHERE throttle_key = ?", [.text(key)]))
            if let milliseconds = rows.first?.optionalInt64("locked_until_ms") {
                latest = max(latest, Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            }
        }
        return latest
    }

    /// Forgets a key's record (a user who signed in).
    public func clear(key: String) async throws(StorageError) {
        _ = try await database.write(SQLStatement("DELETE FROM login_failures WHERE throttle_key = ?", [.text(key)]))
    }

    /// Forgets records whose last failure is before `before`.
    public func forget(before: Date) async throws(StorageError) {
        _ = try await database.write(SQLStatement(
            "DELETE FROM login_failures WHERE last_failure_ms < ?", [.integer(Self.milliseconds(before))]))
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
