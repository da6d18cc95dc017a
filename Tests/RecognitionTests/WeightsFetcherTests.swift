import Crypto
import Foundation
import Testing
import TestSupport
@testable import Recognition

/// `weights fetch` against a real HTTP server on loopback serving the fixture checkpoint.
@Suite(.serialized) struct WeightsFetcherTests {
    /// A Python HTTP server: `/good` serves the file, `/truncated` announces its length and stops halfway,
    /// anything else is 404. It prints its port once listening.
    static let serverScript = #"""
    import http.server, sys
    data = open(sys.argv[1], "rb").read()
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            if self.path not in ("/good", "/truncated"):
                self.send_response(404); self.end_headers(); return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            body = data if self.path == "/good" else data[: len(data) // 2]
            self.wfile.write(body); self.wfile.flush()
            self.close_connection = True
    s = http.server.HTTPServer(("127.0.0.1", 0), H)
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    final class LoopbackServer {
        let process = Process()
        let port: Int

        init(serving file: URL) throws {
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", WeightsFetcherTests.serverScript, file.path]
            process.standardOutput = output
            try process.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

        deinit {
            // Not waitUntilExit: off the main thread it spins in corelibs-foundation's run loop.
            kill(process.processIdentifier, SIGKILL)
        }
    }

    static func sha256Prefix(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    @Test("a good download is verified, stored atomically, reports progress, and then loads")
    func goodDownload() async throws {
        let server = try LoopbackServer(serving: Fixtures.seededPth)
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let destination = folder.appendingPathComponent("cache/resnet18/resnet18-seeded.pth")
        let prefix = try Self.sha256Prefix(Fixtures.seededPth)
        let seen = ProgressLog()
        let digest = try await awayFromThePool {
            try await WeightsFetcher(source: server.url("/good"), expectedSHA256Prefix: prefix, destination: destination)
                .fetch { received, expected in seen.add(received, expected) }
        }
        #expect(digest.hasPrefix(prefix) && digest.count == 64)
        #expect(try Data(contentsOf: destination) == Data(contentsOf: Fixtures.seededPth))
        #expect(seen.last?.0 == 46_836_555 && seen.last?.1 == 46_836_555)
        #expect(seen.count > 1)
        // Nothing but the file is left in the folder (the partial download is gone).
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.deletingLastPathComponent().path) == ["resnet18-seeded.pth"])
        #expect(try Recognizer.loadWeights(destination).classCount == 1000)
    }

    @Test("a file whose SHA-256 does not start with the expected prefix is not stored")
    func wrongHash() async throws {
        let server = try LoopbackServer(serving: Fixtures.seededPth)
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let destination = folder.appendingPathComponent("resnet18-f37072fd.pth")
        await #expect { try await awayFromThePool { try await WeightsFetcher(source: server.url("/good"), destination: destination).fetch() } } throws: { error in
            "\(error)".contains("does not start with f37072fd")
        }
        #expect(!FileManager.default.fileExists(atPath: destination.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("a truncated download is reported as such and not stored")
    func truncated() async throws {
        let server = try LoopbackServer(serving: Fixtures.seededPth)
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let destination = folder.appendingPathComponent("w.pth")
        let prefix = try Self.sha256Prefix(Fixtures.seededPth)
        await #expect { try await WeightsFetcher(source: server.url("/truncated"), expectedSHA256Prefix: prefix, destination: destination).fetch() } throws: { error in
            let message = "\(error)"
            return message.contains("truncated") || message.contains("does not start with")
        }
        #expect(!FileManager.default.fileExists(atPath: destination.path))
    }

    @Test("offline (nothing listening) fails saying where to put a copy")
    func offline() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let destination = folder.appendingPathComponent("resnet18-f37072fd.pth")
        // Port 9 (discard) on loopback: connection refused, as with no network.
        await #expect { try await WeightsFetcher(source: URL(string: "http://127.0.0.1:9/resnet18-f37072fd.pth")!, destination: destination).fetch() } throws: { error in
            let message = "\(error)"
            return message.contains("could not download") && message.contains(destination.path)
        }
    }

    @Test("an HTTP error status is reported and nothing is stored")
    func notFound() async throws {
        let server = try LoopbackServer(serving: Fixtures.seededPth)
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let destination = folder.appendingPathComponent("x.pth")
        await #expect { try await WeightsFetcher(source: server.url("/missing"), destination: destination).fetch() } throws: { error in
            "\(error)".contains("HTTP 404")
        }
        #expect(!FileManager.default.fileExists(atPath: destination.path))
    }
}

/// Progress callbacks as they arrived.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(Int64, Int64?)] = []

    func add(_ received: Int64, _ expected: Int64?) { lock.withLock { entries.append((received, expected)) } }
    var count: Int { lock.withLock { entries.count } }
    var last: (Int64, Int64)? { lock.withLock { entries.last.map { ($0.0, $0.1 ?? -1) } } }
}
