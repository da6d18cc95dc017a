import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether something already listens on a TCP port: checked before serve's long start-up (database, weights,
/// plans), so that a port in use is said at once rather than after every configuration line.
enum PortProbe {
    /// True when binding `host:port` fails with EADDRINUSE as the server's own bind would (SO_REUSEADDR set, as
    /// NIO does); false when it is free, and when the probe cannot tell (the server's bind then has the last word).
    static func inUse(host: String, port: Int) -> Bool {
        guard port > 0 else { return false }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard getaddrinfo(bare, String(port), &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        let address = first.pointee
        let socket = Glibc.socket(address.ai_family, address.ai_socktype, address.ai_protocol)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var one: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        return bind(socket, address.ai_addr, address.ai_addrlen) != 0 && errno == EADDRINUSE
    }

    static func inUseMessage(port: Int) -> String {
        "port \(port) is in use; choose another with --port"
    }
}
