import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// Credentials inside a camera or webhook URL never reach a viewer, an event, the log or `ps`, and the camera is
/// still read with them.
@Suite(.serialized, .ownThread) struct StreamSecretTests {
    /// Serves a folder over HTTP on loopback, only to `cam:s3cret-pw` (Basic authentication); prints its port.
    static let serverScript = #"""
    import base64, functools, http.server, sys
    expected = "Basic " + base64.b64encode(b"cam:s3cret-pw").decode()
    class H(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            if self.headers.get("Authorization") != expected:
                self.send_response(401); self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                self.send_header("Content-Length", "0"); self.end_headers(); return
            super().do_GET()
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=sys.argv[1]))
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    final class AuthenticatingServer {
        let process = Process()
        let port: Int

        init(serving folder: URL) throws {
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", StreamSecretTests.serverScript, folder.path]
            process.standardOutput = output
            try process.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        deinit { kill(process.processIdentifier, SIGKILL) }
    }

    static func stream(_ server: ServeProcess, _ id: String) throws -> (text: String, object: [String: Any]) {
        let answer = try ClientSocket(port: server.port).request("GET", "/v1/streams/\(id)")
        let text = HostileRequestTests.body(answer)
        return (text, (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:])
    }

    @Test("a camera's password and a webhook's token are masked in answers and the log, kept out of ffmpeg's command line, and still used")
    func credentialsMasked() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await TestVideo.make([("chelsea.png", 20)], in: folder, name: "camera.mkv")
        let camera = try AuthenticatingServer(serving: folder)
        let server = try await ServeProcess.start([])
        defer { server.stop() }

        let source = "HTTP://cam:s3cret-pw@127.0.0.1:\(camera.port)/camera.mkv"
        let request = #"{"name": "secret-camera", "source": "\#(source)", "fps": 2, "webhook": "http://127.0.0.1:9/hook?token=tok-98765&x=1"}"#
        let created = try ClientSocket(port: server.port).request(
            "POST", "/v1/streams", headers: ["Content-Type": "application/json"], body: Array(request.utf8))
        #expect(HostileRequestTests.status(created) == 201, "\(created.prefix(400))")
        let id = try #require(try HostileRequestTests.json(created)["id"] as? String)

        // Frames arrive: ffmpeg was given the password (from its stdin, not its arguments).
        var stream = try Self.stream(server, id)
        var sawCommandLine = false
        for _ in 0..<1200 where ((stream.object["frames"] as? Int) ?? 0) < 2 || !sawCommandLine {
            if let pid = stream.object["ffmpeg_pid"] as? Int,
               let arguments = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) {
                let commandLine = String(decoding: arguments.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                #expect(!commandLine.contains("s3cret-pw"), "ffmpeg's command line: \(commandLine)")
                #expect(!commandLine.contains("cam:"), "ffmpeg's command line: \(commandLine)")
                sawCommandLine = sawCommandLine || commandLine.contains("ffmpeg")
            }
            try await Task.sleep(for: .milliseconds(100))
            stream = try Self.stream(server, id)
        }
        #expect(((stream.object["frames"] as? Int) ?? 0) >= 2, "\(stream.text)")
        #expect(sawCommandLine)
        #expect(stream.object["source"] as? String == "http://cam:***@127.0.0.1:\(camera.port)/camera.mkv", "\(stream.text)")
        #expect((stream.object["webhook"] as? String)?.contains("token=***") == true, "\(stream.text)")
        let list = HostileRequestTests.body(try ClientSocket(port: server.port).request("GET", "/v1/streams"))
        for text in [stream.text, list, server.printed] {
            #expect(!text.contains("s3cret-pw"))
            #expect(!text.contains("tok-98765"))
        }
    }

    @Test("a wrong camera password is reported as such, without the password")
    func wrongPasswordReported() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await TestVideo.make([("chelsea.png", 2)], in: folder, name: "camera.mkv")
        let camera = try AuthenticatingServer(serving: folder)
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let request = #"{"name": "wrong-password", "source": "http://cam:wrong-pw-123@127.0.0.1:\#(camera.port)/camera.mkv", "fps": 2}"#
        let created = try ClientSocket(port: server.port).request(
            "POST", "/v1/streams", headers: ["Content-Type": "application/json"], body: Array(request.utf8))
        let id = try #require(try HostileRequestTests.json(created)["id"] as? String)
        var stream = try Self.stream(server, id)
        for _ in 0..<1200 where stream.object["last_error"] == nil || stream.object["last_error"] is NSNull {
            try await Task.sleep(for: .milliseconds(100))
            stream = try Self.stream(server, id)
        }
        let message = (stream.object["last_error"] as? String) ?? ""
        #expect(message.hasPrefix("authentication failed: wrong user name or password"), "\(stream.text)")
        #expect(!stream.text.contains("wrong-pw-123"), "\(stream.text)")
        #expect(!server.printed.contains("wrong-pw-123"))
    }
}
