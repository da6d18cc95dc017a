import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Storage
import Testing
import TestSupport

/// `resnet18 serve` as a process: started on a free port, fed over HTTP, killed.
final class HistoryServeProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var text = ""
    private(set) var baseURL: URL?

    /// Starts the server and waits (off the shared thread pool) until it listens.
    static func start(_ arguments: [String]) async throws -> HistoryServeProcess {
        try await offThePool { try HistoryServeProcess(arguments) }
    }

    private init(_ arguments: [String]) throws {
        process.executableURL = Command.binary
        process.arguments = ["serve", "--port", "0"] + arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let handle = output.fileHandleForReading
        Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                self.lock.lock()
                self.text += String(decoding: data, as: UTF8.self)
                self.lock.unlock()
            }
        }.start()
        for _ in 0..<1200 {
            if let range = log.range(of: #"listening on http://[^ \n]+/"#, options: .regularExpression) {
                baseURL = URL(string: String(log[range].dropFirst("listening on ".count)))
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        process.terminate()
        throw ServeProcessError.didNotStart(log)
    }

    var log: String {
        lock.lock()
        defer { lock.unlock() }
        return text
    }

    /// SIGKILL: no shutdown, nothing flushed.
    func killNow() {
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { usleep(10_000) }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        while process.isRunning { usleep(10_000) }
    }

    /// POSTs a JPEG to /v1/classify; the history id answered, nil when none (or when the server is gone).
    func classify(_ jpeg: [UInt8]) async -> Int64?? {
        guard let baseURL else { return nil }
        var request = URLRequest(url: baseURL.appendingPathComponent("v1/classify"))
        request.httpMethod = "POST"
        request.setValue("image/jpeg", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 30
        guard let (data, response) = try? await URLSession.shared.upload(for: request, from: Data(jpeg)),
              (response as? HTTPURLResponse)?.statusCode == 200,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let result = (object["results"] as? [[String: Any]])?.first else { return nil }
        return .some((result["history_id"] as? Int).map(Int64.init))
    }
}

enum ServeProcessError: Error, CustomStringConvertible {
    case didNotStart(String)
    var description: String {
        switch self { case let .didNotStart(log): "resnet18 serve did not start listening:\n\(log)" }
    }
}

@Suite(.serialized, .ownThread) struct HistoryCrashTests {
    /// Records answered with an id are committed: after kill -9 mid-load the database opens and holds every one.
    @Test(arguments: TestDatabases.backends)
    func killNineDuringWritesLosesNoAnsweredRow(backend: TestDatabases.Backend) async throws {
        let (location, cleanup) = try await TestDatabases.freshLocation(backend)
        defer { Task { await cleanup() } }
        let server = try await HistoryServeProcess.start(["--weights", Fixtures.seededPth.path, "--db", TestDatabases.argument(for: location),
                                       "--log-level", "warning"])
        defer { server.stop() }
        let photo = [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent("chelsea-q90.jpg")))

        let answered = AnsweredIDs()
        // Four clients post distinct images (no cache hits) until the server is gone.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<4 {
                group.addTask {
                    var sent = 0
                    while true {
                        sent += 1
                        guard let answer = await server.classify(photo + Array("client \(client) image \(sent)".utf8)) else { return }
                        if let id = answer { await answered.add(id) }
                    }
                }
            }
            group.addTask {
                // Kill once enough rows are answered, with requests (and writes) in flight.
                while await answered.count < 40 { try await Task.sleep(for: .milliseconds(20)) }
                server.killNow()
            }
            try await group.waitForAll()
        }
        #expect(server.process.terminationReason == .uncaughtSignal)
        let ids = await answered.ids
        #expect(ids.count >= 40)

        let database = try await Database.open(location)
        if backend == .sqlite {
            let check = try await database.read(SQLStatement("PRAGMA integrity_check"))
            #expect(check.first?.values.first == .text("ok"))
        }
        let store = HistoryStore(database: database)
        let stored = Set(try await store.query(HistoryFilter(), page: HistoryPageRequest(limit: 1000)).entries.map(\.id))
        let missing = ids.filter { !stored.contains($0) }
        #expect(missing.isEmpty, "answered ids missing after kill -9: \(missing)")
        #expect(stored.count >= ids.count)
        print("kill -9 during writes (\(backend)): \(ids.count) ids answered before the kill, \(stored.count) rows stored, \(missing.count) missing")
        await database.close()
    }

    @Test func aLockedDatabaseAtStartIsRefusedWithAMessage() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("history.sqlite").path
        await (try await Database.open(.sqlite(path: path))).close()
        let lock = try SQLiteLockHolder(path: path)
        defer { lock.release() }
        let outcome = try await Command.run(["serve", "--port", "0", "--weights", Fixtures.seededPth.path, "--db", path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("is locked by another process"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("listening on"))
    }

    @Test func aReadOnlyDatabaseAtStartIsRefusedWithAMessage() async throws {
        let mount: TemporaryMount
        do {
            mount = try TemporaryMount(kilobytes: 4096)
        } catch {
            try Test.cancel("cannot mount a tmpfs here (\(error)): the read-only case needs root with mount rights")
        }
        defer { mount.unmount() }
        let path = mount.directory.appendingPathComponent("history.sqlite").path
        await (try await Database.open(.sqlite(path: path))).close()
        try mount.remount(readOnly: true)
        let outcome = try await Command.run(["serve", "--port", "0", "--weights", Fixtures.seededPth.path, "--db", path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("is read-only"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("listening on"))
    }
}

actor AnsweredIDs {
    private(set) var ids: [Int64] = []
    var count: Int { ids.count }
    func add(_ id: Int64) { ids.append(id) }
}
