import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// POSTs each alert as JSON to a URL, retrying with backoff when the receiver fails or cannot be reached.
/// Alerts are sent one at a time, in order, from a queue of their own, so a slow receiver never holds up a stream.
///
/// Each POST carries the event's id (`X-ResNet18-Event-Id`, the same on every attempt) and, with a secret,
/// `X-ResNet18-Signature: sha256=HEX`, the HMAC-SHA256 of the exact body under the secret (as GitHub signs its
/// webhooks), so a receiver can check that the alert comes from this service and drop duplicates.
public actor WebhookSender {
    public let url: String
    public let attempts: Int
    public let initialDelay: Duration
    /// The HMAC key; never shown, never logged.
    private let secret: SymmetricKey?
    private var queue: [(body: String, eventID: String)] = []
    private var sending = false
    private let log: @Sendable (String) -> Void
    /// Alerts delivered, and given up on after every attempt failed.
    public private(set) var delivered = 0
    public private(set) var abandoned = 0

    /// Checks the URL: http:// or https:// with a host.
    public static func validate(_ url: String) throws(MonitoringError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty, url.count <= 2048 else {
            throw .badRule("the webhook must be an http:// or https:// URL with a host, got \"\(url.prefix(80))\"")
        }
    }

    /// Checks a signing secret: 1 to 1024 characters, no line breaks (it may travel in a header-like setting).
    public static func validate(secret: String) throws(MonitoringError) {
        guard !secret.isEmpty, secret.utf8.count <= 1024, !secret.contains(where: \.isNewline) else {
            throw .badRule("the webhook secret must be 1 to 1024 characters on one line")
        }
    }

    /// `X-ResNet18-Signature`'s value for a body: `sha256=` and the HMAC-SHA256 in lower-case hex.
    public static func signature(of body: some DataProtocol, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    public init(url: String, secret: String? = nil, attempts: Int = 5, initialDelay: Duration = .seconds(1),
                log: @escaping @Sendable (String) -> Void = { _ in }) throws(MonitoringError) {
        try Self.validate(url)
        if let secret { try Self.validate(secret: secret) }
        self.url = url
        self.secret = secret.map { SymmetricKey(data: Data($0.utf8)) }
        self.attempts = max(1, attempts)
        self.initialDelay = initialDelay
        self.log = log
    }

    /// Queues one JSON body for delivery; `eventID` goes in `X-ResNet18-Event-Id` on every attempt.
    public func send(_ json: String, eventID: String) {
        queue.append((json, eventID))
        guard !sending else { return }
        sending = true
        Task { await drain() }
    }

    /// Waits until every queued alert is delivered or abandoned (`watch` before it exits).
    public func flush() async {
        while sending || !queue.isEmpty {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            let (body, eventID) = queue.removeFirst()
            var delay = initialDelay
            var sent = false
            for attempt in 1...attempts {
                let problem = await post(body, eventID: eventID)
                if problem == nil {
                    sent = true
                    break
                }
                if attempt < attempts {
                    log("webhook \(Redaction.url(url)): \(problem!); retrying in \(StreamMonitor.format(delay.seconds)) s (attempt \(attempt + 1) of \(attempts))")
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(60))
                } else {
                    log("webhook \(Redaction.url(url)): \(problem!); gave up after \(attempts) attempts")
                }
            }
            if sent { delivered += 1 } else { abandoned += 1 }
        }
        sending = false
    }

    /// One POST; nil when the receiver answered 2xx, else what went wrong.
    private func post(_ body: String, eventID: String) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        let bytes = Array(body.utf8)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "resnet18-watch")
        request.headers.add(name: "X-ResNet18-Event-Id", value: eventID)
        if let secret {
            let code = HMAC<SHA256>.authenticationCode(for: bytes, using: secret)
            request.headers.add(name: "X-ResNet18-Signature", value: "sha256=" + code.map { String(format: "%02x", $0) }.joined())
        }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return (200..<300).contains(response.status.code) ? nil : "answered \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }
}
