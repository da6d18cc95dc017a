import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Server
import ServiceLifecycle
import Testing
import TestSupport

extension ServerStateTests {
    @Suite("Graceful shutdown")
    struct ShutdownTests {
        @Test("on shutdown the request in flight is answered, then the server stops listening")
        func inFlightRequestFinishes() async throws {
            var logger = Logger(label: "resnet18.serve.test")
            logger.logLevel = .warning
            let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
            let application = RecognitionServer(recognizer: TestServer.recognizer, configuration: TestServer.configuration(), logger: logger)
                .makeApplication { portSink.yield($0) }
            let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                // The request is in flight: headers and half of the photo sent, the rest held back.
                let photo = try Photos.bytes("chelsea-q90.jpg")
                let head = "POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: \(photo.count)\r\n\r\n"
                let connection = try ClientSocket(port: port)
                try connection.send(Array(head.utf8) + photo.prefix(photo.count / 2))
                try await Task.sleep(for: .milliseconds(300))
                await group.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(300))
                try connection.send(Array(photo.suffix(from: photo.count / 2)))
                let answer = try await connection.receiveUntilClosed()
                #expect(answer.hasPrefix("HTTP/1.1 200"))
                #expect(answer.contains("\"results\""))
                try await tasks.waitForAll()
                #expect(throws: (any Error).self) { try ClientSocket(port: port) }
            }
        }
    }
}
