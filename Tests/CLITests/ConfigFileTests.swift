import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// `serve --config FILE` and `resnet18 config check FILE`: cameras and options from YAML, errors naming the line,
/// flags over the file, and the file's cameras read-only in the API.
@Suite(.serialized, .ownThread) struct ConfigFileTests {
    static func write(_ text: String, in folder: URL, name: String = "resnet18.yaml") throws -> String {
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("config check accepts a complete file and refuses unknown keys, bad values and unknown labels, naming the file's line")
    func check() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = try Self.write("""
            serve:
              host: 127.0.0.1
              public_url: https://resnet18.example.org
              max_streams: 2
              thumbnails: off
            mqtt:
              url: mqtt://resnet18:mqtt-pw@broker.local:1883
              prefix: home
              discovery: true
            cameras:
              front-door:
                source: rtsp://user:pw@camera.local:554/stream
                fps: 2
                rules:
                  - labels: [tabby, tiger cat]
                    threshold: 0.6
                    window: 2/3
                    cooldown: 60
                    settle: 10
                webhook:
                  url: https://hooks.example/alerts
                  secret: s3cret
              garage:
                source: http://127.0.0.1:1/garage
                enabled: false
            """, in: folder)
        let accepted = try await Command.run(["config", "check", good])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stdout.contains("OK: 2 cameras (front-door, garage)"), "\(accepted.stdout)")
        #expect(!accepted.stdout.contains("s3cret") && !accepted.stdout.contains(":pw@") && !accepted.stdout.contains("mqtt-pw"))

        let cases: [(String, String)] = [
            ("cameras:\n  porch:\n    source: rtsp://cam/1\n    fsp: 2\n", ":4: unknown key \"fsp\" in camera porch"),
            ("serve:\n  port: 80800\n", ":2: serve.port must be a whole number from 0 to 65535"),
            ("serve:\n  colour: blue\n", ":2: unknown key \"colour\" in serve"),
            ("serve:\n  public_url: ftp://user:pw@x\n", ":2: serve.public_url must be an http:// or https:// URL with a host and no credentials"),
            ("cameras:\n  porch:\n    source: rtsp://cam/1\n    rules:\n      - labels: [doggo]\n", ":3: camera porch: no class or category is called \"doggo\""),
            ("cameras:\n  Porch Door:\n    source: rtsp://cam/1\n", ":2: camera Porch Door: the stream's name must be 1 to 64"),
            ("cameras:\n  porch:\n    fps: 2\n", ":3: camera porch needs a source"),
            ("cameras:\n  porch:\n    source: rtsp://cam/1\n    fps: fast\n", ":4: camera porch's fps must be a number"),
            ("cameras: [1, 2\n", "not valid YAML"),
            ("mqtt:\n  url: http://broker.local\n", ":2: mqtt: --mqtt must be mqtt://"),
            ("mqtt:\n  prefix: home\n", ":2: mqtt needs a url"),
            ("mqtt:\n  url: mqtt://b\n  qos: 2\n", ":3: unknown key \"qos\" in mqtt"),
            ("cameras:\n  porch:\n    source: rtsp://cam/1\n  porch:\n    source: rtsp://cam/2\n", "not valid YAML"),
        ]
        for (text, message) in cases {
            let path = try Self.write(text, in: folder, name: "bad.yaml")
            let refused = try await Command.run(["config", "check", path])
            #expect(refused.status != 0, "\(text)")
            #expect(refused.stderr.contains(path + message) || (message == "not valid YAML" && refused.stderr.contains(message)),
                    "\(text) → \(refused.stderr)")
        }
    }

    @Test("serve --config runs the file's cameras, read-only in the API (PATCH and DELETE 409), takes the file's options, and flags override them")
    func serveWithConfig() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("astronaut.png", 30)], in: folder)
        let camera = TestCamera(video: video)
        defer { camera.stop() }
        let path = try Self.write("""
            serve:
              port: 9
              max_streams: 3
              stream_max_backoff: 7
            cameras:
              porch:
                source: \(camera.url)
                fps: 2
                rules:
                  - {labels: ["0"], threshold: 0.99, window: 1/1}
            """, in: folder)
        // --port 0 (ServeProcess) over the file's 9; the file's max_streams and backoff where no flag is given.
        let server = try await ServeProcess.start(["--config", path])
        defer { server.stop() }
        #expect(server.printed.contains("streams: at most 3 at once, restarts backing off up to 7 s; 1 camera from \(path)"), "\(server.printed)")
        let porch = try await DurableStreamTests.poll(server, "porch") { ($0["frames"] as? Int ?? 0) >= 1 }
        #expect((porch["frames"] as? Int ?? 0) >= 1 && porch["origin"] as? String == "config", "\(porch)")
        let patched = try DurableStreamTests.call(server, "PATCH", "/v1/streams/porch", #"{"enabled": false}"#)
        #expect(patched.status == 409 && (patched.object["error"] as? String)?.contains("comes from the config file \(path)") == true, "\(patched.text)")
        let deleted = try DurableStreamTests.call(server, "DELETE", "/v1/streams/porch")
        #expect(deleted.status == 409, "\(deleted.text)")
        let taken = try DurableStreamTests.call(server, "POST", "/v1/streams", #"{"name": "porch", "source": "http://127.0.0.1:1/x"}"#)
        #expect(taken.status == 409)
        #expect(try DurableStreamTests.call(server, "GET", "/v1/streams/porch").object["status"] as? String != "disabled")
    }

    @Test("serve refuses to start on a config file with a bad camera, naming the line")
    func serveRefusesBadConfig() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try Self.write("cameras:\n  porch:\n    source: rtsp://cam/1\n    rules:\n      - {labels: [tabby], window: 3/2}\n", in: folder)
        let outcome = try await Command.run(["serve", "--port", "0", "--db", "none", "--config", path, "--weights", Fixtures.seededPth.path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("\(path):3: camera porch:") && outcome.stderr.contains("K/N"), "\(outcome.stderr)")
    }
}
