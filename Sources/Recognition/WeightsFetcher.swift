import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// Downloads a weights file, checks its SHA-256 prefix as torchvision does, and stores it atomically.
public struct WeightsFetcher: Sendable {
    public let source: URL
    public let expectedSHA256Prefix: String
    public let destination: URL

    public init(source: URL = WeightsLocation.officialURL,
                expectedSHA256Prefix: String = WeightsLocation.officialSHA256Prefix,
                destination: URL) {
        self.source = source
        self.expectedSHA256Prefix = expectedSHA256Prefix.lowercased()
        self.destination = destination
    }

    /// Downloads to `destination`; `progress(received, expected)` is called as bytes arrive.
    /// Nothing is left at `destination` unless the whole file arrived and its hash matched.
    public func fetch(progress: @escaping @Sendable (Int64, Int64?) -> Void = { _, _ in }) async throws(RecognitionError) -> String {
        let folder = destination.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .fetch("cannot create \(folder.path): \(error.localizedDescription)")
        }
        let partial = folder.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).partial")
        defer { try? FileManager.default.removeItem(at: partial) }

        let download = Download(partial: partial, progress: progress)
        let result = await download.run(source)
        switch result {
        case .failure(let message):
            throw .fetch("could not download \(source.absoluteString): \(message). "
                         + "Without a network, copy \(destination.lastPathComponent) to \(destination.path) "
                         + "or pass --weights PATH.")
        case .success(let (received, expected, digest)):
            if let expected, received != expected {
                throw .fetch("download of \(source.absoluteString) was truncated: \(received) of \(expected) bytes arrived; try again")
            }
            guard digest.hasPrefix(expectedSHA256Prefix) else {
                throw .fetch("\(source.absoluteString) has SHA-256 \(digest), which does not start with \(expectedSHA256Prefix): "
                             + "the file is corrupt or not the expected one, so it was not stored")
            }
            do {
                if FileManager.default.fileExists(atPath: destination.path) {
                    _ = try FileManager.default.replaceItemAt(destination, withItemAt: partial)
                } else {
                    try FileManager.default.moveItem(at: partial, to: destination)
                }
            } catch {
                throw .fetch("cannot store \(destination.path): \(error.localizedDescription)")
            }
            return digest
        }
    }
}

/// One HTTP download streamed to a file, hashing as it goes (AsyncHTTPClient: the process links no
/// FoundationNetworking, which would load libcurl and its TLS, Kerberos and LDAP libraries into every server).
private struct Download {
    enum Outcome { case success((received: Int64, expected: Int64?, sha256: String)), failure(String) }

    let partial: URL
    let progress: @Sendable (Int64, Int64?) -> Void

    func run(_ url: URL) async -> Outcome {
        guard FileManager.default.createFile(atPath: partial.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: partial) else {
            return .failure("cannot write \(partial.path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var received: Int64 = 0
        var expected: Int64?
        // Redirects followed (5 at most); a refused connection fails at once (no retries until a deadline, as the
        // shared client does), a silent one after 30 s, a transfer that stalls for 60 s is cut off.
        var configuration = HTTPClient.Configuration(redirectConfiguration: .follow(max: 5, allowCycles: false),
                                                     timeout: .init(connect: .seconds(30), read: .seconds(60)))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        defer { client.shutdown { _ in } }
        do {
            let response = try await client.execute(HTTPClientRequest(url: url.absoluteString), timeout: .hours(6))
            guard response.status == .ok else { return .failure("the server answered HTTP \(response.status.code)") }
            expected = response.headers.first(name: "content-length").flatMap { Int64($0) }
            for try await chunk in response.body {
                do {
                    try chunk.withUnsafeReadableBytes { bytes in
                        hasher.update(bufferPointer: bytes)
                        try handle.write(contentsOf: Data(bytes))
                    }
                } catch {
                    return .failure("writing failed: \(error.localizedDescription)")
                }
                received += Int64(chunk.readableBytes)
                progress(received, expected)
            }
        } catch {
            // A connection cut short is reported as truncation when the length was announced.
            if let expected, received < expected { return .success((received, expected, "")) }
            return .failure("\(error)")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return .success((received, expected, digest))
    }
}
