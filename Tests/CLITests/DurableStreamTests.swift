import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Storage
import Testing
import TestSupport

/// Named streams kept in the database: they come back, running, after `serve` is killed (-9) and started again,
/// with their camera's credentials and their webhook's secret (stored, never shown), changes made with PATCH, and
/// disabled ones stored but stopped.
@Suite(.serialized, .ownThread) struct DurableStreamTests {
    static func call(_ server: ServeProcess, _ method: String, _ path: String, _ body: String? = nil) throws -> (status: Int, text: String, object: [String: Any]) {
        let answer = try ClientSocket(port: server.port).request(
            method, path, headers: body == nil ? [:] : ["Content-Type": "application/json"], body: Array((body ?? "").utf8))
        let text = HostileRequestTests.body(answer)
        return (HostileRequestTests.status(answer), text, (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:])
    }

    /// Polls a stream until `condition` holds, at most `seconds`; the last answer.
    static func poll(_ server: ServeProcess, _ name: String, seconds: Double = 90,
                     until condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var stream: [String: Any] = [:]
        while Date() < deadline {
            stream = try call(server, "GET", "/v1/streams/\(name)").object
            if condition(stream) { return stream }
            try await Task.sleep(for: .milliseconds(100))
        }
        return stream
    }

    @Test("streams added through the API come back running after kill -9 and a new start on the same database, as changed, credentials and secret kept but never shown; disabled ones stay stopped; deleted ones stay gone")
    func streamsSurviveKill() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-durable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A camera that serves only with its password: frames after the restart prove it came back from the database.
        _ = try await TestVideo.make([("astronaut.png", 2), ("chelsea.png", 2)], in: folder, name: "camera.mkv")
        let camera = try StreamSecretTests.AuthenticatingServer(serving: folder)
        let receiver = try SigningWebhookReceiver(secret: "hook-secret-5150")
        defer { receiver.stop() }
        let database = folder.appendingPathComponent("streams.sqlite").path
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png"), chelsea = try Fixtures.referenceTop5(for: "chelsea.png")
        let threshold = (astronaut[0].probability + chelsea[4].probability) / 2
        let porch = """
            {"name": "porch", "source": "http://cam:s3cret-pw@127.0.0.1:\(camera.port)/camera.mkv", "fps": 2,
             "rules": [{"labels": ["\(astronaut[0].index)"], "threshold": \(threshold), "window": "1/1", "cooldown": 0, "settle": 0}],
             "webhook": "\(receiver.url)", "webhook_secret": "hook-secret-5150"}
            """

        var server = try await ServeProcess.start(["--db", database])
        let added = try Self.call(server, "POST", "/v1/streams", porch)
        #expect(added.status == 201, "\(added.text)")
        #expect(added.object["name"] as? String == "porch" && added.object["webhook_signed"] as? Bool == true)
        #expect(try Self.call(server, "POST", "/v1/streams", porch).status == 409)
        let garage = try Self.call(server, "POST", "/v1/streams",
                                   #"{"name": "garage", "source": "http://127.0.0.1:1/garage", "enabled": false}"#)
        #expect(garage.status == 201 && garage.object["status"] as? String == "disabled", "\(garage.text)")
        let gone = try Self.call(server, "POST", "/v1/streams", #"{"name": "gone", "source": "http://127.0.0.1:1/gone"}"#)
        #expect(gone.status == 201)
        #expect(try Self.call(server, "DELETE", "/v1/streams/gone").status == 204)
        let running = try await Self.poll(server, "porch") { ($0["frames"] as? Int ?? 0) >= 2 }
        #expect((running["frames"] as? Int ?? 0) >= 2, "\(running)")
        // A change is stored: fps 1 and a rule with a cooldown.
        let changed = try Self.call(server, "PATCH", "/v1/streams/porch", """
            {"fps": 1, "rules": [{"labels": ["\(astronaut[0].index)"], "threshold": \(threshold), "window": "1/1", "cooldown": 0, "settle": 0}]}
            """)
        #expect(changed.status == 200 && changed.object["fps"] as? Double == 1, "\(changed.text)")

        // kill -9: nothing is shut down or flushed; then a new server on the same file.
        kill(server.process.processIdentifier, SIGKILL)
        while server.process.isRunning { usleep(10_000) }
        let deliveredBefore = receiver.deliveries.count
        server = try await ServeProcess.start(["--db", database])
        defer { server.stop() }
        let restored = try await Self.poll(server, "porch") { ($0["frames"] as? Int ?? 0) >= 2 }
        #expect((restored["frames"] as? Int ?? 0) >= 2, "the restored stream reads its camera (with the stored password): \(restored)")
        #expect(restored["fps"] as? Double == 1)
        #expect(restored["source"] as? String == "http://cam:***@127.0.0.1:\(camera.port)/camera.mkv", "\(restored)")
        #expect(restored["webhook_signed"] as? Bool == true && restored["enabled"] as? Bool == true)
        let list = try Self.call(server, "GET", "/v1/streams")
        let names = (list.object["streams"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["porch", "garage"], "\(list.text)")
        let stopped = try Self.call(server, "GET", "/v1/streams/garage").object
        #expect(stopped["status"] as? String == "disabled" && stopped["enabled"] as? Bool == false, "\(stopped)")
        #expect(stopped["ffmpeg_pid"] as? Int == nil && (stopped["frames"] as? Int ?? -1) == 0, "\(stopped)")
        #expect(try Self.call(server, "GET", "/v1/streams/gone").status == 404)

        // Its alerts after the restart reach the webhook signed with the stored secret, and the history as stream:porch.
        let deadline = Date().addingTimeInterval(60)
        while receiver.deliveries.count <= deliveredBefore && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let after = receiver.deliveries.dropFirst(deliveredBefore)
        #expect(!after.isEmpty && after.allSatisfy { $0.valid && $0.object["stream"] as? String == "porch" },
                "\(after.map(\.body))")
        let history = try Self.call(server, "GET", "/v1/history?alerts=true&source=stream:porch")
        #expect(((history.object["entries"] as? [[String: Any]])?.count ?? 0) >= 1, "\(history.text)")

        // Secrets: kept in the database, shown nowhere.
        for text in [list.text, try Self.call(server, "GET", "/v1/streams/porch").text, server.printed] {
            #expect(!text.contains("s3cret-pw") && !text.contains("hook-secret-5150"))
        }
        let opened = try await Database.open(.sqlite(path: database))
        let stored = try await StreamStore(database: opened).all()
        await opened.close()
        #expect(stored.map(\.name) == ["porch", "garage"])
        #expect(stored.first?.requestJSON.contains("cam:s3cret-pw@") == true && stored.first?.requestJSON.contains("hook-secret-5150") == true)

        // PATCH runs the disabled one and stops it again; DELETE forgets a stream in the database too.
        let enabled = try Self.call(server, "PATCH", "/v1/streams/garage", #"{"enabled": true}"#)
        #expect(enabled.status == 200 && enabled.object["enabled"] as? Bool == true && enabled.object["status"] as? String != "disabled",
                "\(enabled.text)")
        let disabled = try Self.call(server, "PATCH", "/v1/streams/garage", #"{"enabled": false}"#)
        #expect(disabled.object["status"] as? String == "disabled", "\(disabled.text)")
        #expect(try Self.call(server, "DELETE", "/v1/streams/porch").status == 204)
        let reopened = try await Database.open(.sqlite(path: database))
        let left = try await StreamStore(database: reopened).all()
        await reopened.close()
        #expect(left.map(\.name) == ["garage"] && left.first?.enabled == false)
    }

    @Test("a rule that alerted before kill -9 carries on after the restart: the sight still in view does not alert again")
    func ruleCarriesOnAcrossRestart() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let camera = TestCamera(video: try await TestVideo.make([("astronaut.png", 40)], in: folder), sessions: 10)
        defer { camera.stop() }
        let database = folder.appendingPathComponent("streams.sqlite").path
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png"), chelsea = try Fixtures.referenceTop5(for: "chelsea.png")
        let threshold = (astronaut[0].probability + chelsea[4].probability) / 2
        let porch = """
            {"name": "porch", "source": "\(camera.url)", "fps": 2,
             "rules": [{"labels": ["\(astronaut[0].index)"], "threshold": \(threshold), "window": "1/1", "cooldown": 600, "settle": 0}]}
            """
        var server = try await ServeProcess.start(["--db", database])
        #expect(try Self.call(server, "POST", "/v1/streams", porch).status == 201)
        let alerted = try await Self.poll(server, "porch") { ($0["alerts"] as? Int ?? 0) >= 1 }
        #expect(alerted["alerts"] as? Int == 1, "\(alerted)")
        // The alert's history row is committed (it is what the restarted server reads).
        var rows = 0
        for _ in 0..<100 where rows == 0 {
            rows = (try Self.call(server, "GET", "/v1/history?alerts=true&source=stream:porch").object["entries"] as? [[String: Any]])?.count ?? 0
            if rows == 0 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(rows == 1)

        kill(server.process.processIdentifier, SIGKILL)
        await server.process.exited()
        server = try await ServeProcess.start(["--db", database])
        defer { server.stop() }
        // Ten frames of the same sight after the restart: no alert, none suppressed (the condition never stopped).
        let restored = try await Self.poll(server, "porch") { ($0["frames"] as? Int ?? 0) >= 10 }
        #expect((restored["frames"] as? Int ?? 0) >= 10, "\(restored)")
        #expect(restored["alerts"] as? Int == 0 && restored["suppressed_alerts"] as? Int == 0, "\(restored)")
        #expect(server.printed.contains("stream porch: restored"), "\(server.printed)")
    }
}
