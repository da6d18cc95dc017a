import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

/// One HTTP download streamed to a file, hashing as it goes.
private final class Download: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    enum Outcome { case success((received: Int64, expected: Int64?, sha256: String)), failure(String) }

    private let partial: URL
    private let progress: @Sendable (Int64, Int64?) -> Void
    private let lock = NSLock()
    private var handle: FileHandle?
    private var hasher = SHA256()
    private var received: Int64 = 0
    private var expected: Int64?
    private var status = 0
    private var writeError: String?
    private var continuation: CheckedContinuation<Outcome, Never>?

    init(partial: URL, progress: @escaping @Sendable (Int64, Int64?) -> Void) {
        self.partial = partial
        self.progress = progress
    }

    func run(_ url: URL) async -> Outcome {
        guard FileManager.default.createFile(atPath: partial.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: partial) else {
            return .failure("cannot write \(partial.path)")
        }
        self.handle = handle
        let session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        return await withCheckedContinuation { continuation in
            lock.withLock { self.continuation = continuation }
            session.dataTask(with: url).resume()
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock {
            status = (response as? HTTPURLResponse)?.statusCode ?? 200
            expected = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        }
        completionHandler(status == 200 ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let (total, expected) = lock.withLock { () -> (Int64, Int64?) in
            hasher.update(data: data)
            do { try handle?.write(contentsOf: data) } catch { writeError = error.localizedDescription }
            received += Int64(data.count)
            return (received, self.expected)
        }
        progress(total, expected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let outcome: Outcome = lock.withLock {
            try? handle?.close()
            handle = nil
            if status != 200 { return .failure("the server answered HTTP \(status)") }
            if let writeError { return .failure("writing failed: \(writeError)") }
            if let error {
                // A connection cut short is reported as truncation when the length was announced.
                if let expected, received < expected {
                    return .success((received, expected, ""))
                }
                return .failure(error.localizedDescription)
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            return .success((received, expected, digest))
        }
        let continuation = lock.withLock { () -> CheckedContinuation<Outcome, Never>? in
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume(returning: outcome)
    }
}
