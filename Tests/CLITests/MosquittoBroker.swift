import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// Debian's `mosquitto` on a free loopback port with a generated configuration: anonymous, or with a password
/// file made by `mosquitto_passwd -b`. Persistent, so a subscriber's session (and the messages queued for it)
/// outlives a stop and start, as it does on a real broker.
final class MosquittoBroker: @unchecked Sendable {
    let port: Int
    let folder: URL
    let users: [String: String]
    /// With TLS: the broker's self-signed certificate (for localhost and 127.0.0.1), which clients must be given.
    let certificate: URL?
    private let lock = NSLock()
    private var process: Process?
    private let log = OutputLog()

    init(users: [String: String] = [:], tls: Bool = false) async throws {
        self.users = users
        folder = try Fixtures.temporaryDirectory()
        port = FFmpeg.freePort()
        certificate = tls ? folder.appendingPathComponent("broker.pem") : nil
        var lines = ["listener \(port) 127.0.0.1", "persistence true", "persistence_location \(folder.path)/",
                     // As root, mosquitto would switch to a `mosquitto` user that cannot read this folder.
                     "user \(String(cString: getpwuid(getuid()).pointee.pw_name))"]
        if let certificate {
            let key = folder.appendingPathComponent("broker.key").path
            try await Self.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate.path,
                                              "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            lines += ["certfile \(certificate.path)", "keyfile \(key)"]
        }
        if users.isEmpty {
            lines.append("allow_anonymous true")
        } else {
            let passwords = folder.appendingPathComponent("passwords").path
            for (position, (user, password)) in users.sorted(by: { $0.key < $1.key }).enumerated() {
                try await Self.run(Self.tool("mosquitto_passwd"), (position == 0 ? ["-c"] : []) + ["-b", passwords, user, password])
            }
            lines += ["allow_anonymous false", "password_file \(passwords)"]
        }
        try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
        try await start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// `mqtt://` (`mqtts://localhost` with TLS) with the first user's name and password, or without any.
    var url: String {
        let (scheme, host) = certificate == nil ? ("mqtt", "127.0.0.1") : ("mqtts", "localhost")
        guard let user = users.keys.sorted().first, let password = users[user] else { return "\(scheme)://\(host):\(port)" }
        return "\(scheme)://\(user):\(password)@\(host):\(port)"
    }

    /// How mosquitto_sub and mosquitto_pub reach it.
    var clientArguments: [String] {
        var arguments = ["-h", certificate == nil ? "127.0.0.1" : "localhost", "-p", String(port)]
        if let certificate { arguments += ["--cafile", certificate.path] }
        if let user = users.first { arguments += ["-u", user.key, "-P", user.value] }
        return arguments
    }

    /// Starts the broker and waits until it takes connections.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tool("mosquitto"))
        process.arguments = ["-c", folder.appendingPathComponent("mosquitto.conf").path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try withSignalsUnblocked { try process.run() }
        log.follow(output)
        lock.withLock { self.process = process }
        for _ in 0..<600 {
            if (try? ClientSocket(port: port)) != nil { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ClientSocket.Failure(description: "mosquitto did not start:\n\(log.text)")
    }

    /// Stops it as an operator would (SIGTERM: it saves its sessions and closes every connection).
    func stop() {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning { usleep(10_000) }  // corelibs-foundation's waitUntilExit can spin forever off the main thread
    }

    var printed: String { log.text }

    /// mosquitto and mosquitto_passwd are in /usr/sbin and /usr/bin on Debian; PATH may lack /usr/sbin.
    static func tool(_ name: String) -> String {
        for folder in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return "\(folder)/\(name)"
        }
        return name
    }

    /// Runs a short command to its end: spawned and reaped here, off the pool, because Foundation's `Process` can
    /// miss the exit of a child that ends at once (it stayed an unreaped zombie, `isRunning` true, and a test hung).
    static func run(_ executable: String, _ arguments: [String]) async throws {
        let status = await offThePool { () -> Int32 in
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid = pid_t()
            let spawned = withSignalsUnblocked { posix_spawn(&pid, executable, nil, nil, argv, environ) }
            guard spawned == 0 else { return -1 }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            return status
        }
        guard status == 0 else {
            throw ClientSocket.Failure(description: "\(executable) \(arguments.first ?? "") failed (wait status \(status); -1: not started)")
        }
    }
}

/// Runs `body` (which starts a child) with no signal blocked on this thread: a child inherits its parent thread's
/// mask, and the threads tests run on block SIGTERM, which mosquitto would then never see (it restores the mask
/// it was started with around each wait).
func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
    var none = sigset_t(), previous = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    return try body()
}

/// `mosquitto_sub` as a child process, at QoS 1: every message it receives, with its QoS and retained flag.
final class MQTTSubscriber: @unchecked Sendable {
    struct Message {
        let topic: String
        let qos: Int
        let retained: Bool
        let payload: String

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]) ?? [:] }
    }

    let process = Process()
    private let broker: MosquittoBroker
    private let log = OutputLog()

    /// `sessionID`: a persistent session (clean session off) under this client id, which the broker keeps, with the
    /// messages for it, while the subscriber is away. `count`: exit after that many messages (for retained ones).
    init(_ broker: MosquittoBroker, topics: [String], sessionID: String? = nil, count: Int? = nil) throws {
        self.broker = broker
        process.executableURL = URL(fileURLWithPath: MosquittoBroker.tool("mosquitto_sub"))
        var arguments = broker.clientArguments + ["-q", "1", "-F", "%t|%q|%r|%p"]
        arguments += topics.flatMap { ["-t", $0] }
        if let sessionID { arguments += ["-c", "-i", sessionID] }
        if let count { arguments += ["-C", String(count), "-W", "60"] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try withSignalsUnblocked { try process.run() }
        let log = self.log
        Thread.detachNewThread {
            while true {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { return }
                log.append(String(decoding: data, as: UTF8.self))
            }
        }
    }

    deinit { stop() }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    var messages: [Message] {
        log.text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, let qos = Int(parts[1]) else { return nil }
            return Message(topic: String(parts[0]), qos: qos, retained: parts[2] == "1", payload: String(parts[3]))
        }
    }

    func messages(on topic: String) -> [Message] { messages.filter { $0.topic == topic } }

    var printed: String { log.text }

    /// Waits (polling) until `condition` holds, at most `seconds`.
    func wait(seconds: Double = 90, until condition: (MQTTSubscriber) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // Once more: on a loaded machine this task may first run again after the deadline, the condition long true.
        return condition(self)
    }

    /// Publishes on `topic` with `mosquitto_pub` until this subscriber has it: it is then subscribed.
    func waitUntilSubscribed(probe topic: String) async throws -> Bool {
        for _ in 0..<100 {
            try await MosquittoBroker.run(MosquittoBroker.tool("mosquitto_pub"), broker.clientArguments + ["-t", topic, "-m", "probe"])
            if await wait(seconds: 0.5, until: { !$0.messages(on: topic).isEmpty }) { return true }
        }
        return false
    }
}
