import Foundation

/// One stream's lease as stored.
public struct StreamLease: Sendable, Equatable {
    public let name: String
    public let holder: String
    public let generation: Int64
    public let expiresAt: Date
    /// The holder's latest view of the stream (its `GET /v1/streams/NAME` answer), nil before its first heartbeat.
    public let infoJSON: String?
}

/// The `stream_leases` table (`Migration.streamLeases`): replicas on one database agree through it which one
/// watches each camera. Every change is one conditional statement, so two replicas can never both take a lease.
/// Expiry times are the replicas' own clocks (keep them in sync, as NTP does).
public final class StreamLeaseStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Takes the lease of `name` for `holder` until `until`: when nobody holds it, its holder's lease expired
    /// before `now`, or `holder` held it (a restarted replica of the same name). The new generation, or nil when
    /// another replica holds it.
    public func acquire(name: String, holder: String, now: Date, until: Date) async throws(StorageError) -> Int64? {
        let rows = try await database.write(SQLStatement(
            """
            INSERT INTO stream_leases (stream_name, holder, generation, expires_at_ms) VALUES (?, ?, 1, ?)
            ON CONFLICT (stream_name) DO UPDATE SET holder = excluded.holder, generation = stream_leases.generation + 1,
                expires_at_ms = excluded.expires_at_ms
            WHERE stream_leases.expires_at_ms < ? OR stream_leases.holder = excluded.holder
            RETURNING generation
            """,
            [.text(name), .text(holder), .integer(Self.milliseconds(until)), .integer(Self.milliseconds(now))]))
        return rows.first?.optionalInt64("generation")
    }

    /// Extends a lease this holder still has (same generation) and stores its view of the stream; false when the
    /// lease was lost (taken over or deleted).
    public func renew(name: String, holder: String, generation: Int64, until: Date, infoJSON: String?) async throws(StorageError) -> Bool {
        !(try await database.write(SQLStatement(
            "UPDATE stream_leases SET expires_at_ms = ?, info_json = ? WHERE stream_name = ? AND holder = ? AND generation = ? RETURNING stream_name",
            [.integer(Self.milliseconds(until)), .text(infoJSON), .text(name), .text(holder), .integer(generation)]))).isEmpty
    }

    /// Gives a lease up (a stream stopped or deleted here, or this replica shutting down): another replica may
    /// take it at once.
    public func release(name: String, holder: String, generation: Int64) async throws(StorageError) {
        _ = try await database.write(SQLStatement(
            "DELETE FROM stream_leases WHERE stream_name = ? AND holder = ? AND generation = ?",
            [.text(name), .text(holder), .integer(generation)]))
    }

    /// Forgets the lease of a stream that no longer exists, whoever holds it.
    public func remove(name: String) async throws(StorageError) {
        _ = try await database.write(SQLStatement("DELETE FROM stream_leases WHERE stream_name = ?", [.text(name)]))
    }

    /// Every lease, by stream name.
    public func all() async throws(StorageError) -> [StreamLease] {
        let rows = try await database.read(SQLStatement(
            "SELECT stream_name, holder, generation, expires_at_ms, info_json FROM stream_leases ORDER BY stream_name"))
        var leases: [StreamLease] = []
        for row in rows {
            leases.append(StreamLease(name: try row.string("stream_name"), holder: try row.string("holder"),
                                      generation: try row.int64("generation"),
                                      expiresAt: Date(timeIntervalSince1970: Double(try row.int64("expires_at_ms")) / 1000),
                                      infoJSON: row.optionalString("info_json")))
        }
        return leases
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
