import Foundation
import Monitoring
import Recognition
import ResNet

/// The body of `POST /v1/streams`, and what the database keeps of a stream (credentials and secret included;
/// never sent back).
struct StreamRequest: Codable, Sendable, Equatable {
    struct Rule: Codable, Sendable, Equatable {
        /// Class names, indices (as strings) or WordNet ids.
        let labels: [String]
        let threshold: Double?
        /// "K/N".
        let window: String?
        /// Seconds after an alert during which the rule does not alert again (60).
        let cooldown: Double?
        /// Seconds the condition must have stopped holding before the rule may alert again (10).
        let settle: Double?
    }

    /// Unique, `[a-z0-9_-]{1,64}`: the stream's address (`/v1/streams/NAME`) and its history source (`stream:NAME`).
    let name: String
    let source: String
    var fps: Double?
    var rules: [Rule]?
    let webhook: String?
    /// Signs each webhook POST (`X-ResNet18-Signature`); never shown.
    let webhookSecret: String?
    /// false: stored, not running (true when absent).
    var enabled: Bool?

    enum CodingKeys: String, CodingKey {
        case name, source, fps, rules, webhook, enabled
        case webhookSecret = "webhook_secret"
    }

    static let maxRules = 16
    static let maxLabelsPerRule = 100

    var isEnabled: Bool { enabled ?? true }

    /// Checks a stream's name: what it may be, in words.
    static func validate(name: String) throws(APIError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-".utf8)
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(allowed.contains) else {
            throw .badRequest("the stream's name must be 1 to 64 of a-z, 0-9, _ and - (e.g. \"front-door\"), got \"\(String(name.prefix(70)))\"")
        }
    }

    /// Checks everything a client can get wrong before any ffmpeg is started.
    func configuration(labels: Labels, heads: [LinearHead] = [], maxPixels: Int, maxBackoff: Duration) throws(APIError) -> StreamConfiguration {
        try Self.validate(name: name)
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
                return try AlertRule(labels: rule.labels, in: labels, heads: heads, threshold: rule.threshold ?? 0.5, window: rule.window ?? "1/1",
                                     cooldownSeconds: rule.cooldown ?? AlertRule.defaultCooldownSeconds,
                                     settleSeconds: rule.settle ?? AlertRule.defaultSettleSeconds)
            }
            configuration.heads = heads
            if let webhook { try WebhookSender.validate(webhook) }
            if let webhookSecret {
                guard webhook != nil else { throw MonitoringError.badRule("webhook_secret signs webhook posts: give a webhook too") }
                try WebhookSender.validate(secret: webhookSecret)
            }
            return configuration
        } catch {
            throw .badRequest("\(error)")
        }
    }
}

/// The body of `PATCH /v1/streams/{name}`: what may change in place. The source, webhook and secret do not: a
/// stream with another of those is another stream (delete it and add it again).
struct StreamChange: Sendable {
    let fps: Double?
    let rules: [StreamRequest.Rule]?
    let enabled: Bool?

    static let fields: Set<String> = ["fps", "rules", "enabled"]

    /// Reads the JSON body, refusing fields it cannot change rather than ignoring them.
    init(json: [UInt8]) throws(APIError) {
        let object: [String: Any]
        do {
            guard let decoded = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
                throw APIError.badRequest("the body must be a JSON object")
            }
            object = decoded
        } catch {
            throw .badRequest("the body must be JSON like {\"enabled\": false} or {\"fps\": 1, \"rules\": [...]}")
        }
        let unknown = Set(object.keys).subtracting(Self.fields).sorted()
        // null is not "leave it": a client that sends it means something, and is told what the field takes.
        if let null = object.keys.sorted().first(where: { object[$0] is NSNull }) {
            throw .badRequest("\(null) is null: leave it out to keep it, or give \(null == "rules" ? "a list of rules" : null == "fps" ? "a number" : "true or false")")
        }
        guard unknown.isEmpty else {
            throw .badRequest("PATCH changes only fps, rules and enabled, not \(unknown.joined(separator: ", ")): "
                + "to change a stream's source or webhook, delete it and add it again")
        }
        struct Body: Decodable {
            let fps: Double?
            let rules: [StreamRequest.Rule]?
            let enabled: Bool?
        }
        do {
            let body = try JSONDecoder().decode(Body.self, from: Data(json))
            fps = body.fps
            rules = body.rules
            enabled = body.enabled
        } catch {
            throw .badRequest("the body does not fit {\"fps\": number, \"rules\": [...], \"enabled\": true|false}: \(StreamRoutes.describe(error))")
        }
    }

    /// The request with this change applied.
    func applied(to request: StreamRequest) -> StreamRequest {
        var changed = request
        if let fps { changed.fps = fps }
        if let rules { changed.rules = rules }
        if let enabled { changed.enabled = enabled }
        return changed
    }
}

/// A stream as `GET /v1/streams` describes it.
struct StreamInfo: Encodable, Sendable {
    struct RuleInfo: Encodable, Sendable {
        let labels: [String]
        let classes: [Int]
        let threshold: Double
        let window: String
        let cooldown: Double
        let settle: Double
    }

    struct Latest: Encodable, Sendable {
        let frame: Int
        let time: String
        let width: Int
        let height: Int
        let top: [Prediction]
    }

    struct Event: Encodable, Sendable {
        let id: String
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

    /// The stream's name (`id` says the same, for clients of the time before names).
    let name: String
    let id: String
    let source: String
    let fps: Double
    let rules: [RuleInfo]
    let webhook: String?
    /// Whether webhook posts are signed (the secret itself is never shown).
    let webhookSigned: Bool
    /// false: stored but not running (status `disabled`).
    let enabled: Bool
    /// `api` (added with POST, stored in the database) or `config` (from `serve --config`: the API does not change it).
    let origin: String
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
    /// Frames read and dropped unclassified (classification fell behind the camera).
    let droppedFrames: Int
    let alerts: Int
    /// Rising edges within a rule's cooldown: not alerted.
    let suppressedAlerts: Int
    let latest: Latest?
    /// The latest alerts, oldest first (at most 50).
    let events: [Event]
    let frameURL: String
    let created: String
    let weights: WeightsBody
    let warning: String?
    /// The replica watching the stream (`--replica-name`), when replicas share the database.
    var holder: String?

    enum CodingKeys: String, CodingKey {
        case name, id, source, fps, rules, webhook, enabled, origin, status, message, restarts, frames, alerts, latest, events, created, weights, warning, holder
        case webhookSigned = "webhook_signed", suppressedAlerts = "suppressed_alerts", droppedFrames = "dropped_frames"
        case lastError = "last_error", retryAt = "retry_at", backoffSeconds = "backoff_seconds", frameURL = "frame_url", ffmpegPID = "ffmpeg_pid"
    }

    init(_ entry: StreamSupervisor.Entry, weights: WeightsIdentity) {
        name = entry.name
        id = entry.name
        source = entry.configuration?.source.redacted ?? Redaction.url(entry.request.source)
        fps = entry.configuration?.fps ?? entry.request.fps ?? 2
        rules = (entry.configuration?.rules ?? []).map {
            RuleInfo(labels: $0.names, classes: $0.classes.sorted(), threshold: $0.threshold, window: "\($0.k)/\($0.n)",
                     cooldown: $0.cooldownSeconds, settle: $0.settleSeconds)
        }
        webhook = entry.request.webhook.map(Redaction.url)
        webhookSigned = entry.request.webhookSecret != nil
        enabled = entry.request.isEnabled
        origin = entry.fromConfig ? "config" : "api"
        status = entry.status.state.rawValue
        message = entry.status.message
        lastError = entry.lastError
        retryAt = entry.status.retryAt.map(Alert.timestamp)
        backoffSeconds = entry.status.backoffSeconds
        restarts = entry.restarts
        ffmpegPID = entry.status.state == .starting || entry.status.state == .running ? entry.processID : nil
        frames = entry.frames
        droppedFrames = entry.droppedFrames
        alerts = entry.alertCount
        suppressedAlerts = entry.suppressedAlerts
        latest = entry.latest.map {
            Latest(frame: $0.number, time: Alert.timestamp($0.time), width: $0.image.width, height: $0.image.height, top: $0.top)
        }
        events = entry.events.map {
            Event(id: $0.id, time: Alert.timestamp($0.time), source: $0.source, label: $0.label, index: $0.index, wnid: $0.wnid,
                  probability: $0.probability, frame: $0.frame, rule: $0.rule, weights: $0.weights, trained: $0.trained)
        }
        frameURL = "/v1/streams/\(entry.name)/frame"
        created = Alert.timestamp(entry.created)
        self.weights = WeightsBody(weights)
        warning = weights.trained ? nil : UntrainedWarning.text
    }
}

/// A stream as `GET /v1/streams` shows it: watched here, or by another replica (as its holder last described it).
enum StreamView: Encodable, Sendable {
    case local(StreamInfo)
    /// The holder's own JSON of the stream (refreshed with each heartbeat), or a short note before the first one.
    case elsewhere(name: String, holder: String, json: String?)

    var name: String {
        switch self {
        case let .local(info): info.name
        case let .elsewhere(name, _, _): name
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case let .local(info):
            try info.encode(to: encoder)
        case let .elsewhere(name, holder, json):
            if let json, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) {
                try value.encode(to: encoder)
            } else {
                try JSONValue.object(["name": .string(name), "id": .string(name), "holder": .string(holder),
                                      "status": .string("starting"),
                                      "message": .string("watched by replica \(holder), which has not described it yet")]).encode(to: encoder)
            }
        }
    }
}

/// Any JSON value, to pass another replica's answer through as it is.
enum JSONValue: Codable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Double.self) { self = .number(value) }
        else if let value = try? single.decode(String.self) { self = .string(value) }
        else if let value = try? single.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try single.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .null: try single.encodeNil()
        case let .bool(value): try single.encode(value)
        case let .number(value):
            if value.rounded() == value, abs(value) < 1e15 { try single.encode(Int64(value)) } else { try single.encode(value) }
        case let .string(value): try single.encode(value)
        case let .array(value): try single.encode(value)
        case let .object(value): try single.encode(value)
        }
    }
}
