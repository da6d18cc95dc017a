import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// A real RTSP camera on loopback: GStreamer's RTSP server (tests/rtsp/rtsp_server.py, Debian's
/// gir1.2-gst-rtsp-server-1.0) serving a photo as live H.264, behind digest authentication. It can be killed
/// (the camera goes away) and started again on the same port (it comes back).
final class RTSPCamera: @unchecked Sendable {
    let port = FFmpeg.freePort()
    let user: String
    let password: String
    private let picture: URL
    private let folder: URL
    private let lock = NSLock()
    private var process: Process?
    private let log = OutputLog()

    init(picture: URL, user: String, password: String) async throws {
        self.picture = picture
        self.user = user
        self.password = password
        folder = try Fixtures.temporaryDirectory()
        try password.write(to: folder.appendingPathComponent("password"), atomically: true, encoding: .utf8)
        try await start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The camera's URL with these credentials.
    func url(password: String? = nil) -> String {
        "rtsp://\(user):\(password ?? self.password)@127.0.0.1:\(port)/camera"
    }

    /// Starts the server (again) and waits until it listens.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")  // Debian's: python3-gi is installed for it
        process.arguments = [Fixtures.projectRoot.appendingPathComponent("tests/rtsp/rtsp_server.py").path,
                             "--port", String(port), "--picture", picture.path,
                             "--user", user, "--password-file", folder.appendingPathComponent("password").path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        log.follow(output)
        lock.withLock { self.process = process }
        // A port the last run's connections still hold can refuse the new listener for a moment: the script then
        // exits, and is started again.
        for _ in 0..<300 {
            if log.text.components(separatedBy: "ready rtsp://").count > startsSeen + 1 { startsSeen += 1; return }
            if !process.isRunning {
                try await Task.sleep(for: .milliseconds(200))
                return try await start()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClientSocket.Failure(description: "the RTSP server did not start:\n\(log.text)")
    }

    private var startsSeen = 0

    /// SIGKILL: the camera is gone at once, its connections with it.
    func kill() {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { usleep(10_000) }
    }

    var printed: String { log.text }
}

@Suite(.serialized, .ownThread) struct RTSPTests {
    @Test("an RTSP camera behind digest authentication: read over TCP with its password, one alert; the camera going away and coming back is a restart with backoff, running again, no second alert within the cooldown; a wrong password is reported as such; no password is ever shown")
    func rtspCamera() async throws {
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png"), chelsea = try Fixtures.referenceTop5(for: "chelsea.png")
        let threshold = (astronaut[0].probability + chelsea[4].probability) / 2
        let camera = try await RTSPCamera(picture: Fixtures.images.appendingPathComponent("astronaut.png"),
                                          user: "cam", password: "rtsp-s3cret-pw")
        defer { camera.kill() }
        let server = try await ServeProcess.start([])
        defer { server.stop() }

        // The default cooldown (60 s) is longer than the whole test: one alert, however the camera behaves.
        let request = """
            {"name": "porch", "source": "\(camera.url())", "fps": 2,
             "rules": [{"labels": ["\(astronaut[0].index)"], "threshold": \(threshold), "window": "2/3", "settle": 0}]}
            """
        let created = try DurableStreamTests.call(server, "POST", "/v1/streams", request)
        #expect(created.status == 201, "\(created.text)")
        var porch = try await DurableStreamTests.poll(server, "porch") { ($0["alerts"] as? Int ?? 0) >= 1 && ($0["frames"] as? Int ?? 0) >= 4 }
        #expect(porch["alerts"] as? Int == 1, "the camera's frames are read and the rule alerts: \(porch)")
        #expect(porch["source"] as? String == "rtsp://cam:***@127.0.0.1:\(camera.port)/camera", "\(porch)")
        let event = (porch["events"] as? [[String: Any]])?.first
        #expect(event?["index"] as? Int == astronaut[0].index, "\(porch)")

        // The camera goes away: the stream restarts with a backoff and says why.
        camera.kill()
        porch = try await DurableStreamTests.poll(server, "porch") { ($0["restarts"] as? Int ?? 0) >= 1 }
        #expect((porch["restarts"] as? Int ?? 0) >= 1, "\(porch)")
        #expect(porch["backoff_seconds"] is Double || porch["status"] as? String != "running", "\(porch)")

        // It comes back: frames flow again, and the sight it shows (the same) does not alert again.
        let framesBefore = porch["frames"] as? Int ?? 0
        try await camera.start()
        porch = try await DurableStreamTests.poll(server, "porch", seconds: 120) {
            $0["status"] as? String == "running" && ($0["frames"] as? Int ?? 0) >= framesBefore + 6
        }
        #expect(porch["status"] as? String == "running" && (porch["frames"] as? Int ?? 0) >= framesBefore + 6,
                "the stream runs again once the camera is back: \(porch)")
        #expect(porch["alerts"] as? Int == 1, "no second alert within the cooldown: \(porch)")

        // A wrong password: reported in words, the password never shown.
        let wrong = #"{"name": "wrong-password", "source": "\#(camera.url(password: "not-the-pw-4711"))", "fps": 2}"#
        #expect(try DurableStreamTests.call(server, "POST", "/v1/streams", wrong).status == 201)
        let refused = try await DurableStreamTests.poll(server, "wrong-password") { ($0["last_error"] as? String) != nil }
        let message = refused["last_error"] as? String ?? ""
        #expect(message.hasPrefix("authentication failed: wrong user name or password"), "\(refused)")
        #expect(refused["frames"] as? Int == 0, "\(refused)")

        let list = try DurableStreamTests.call(server, "GET", "/v1/streams").text
        let metrics = try DurableStreamTests.call(server, "GET", "/metrics").text
        for text in [list, metrics, server.printed, message] {
            #expect(!text.contains("rtsp-s3cret-pw") && !text.contains("not-the-pw-4711"))
        }
        #expect(metrics.contains(#"resnet18_stream_restarts_total{camera="porch"}"#), "\(metrics)")
    }
}
