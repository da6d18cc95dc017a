import Monitoring
import Recognition
import ResNet

/// The body of `POST /v1/streams`.
struct StreamRequest: Codable, Sendable {
    struct Rule: Codable, Sendable {
        /// Class names, indices (as strings) or WordNet ids.
        let labels: [String]
        let threshold: Double?
        /// "K/N".
        let window: String?
    }

    let source: String
    let fps: Double?
    let rules: [Rule]?
    let webhook: String?

    static let maxRules = 16
    static let maxLabelsPerRule = 100

    /// Checks everything a client can get wrong before any ffmpeg is started.
    func configuration(labels: Labels, maxPixels: Int, maxBackoff: Duration) throws(APIError) -> StreamConfiguration {
        do {
            var configuration = StreamConfiguration(source: try VideoSource(source, allowFiles: false))
            configuration.fps = fps ?? 2
            configuration.maxPixels = maxPixels
            configuration.backoff = Backoff(initial: .seconds(1), maximum: maxBackoff)
            try configuration.validate()
            let rules = rules ?? []
            guard rules.count <= Self.maxRules else { throw MonitoringError.badRule("at most \(Self.maxRules) rules per stream") }
            configuration.rules = try rules.map { rule throws(MonitoringError) in
                guard rule.labels.count <= Self.maxLabelsPerRule else {
                    throw .badRule("at most \(Self.maxLabelsPerRule) labels per rule")
                }
                return try AlertRule(labels: rule.labels, in: labels, threshold: rule.threshold ?? 0.5, window: rule.window ?? "1/1")
            }
            if let webhook { try WebhookSender.validate(webhook) }
            return configuration
        } catch {
            throw .badRequest("\(error)")
        }
    }
}

/// A stream as `GET /v1/streams` describes it.
struct StreamInfo: Encodable, Sendable {
    struct RuleInfo: Encodable, Sendable {
        let labels: [String]
        let classes: [Int]
        let threshold: Double
        let window: String
    }

    struct Latest: Encodable, Sendable {
        let frame: Int
        let time: String
        let width: Int
        let height: Int
        let top: [Prediction]
    }

    struct Event: Encodable, Sendable {
        let time: String
        let source: String
        let label: String
        let index: Int
        let wnid: String?
        let probability: Double
        let frame: Int
        let rule: Int
        let weights: String
        let trained: Bool
    }

    let id: String
    let source: String
    let fps: Double
    let rules: [RuleInfo]
    let webhook: String?
    /// starting, running, restarting, ended, failed, stopped.
    let status: String
    let message: String?
    /// ffmpeg's last error (kept after the stream runs again).
    let lastError: String?
    let retryAt: String?
    let backoffSeconds: Double?
    let restarts: Int
    /// The ffmpeg process reading the source now, for operators.
    let ffmpegPID: Int32?
    let frames: Int
    let alerts: Int
    let latest: Latest?
    /// The latest alerts, oldest first (at most 50).
    let events: [Event]
    let frameURL: String
    let created: String
    let weights: WeightsBody
    let warning: String?

    enum CodingKeys: String, CodingKey {
        case id, source, fps, rules, webhook, status, message, restarts, frames, alerts, latest, events, created, weights, warning
        case lastError = "last_error", retryAt = "retry_at", backoffSeconds = "backoff_seconds", frameURL = "frame_url", ffmpegPID = "ffmpeg_pid"
    }

    init(_ entry: StreamSupervisor.Entry, weights: WeightsIdentity) {
        id = entry.id
        source = entry.configuration.source.redacted
        fps = entry.configuration.fps
        rules = entry.configuration.rules.map {
            RuleInfo(labels: $0.names, classes: $0.classes.sorted(), threshold: $0.threshold, window: "\($0.k)/\($0.n)")
        }
        webhook = entry.request.webhook.map(Redaction.url)
        status = entry.status.state.rawValue
        message = entry.status.message
        lastError = entry.lastError
        retryAt = entry.status.retryAt.map(Alert.timestamp)
        backoffSeconds = entry.status.backoffSeconds
        restarts = entry.restarts
        ffmpegPID = entry.status.state == .starting || entry.status.state == .running ? entry.processID : nil
        frames = entry.frames
        alerts = entry.alertCount
        latest = entry.latest.map {
            Latest(frame: $0.number, time: Alert.timestamp($0.time), width: $0.image.width, height: $0.image.height, top: $0.top)
        }
        events = entry.events.map {
            Event(time: Alert.timestamp($0.time), source: $0.source, label: $0.label, index: $0.index, wnid: $0.wnid,
                  probability: $0.probability, frame: $0.frame, rule: $0.rule, weights: $0.weights, trained: $0.trained)
        }
        frameURL = "/v1/streams/\(entry.id)/frame"
        created = Alert.timestamp(entry.created)
        self.weights = WeightsBody(weights)
        warning = weights.trained ? nil : UntrainedWarning.text
    }
}
