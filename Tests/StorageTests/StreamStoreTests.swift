import Foundation
import Storage
import Testing
import TestSupport

/// The `streams` table on SQLite and PostgreSQL: a name is stored once, changes and deletions are committed, and a
/// stream survives closing and reopening the database.
@Suite struct StreamStoreTests {
    @Test("streams are stored once per name, changed, listed oldest first and deleted; they outlive the connection", arguments: TestDatabases.backends)
    func storeChangeDelete(_ backend: TestDatabases.Backend) async throws {
        let (location, cleanup) = try await TestDatabases.freshLocation(backend)
        defer { Task { await cleanup() } }
        let database = try await Database.open(location)
        let store = StreamStore(database: database)
        let earlier = Date(timeIntervalSince1970: 1_700_000_000), later = earlier.addingTimeInterval(5)
        #expect(try await store.insert(StoredStream(name: "porch", requestJSON: #"{"name":"porch","source":"rtsp://u:pw@cam/1"}"#,
                                                    enabled: true, createdAt: later)))
        #expect(try await store.insert(StoredStream(name: "garage", requestJSON: #"{"name":"garage"}"#, enabled: false, createdAt: earlier)))
        // A second stream of the same name is refused, the first is untouched.
        #expect(try await !store.insert(StoredStream(name: "porch", requestJSON: "{}", enabled: false, createdAt: earlier)))
        #expect(try await store.all().map(\.name) == ["garage", "porch"])
        #expect(try await store.update(name: "garage", requestJSON: #"{"name":"garage","fps":1}"#, enabled: true))
        #expect(try await !store.update(name: "nope", requestJSON: "{}", enabled: true))
        await database.close()

        let reopened = try await Database.open(location)
        let again = StreamStore(database: reopened)
        let streams = try await again.all()
        #expect(streams.map(\.name) == ["garage", "porch"])
        #expect(streams[0].enabled && streams[0].requestJSON == #"{"name":"garage","fps":1}"#)
        #expect(streams[1].requestJSON.contains("u:pw@cam") && streams[1].createdAt == later)
        #expect(try await again.delete(name: "porch"))
        #expect(try await !again.delete(name: "porch"))
        #expect(try await again.all().map(\.name) == ["garage"])
        await reopened.close()
    }
}
