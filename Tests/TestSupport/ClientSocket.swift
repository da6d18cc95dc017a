import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to 127.0.0.1, for tests that send a request in pieces, slowly, or not at all.
public final class ClientSocket: @unchecked Sendable {
    private let socket: Int32

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw Failure(description: "connect to port \(port): errno \(errno)")
        }
    }

    deinit { close(socket) }

    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += count
        }
    }

    /// POSTs `image` to /v1/classify with `Connection: close` and returns the whole answer.
    public func request(_ image: [UInt8]) throws -> String {
        try request("POST", "/v1/classify", headers: ["Content-Type": "image/jpeg"], body: image)
    }

    /// Sends one request with `Connection: close` (and `Content-Length` when there is a body) and returns the whole
    /// answer, head and body.
    public func request(_ method: String, _ target: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> String {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        try send(Array((head + "\r\n").utf8) + body)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        setTimeout(seconds: 120)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 { received += buffer.prefix(count) } else { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Whether the server closes the connection (a read sees its end or a reset) within `seconds`.
    public func waitForClose(seconds: Int) -> Bool {
        setTimeout(seconds: seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 { continue }
            if count == 0 { return true }
            return errno == ECONNRESET
        }
    }

    /// Makes the close (at deinit) abrupt, a reset, as when a client crashes or loses its network.
    public func abortOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Everything the server sends until it closes the connection (it does, when shutting down), read off the
    /// cooperative pool, waiting at most 30 s for each piece.
    public func receiveUntilClosed() async throws -> String {
        setTimeout(seconds: 30)
        return try await withCheckedThrowingContinuation { continuation in
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

    private func setTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
}
