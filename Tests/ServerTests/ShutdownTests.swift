import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Server
import ServiceLifecycle
import Testing

extension ServerTests {
    @Suite("Graceful shutdown")
    struct ShutdownTests {
        @Test("on shutdown the request in flight is answered, then the server stops listening")
        func inFlightRequestFinishes() async throws {
            // A lone image waits 1.5 s for its batch to fill: long enough to shut down while it waits.
            let configuration = TestServer.configuration { $0.maxBatchDelayMilliseconds = 1500 }
            var logger = Logger(label: "resnet18.serve.test")
            logger.logLevel = .warning
            let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
            let application = RecognitionServer(recognizer: TestServer.recognizer, configuration: configuration, logger: logger)
                .makeApplication { portSink.yield($0) }
            let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let request = {
                    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/classify")!)
                    request.httpMethod = "POST"
                    request.setValue("image/jpeg", forHTTPHeaderField: "Content-Type")
                    return request
                }()
                let photo = Data(try Photos.bytes("chelsea-q90.jpg"))
                let started = ContinuousClock.now
                async let answer = URLSession.shared.upload(for: request, from: photo)
                try await Task.sleep(for: .milliseconds(500))
                await group.triggerGracefulShutdown()
                let (body, response) = try await answer
                #expect((response as? HTTPURLResponse)?.statusCode == 200)
                #expect(String(decoding: body, as: UTF8.self).contains("\"results\""))
                #expect(ContinuousClock.now - started >= .milliseconds(1400))
                try await tasks.waitForAll()
                await #expect(throws: (any Error).self) {
                    _ = try await URLSession.shared.upload(for: request, from: photo)
                }
            }
        }
    }
}
