import Foundation
import HTTPTypes
import Hummingbird
import Recognition
import Server
import Storage
import Testing
import TestSupport

extension ServerStateTests {
    @Suite("heads taught on the page: examples, training, switching on without a restart")
    struct HeadRouteTests {
        static func upload(_ client: any TestClientProtocol, head: String = "gate", category: String, _ names: [String]) async throws -> TestResponse {
            var body = MultipartBody()
            for name in names { body.addFile(field: "file", filename: name, try Photos.bytes(name)) }
            return try await client.execute(uri: "/v1/heads/\(head)/examples?category=\(category)", method: .post,
                                            headers: [.contentType: body.contentType], body: body.finished())
        }

        static func custom(_ client: any TestClientProtocol, _ photo: String) async throws -> [[String: Any]]? {
            let response = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                    body: ByteBuffer(bytes: try Photos.bytes(photo)))
            return (try response.object["results"] as? [[String: Any]])?.first?["custom"] as? [[String: Any]]
        }

        /// Polls the training until it is no longer running (it takes well under a second here).
        static func trained(_ client: any TestClientProtocol, head: String = "gate") async throws -> [String: Any] {
            for _ in 0..<600 {
                let job = try await client.execute(uri: "/v1/heads/\(head)/training", method: .get).object
                if job["state"] as? String != "running" { return job }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the training did not finish in a minute")
            return [:]
        }

        @Test("uploads and history rows become examples; training reports held-out scores; switched on, answers carry the head at once and after a restart",
              arguments: TestDatabases.backends)
        func teachTrainSwitchOn(backend: TestDatabases.Backend) async throws {
            let (location, cleanup) = try await TestDatabases.freshLocation(backend)
            let database = try await Database.open(location)
            let store = HistoryStore(database: database)
            let configuration = TestServer.configuration { $0.database = location }
            do {
                try await TestServer.run(configuration, history: store) { client in
                    // Before: no head, and a rule naming it is refused.
                    #expect(try await Self.custom(client, "chelsea.png") == nil)

                    let cats = try await Self.upload(client, category: "cat", ["chelsea.png", "chelsea-q90.jpg"])
                    #expect(cats.status == .created, "\(cats.text)")
                    let added = try #require(try cats.object["added"] as? [[String: Any]])
                    #expect(added.map { $0["samples"] as? Int } == [4, 4])  // each image and its flip and two crops
                    #expect(try await Self.upload(client, category: "space", ["rocket.jpg", "astronaut.png"]).status == .created)

                    // A history row's kept features, and its thumbnail.
                    let classified = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                              body: ByteBuffer(bytes: try Photos.bytes("coffee.png")))
                    let row = try #require((try classified.object["results"] as? [[String: Any]])?.first?["history_id"] as? Int)
                    let fromHistory = try await client.execute(uri: "/v1/heads/gate/examples?category=cup", method: .post,
                                                               headers: [.contentType: "application/json"],
                                                               body: ByteBuffer(string: #"{"history_ids": [\#(row)]}"#))
                    #expect(fromHistory.status == .created, "\(fromHistory.text)")
                    let historyExample = try #require((try fromHistory.object["added"] as? [[String: Any]])?.first)
                    #expect(historyExample["samples"] as? Int == 1)
                    #expect(historyExample["source"] as? String == "history \(row)")

                    // One example in a category is refused by training, saying which; removing it is possible.
                    let tooFew = try await client.execute(uri: "/v1/heads/gate/train", method: .post)
                    #expect(tooFew.status == .unprocessableContent)
                    #expect(tooFew.text.contains("category cup has 1 example"), "\(tooFew.text)")
                    let exampleID = try #require(historyExample["id"] as? Int)
                    let thumbnail = try await client.execute(uri: "/v1/heads/gate/examples/\(exampleID)/thumbnail", method: .get)
                    #expect(thumbnail.status == .ok)
                    #expect(Array(thumbnail.body.readableBytesView.prefix(3)) == [0xFF, 0xD8, 0xFF])
                    #expect(try await client.execute(uri: "/v1/heads/gate/examples/\(exampleID)", method: .delete).status == .noContent)
                    #expect(try await client.execute(uri: "/v1/heads/gate/examples/\(exampleID)", method: .delete).status == .notFound)

                    let started = try await client.execute(uri: "/v1/heads/gate/train", method: .post)
                    #expect(started.status == .accepted, "\(started.text)")
                    let job = try await Self.trained(client)
                    #expect(job["state"] as? String == "done", "\(job)")
                    #expect(job["active"] as? Bool == false)
                    let report = try #require(job["report"] as? [String: Any])
                    #expect((report["categories"] as? [[String: Any]])?.map { $0["name"] as? String } == ["cat", "space"])
                    #expect((report["confusion"] as? [[Int]])?.flatMap { $0 }.reduce(0, +) == 4)  // every image held out once
                    #expect(report["folds"] as? Int == 2)

                    // Trained, not yet switched on: answers do not change.
                    #expect(try await Self.custom(client, "chelsea.png") == nil)
                    let on = try await client.execute(uri: "/v1/heads/gate/activate", method: .post)
                    #expect(on.status == .ok, "\(on.text)")
                    let custom = try #require(try await Self.custom(client, "chelsea.png")?.first)
                    #expect(custom["head"] as? String == "gate")
                    #expect(((custom["top"] as? [[String: Any]])?.first)?["label"] as? String == "cat", "\(custom)")
                    let model = try await client.execute(uri: "/v1/model", method: .get).object
                    #expect((model["heads"] as? [[String: Any]])?.first?["categories"] as? [String] == ["cat", "space"])
                    #expect(try await Self.trained(client)["active"] as? Bool == true)
                    let listed = try await client.execute(uri: "/v1/heads", method: .get).object
                    let gate = try #require((listed["heads"] as? [[String: Any]])?.first { $0["name"] as? String == "gate" }, "\(listed)")
                    #expect(gate["active"] as? Bool == true && gate["examples"] as? Int == 4, "\(gate)")

                    // A stream's rule may name the head now, and the head cannot be switched off under it.
                    let stream = try await client.execute(uri: "/v1/streams", method: .post, headers: [.contentType: "application/json"],
                                                          body: ByteBuffer(string: #"{"name": "door", "source": "http://127.0.0.1:1/x", "rules": [{"labels": ["gate/cat"]}]}"#))
                    #expect(stream.status == .created, "\(stream.text)")
                    let off = try await client.execute(uri: "/v1/heads/gate/deactivate", method: .post)
                    #expect(off.status == .conflict)
                    #expect(off.text.contains("stream door"), "\(off.text)")
                    #expect(try await client.execute(uri: "/v1/streams/door", method: .delete).status == .noContent)
                }
                // Another server on the same database answers with the head from its first request.
                try await TestServer.run(configuration, history: store) { client in
                    let custom = try #require(try await Self.custom(client, "rocket.jpg")?.first)
                    #expect(custom["head"] as? String == "gate")
                    let detail = try await client.execute(uri: "/v1/heads/gate", method: .get).object
                    #expect(detail["active"] as? Bool == true)
                    #expect((detail["active_report"] as? [String: Any])?["folds"] as? Int == 2)
                    #expect((detail["categories"] as? [[String: Any]])?.compactMap { ($0["examples"] as? [Any])?.count } == [2, 2])
                    #expect(try await client.execute(uri: "/v1/heads/gate/deactivate", method: .post).status == .noContent)
                    #expect(try await Self.custom(client, "rocket.jpg") == nil)
                    // Switched off, it is listed from its examples: their categories and count.
                    let listed = try await client.execute(uri: "/v1/heads", method: .get).object
                    let gate = try #require((listed["heads"] as? [[String: Any]])?.first { $0["name"] as? String == "gate" }, "\(listed)")
                    #expect(gate["active"] as? Bool == false && gate["examples"] as? Int == 4, "\(gate)")
                    #expect(gate["categories"] as? [String] == ["cat", "space"], "\(gate)")
                }
                await database.close()
                await cleanup()
            } catch {
                await database.close()
                await cleanup()
                throw error
            }
        }

        @Test("bad requests name the problem: category names, missing category, unknown rows, nothing trained, one category, no database")
        func badRequests() async throws {
            try await withHistoryServer(.sqlite) { client, _ in
                #expect(try await Self.upload(client, category: "a%2Fb", ["chelsea.png"]).status == .badRequest)
                #expect(try await Self.upload(client, category: "a%01b", ["chelsea.png"]).status == .badRequest)
                let missing = try await client.execute(uri: "/v1/heads/gate/examples", method: .post, headers: [.contentType: "image/png"],
                                                       body: ByteBuffer(bytes: try Photos.bytes("chelsea.png")))
                #expect(missing.status == .badRequest)
                #expect(missing.text.contains("?category="), "\(missing.text)")
                let unknownRow = try await client.execute(uri: "/v1/heads/gate/examples?category=x", method: .post,
                                                          headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"history_ids": [424242]}"#))
                #expect(unknownRow.status == .notFound)
                #expect(unknownRow.text.contains("no history row 424242"), "\(unknownRow.text)")
                let badJSON = try await client.execute(uri: "/v1/heads/gate/examples?category=x", method: .post,
                                                       headers: [.contentType: "application/json"], body: ByteBuffer(string: "[1,2"))
                #expect(badJSON.status == .badRequest)
                let notImage = try await client.execute(uri: "/v1/heads/gate/examples?category=x", method: .post,
                                                        headers: [.contentType: "image/png"], body: ByteBuffer(string: "not a png"))
                #expect(notImage.status.code >= 400 && notImage.status.code < 500)

                #expect(try await Self.upload(client, category: "only", ["chelsea.png", "rocket.jpg"]).status == .created)
                let one = try await client.execute(uri: "/v1/heads/gate/train", method: .post)
                #expect(one.status == .unprocessableContent)
                #expect(one.text.contains("one category only (only)"), "\(one.text)")
                let nothing = try await client.execute(uri: "/v1/heads/gate/activate", method: .post)
                #expect(nothing.status == .conflict)
                #expect(nothing.text.contains("train it first"), "\(nothing.text)")
                #expect(try await client.execute(uri: "/v1/heads/gate/training", method: .get).status == .notFound)
                #expect(try await client.stillServes())
            }
            try await TestServer.run { client in
                let answer = try await client.execute(uri: "/v1/heads/gate", method: .get)
                #expect(answer.status == .notFound)
                #expect(answer.text.contains("--db none"), "\(answer.text)")
            }
        }
    }
}
