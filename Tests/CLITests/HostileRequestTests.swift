import Foundation
import Testing
import TestSupport

/// `resnet18 serve` as a separate process, against requests an attacker or a careless client sends: each gets a
/// clear answer with the right status, and the process keeps serving.
@Suite(.serialized, .ownThread) struct HostileRequestTests {
    /// The status line's code and the body of a raw HTTP answer.
    static func status(_ answer: String) -> Int {
        Int(answer.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? -1
    }

    static func body(_ answer: String) -> String {
        answer.range(of: "\r\n\r\n").map { String(answer[$0.upperBound...]) } ?? ""
    }

    @Test("a KServe FP32 shape whose element count overflows is 400 naming the shape, and the server keeps serving",
          arguments: [
              "[100000000000000,3,224,224]", "[9223372036854775807,3,224,224]", "[-1,3,224,224]",
          ])
    func overflowingShape(shape: String) async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let body = #"{"inputs":[{"name":"input","shape":\#(shape),"datatype":"FP32","data":[0.5,0.5]}]}"#
        let answer = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        #expect(Self.status(answer) == 400, "\(answer.prefix(400))")
        #expect(Self.body(answer).contains("shape"), "\(answer.prefix(400))")
        #expect(server.process.isRunning)
        let live = try ClientSocket(port: server.port).request("GET", "/v2/health/live")
        #expect(Self.status(live) == 200, "\(live.prefix(200))")
    }

    @Test("a KServe BYTES shape whose element count overflows is 400, and the server keeps serving")
    func overflowingBytesShape() async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let body = #"{"inputs":[{"name":"image","shape":[4294967296,4294967296],"datatype":"BYTES","data":["AAAA"]}]}"#
        let answer = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        #expect(Self.status(answer) == 400, "\(answer.prefix(400))")
        #expect(server.process.isRunning)
        #expect(Self.status(try ClientSocket(port: server.port).request("GET", "/v2/health/live")) == 200)
    }
}

extension HostileRequestTests {
    static let hostile = Fixtures.projectRoot.appendingPathComponent("tests/hostile")

    static func file(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// A multipart/form-data body with each file as a `file` part; returns the headers and body to send.
    static func form(_ files: [[UInt8]]) -> (headers: [String: String], body: [UInt8]) {
        let boundary = "resnet18-test-boundary"
        var body: [UInt8] = []
        for (index, bytes) in files.enumerated() {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(index).img\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            body += bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return (["Content-Type": "multipart/form-data; boundary=\(boundary)"], body)
    }

    static func json(_ answer: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(body(answer).utf8)) as? [String: Any])
    }

    @Test("the per-request image limit holds for cached images too: the count is checked before the cache")
    func imageLimitBeforeCache() async throws {
        let server = try await ServeProcess.start(["--queue-depth", "4"])
        defer { server.stop() }
        let photo = try Self.file(Fixtures.images.appendingPathComponent("chelsea-q90.jpg"))
        #expect(Self.status(try ClientSocket(port: server.port).request(photo)) == 200)  // now in the result cache
        let five = Self.form(Array(repeating: photo, count: 5))
        let answer = try ClientSocket(port: server.port).request("POST", "/v1/classify", headers: five.headers, body: five.body)
        #expect(Self.status(answer) == 413, "\(answer.prefix(300))")
        #expect(try Self.json(answer)["code"] as? String == "too_many_images")
        let four = Self.form(Array(repeating: photo, count: 4))
        #expect(Self.status(try ClientSocket(port: server.port).request("POST", "/v1/classify", headers: four.headers, body: four.body)) == 200)
    }

    @Test("a request of many tiny files that decode to billions of pixels is refused up front, from the headers")
    func pixelBombRequestRefused() async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let huge = try Self.file(Self.hostile.appendingPathComponent("huge-lossless.webp"))  // 1.6 kB, 6320x6320
        let form = Self.form(Array(repeating: huge, count: 64))
        let answer = try ClientSocket(port: server.port).request("POST", "/v1/classify", headers: form.headers, body: form.body)
        #expect(Self.status(answer) == 413, "\(answer.prefix(300))")
        #expect(Self.body(answer).contains("--max-request-pixels"), "\(answer.prefix(300))")
        #expect(Self.status(try ClientSocket(port: server.port).request(
            try Self.file(Fixtures.images.appendingPathComponent("chelsea-q90.jpg")))) == 200)
    }

    @Test("small requests keep being answered while a request of many large images is decoding")
    func largeRequestDoesNotStarveOthers() async throws {
        // Decoding is budgeted at --max-pixels (1 million here): each 1000x1000 image takes the whole budget in turn,
        // and the request holds at most two batches (of 2) of the queue (of 8) at a time, not all 8 of its images.
        let server = try await ServeProcess.start(["--max-pixels", "1000000", "--max-batch", "2", "--queue-depth", "8", "--cache-entries", "0"])
        defer { server.stop() }
        let large = try Self.file(Self.hostile.appendingPathComponent("large-lossless.webp"))
        let photo = try Self.file(Fixtures.images.appendingPathComponent("chelsea-q90.jpg"))
        let form = Self.form(Array(repeating: large, count: 8))
        let port = server.port
        let big = Task.detached { try ClientSocket(port: port).request("POST", "/v1/classify", headers: form.headers, body: form.body) }
        try await Task.sleep(for: .milliseconds(300))
        var answeredMeanwhile = 0
        var statuses: [Int] = []
        while statuses.count < 40 {
            let status = Self.status(try ClientSocket(port: port).request(photo))
            statuses.append(status)
            if status == 200 { answeredMeanwhile += 1 }
            if answeredMeanwhile >= 3 { break }
        }
        let bigAnswer = try await big.value
        #expect(Self.status(bigAnswer) == 200, "\(bigAnswer.prefix(300))")
        #expect(statuses.allSatisfy { $0 == 200 }, "small requests answered \(statuses) while the large one ran")
        #expect(answeredMeanwhile >= 3)
    }

    @Test("history filters decode the query as browsers encode it: '+' is a space (multi-word labels and sources)")
    func historyQueryPlusIsSpace() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-plus-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: database) }
        let server = try await ServeProcess.start(["--db", database.path])
        defer { server.stop() }
        let photo = try Self.file(Fixtures.images.appendingPathComponent("chelsea-q90.jpg"))
        let classified = try Self.json(try ClientSocket(port: server.port).request(photo))
        let results = try #require(classified["results"] as? [[String: Any]])
        let top = try #require((results.first?["top"] as? [[String: Any]])?.first?["label"] as? String)
        func rows(_ query: String) throws -> Int {
            let answer = try ClientSocket(port: server.port).request("GET", "/v1/history?\(query)")
            #expect(Self.status(answer) == 200, "\(answer.prefix(300))")
            return (try Self.json(answer)["entries"] as? [Any])?.count ?? -1
        }
        #expect(try rows("source=POST+%2Fv1%2Fclassify") == 1)
        #expect(try rows("source=POST%20/v1/classify") == 1)
        let plusLabel = top.replacingOccurrences(of: " ", with: "+").addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "+-"))) ?? top
        #expect(try rows("label=\(plusLabel)") == 1, "label \(top) as \(plusLabel)")
        let csv = try ClientSocket(port: server.port).request("GET", "/v1/history.csv?source=POST+%2Fv1%2Fclassify")
        // CSV rows end in CRLF (RFC 4180), one Character in Swift: split on newlines, not on "\n".
        #expect(Self.body(csv).contains("POST /v1/classify") && Self.body(csv).split(whereSeparator: \.isNewline).count >= 2, "\(csv.prefix(400))")
    }

    @Test("a KServe FP32 tensor inference is a history row, like every other recognition")
    func tensorInferenceIsRecorded() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-fp32-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: database) }
        let server = try await ServeProcess.start(["--db", database.path])
        defer { server.stop() }
        let tensor = try Data(contentsOf: Fixtures.images.appendingPathComponent("chelsea.input.f32"))
        let values = tensor.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let body = #"{"inputs":[{"name":"input","shape":[1,3,224,224],"datatype":"FP32","data":["#
            + values.map { "\($0)" }.joined(separator: ",") + "]}]}"
        let answer = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        #expect(Self.status(answer) == 200, "\(answer.prefix(300))")
        let history = try Self.json(try ClientSocket(port: server.port).request(
            "GET", "/v1/history?source=POST+%2Fv2%2Fmodels%2Fresnet18%2Finfer"))
        let items = try #require(history["entries"] as? [[String: Any]])
        #expect(items.count == 1)
        #expect((items.first?["image_sha256"] as? String)?.count == 64)
    }
}
