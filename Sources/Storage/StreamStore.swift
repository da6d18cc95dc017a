import Foundation

/// One stream as stored: its name, the request that made it (JSON, as the server reads it back), whether it runs.
public struct StoredStream: Sendable, Equatable {
    public let name: String
    public let requestJSON: String
    public let enabled: Bool
    public let createdAt: Date
    /// When it was last changed (what a replica compares to notice a change made through another).
    public let updatedAt: Date

    public init(name: String, requestJSON: String, enabled: Bool, createdAt: Date, updatedAt: Date? = nil) {
        self.name = name
        self.requestJSON = requestJSON
        self.enabled = enabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// The `streams` table (`Migration.streams`): the streams the service runs again after a restart, on SQLite or
/// PostgreSQL alike. A change is committed when its call returns.
public final class StreamStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Every stored stream, oldest first.
    public func all() async throws(StorageError) -> [StoredStream] {
        let rows = try await database.read(SQLStatement(
            "SELECT name, request_json, enabled, created_at_ms, updated_at_ms FROM streams ORDER BY created_at_ms, name"))
        var streams: [StoredStream] = []
        for row in rows {
            streams.append(StoredStream(name: try row.string("name"), requestJSON: try row.string("request_json"),
                                        enabled: try row.int64("enabled") != 0,
                                        createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at_ms")) / 1000),
                                        updatedAt: Date(timeIntervalSince1970: Double(try row.int64("updated_at_ms")) / 1000)))
        }
        return streams
    }

    /// Stores a new stream; false when one of that name is stored already.
    public func insert(_ stream: StoredStream) async throws(StorageError) -> Bool {
        let milliseconds = Self.milliseconds(stream.createdAt)
        let rows = try await database.write(SQLStatement(
            "INSERT INTO streams (name, request_json, enabled, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
            [.text(stream.name), .text(stream.requestJSON), .integer(stream.enabled ? 1 : 0), .integer(milliseconds), .integer(milliseconds)]))
        return !rows.isEmpty
    }

    /// Replaces a stream's request and whether it runs; false when there is no such stream.
    public func update(name: String, requestJSON: String, enabled: Bool, at date: Date = Date()) async throws(StorageError) -> Bool {
        !(try await database.write(SQLStatement(
            "UPDATE streams SET request_json = ?, enabled = ?, updated_at_ms = ? WHERE name = ? RETURNING name",
            [.text(requestJSON), .integer(enabled ? 1 : 0), .integer(Self.milliseconds(date)), .text(name)]))).isEmpty
    }

    /// Forgets a stream; false when there was none of that name.
    public func delete(name: String) async throws(StorageError) -> Bool {
        !(try await database.write(SQLStatement("DELETE FROM streams WHERE name = ? RETURNING name", [.text(name)]))).isEmpty
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
