import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on loopback for webhook tests: records each request body, answers `failures` requests
/// with 500 first, then 200.
public final class WebhookReceiver: @unchecked Sendable {
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)/hook" }
    private let listener: Int32
    private let lock = NSLock()
    private var bodies: [String] = []
    private var attempts = 0
    private var failuresLeft: Int

    public init(failures: Int = 0) throws {
        failuresLeft = failures
        (listener, port) = try LoopbackListener.open()
        Thread.detachNewThread { [self] in serve() }
    }

    /// Bodies answered 200, in order.
    public var received: [String] { lock.lock(); defer { lock.unlock() }; return bodies }
    /// Every request, failed ones included.
    public var requests: Int { lock.lock(); defer { lock.unlock() }; return attempts }

    public func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            // Read the head, then Content-Length bytes of body.
            while true {
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { break }
                data += buffer[0..<count]
                let text = String(decoding: data, as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let head = text[..<end.lowerBound].lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    let bodyStart = text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound)
                    if data.count - bodyStart >= length {
                        let body = String(decoding: data[bodyStart..<(bodyStart + length)], as: UTF8.self)
                        lock.lock()
                        attempts += 1
                        let fail = failuresLeft > 0
                        if fail { failuresLeft -= 1 } else { bodies.append(body) }
                        lock.unlock()
                        let answer = fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                          : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        _ = answer.withCString { write(connection, $0, strlen($0)) }
                        break
                    }
                }
            }
            close(connection)
        }
    }
}

/// Reads a server-sent event stream (`GET path`) over a plain socket and keeps each event's name and data.
public final class EventStreamReader: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    private let connection: Int32

    public init(port: Int, path: String) throws {
        let connection = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.connection = connection
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(connection, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { write(connection, $0, strlen($0)) }
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { return }
                lock.lock()
                text += String(decoding: buffer[0..<count], as: UTF8.self)
                lock.unlock()
            }
        }
    }

    deinit { Glibc.close(connection) }

    /// Everything received so far (head included).
    public var raw: String { lock.lock(); defer { lock.unlock() }; return text }

    /// The events received so far: (event name, data line).
    public var events: [(event: String, data: String)] {
        var found: [(String, String)] = []
        var name = "message"
        // Split the bytes, not the characters: Swift sees "\r\n" (chunk framing) as a single Character.
        for bytes in Array(raw.utf8).split(separator: 10, omittingEmptySubsequences: false) {
            let line = String(decoding: bytes.last == 13 ? bytes.dropLast() : bytes, as: UTF8.self)
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") {
                found.append((name, String(line.dropFirst(6))))
                name = "message"
            }
        }
        return found
    }

    public func close() { shutdown(connection, Int32(SHUT_RDWR)) }
}

/// A server on loopback that misbehaves with every connection: `.garbage` answers 200 and then random bytes for a
/// few seconds (a camera sending junk), `.silent` reads and never answers (a webhook receiver that hangs).
public final class MisbehavingServer: @unchecked Sendable {
    public enum Behaviour: Sendable { case garbage, silent }

    public let port: Int
    private let listener: Int32
    private let behaviour: Behaviour
    private let lock = NSLock()
    private var held: [Int32] = []
    private var accepted = 0

    public init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        (listener, port) = try LoopbackListener.open()
        Thread.detachNewThread { [self] in serve() }
    }

    /// Connections taken so far.
    public var connections: Int { lock.lock(); defer { lock.unlock() }; return accepted }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        lock.lock()
        for connection in held { close(connection) }
        held.removeAll()
        lock.unlock()
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            lock.lock()
            accepted += 1
            lock.unlock()
            switch behaviour {
            case .silent:
                lock.lock()
                held.append(connection)
                lock.unlock()
            case .garbage:
                Thread.detachNewThread {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = read(connection, &buffer, buffer.count)
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: video/x-matroska\r\nConnection: close\r\n\r\n"
                    _ = head.withCString { write(connection, $0, strlen($0)) }
                    var generator = SystemRandomNumberGenerator()
                    for _ in 0..<200 {
                        let junk = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
                        guard junk.withUnsafeBytes({ write(connection, $0.baseAddress, $0.count) }) > 0 else { break }
                        usleep(10_000)
                    }
                    close(connection)
                }
            }
        }
    }
}

/// A listening TCP socket on a free loopback port.
enum LoopbackListener {
    static func open() throws -> (socket: Int32, port: Int) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        return (listener, Int(UInt16(bigEndian: address.sin_port)))
    }
}
