import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// POSTs each alert as JSON to a URL, retrying with backoff when the receiver fails or cannot be reached.
/// Alerts are sent one at a time, in order, from a queue of their own, so a slow receiver never holds up a stream.
public actor WebhookSender {
    public let url: String
    public let attempts: Int
    public let initialDelay: Duration
    private var queue: [String] = []
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

    public init(url: String, attempts: Int = 5, initialDelay: Duration = .seconds(1),
                log: @escaping @Sendable (String) -> Void = { _ in }) throws(MonitoringError) {
        try Self.validate(url)
        self.url = url
        self.attempts = max(1, attempts)
        self.initialDelay = initialDelay
        self.log = log
    }

    /// Queues one JSON body for delivery.
    public func send(_ json: String) {
        queue.append(json)
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
            let body = queue.removeFirst()
            var delay = initialDelay
            var sent = false
            for attempt in 1...attempts {
                let problem = await post(body)
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
    private func post(_ body: String) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "resnet18-watch")
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return (200..<300).contains(response.status.code) ? nil : "answered \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }
}
