import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// `resnet18 serve` as a separate process facing misbehaving clients: one that trickles a byte a second, ones that
/// hang up mid-upload. Its descriptors and resident memory are read from /proc.
@Suite(.serialized, .ownThread) struct ServerFaultTests {
    @Test("OpenMP's threads spin briefly, then sleep (OMP_WAIT_POLICY=PASSIVE, GOMP_SPINCOUNT=2000), and glibc's heap asks for huge pages, the process running itself again, unless the environment chose a policy or a spin")
    func openMPWaitsPassively() async throws {
        let unchosen = try await ServeProcess.start([], environment: ["OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "", "GLIBC_TUNABLES": "",
                                                                      "RESNET18_TEST_MARK": "kept"])
        let defaulted = unchosen.environment()
        unchosen.stop()
        #expect(defaulted.contains("OMP_WAIT_POLICY=PASSIVE"), "\(defaulted.filter { $0.hasPrefix("OMP") })")
        #expect(defaulted.contains("GOMP_SPINCOUNT=2000"), "\(defaulted.filter { $0.hasPrefix("GOMP") })")
        #expect(defaulted.contains("RESNET18_TEST_MARK=kept"))  // the rest of the environment as it was given
        #expect(defaulted.contains("GLIBC_TUNABLES=glibc.malloc.hugetlb=1"), "\(defaulted.filter { $0.hasPrefix("GLIBC") })")

        let chosen = try await ServeProcess.start([], environment: ["OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": ""])
        let kept = chosen.environment()
        chosen.stop()
        #expect(kept.filter { $0.hasPrefix("OMP_WAIT_POLICY=") } == ["OMP_WAIT_POLICY=ACTIVE"])
        #expect(!kept.contains { $0.hasPrefix("GOMP_SPINCOUNT=") }, "\(kept.filter { $0.hasPrefix("GOMP") })")

        let spin = try await ServeProcess.start([], environment: ["OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "0"])
        let given = spin.environment()
        spin.stop()
        #expect(given.contains("OMP_WAIT_POLICY=PASSIVE") && given.filter { $0.hasPrefix("GOMP_SPINCOUNT=") } == ["GOMP_SPINCOUNT=0"])
    }

    @Test("a client sending one byte a second is cut off after --request-timeout; others are served meanwhile")
    func slowClientIsCutOff() async throws {
        let server = try await ServeProcess.start(["--request-timeout", "2"])
        defer { server.stop() }
        let photo = try [UInt8](Data(contentsOf: Fixtures.images.appendingPathComponent("chelsea-q90.jpg")))

        // A body trickling in (each byte restarts Hummingbird's idle timer, not this deadline), headers trickling
        // in, and a connection that sends nothing at all.
        let slowBody = try ClientSocket(port: server.port)
        try slowBody.send(Array("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: \(photo.count)\r\n\r\n".utf8))
        let slowHead = try ClientSocket(port: server.port)
        let silent = try ClientSocket(port: server.port)
        let bodyTrickle = Trickle(socket: slowBody, bytes: Array(photo.prefix(30)))
        let headTrickle = Trickle(socket: slowHead, bytes: Array("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n".utf8))

        for _ in 0..<3 {
            let answer = try ClientSocket(port: server.port).request(photo)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")
        }
        // Each slow connection ends closed by the server, long before its bytes ran out (30 s at one a second).
        #expect(slowBody.waitForClose(seconds: 60))
        #expect(slowHead.waitForClose(seconds: 60))
        #expect(silent.waitForClose(seconds: 60))
        #expect(bodyTrickle.stop() < 30)
        #expect(headTrickle.stop() < 30)
        #expect(try ClientSocket(port: server.port).request(photo).hasPrefix("HTTP/1.1 200"))
    }

    @Test("clients hanging up mid-upload or before their answer leave no descriptor behind, and memory stays flat")
    func disconnectsLeakNothing() async throws {
        let server = try await ServeProcess.start(["--cache-entries", "0"])
        defer { server.stop() }
        let photo = try [UInt8](Data(contentsOf: Fixtures.images.appendingPathComponent("chelsea-q90.jpg")))
        let head = Array("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: \(photo.count)\r\n\r\n".utf8)
        for _ in 0..<10 { #expect(try ClientSocket(port: server.port).request(photo).hasPrefix("HTTP/1.1 200")) }
        let descriptorsBefore = server.openDescriptors()

        /// 300 clients: a third send half the body, a third the head only, a third the whole request; all reset.
        func hangUps() throws {
            for round in 0..<300 {
                let socket = try ClientSocket(port: server.port)
                switch round % 3 {
                case 0: try socket.send(head + photo.prefix(photo.count / 2))
                case 1: try socket.send(head)
                default: try socket.send(head + photo)
                }
                socket.abortOnClose()
            }
            // The abandoned whole requests are still classified (up to --queue-depth of them), so the server may
            // answer 503 with Retry-After for a moment; then a good request is served.
            var answer = try ClientSocket(port: server.port).request(photo)
            for _ in 0..<60 where answer.hasPrefix("HTTP/1.1 503") {
                #expect(answer.lowercased().contains("retry-after: "))
                sleep(1)
                answer = try ClientSocket(port: server.port).request(photo)
            }
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
        }
        // The first two waves raise the allocator's high-water mark (batches of 8, per-thread arenas: +14 MB from the
        // first to the second wave was seen); a leak would keep growing with each further wave.
        var resident: [Int] = []
        for _ in 0..<4 {
            try hangUps()
            resident.append(server.residentKilobytes())
        }
        // Closing is asynchronous on the server's side: give it a moment to see every hang-up.
        var descriptorsAfter = server.openDescriptors()
        for _ in 0..<100 where descriptorsAfter > descriptorsBefore {
            try await Task.sleep(for: .milliseconds(100))
            descriptorsAfter = server.openDescriptors()
        }
        print("disconnects: descriptors \(descriptorsBefore) -> \(descriptorsAfter), RSS after each wave of 300 (kB): \(resident)")
        #expect(descriptorsAfter <= descriptorsBefore)
        // Two more waves (600 abandoned uploads) must not add to the second wave's mark beyond the allocator's own
        // swing, which reached 24 MB between waves in CI rehearsals. Under 48 MB: a leak of what a whole abandoned
        // request holds (its decoded photo, 820 kB, and tensor, 600 kB: 280 MB over two waves) or of anything over
        // 80 kB per abandoned upload is caught; smaller leaks are the soak's to find (bench/soak.sh, RSS flat over
        // 107,220 requests).
        #expect(resident[3] - resident[1] < 48 * 1024, "RSS after each wave of 300 hang-ups (kB): \(resident)")
    }
}

/// `resnet18 serve --port 0` on the seeded weights, running until `stop()`.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let output = Pipe()

    /// Starts the server and waits (off the shared thread pool) until it says where it listens.
    static func start(_ arguments: [String], environment: [String: String] = [:]) async throws -> ServeProcess {
        try await offThePool { try ServeProcess(arguments, environment: environment) }
    }

    private init(_ arguments: [String], environment: [String: String]) throws {
        process.executableURL = Command.binary
        // No history unless a test asks for it: these tests are about connections, and without --db the server
        // would write to the user's own history file ($XDG_DATA_HOME/resnet18/history.sqlite).
        let history = arguments.contains("--db") ? [] : ["--db", "none"]
        process.arguments = ["serve", "--port", "0", "--weights", Fixtures.seededPth.path] + history + arguments
        var env = ProcessInfo.processInfo.environment
        env["RESNET18_WEIGHTS"] = nil
        for (key, value) in environment { env[key] = value.isEmpty ? nil : value }  // "": not in the environment
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read lines until the server says where it listens (its stdout is then drained by a thread).
        let handle = output.fileHandleForReading
        var text = ""
        var found: Int?
        while found == nil {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                found = Int(text[range].split(separator: ":").last!.dropLast())
            }
        }
        guard let found else {
            process.terminate()
            throw ClientSocket.Failure(description: "serve did not start:\n\(text)")
        }
        port = found
        let log = self.log
        log.append(text)
        Thread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                log.append(String(decoding: chunk, as: UTF8.self))
            }
        }.start()
    }

    /// Everything the server wrote on stdout and stderr so far.
    var printed: String { log.text }

    private let log = OutputLog()

    /// Entries in /proc/PID/fd.
    func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd").count) ?? -1
    }

    /// The environment the running process has: /proc/PID/environ, as NAME=value lines.
    func environment() -> [String] {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(process.processIdentifier)/environ"))) ?? Data()
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// VmRSS from /proc/PID/status.
    func residentKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning { usleep(10_000) }
    }
}

/// Text appended from one thread and read from another.
final class OutputLog: @unchecked Sendable {
    /// Appends everything written to `pipe` until it closes, from a thread of its own.
    func follow(_ pipe: Pipe) {
        Thread.detachNewThread { [self] in
            while true {
                let data = pipe.fileHandleForReading.availableData
                if data.isEmpty { return }
                append(String(decoding: data, as: UTF8.self))
            }
        }
    }

    private let lock = NSLock()
    private var collected = ""

    func append(_ text: String) { lock.withLock { collected += text } }
    var text: String { lock.withLock { collected } }
}

/// Sends one byte a second on a thread until the bytes run out, the server closes the connection, or `stop()`.
final class Trickle: @unchecked Sendable {
    private let lock = NSLock()
    private var sent = 0
    private var stopped = false

    init(socket: ClientSocket, bytes: [UInt8]) {
        Thread { [self] in
            for byte in bytes {
                if lock.withLock({ stopped }) { return }
                guard (try? socket.send([byte])) != nil else { return }
                lock.withLock { sent += 1 }
                sleep(1)
            }
        }.start()
    }

    /// Stops sending; returns how many bytes went out.
    func stop() -> Int {
        lock.withLock {
            stopped = true
            return sent
        }
    }
}
