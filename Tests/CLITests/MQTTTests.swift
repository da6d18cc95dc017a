import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// `watch --mqtt` and `serve --mqtt` against Debian's mosquitto on loopback: alerts at QoS 1 exactly once, state
/// and availability retained, the last will, a wrong password, an unreachable broker, a broker that goes away and
/// comes back, and masked credentials.
@Suite(.serialized, .ownThread) struct MQTTTests {
    let weights = ["--weights", Fixtures.seededPth.path]
    static let user = "ada", password = "Pq7-zeta-9"

    /// Two appearances of the rule's label (as in `WatchTests.watchFileJSON`).
    static let twoAlerts: [(photo: String, seconds: Double)] = [("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 3), ("astronaut.png", 3)]

    func alertFrames(_ stdout: String) throws -> [Int] {
        try Command.jsonLines(stdout).compactMap { $0["frame"] as? Int }
    }

    @Test("watch --mqtt on a video file publishes each alert once at QoS 1, the state and availability retained, and the discovery message")
    func watchPublishes() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make(Self.twoAlerts, in: folder)
        let broker = try await MosquittoBroker(users: [Self.user: Self.password])
        let subscriber = try MQTTSubscriber(broker, topics: ["resnet18/#", "homeassistant/#"])
        #expect(try await subscriber.waitUntilSubscribed(probe: "resnet18/probe"))

        let outcome = try await Command.run(["watch", video.path, "--json", "--mqtt", broker.url, "--mqtt-discovery", "--name", "porch"]
                                      + WatchTests().rule() + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(await subscriber.wait { $0.messages(on: "resnet18/porch/availability").last?.payload == "offline" }, "\(subscriber.printed)")

        let printed = try alertFrames(outcome.stdout)
        let alerts = subscriber.messages(on: "resnet18/porch/alert")
        #expect(printed.count == 2)
        #expect(alerts.map { $0.json["frame"] as? Int } == printed.map { Optional($0) }, "\(subscriber.printed)")
        #expect(alerts.allSatisfy { $0.qos == 1 && !$0.retained })
        #expect(alerts.allSatisfy { $0.json["camera"] as? String == "porch" && $0.json["label"] as? String == "streetcar" })
        #expect(Set(alerts.compactMap { $0.json["event_id"] as? String }).count == 2)
        #expect(subscriber.messages(on: "resnet18/porch/state").last?.json["state"] as? String == "ended")
        #expect(subscriber.messages(on: "resnet18/porch/availability").map(\.payload) == ["online", "offline"])
        let discovery = subscriber.messages(on: "homeassistant/sensor/resnet18_porch/last_alert/config").first?.json ?? [:]
        #expect(discovery["state_topic"] as? String == "resnet18/porch/alert")
        #expect(discovery["availability_topic"] as? String == "resnet18/porch/availability")

        // What a subscriber that comes later is given: the retained state, availability and discovery message.
        let later = try MQTTSubscriber(broker, topics: ["resnet18/porch/state", "resnet18/porch/availability",
                                                        "homeassistant/sensor/resnet18_porch/last_alert/config"], count: 3)
        #expect(await later.wait { $0.messages.count == 3 }, "\(later.printed)")
        #expect(later.messages.allSatisfy { $0.retained })
        #expect(later.messages(on: "resnet18/porch/state").first?.json["state"] as? String == "ended")
        #expect(later.messages(on: "resnet18/porch/availability").first?.payload == "offline")

        #expect(!outcome.stderr.contains(Self.password))
        #expect(outcome.stderr.contains("mqtt://ada:***@127.0.0.1"), "\(outcome.stderr)")
    }

    @Test("a wrong password and an unreachable broker are said on stderr (without the password); the video is still watched")
    func refusedAndUnreachable() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make(Self.twoAlerts, in: folder)
        let broker = try await MosquittoBroker(users: [Self.user: Self.password])
        let wrong = "Zq-8-wrong-pw"
        let refused = try await Command.run(["watch", video.path, "--json", "--mqtt", "mqtt://ada:\(wrong)@127.0.0.1:\(broker.port)"]
                                      + WatchTests().rule() + weights)
        #expect(refused.status == 0, "\(refused.stderr)")
        #expect(try alertFrames(refused.stdout).count == 2)
        #expect(refused.stderr.contains("the broker refused the connection: not authorised: wrong user name or password"), "\(refused.stderr)")
        #expect(refused.stderr.contains("not delivered"), "\(refused.stderr)")
        #expect(!refused.stderr.contains(wrong))

        let nobody = FFmpeg.freePort()
        let unreachable = try await Command.run(["watch", video.path, "--json", "--mqtt", "mqtt://127.0.0.1:\(nobody)"] + WatchTests().rule() + weights)
        #expect(unreachable.status == 0, "\(unreachable.stderr)")
        #expect(try alertFrames(unreachable.stdout).count == 2)
        #expect(unreachable.stderr.contains("cannot connect to 127.0.0.1:\(nobody): connection refused; retrying in"), "\(unreachable.stderr)")
    }

    @Test("mqtts:// with --mqtt-ca: the alerts arrive over TLS; without it, the broker's untrusted certificate is said")
    func tls() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make(Self.twoAlerts, in: folder)
        let broker = try await MosquittoBroker(users: [Self.user: Self.password], tls: true)
        let certificate = try #require(broker.certificate)
        let subscriber = try MQTTSubscriber(broker, topics: ["resnet18/#"])
        #expect(try await subscriber.waitUntilSubscribed(probe: "resnet18/probe"))
        let outcome = try await Command.run(["watch", video.path, "--json", "--mqtt", broker.url, "--mqtt-ca", certificate.path, "--name", "tls"]
                                      + WatchTests().rule() + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(await subscriber.wait { $0.messages(on: "resnet18/tls/availability").last?.payload == "offline" }, "\(outcome.stderr)")
        let received = subscriber.messages(on: "resnet18/tls/alert").compactMap { $0.json["frame"] as? Int }
        #expect(received == (try alertFrames(outcome.stdout)) && received.count == 2)

        let untrusted = try await Command.run(["watch", video.path, "--mqtt", broker.url, "--name", "tls"] + weights)
        #expect(untrusted.status == 0)
        #expect(untrusted.stderr.contains("TLS failed: the broker's certificate is not trusted here"), "\(untrusted.stderr)")
    }

    @Test("a watcher killed with SIGKILL: the broker publishes its last will, offline, retained; ps never showed the password")
    func lastWill() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 60)], in: folder)
        let camera = TestCamera(video: video)
        defer { camera.stop() }
        let broker = try await MosquittoBroker(users: [Self.user: Self.password])
        let subscriber = try MQTTSubscriber(broker, topics: ["resnet18/gate/availability"])
        let watch = try RunningCommand(["watch", camera.url, "--mqtt", broker.url, "--name", "gate"] + weights)
        #expect(await subscriber.wait { $0.messages.last?.payload == "online" }, "\(watch.stderr)")
        let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(watch.process.processIdentifier)/cmdline"))) ?? Data()
        let shown = String(decoding: commandLine.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        #expect(shown.contains("--mqtt mqtt://ada:"), "\(shown)")
        #expect(!shown.contains(Self.password), "\(shown)")
        let readers = watch.children
        kill(watch.process.processIdentifier, SIGKILL)
        for reader in readers { kill(reader, SIGKILL) }
        #expect(await watch.finish() == 128 + SIGKILL || watch.process.terminationReason == .uncaughtSignal)
        #expect(await subscriber.wait { $0.messages.last?.payload == "offline" }, "\(subscriber.printed)")
        let later = try MQTTSubscriber(broker, topics: ["resnet18/gate/availability"], count: 1)
        #expect(await later.wait { $0.messages.count == 1 })
        #expect(later.messages.first?.payload == "offline" && later.messages.first?.retained == true)
    }

    @Test("the broker stopped and started again under a running watcher: the alerts raised meanwhile arrive once it is back")
    func brokerRestart() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Four appearances of the rule's label: on a loaded machine the broker's stop can take a while to be noticed,
        // and an appearance must still be ahead of the watcher then.
        let video = try await TestVideo.make([("chelsea.png", 1), ("astronaut.png", 3), ("chelsea.png", 5), ("astronaut.png", 3),
                                        ("chelsea.png", 5), ("astronaut.png", 3), ("chelsea.png", 5), ("astronaut.png", 3),
                                        ("chelsea.png", 10)], in: folder)
        let camera = TestCamera(video: video)
        defer { camera.stop() }
        let broker = try await MosquittoBroker()
        // A persistent session: the broker keeps what is published for it while it reconnects after the restart.
        let subscriber = try MQTTSubscriber(broker, topics: ["resnet18/#"], sessionID: "restart-test-\(getpid())")
        #expect(try await subscriber.waitUntilSubscribed(probe: "resnet18/probe"))
        let watch = try RunningCommand(["watch", camera.url, "--json", "--mqtt", broker.url, "--name", "yard"] + WatchTests().rule() + weights)
        defer { _ = watch.stop() }
        #expect(await subscriber.wait { !$0.messages(on: "resnet18/yard/alert").isEmpty }, "\(watch.stderr)")

        // Counted before the stop: an alert printed after it was raised while the broker was down.
        let before = try alertFrames(watch.stdout).count
        broker.stop()
        #expect(await watch.wait { $0.stderr.contains("the broker closed the connection; retrying in") }, "\(watch.stderr)")
        // An alert raised while the broker is down.
        #expect(await watch.wait { ((try? self.alertFrames($0.stdout).count) ?? 0) > before }, "\(watch.stderr)")
        let raisedWhileDown = try alertFrames(watch.stdout)
        try await broker.start()
        #expect(await subscriber.wait { subscriber in
            let received = Set(subscriber.messages(on: "resnet18/yard/alert").compactMap { $0.json["frame"] as? Int })
            return received.isSuperset(of: raisedWhileDown)
        }, "printed \(raisedWhileDown); \(subscriber.printed)\n\(watch.stderr)")
        #expect(watch.stop() == 0)
        let printed = try alertFrames(watch.stdout)
        let received = subscriber.messages(on: "resnet18/yard/alert").compactMap { $0.json["frame"] as? Int }
        #expect(Set(received) == Set(printed), "printed \(printed), received \(received)")
        #expect(watch.stderr.components(separatedBy: ": connected").count >= 3, "\(watch.stderr)")
    }

    @Test("a malformed --mqtt URL, --mqtt-prefix or --name is exit 64 naming the flag")
    func malformedSettings() async throws {
        let existing = Fixtures.seededPth.path  // any existing file passes as a video source before MQTT is checked
        for url in ["mqtt//broker", "http://broker:1883", "mqtt://", "mqtt://broker:99999", "mqtt://broker/topic", "mqtt://:secret@broker"] {
            let outcome = try await Command.run(["watch", existing, "--mqtt", url] + weights)
            #expect(outcome.status == 64, "\(url): \(outcome.stderr)")
            #expect(outcome.stderr.contains("--mqtt must be mqtt://"), "\(url): \(outcome.stderr)")
            #expect(!outcome.stderr.contains("secret"), "\(outcome.stderr)")
        }
        let prefix = try await Command.run(["watch", existing, "--mqtt", "mqtt://broker", "--mqtt-prefix", "home/#"] + weights)
        #expect(prefix.status == 64 && prefix.stderr.contains("--mqtt-prefix"), "\(prefix.stderr)")
        let authority = try await Command.run(["watch", existing, "--mqtt", "mqtts://broker", "--mqtt-ca", existing] + weights)
        #expect(authority.status == 64 && authority.stderr.contains("--mqtt-ca"), "\(authority.stderr)")
        let name = try await Command.run(["watch", existing, "--mqtt", "mqtt://broker", "--name", "Front Door"] + weights)
        #expect(name.status == 64 && name.stderr.contains("--name must be"), "\(name.stderr)")
        let serve = try await Command.run(["serve", "--db", "none", "--mqtt", "mqtts//broker"] + weights)
        #expect(serve.status == 64 && serve.stderr.contains("--mqtt must be mqtt://"), "\(serve.stderr)")
    }

    @Test("serve --mqtt publishes a stream's alerts and state under its name, says offline when it is deleted, and masks the password")
    func servePublishes() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make(KilledStreamVideo.segments, in: folder)
        let camera = TestCamera(video: video)
        defer { camera.stop() }
        let broker = try await MosquittoBroker(users: [Self.user: Self.password])
        let subscriber = try MQTTSubscriber(broker, topics: ["resnet18/#"])
        #expect(try await subscriber.waitUntilSubscribed(probe: "resnet18/probe"))
        let server = try await ServeProcess.start(["--mqtt", broker.url])
        defer { server.stop() }
        #expect(server.printed.contains("mqtt: mqtt://ada:***@127.0.0.1:\(broker.port)"), "\(server.printed)")

        let rule = try WatchTests().rule()
        let request = #"{"name": "tram-stop", "source": "\#(camera.url)", "fps": 2, "rules": [{"labels": ["\#(rule[1])"], "threshold": \#(rule[3]), "window": "2/3"}]}"#
        let created = try ClientSocket(port: server.port).request("POST", "/v1/streams", headers: ["Content-Type": "application/json"],
                                                                  body: Array(request.utf8))
        #expect(HostileRequestTests.status(created) == 201, "\(created.prefix(400))")
        let id = try #require(try HostileRequestTests.json(created)["name"] as? String)
        #expect(id == "tram-stop")
        #expect(await subscriber.wait { !$0.messages(on: "resnet18/\(id)/alert").isEmpty }, "\(server.printed)")
        let alert = subscriber.messages(on: "resnet18/\(id)/alert")[0]
        #expect(alert.qos == 1 && alert.json["stream"] as? String == id && alert.json["label"] as? String == "streetcar")
        #expect(subscriber.messages(on: "resnet18/\(id)/state").contains { $0.json["state"] as? String == "running" })
        #expect(subscriber.messages(on: "resnet18/\(id)/availability").first?.payload == "online")
        #expect((alert.json["snapshot_url"] as? String)?.hasPrefix("http://127.0.0.1:\(server.port)/v1/streams/\(id)/alerts/") == true, "\(alert.json)")
        // The connection in /metrics: up, the alert acknowledged.
        let metrics = HostileRequestTests.body(try ClientSocket(port: server.port).request("GET", "/metrics"))
        #expect(metrics.contains("resnet18_stream_mqtt_connected{camera=\"\(id)\"} 1\n"), "\(metrics)")
        #expect(metrics.contains("# TYPE resnet18_stream_mqtt_dropped_total counter"), "\(metrics)")

        let deleted = try ClientSocket(port: server.port).request("DELETE", "/v1/streams/\(id)")
        #expect(HostileRequestTests.status(deleted) == 204)
        #expect(await subscriber.wait { $0.messages(on: "resnet18/\(id)/availability").last?.payload == "offline" }, "\(subscriber.printed)")
        #expect(subscriber.messages(on: "resnet18/\(id)/state").last?.json["state"] as? String == "stopped")
        #expect(!server.printed.contains(Self.password))
    }
}
