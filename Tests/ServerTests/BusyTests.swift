import Foundation
import Hummingbird
import Testing

extension ServerTests {
    @Suite("Under load: a bounded queue answers 503 with Retry-After")
    struct BusyTests {
        @Test("when the queue is full, 503 with Retry-After; admitted requests still succeed; the server recovers")
        func queueFull() async throws {
            // One image at a time may wait or be decoded: of 16 simultaneous requests, most find the queue full.
            let configuration = TestServer.configuration {
                $0.maxBatch = 1
                $0.queueDepth = 1
                $0.cacheEntries = 0
            }
            let photo = ByteBuffer(bytes: try Photos.bytes("chelsea-q90.jpg"))
            try await TestServer.run(configuration) { client in
                let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                    for _ in 0..<16 {
                        group.addTask {
                            try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"], body: photo)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let busy = responses.filter { $0.status == .serviceUnavailable }
                let statuses = Set(responses.map(\.status.code))
                #expect(statuses.isSubset(of: [200, 503]), "\(statuses)")
                #expect(responses.contains { $0.status == .ok })
                #expect(!busy.isEmpty)
                for response in busy {
                    #expect(response.headers[.retryAfter] == "1")
                    #expect(try response.object["code"] as? String == "queue_full")
                }
                #expect(try await client.stillServes())
            }
        }

        @Test("a request with more images than the queue can hold is 413, not 503")
        func tooManyImages() async throws {
            let configuration = TestServer.configuration { $0.queueDepth = 2 }
            var form = MultipartBody()
            for _ in 0..<3 { form.addFile(field: "file", filename: "coffee.png", try Photos.bytes("coffee.png")) }
            let body = form.finished()
            let headers: HTTPFields = [.contentType: form.contentType]
            try await TestServer.run(configuration) { client in
                let response = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: body)
                #expect(response.status == .contentTooLarge)
                #expect(try response.object["code"] as? String == "too_many_images")
            }
        }
    }
}
