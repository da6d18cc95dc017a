import Foundation
import Testing
import Storage
import TestSupport

/// The `resnet18` executable left running: stdout lines as they come, stderr kept, stopped with a signal.
final class RunningCommand: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()

    /// `environment`: variables set for the command over the test's own ("": not in the environment).
    init(_ arguments: [String], environment changes: [String: String] = [:]) throws {
        process.executableURL = Command.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["RESNET18_WEIGHTS"] = nil
        for (key, value) in changes { environment[key] = value.isEmpty ? nil : value }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        for (pipe, isError) in [(out, false), (err, true)] {
            Thread.detachNewThread { [self] in
                while true {
                    let data = pipe.fileHandleForReading.availableData
                    if data.isEmpty { return }
                    lock.lock()
                    if isError { errors += data } else { output += data }
                    lock.unlock()
                }
            }
        }
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: output, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errors, as: UTF8.self) }

    /// Waits (polling) until `condition` holds, at most `seconds`.
    func wait(seconds: Double = 90, until condition: (RunningCommand) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // Once more: on a loaded machine this task may first run again after the deadline, the condition long true.
        return condition(self)
    }

    /// The process ids of this command's children (its ffmpeg), from /proc.
    var children: [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/task")) ?? []
        return tasks.flatMap { task -> [Int32] in
            let text = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0) }
        }
    }

    /// The environment process `id` runs with (/proc/ID/environ), as NAME=value lines.
    static func environment(of id: Int32) -> [String] {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(id)/environ"))) ?? Data()
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Sends SIGTERM and waits for the exit status.
    /// (Blocking, for `defer`: a watcher exits within a second of SIGTERM.)
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        while process.isRunning { usleep(20_000) }
        usleep(100_000)  // the reader threads drain the pipes
        return process.terminationStatus
    }

    /// Waits for the command to exit by itself.
    func finish() async -> Int32 {
        await process.exited()
        try? await Task.sleep(for: .milliseconds(100))  // the reader threads drain the pipes
        return process.terminationStatus
    }
}

@Suite(.serialized, .ownThread) struct WatchTests {
    let weights = ["--weights", Fixtures.seededPth.path]

    /// astronaut.png's top-1 under the seeded weights and a threshold its frames reach and chelsea's do not.
    func rule() throws -> [String] {
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png"), chelsea = try Fixtures.referenceTop5(for: "chelsea.png")
        return ["--alert", String(astronaut[0].index), "--threshold", String((astronaut[0].probability + chelsea[4].probability) / 2),
                "--window", "2/3", "--cooldown", "0", "--settle", "0"]
    }

    @Test("watch --json on a video file prints one alert per appearance of the label, with time, source, label, probability, frame, and exits 0 at its end")
    func watchFileJSON() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 3), ("astronaut.png", 3)], in: folder)
        let outcome = try await Command.run(["watch", video.path, "--json"] + rule() + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let alerts = try Command.jsonLines(outcome.stdout)
        #expect(alerts.count == 2, "\(outcome.stdout)")
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png")
        for alert in alerts {
            #expect(alert["label"] as? String == "streetcar")
            #expect(alert["index"] as? Int == astronaut[0].index)
            #expect(abs((alert["probability"] as? Double ?? 0) - astronaut[0].probability) < 1e-5)
            #expect(alert["source"] as? String == video.path)
            #expect((alert["time"] as? String)?.hasSuffix("Z") == true)
            #expect(alert["weights"] as? String == "resnet18-seeded.pth sha256:b0924803")
            #expect(alert["trained"] as? Bool == true)
        }
        // chelsea 2 s = frames 1-4, astronaut from frame 5: the second astronaut frame completes 2 of 3.
        let frames = alerts.compactMap { $0["frame"] as? Int }
        #expect(frames.count == 2 && frames[0] >= 5 && frames[0] <= 7 && frames[1] > frames[0] + 6, "\(frames)")
        #expect(outcome.stderr.contains("watch: ended"))
    }

    @Test("without weights, every alert says trained: false and stderr warns that the labels are meaningless")
    func watchUntrained() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 1)], in: folder)
        let outcome = try await Command.run(["watch", video.path, "--json", "--alert", "0", "--threshold", "0.00001"],
                                      environment: ["XDG_CACHE_HOME": folder.path, "HOME": folder.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let alerts = try Command.jsonLines(outcome.stdout)
        #expect(alerts.count == 1)
        #expect(alerts.allSatisfy { $0["trained"] as? Bool == false && $0["weights"] as? String == "untrained" })
        #expect(outcome.stderr.contains("UNTRAINED WEIGHTS"))
    }

    @Test("bad sources and unknown labels stop watch with a message saying what to give")
    func watchRefusals() async throws {
        let missing = try await Command.run(["watch", "/no/such/video.mkv"] + weights)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no such video file"), "\(missing.stderr)")
        let scheme = try await Command.run(["watch", "ftp://camera/x"] + weights)
        #expect(scheme.stderr.contains("use rtsp://"), "\(scheme.stderr)")
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 1)], in: folder)
        let label = try await Command.run(["watch", video.path, "--alert", "doggo"] + weights)
        #expect(label.status != 0)
        #expect(label.stderr.contains("no class or category is called \"doggo\""), "\(label.stderr)")
        #expect(label.stderr.contains("did you mean \"dog\""), "\(label.stderr)")
    }

    @Test("killing the camera's ffmpeg mid-stream: watch restarts with backoff and reports each appearance once")
    func watchCameraKilled() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make(KilledStreamVideo.segments, in: folder)
        let camera = TestCamera(video: video, sessions: 2)
        defer { camera.stop() }
        let watch = try RunningCommand(["watch", camera.url, "--json", "--max-backoff", "2"] + rule() + weights)
        #expect(await watch.wait { $0.stdout.contains("\"frame\"") }, "\(watch.stderr)")
        camera.killCurrent()
        // The second session plays the video from the start: two more appearances.
        #expect(await watch.wait { $0.stdout.split(separator: "\n").count >= 3 }, "\(watch.stderr)")
        // The rest of the second session plays in real time (the video is 21 s long), then two restarts with
        // backoff: a wait of the default length, as a loaded machine slows ffmpeg and the camera down.
        #expect(await watch.wait { $0.stderr.components(separatedBy: "restarting in").count >= 3 }, "\(watch.stderr)")
        #expect(watch.stop() == 0)
        // Three restarts: the second session has ended, so every alert is out. Session 1 gave the first appearance
        // (and the second too when classification lagged and the frames read before the kill held it); session 2
        // gave both. The monitor's own test checks each alert against its run exactly.
        let alerts = try Command.jsonLines(watch.stdout)
        #expect((3...4).contains(alerts.count), "\(watch.stdout)")
        let frames = alerts.compactMap { $0["frame"] as? Int }
        #expect(frames.count == alerts.count && frames == frames.sorted() && Set(frames).count == frames.count, "each alert once: \(frames)")
        #expect(watch.stderr.contains("watch: restarting"))
        #expect(watch.stderr.contains("watch: stopped"))
    }

    @Test("killing watch's own ffmpeg mid-stream restarts it; alerts after the restart still come")
    func watchReaderKilled() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make(KilledStreamVideo.segments, in: folder)
        let camera = TestCamera(video: video, sessions: 2)
        defer { camera.stop() }
        let watch = try RunningCommand(["watch", camera.url, "--json", "--max-backoff", "2"] + rule() + weights)
        #expect(await watch.wait { $0.stdout.contains("\"frame\"") }, "\(watch.stderr)")
        let readers = watch.children
        #expect(readers.count == 1)
        for reader in readers { kill(reader, SIGKILL) }
        #expect(await watch.wait { $0.stderr.contains("ffmpeg was killed (signal 9); restarting in") }, "\(watch.stderr)")
        #expect(await watch.wait { $0.stdout.split(separator: "\n").count >= 3 }, "\(watch.stderr)")
        // The second session ends (a restart after the kill's), so every alert is out.
        #expect(await watch.wait(seconds: 40) { $0.stderr.components(separatedBy: "restarting in").count >= 3 }, "\(watch.stderr)")
        #expect(watch.stop() == 0)
        let frames = try Command.jsonLines(watch.stdout).compactMap { $0["frame"] as? Int }
        // 1 or 2 from the killed run (frames read before the kill are still classified), 2 after the restart.
        #expect((3...4).contains(frames.count) && Set(frames).count == frames.count && frames == frames.sorted(), "\(frames)")
    }

    @Test("the camera's ffmpeg runs with the environment watch was given, not the load-time settings resnet18 adds for itself (OpenMP's wait policy, glibc's huge pages); a marker set by the user touches nothing else")
    func childGetsGivenEnvironment() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 10)], in: folder)
        let loadTime = ["OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "GLIBC_TUNABLES", "RESNET18_GIVEN_ENVIRONMENT"]
        /// Runs watch on a camera with `environment` and returns its own environment and its ffmpeg's.
        func environments(_ environment: [String: String]) async throws -> (own: [String], child: [String]) {
            let camera = TestCamera(video: video)
            defer { camera.stop() }
            let watch = try RunningCommand(["watch", camera.url, "--json"] + rule() + weights, environment: environment)
            // Once the child's name is ffmpeg it has been executed: before, /proc would show the parent's environment.
            func ffmpeg(_ command: RunningCommand) -> Int32? {
                command.children.first { (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("ffmpeg") == true }
            }
            #expect(await watch.wait { ffmpeg($0) != nil }, "\(watch.stderr)")
            let own = RunningCommand.environment(of: watch.process.processIdentifier)
            let child = ffmpeg(watch).map(RunningCommand.environment(of:)) ?? []
            #expect(watch.stop() == 0)
            return (own, child)
        }
        for given in ["", "glibc.malloc.arena_max=2"] {
            var environment = Dictionary(uniqueKeysWithValues: loadTime.map { ($0, "") })
            environment["GLIBC_TUNABLES"] = given
            environment["RESNET18_TEST_MARK"] = "given"
            let (own, child) = try await environments(environment)
            #expect(own.contains("OMP_WAIT_POLICY=PASSIVE"), "\(own)")
            // glibc 2.36 parses GLIBC_TUNABLES in place, ending /proc's copy at the first tunable it reads.
            #expect(own.contains("GLIBC_TUNABLES=\(given.isEmpty ? "glibc.malloc.hugetlb=1" : given)")
                    || own.contains("GLIBC_TUNABLES=\(given):glibc.malloc.hugetlb=1"), "\(own)")
            #expect(child.contains("RESNET18_TEST_MARK=given"), "\(child)")
            let expected = given.isEmpty ? [] : ["GLIBC_TUNABLES=\(given)"]
            #expect(child.filter { line in loadTime.contains { line.hasPrefix($0 + "=") } } == expected, "\(child)")
        }

        // A marker the user set names a variable resnet18 does not manage: it is not touched.
        let child = try await environments(["RESNET18_GIVEN_ENVIRONMENT": "RESNET18_TEST_MARK", "RESNET18_TEST_MARK": "given"]).child
        #expect(child.contains("RESNET18_TEST_MARK=given") && !child.contains { $0.hasPrefix("RESNET18_GIVEN_ENVIRONMENT=") }, "\(child)")
    }

    @Test("watch --db records each alert in the history with its frame as the snapshot")
    func watchRecordsHistory() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 3), ("astronaut.png", 3)], in: folder)
        let path = folder.appendingPathComponent("history.sqlite").path
        let outcome = try await Command.run(["watch", video.path, "--json", "--db", path] + rule() + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let printed = try Command.jsonLines(outcome.stdout).compactMap { $0["frame"] as? Int }
        let database = try await Database.open(.sqlite(path: path))
        let page = try await HistoryStore(database: database).query(HistoryFilter(source: "watch", alertsOnly: true))
        await database.close()
        #expect(page.entries.count == 2)
        #expect(printed.count == 2)
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png")
        for entry in page.entries {
            #expect(entry.record.top.index == astronaut[0].index)
            #expect(entry.record.streamID == video.path)
            #expect(entry.record.alert?.contains("streetcar") == true)
            #expect(entry.hasThumbnail)
        }
    }

    @Test("watch --webhook POSTs each alert as JSON, retrying a receiver that fails")
    func watchWebhookRetries() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 3), ("astronaut.png", 3)], in: folder)
        let receiver = try WebhookReceiver(failures: 2)
        defer { receiver.stop() }
        let outcome = try await Command.run(["watch", video.path, "--json", "--webhook", receiver.url] + rule() + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(receiver.received.count == 2, "\(outcome.stderr)")
        #expect(receiver.requests == 4)
        let delivered = try receiver.received.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let printed = try Command.jsonLines(outcome.stdout)
        #expect(delivered.map { $0["frame"] as? Int } == printed.map { $0["frame"] as? Int })
        #expect(outcome.stderr.contains("answered 500; retrying in"), "\(outcome.stderr)")
    }

    @Test("watch --webhook-secret signs each POST: a receiver checking the HMAC-SHA256 of the body accepts them; each alert keeps its event id across retries")
    func watchWebhookSigned() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 3), ("astronaut.png", 3)], in: folder)
        let receiver = try SigningWebhookReceiver(secret: "hook-s3cret-4242", failures: 1)
        defer { receiver.stop() }
        // The secret from the environment (kept out of ps), as a deployment would give it.
        let outcome = try await Command.run(["watch", video.path, "--json", "--webhook", receiver.url] + rule() + weights,
                                      environment: ["RESNET18_WEBHOOK_SECRET": "hook-s3cret-4242"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let printed = try Command.jsonLines(outcome.stdout)
        #expect(printed.count == 2, "\(outcome.stdout)")
        let deliveries = receiver.deliveries
        // The first attempt answered 500, its retry 200: three requests, every one signed right.
        #expect(deliveries.count == 3, "\(deliveries.map(\.body))")
        #expect(deliveries.allSatisfy { $0.valid }, "\(deliveries.map(\.signature))")
        #expect(deliveries.map(\.answered) == [500, 200, 200])
        // The event id: the same on the retry, the body's `id`, and what --json printed.
        #expect(deliveries[0].eventID == deliveries[1].eventID && deliveries[0].body == deliveries[1].body)
        #expect(deliveries.allSatisfy { $0.eventID != nil && $0.eventID == $0.object["id"] as? String })
        let ids = printed.compactMap { $0["id"] as? String }
        #expect(ids.count == 2 && Set(ids).count == 2)
        #expect(deliveries.dropFirst().map(\.eventID) == ids.map(Optional.some))
        #expect(!outcome.stderr.contains("hook-s3cret-4242"))

        // The receiver does refuse a body signed with another secret (the check above could fail).
        let forged = try ClientSocket(port: receiver.port).request(
            "POST", "/hook", headers: ["Content-Type": "application/json", "X-ResNet18-Signature": "sha256=" + String(repeating: "0", count: 64)],
            body: Array(deliveries[1].body.utf8))
        #expect(HostileRequestTests.status(forged) == 401)
        #expect(receiver.deliveries.last?.valid == false)
    }

    @Test("--cooldown and --settle: a video showing the label three times, 3 s apart, alerts once within a 20 s cooldown and says the others were held back")
    func watchCooldown() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 3), ("astronaut.png", 3),
                                        ("chelsea.png", 3), ("astronaut.png", 3)], in: folder)
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png"), chelsea = try Fixtures.referenceTop5(for: "chelsea.png")
        let threshold = String((astronaut[0].probability + chelsea[4].probability) / 2)
        let outcome = try await Command.run(["watch", video.path, "--json", "--alert", String(astronaut[0].index), "--threshold", threshold,
                                       "--window", "2/3", "--cooldown", "20", "--settle", "1"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try Command.jsonLines(outcome.stdout).count == 1, "\(outcome.stdout)")
        #expect(outcome.stderr.components(separatedBy: "s cooldown of rule 1: not alerted").count == 3, "\(outcome.stderr)")
        // Without a cooldown, each appearance alerts.
        let free = try await Command.run(["watch", video.path, "--json", "--alert", String(astronaut[0].index), "--threshold", threshold,
                                    "--window", "2/3", "--cooldown", "0", "--settle", "1"] + weights)
        #expect(try Command.jsonLines(free.stdout).count == 3, "\(free.stdout)")
        let refused = try await Command.run(["watch", video.path, "--cooldown=-1"] + weights)
        #expect(refused.status != 0 && refused.stderr.contains("--cooldown must be"), "\(refused.stderr)")
    }
}
