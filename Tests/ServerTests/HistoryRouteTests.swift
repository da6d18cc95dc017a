import Foundation
import HTTPTypes
import Hummingbird
import Recognition
import Server
import Storage
import Testing
import TestSupport

/// Runs a server whose history lives in a fresh database of the back-end.
func withHistoryServer<Value: Sendable>(
    _ backend: TestDatabases.Backend,
    _ change: (inout ServerConfiguration) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol, HistoryStore) async throws -> Value
) async throws -> Value {
    let (location, cleanup) = try await TestDatabases.freshLocation(backend)
    let database = try await Database.open(location)
    let store = HistoryStore(database: database)
    let configuration = TestServer.configuration {
        $0.database = location
        change(&$0)
    }
    do {
        let value = try await TestServer.run(configuration, history: store) { client in try await body(client, store) }
        await database.close()
        await cleanup()
        return value
    } catch {
        await database.close()
        await cleanup()
        throw error
    }
}

extension ServerStateTests {
    @Suite("history: recording and /v1/history")
    struct HistoryRouteTests {
        @Test("a classification is recorded with its top-5, source, weights and a JPEG thumbnail; the answer names its row",
              arguments: TestDatabases.backends)
        func classifyIsRecorded(backend: TestDatabases.Backend) async throws {
            try await withHistoryServer(backend) { client, _ in
                let response = try await client.execute(uri: "/v1/classify?top_k=1", method: .post, headers: [.contentType: "image/png"],
                                                        body: ByteBuffer(bytes: try Photos.bytes("chelsea.png")))
                #expect(response.status == .ok)
                let result = try #require((try response.object["results"] as? [[String: Any]])?.first)
                let id = try #require(result["history_id"] as? Int)

                let list = try await client.execute(uri: "/v1/history", method: .get)
                #expect(list.status == .ok)
                let object = try list.object
                #expect(object["total"] as? Int == 1)
                #expect(object["next_cursor"] is NSNull)
                let entry = try #require((object["entries"] as? [[String: Any]])?.first)
                #expect(entry["id"] as? Int == id)
                #expect(entry["source"] as? String == "POST /v1/classify")
                let reference = try Photos.referenceTop5("chelsea.png")
                let top = try #require(entry["top"] as? [[String: Any]])
                #expect(top.map { $0["index"] as? Int } == reference.map(\.index))
                #expect(top.first?["label"] as? String == reference.first?.label)
                #expect(entry["image_sha256"] as? String == ResultCacheKey.sha256(try Photos.bytes("chelsea.png")))
                #expect((entry["weights"] as? [String: Any])?["name"] as? String == "resnet18-seeded.pth")
                #expect(entry["alert"] is NSNull)
                #expect(entry["thumbnail_url"] as? String == "/v1/history/\(id)/thumbnail")

                let thumbnail = try await client.execute(uri: "/v1/history/\(id)/thumbnail", method: .get)
                #expect(thumbnail.status == .ok)
                #expect(thumbnail.headers[.contentType] == "image/jpeg")
                #expect(Array(thumbnail.body.readableBytesView.prefix(3)) == [0xFF, 0xD8, 0xFF])

                let one = try await client.execute(uri: "/v1/history/\(id)", method: .get)
                #expect(try one.object["id"] as? Int == id)
            }
        }

        @Test("/v1/history/{id}/similar ranks the other rows by the cosine similarity of their features: the same photo as a JPEG comes first; unknown rows 404, bad limits 400",
              arguments: TestDatabases.backends)
        func similarRows(backend: TestDatabases.Backend) async throws {
            try await withHistoryServer(backend) { client, _ in
                var ids: [String: Int] = [:]
                for (name, type) in [("chelsea.png", "image/png"), ("rocket.jpg", "image/jpeg"), ("coffee.png", "image/png"),
                                     ("chelsea-q90.jpg", "image/jpeg")] {
                    let response = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: type],
                                                            body: ByteBuffer(bytes: try Photos.bytes(name)))
                    ids[name] = try #require((try response.object["results"] as? [[String: Any]])?.first?["history_id"] as? Int)
                }
                let chelsea = try #require(ids["chelsea.png"])
                let answer = try await client.execute(uri: "/v1/history/\(chelsea)/similar?limit=2", method: .get)
                #expect(answer.status == .ok, "\(answer.text)")
                let object = try answer.object
                #expect(object["searched"] as? Int == 4)
                let similar = try #require(object["similar"] as? [[String: Any]])
                #expect(similar.count == 2)
                let first = try #require(similar.first)
                #expect((first["entry"] as? [String: Any])?["id"] as? Int == ids["chelsea-q90.jpg"], "\(similar)")
                let scores = similar.compactMap { $0["similarity"] as? Double }
                #expect(scores.count == 2 && scores[0] > 0.95 && scores[0] >= scores[1], "\(scores)")
                #expect(!similar.contains { ($0["entry"] as? [String: Any])?["id"] as? Int == chelsea })

                // A row recorded after the first search is found by the next one.
                _ = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                             body: ByteBuffer(bytes: try Photos.bytes("astronaut.png")))
                let again = try await client.execute(uri: "/v1/history/\(chelsea)/similar", method: .get)
                #expect(try again.object["searched"] as? Int == 5)

                #expect(try await client.execute(uri: "/v1/history/999999/similar", method: .get).status == .notFound)
                #expect(try await client.execute(uri: "/v1/history/\(chelsea)/similar?limit=0", method: .get).status == .badRequest)
                #expect(try await client.execute(uri: "/v1/history/\(chelsea)/similar?limit=many", method: .get).status == .badRequest)
            }
        }

        @Test("the page's uploads, /predict, KServe images and cache hits are recorded under their source")
        func everyRouteIsRecorded() async throws {
            try await withHistoryServer(.sqlite) { client, store in
                let photo = try Photos.bytes("coffee.png")
                let page = try await client.execute(uri: "/v1/classify", method: .post,
                                                    headers: [.contentType: "image/png", HTTPField.Name("X-ResNet18-Client")!: "page"],
                                                    body: ByteBuffer(bytes: photo))
                #expect(page.status == .ok)
                let (form, headers) = MultipartBody.file(try Photos.bytes("rocket.jpg"), filename: "rocket.jpg")
                let predict = try await client.execute(uri: "/predict", method: .post, headers: headers, body: form)
                #expect(predict.status == .ok)
                let predictID = try #require(predict.headers[HTTPField.Name("X-ResNet18-History-Id")!].flatMap { Int64($0) })
                let inference: [String: Any] = ["inputs": [["name": "image", "shape": [1], "datatype": "BYTES",
                                                            "data": [Data(try Photos.bytes("astronaut.png")).base64EncodedString()]]]]
                let kserve = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post,
                                                      headers: [.contentType: "application/json"],
                                                      body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: inference)))
                #expect(kserve.status == .ok)
                // The same bytes again: a result-cache hit, still recorded, with the thumbnail of the first time.
                let again = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                     body: ByteBuffer(bytes: photo))
                let againResult = try #require((try again.object["results"] as? [[String: Any]])?.first)
                #expect(againResult["cached"] as? Bool == true)
                let againID = try #require((againResult["history_id"] as? Int).map(Int64.init))

                let entries = try await store.query(HistoryFilter()).entries
                #expect(entries.map(\.record.source) == ["POST /v1/classify", "POST /v2/models/resnet18/infer", "POST /predict", "page"])
                #expect(entries.allSatisfy { $0.hasThumbnail })
                #expect(entries.allSatisfy { $0.record.top5.count == 5 })
                #expect(entries[2].id == predictID)
                #expect(entries[0].id == againID)
                #expect(try await store.thumbnail(id: againID) == (try await store.thumbnail(id: entries[3].id)))
            }
        }

        @Test("--thumbnails off keeps no picture; the thumbnail route says why")
        func thumbnailsOff() async throws {
            try await withHistoryServer(.sqlite, { $0.thumbnails = false }) { client, store in
                let response = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                                        body: ByteBuffer(bytes: try Photos.bytes("chelsea-q90.jpg")))
                let id = try #require((try response.object["results"] as? [[String: Any]])?.first?["history_id"] as? Int)
                #expect(try await store.thumbnail(id: Int64(id)) == nil)
                let thumbnail = try await client.execute(uri: "/v1/history/\(id)/thumbnail", method: .get)
                #expect(thumbnail.status == .notFound)
                #expect((try thumbnail.object["error"] as? String)?.contains("--thumbnails off") == true)
                let entry = try await client.execute(uri: "/v1/history/\(id)", method: .get)
                #expect(try entry.object["thumbnail_url"] is NSNull)
            }
        }

        @Test("filters, cursor pages, CSV and label counts over the API", arguments: TestDatabases.backends)
        func filtersPagesCSVAndCounts(backend: TestDatabases.Backend) async throws {
            try await withHistoryServer(backend) { client, store in
                let base = Date(timeIntervalSince1970: 1_764_000_000)
                var records: [RecognitionRecord] = []
                for index in 0..<7 {
                    records.append(RecognitionRecord(
                        time: base.addingTimeInterval(Double(index) * 600), source: index % 2 == 0 ? "page" : "POST /v1/classify",
                        imageSHA256: String(index), top5: [RecordedClass(index: index, wnid: "n0", label: index < 4 ? "tabby" : "rocket",
                                                                            probability: Double(index) / 10)],
                        weights: RecordedWeights(name: "w", sha256Prefix: "00000000", trained: true), timings: RecordedTimings()))
                }
                _ = try await store.record(all: records)

                let first = try await client.execute(uri: "/v1/history?limit=3&source=page", method: .get).object
                #expect(first["total"] as? Int == 4)
                let firstIDs = (first["entries"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
                #expect(firstIDs.count == 3)
                let cursor = try #require(first["next_cursor"] as? Int)
                let second = try await client.execute(uri: "/v1/history?limit=3&source=page&cursor=\(cursor)", method: .get).object
                #expect((second["entries"] as? [[String: Any]])?.count == 1)
                #expect(second["next_cursor"] is NSNull)

                let filtered = try await client.execute(uri: "/v1/history?label=TAB&min_probability=0.2&from=2025-11-24T16:00:00Z&to=2025-11-24T16:30:00%2B00:00", method: .get).object
                #expect((filtered["entries"] as? [[String: Any]])?.compactMap { ($0["top"] as? [[String: Any]])?.first?["index"] as? Int } == [2])

                let csv = try await client.execute(uri: "/v1/history.csv?label=rocket", method: .get)
                #expect(csv.status == .ok)
                #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
                let lines = csv.text.split(separator: "\r\n")
                #expect(lines.count == 4)
                #expect(lines.first?.hasPrefix("id,time,source") == true)

                let counts = try await client.execute(uri: "/v1/history/labels?bucket_seconds=3600", method: .get).object
                #expect(counts["bucket_seconds"] as? Int == 3600)
                let rows = try #require(counts["counts"] as? [[String: Any]])
                #expect(rows.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 7)
                #expect(Set(rows.compactMap { $0["label"] as? String }) == ["tabby", "rocket"])
            }
        }

        @Test("--history-max-rows keeps the newest rows as the server records")
        func retentionByRows() async throws {
            try await withHistoryServer(.sqlite, { $0.historyMaxRows = 3 }) { client, store in
                var ids: [Int64] = []
                for index in 0..<6 {
                    let photo = try Photos.bytes("chelsea-q90.jpg") + Array("retention \(index)".utf8)
                    let response = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                                            body: ByteBuffer(bytes: photo))
                    if let id = (try response.object["results"] as? [[String: Any]])?.first?["history_id"] as? Int { ids.append(Int64(id)) }
                }
                #expect(ids.count == 6)
                try await waitUntil { try await store.count() == 3 }
                #expect(try await store.query(HistoryFilter()).entries.map(\.id) == Array(ids.suffix(3).reversed()))
                #expect(try await client.metric("resnet18_history_rows_trimmed_total") == 3)
            }
        }

        @Test("bad history parameters are refused naming the parameter")
        func badParameters() async throws {
            try await withHistoryServer(.sqlite) { client, _ in
                for (query, expected) in [("limit=0", "limit"), ("cursor=abc", "cursor"), ("min_probability=2", "min_probability"),
                                          ("from=yesterday", "from"), ("alerts=maybe", "alerts"), ("offset=-1", "offset")] {
                    let response = try await client.execute(uri: "/v1/history?\(query)", method: .get)
                    #expect(response.status == .badRequest, "\(query)")
                    #expect((try response.object["error"] as? String)?.hasPrefix(expected) == true, "\(query)")
                }
                let labels = try await client.execute(uri: "/v1/history/labels?bucket_seconds=0", method: .get)
                #expect(labels.status == .badRequest)
                let id = try await client.execute(uri: "/v1/history/zero/thumbnail", method: .get)
                #expect(id.status == .badRequest)
                let missing = try await client.execute(uri: "/v1/history/424242", method: .get)
                #expect(missing.status == .notFound)
                #expect(try await client.stillServes())
            }
        }

        @Test("with history off, the routes say so and answers carry no history id")
        func historyOff() async throws {
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v1/history", method: .get)
                #expect(response.status == .notFound)
                #expect((try response.object["error"] as? String)?.contains("--db none") == true)
                let classify = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                                        body: ByteBuffer(bytes: try Photos.bytes("chelsea-q90.jpg")))
                #expect((try classify.object["results"] as? [[String: Any]])?.first?["history_id"] == nil)
                let page = try await client.execute(uri: "/history", method: .get)
                #expect(page.status == .ok)
            }
        }
    }
}

/// The hex SHA-256 the history keeps (the result cache's key).
enum ResultCacheKey {
    static func sha256(_ bytes: [UInt8]) -> String {
        Recognition.ResultCache.key(for: bytes)
    }
}
