import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

extension ServerTests {
    @Suite("Under load: a bounded queue answers 503 with Retry-After")
    struct BusyTests {
        @Test("when the queue is full, 503 with Retry-After; the queued requests still succeed; the server recovers")
        func queueFull() async throws {
            // A batch of 8 never fills with a queue of 2: the first two images wait the whole 3 s, the other two are refused.
            let configuration = TestServer.configuration {
                $0.maxBatch = 8
                $0.maxBatchDelayMilliseconds = 3000
                $0.queueDepth = 2
                $0.cacheEntries = 0
            }
            let photo = ByteBuffer(bytes: try Photos.bytes("chelsea-q90.jpg"))
            try await TestServer.run(configuration) { client in
                let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"], body: photo)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let busy = responses.filter { $0.status == .serviceUnavailable }
                #expect(responses.filter { $0.status == .ok }.count == 2)
                #expect(busy.count == 2)
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
