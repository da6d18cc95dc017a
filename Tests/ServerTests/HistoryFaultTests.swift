import Foundation
import Hummingbird
import Server
import Storage
import Testing
import TestSupport

/// Database faults while the server runs: the recognition still answers (without a history id), the failure is
/// logged and counted in /metrics, and the queued rows are written once the database is back.
extension ServerStateTests {
    @Suite("history: database faults", .serialized)
    struct HistoryFaultTests {
        /// Runs a server on a SQLite file at `path`.
        func withServer<Value: Sendable>(path: String, _ body: @Sendable (any TestClientProtocol, HistoryStore) async throws -> Value) async throws -> Value {
            let database = try await Database.open(.sqlite(path: path))
            let store = HistoryStore(database: database)
            defer { Task { await database.close() } }
            let configuration = TestServer.configuration { $0.database = .sqlite(path: path); $0.historyWaitSeconds = 2 }
            return try await TestServer.run(configuration, history: store) { client in try await body(client, store) }
        }

        func mountOrCancel(kilobytes: Int) throws -> TemporaryMount {
            do {
                return try TemporaryMount(kilobytes: kilobytes)
            } catch {
                try Test.cancel("cannot mount a tmpfs here (\(error)): the read-only and full-disk cases need root with mount rights")
            }
        }

        @Test("a locked database: answers go out without an id, the failure is counted, the rows are written after")
        func lockedDuringWrites() async throws {
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("history.sqlite").path
            try await withServer(path: path) { client, store in
                #expect(try await client.classifyRecorded() != nil)
                let lock = try SQLiteLockHolder(path: path)
                // The writer waits out the busy timeout (5 s) and the request its commit wait (2 s): no id, but an answer.
                #expect(try await client.classifyRecorded() == nil)
                try await waitUntil { try await client.metric("resnet18_history_write_failures_total") >= 1 }
                #expect(try await client.metric("resnet18_history_queued_rows") >= 1)
                lock.release()
                try await waitUntil { try await store.count() == 2 }
                #expect(try await client.stillServes())
            }
        }

        @Test("the PostgreSQL server going away: answers still go out without an id, history is 503, the rows are written when it is back",
              .timeLimit(.minutes(6)))
        func postgresGoesAway() async throws {
            if TestDatabases.skipPostgres { try Test.cancel("RESNET18_TEST_SKIP_POSTGRES=1") }
            let cluster = try OwnPostgres.start()
            defer { cluster.remove() }
            let location = try DatabaseLocation(argument: cluster.url)
            let database = try await Database.open(location)
            let store = HistoryStore(database: database)
            let configuration = TestServer.configuration { $0.database = location; $0.historyWaitSeconds = 2 }
            try await TestServer.run(configuration, history: store) { client in
                #expect(try await client.classifyRecorded() != nil)
                try cluster.stop()
                // Recognition does not wait on the database: the answer comes, without its row's id.
                #expect(try await client.classifyRecorded() == nil)
                let history = try await client.execute(uri: "/v1/history", method: .get)
                #expect(history.status == .serviceUnavailable, "\(history.text)")
                #expect(try history.object["code"] as? String == "history_unavailable")
                try await waitUntil(seconds: 90, "a write failure counted") { try await client.metric("resnet18_history_write_failures_total") >= 1 }
                #expect(try await client.stillServes())
                try cluster.resume()
                // The queued rows (the answer without an id, and stillServes') are written once the server is back,
                // every answered recognition once, and the history answers again.
                try await waitUntil(seconds: 150, "the queued rows written") {
                    let queued = try await client.metric("resnet18_history_queued_rows")
                    let stored = try? await store.count()
                    return queued == 0 && stored == 3
                }
                try await waitUntil(seconds: 60, "/v1/history answering") { try await client.execute(uri: "/v1/history", method: .get).status == .ok }
                #expect(try await client.classifyRecorded() != nil)
                #expect(try await store.count() == 4)
            }
            await database.close()
        }

        // A database made read-only under a running server is not injected: the kernel refuses to remount a file
        // system read-only while the server holds its files open for writing ("mount point is busy"), and root
        // ignores permission bits. Read-only at start is tested with the real binary (HistoryCrashTests).

        @Test("a full disk: answers still go out, the error says the disk is full, rows are written when space returns")
        func fullDisk() async throws {
            let mount = try mountOrCancel(kilobytes: 1024)
            defer { mount.unmount() }
            let path = mount.directory.appendingPathComponent("history.sqlite").path
            try await withServer(path: path) { client, store in
                #expect(try await client.classifyRecorded() != nil)
                mount.fill()
                var unrecorded = 0
                for _ in 0..<3 where try await client.classifyRecorded() == nil { unrecorded += 1 }
                #expect(unrecorded >= 1)
                try await waitUntil { try await client.metric("resnet18_history_write_failures_total") >= 1 }
                // The store names the fault.
                await #expect {
                    _ = try await store.record(RecognitionRecord(source: "test", imageSHA256: "x", thumbnailJPEG: [UInt8](repeating: 1, count: 65536),
                                                                 top5: [], weights: RecordedWeights(name: "w", sha256Prefix: "0", trained: false),
                                                                 timings: RecordedTimings()))
                } throws: { error in
                    guard case .diskFull = error as? StorageError else { return false }
                    return "\(error)".contains("is full")
                }
                mount.makeRoom()
                try await waitUntil { try await store.count() == 1 + 3 }
                #expect(try await client.stillServes())
            }
        }
    }
}

extension TestClientProtocol {
    /// Classifies a photo (a new one each time: no cache hit); the history id of the answer, nil when none.
    func classifyRecorded() async throws -> Int64? {
        var photo = try Photos.bytes("chelsea-q90.jpg")
        // Bytes after the JPEG's end marker change its SHA-256 (and the cache key), not its pixels.
        photo += Array(UUID().uuidString.utf8)
        let response = try await execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                         body: ByteBuffer(bytes: photo))
        guard response.status == .ok else { throw HistoryFaultError.notAnswered(Int(response.status.code)) }
        return ((try response.object["results"] as? [[String: Any]])?.first?["history_id"] as? Int).map(Int64.init)
    }

    /// A counter or gauge from /metrics (0 when absent).
    func metric(_ name: String) async throws -> Double {
        let text = try await execute(uri: "/metrics", method: .get).text
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            return Double(line.split(separator: " ").last ?? "0") ?? 0
        }
        return 0
    }
}

enum HistoryFaultError: Error {
    case notAnswered(Int)
    case timedOut(String)
    case cluster(String)
}

/// Polls until the condition holds (at most `seconds`, a minute by default); the condition, not the time, is what
/// is tested. `what` names it in the error when it never holds.
func waitUntil(seconds: Int = 60, _ what: String = "", _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw HistoryFaultError.timedOut(what)
}

/// A PostgreSQL server of one test's own (`scripts/postgres-test-cluster.sh`), to stop and start again under a
/// running server.
struct OwnPostgres {
    let directory: URL
    let url: String

    static func start() throws -> OwnPostgres {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("resnet18-pg-\(UUID().uuidString)")
        let url = try script("start", directory).trimmingCharacters(in: .whitespacesAndNewlines)
        return OwnPostgres(directory: directory, url: url)
    }

    /// Stops it at once (`pg_ctl stop -m immediate`: connections are cut as in a crash).
    func stop() throws { _ = try Self.script("stop", directory) }
    func resume() throws { _ = try Self.script("resume", directory) }
    func remove() {
        _ = try? Self.script("stop", directory)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs the script through posix_spawn and waitpid, its output to files. Not Foundation's Process: on Linux it
    /// sees a child's end through a descriptor the child inherits, and the PostgreSQL server that `start` leaves
    /// running inherits it too, so the script would never be seen to end.
    private static func script(_ action: String, _ directory: URL) throws -> String {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("resnet18-pg-\(UUID().uuidString)")
        let outLog = base.appendingPathExtension("out"), errorLog = base.appendingPathExtension("err")
        defer { for log in [outLog, errorLog] { try? FileManager.default.removeItem(at: log) } }
        let script = Fixtures.projectRoot.appendingPathComponent("scripts/postgres-test-cluster.sh").path
        let command = "'\(script)' \(action) '\(directory.path)' >'\(outLog.path)' 2>'\(errorLog.path)' </dev/null"
        let words: [String] = ["/bin/sh", "-c", command]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ)
        guard spawned == 0 else { throw HistoryFaultError.cluster("cannot run \(script): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            let complaint = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw HistoryFaultError.cluster("postgres-test-cluster.sh \(action) (status \(status)): \(complaint)")
        }
        return (try? String(contentsOf: outLog, encoding: .utf8)) ?? ""
    }
}
