import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A webhook receiver as a user would write one, in Python on loopback: it checks `X-ResNet18-Signature` against
/// its own HMAC-SHA256 of the body under its secret (Python's `hmac`, not the service's code), answers 401 to a
/// bad signature, 500 to the first `failures` good ones, then 200, and records every request.
public final class SigningWebhookReceiver: @unchecked Sendable {
    static let script = #"""
    import hashlib, hmac, http.server, json, sys, threading
    secret, failures, log = sys.argv[1].encode(), [int(sys.argv[2])], sys.argv[3]
    lock = threading.Lock()
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            given = self.headers.get("X-ResNet18-Signature", "")
            valid = hmac.compare_digest("sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(), given)
            with lock:
                code = 401 if not valid else 500 if failures[0] > 0 else 200
                if valid and failures[0] > 0: failures[0] -= 1
                with open(log, "a") as f:
                    f.write(json.dumps({"valid": valid, "event_id": self.headers.get("X-ResNet18-Event-Id"),
                                        "signature": given, "body": body.decode("utf-8"), "answered": code}) + "\n")
            self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    /// One request as the receiver saw it.
    public struct Delivery: Sendable {
        /// The signature matched the receiver's own HMAC of the body.
        public let valid: Bool
        public let eventID: String?
        public let signature: String
        public let body: String
        /// What the receiver answered: 200, 500 (a failure asked for) or 401 (a bad signature).
        public let answered: Int
        /// The body as JSON.
        public var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)/hook" }
    private let process = Process()
    private let log: URL

    public init(secret: String, failures: Int = 0) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-hook-\(UUID().uuidString).jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, secret, String(failures), log.path]
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw POSIXError(.ECONNREFUSED)
        }
        self.port = port
    }

    deinit { stop() }

    /// Every request so far, in order.
    public var deliveries: [Delivery] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Delivery(valid: object["valid"] as? Bool ?? false, eventID: object["event_id"] as? String,
                            signature: object["signature"] as? String ?? "", body: object["body"] as? String ?? "",
                            answered: object["answered"] as? Int ?? 0)
        }
    }

    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: log)
    }
}
