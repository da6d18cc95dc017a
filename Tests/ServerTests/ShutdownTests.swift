import Foundation
#if canImport(Glibc)
import Glibc
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
                let connection = try PlainConnection(port: port)
                try connection.send(Array(head.utf8) + photo.prefix(photo.count / 2))
                try await Task.sleep(for: .milliseconds(300))
                await group.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(300))
                try connection.send(Array(photo.suffix(from: photo.count / 2)))
                let answer = try await connection.receiveUntilClosed()
                #expect(answer.hasPrefix("HTTP/1.1 200"))
                #expect(answer.contains("\"results\""))
                try await tasks.waitForAll()
                #expect(throws: (any Error).self) { try PlainConnection(port: port) }
            }
        }
    }
}

/// A blocking TCP connection to 127.0.0.1, to send a request in pieces.
final class PlainConnection: @unchecked Sendable {
    private let socket: Int32

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw Failure(description: "connect to port \(port): errno \(errno)")
        }
    }

    deinit { close(socket) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += count
        }
    }

    /// Everything the server sends until it closes the connection (it does, when shutting down), off the cooperative pool.
    func receiveUntilClosed() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { recv(self.socket, $0.baseAddress, $0.count, 0) }
                    if count > 0 { received += buffer.prefix(count) } else { break }
                }
                if received.isEmpty {
                    continuation.resume(throwing: Failure(description: "no answer: errno \(errno)"))
                } else {
                    continuation.resume(returning: String(decoding: received, as: UTF8.self))
                }
            }
        }
    }
}
