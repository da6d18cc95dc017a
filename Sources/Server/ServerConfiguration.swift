import Foundation
import Monitoring
import Recognition
import Storage

/// How `resnet18 serve` listens, batches and limits: one struct fed by flags, printed once at start-up.
public struct ServerConfiguration: Sendable, Equatable {
    /// Address to bind (`127.0.0.1` keeps the service on this machine; `0.0.0.0` opens it to the network).
    public var host = "127.0.0.1"
    /// Port to bind; 0 picks a free one (the bound port is printed).
    public var port = 8080
    /// This replica's name among replicas sharing one database (`--replica-name`): the `holder` of the cameras it
    /// watches. nil: the host name and `port` (as given: 0 stays 0, so a restart keeps its name).
    public var replicaName: String?
    /// The name in use: `replicaName`, or HOST:PORT.
    public var effectiveReplicaName: String { replicaName ?? "\(ProcessInfo.processInfo.hostName):\(port)" }
    /// Port of the Open Inference Protocol's gRPC service (`--grpc-port`): nil turns it off, 0 picks a free one.
    public var grpcPort: Int?
    /// How alert receivers reach this service (`--public-url`, e.g. https://resnet18.example.org behind a proxy): the
    /// base of the `snapshot_url` of alerts. nil: http://HOST:PORT as listening (the machine's name for 0.0.0.0).
    public var publicURL: String?
    /// Heads (`--head`, `heads:` in the config file) whose categories answers carry and rules may name.
    public var heads: [LinearHead] = []
    /// Images per engine call, at most.
    public var maxBatch = 8
    /// How long the first image of a batch waits for images still being decoded to join it, in milliseconds.
    public var maxBatchDelayMilliseconds = 2.0
    /// Images that may wait for the engine before requests are refused with 503.
    public var queueDepth = 64
    /// Results kept by the SHA-256 of the upload; 0 turns the cache off.
    public var cacheEntries = 1024
    /// Largest request body accepted, in bytes.
    public var maxUploadBytes = 20 * 1024 * 1024
    /// Most pixels one request may bring, summed over its images from their headers (decoding cost follows pixels,
    /// not bytes); at least one image of `--max-pixels` is always allowed.
    public var maxRequestPixels = 160_000_000
    /// Top classes answered by `/v1/classify` when `top_k` is not given.
    public var defaultTopK = 5
    /// Seconds a client told 503 is asked to wait (`Retry-After`).
    public var retryAfterSeconds = 1
    /// `--no-auth`: serve without login even on a non-loopback address (on purpose, e.g. behind an authenticating proxy).
    public var noAuth = false
    /// How long a login lasts, in seconds (the session cookie's Max-Age and the stored session's expiry).
    public var sessionLifetimeSeconds = 12 * 3600
    /// `--secure-cookies`: always mark cookies `Secure` (otherwise only when `X-Forwarded-Proto: https` says so).
    public var secureCookies = false
    /// bcrypt cost of the decoy hash checked for unknown user names (match the cost users were added with).
    public var bcryptCost: UInt8 = PasswordHasher.defaultCost
    /// How failed logins are slowed down.
    public var loginThrottle = LoginThrottlePolicy()
    /// Streams (`POST /v1/streams`) running at once, at most: each is an ffmpeg process and frames for the engine.
    public var maxStreams = 4
    /// Longest wait between restarts of a stream whose source dropped, in seconds.
    public var streamMaxBackoffSeconds = 30
    /// The MQTT broker every stream's alerts and state go to (`--mqtt`, `--mqtt-prefix`, `--mqtt-discovery`); nil: none.
    public var mqtt: MQTTSettings?
    /// Where the recognition history is kept (`--db`); `.none` turns it off. `resnet18 serve` defaults to
    /// `DatabaseLocation.defaultSQLite()`; this struct defaults to off, so embedding a server writes nothing unasked.
    public var database: DatabaseLocation = .none
    /// History rows older than this many days are deleted (`--history-max-age-days`); nil keeps them.
    public var historyMaxAgeDays: Double?
    /// Only the newest this many history rows are kept (`--history-max-rows`); nil keeps them all.
    public var historyMaxRows: Int?
    /// How long an answer waits for its history row to be committed (`--history-wait`, seconds); past it the
    /// answer goes out without `history_id` and the row is written when the database allows.
    public var historyWaitSeconds = 2.0
    /// Whether history rows keep a small JPEG of the image (`--thumbnails on|off`; off for privacy).
    public var thumbnails = true
    /// Seconds a request may take to arrive, head and body (a slower client is cut off); also how long an idle
    /// kept-alive connection stays open.
    public var requestTimeoutSeconds = 30.0
    /// The cameras of `--config FILE`, run from the start and not changeable through the API.
    public var cameras: [ConfiguredCamera] = []
    /// That file, for the messages that send people to it.
    public var configFile: String?

    public init() {}

    /// The retention policy of `historyMaxAgeDays` and `historyMaxRows`.
    public var historyRetention: HistoryRetention {
        HistoryRetention(maxAgeDays: historyMaxAgeDays, maxRows: historyMaxRows)
    }

    /// The largest `--max-batch`: far more images than one engine call holds in memory.
    public static let largestBatch = 1024

    /// Checks the values together; the message names the flag to fix.
    /// Why `url` cannot be a public URL (nil: it can).
    public static func publicURLProblem(_ url: String) -> String? {
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
              !(components.host ?? "").isEmpty, components.user == nil, components.password == nil,
              components.query == nil, components.fragment == nil else {
            return "must be an http:// or https:// URL with a host and no credentials or query (the address alert receivers use, e.g. https://resnet18.example.org), not \(Redaction.url(url))"
        }
        return nil
    }

    /// The base of snapshot URLs: `publicURL` without a trailing slash, else this address as listening on `boundPort`.
    public func snapshotBase(boundPort: Int) -> String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        let name = ["0.0.0.0", "::", ""].contains(host) ? ProcessInfo.processInfo.hostName : host
        return "http://\(name.contains(":") ? "[\(name)]" : name):\(boundPort)"
    }

    public func validate() throws(ServerConfigurationError) {
        guard (0...65535).contains(port) else { throw .invalid("--port must be between 0 and 65535, not \(port)") }
        if let publicURL, let problem = Self.publicURLProblem(publicURL) { throw .invalid("--public-url \(problem)") }
        guard maxBatch >= 1 else { throw .invalid("--max-batch must be at least 1") }
        // Upper bounds too: past them the engine's plans and the durations made of these numbers overflow (a trap).
        guard maxBatch <= Self.largestBatch else { throw .invalid("--max-batch must be at most \(Self.largestBatch), not \(maxBatch)") }
        guard maxBatchDelayMilliseconds >= 0 else { throw .invalid("--max-batch-delay-ms cannot be negative") }
        guard maxBatchDelayMilliseconds <= 60_000 else { throw .invalid("--max-batch-delay-ms must be at most 60000 (a minute), not \(maxBatchDelayMilliseconds)") }
        guard queueDepth >= 1 else { throw .invalid("--queue-depth must be at least 1") }
        guard cacheEntries >= 0 else { throw .invalid("--cache-entries cannot be negative (0 turns the cache off)") }
        guard maxUploadBytes >= 1 else { throw .invalid("--max-upload-mb must be more than 0") }
        guard sessionLifetimeSeconds >= 60 else { throw .invalid("--session-hours must be at least one minute") }
        guard sessionLifetimeSeconds <= 366 * 86_400 else { throw .invalid("--session-hours must be at most 8784 (a year)") }
        guard (4...31).contains(bcryptCost) else { throw .invalid("--bcrypt-cost must be between 4 and 31") }
        guard (0...64).contains(maxStreams) else { throw .invalid("--max-streams must be from 0 (no streams) to 64") }
        guard streamMaxBackoffSeconds >= 1 else { throw .invalid("--stream-max-backoff must be at least 1 second") }
        guard streamMaxBackoffSeconds <= 86_400 else { throw .invalid("--stream-max-backoff must be at most 86400 seconds (a day)") }
        if let days = historyMaxAgeDays, !(days > 0) {
            throw .invalid("--history-max-age-days must be more than 0 (leave it out to keep history forever)")
        }
        if let days = historyMaxAgeDays, days > 36_500 {
            throw .invalid("--history-max-age-days must be at most 36500 (leave it out to keep history forever)")
        }
        if let rows = historyMaxRows, rows < 1 {
            throw .invalid("--history-max-rows must be at least 1 (leave it out to keep every row)")
        }
        guard historyWaitSeconds >= 0 && historyWaitSeconds <= 600 else {
            throw .invalid("--history-wait must be from 0 to 600 seconds, not \(historyWaitSeconds)")
        }
        guard maxRequestPixels > 0 else { throw .invalid("--max-request-pixels must be at least 1") }
        guard requestTimeoutSeconds > 0 else { throw .invalid("--request-timeout must be more than 0 seconds") }
        guard requestTimeoutSeconds <= 86_400 else { throw .invalid("--request-timeout must be at most 86400 seconds (a day)") }
    }

    /// The lines printed at start-up.
    public var summary: [String] {
        [
            "listen: \(host):\(port == 0 ? "any free port" : String(port))",
            "batching: up to \(Self.counted(maxBatch, "image")) per engine call, waiting at most \(maxBatchDelayMilliseconds) ms for more; queue depth \(queueDepth)",
            "result cache: \(cacheEntries == 0 ? "off" : Self.counted(cacheEntries, "entry", plural: "entries"))",
            "max upload: \(Self.describe(bytes: maxUploadBytes)), \(maxRequestPixels) pixels per request; request timeout \(requestTimeoutSeconds) s",
            "sessions: \(Self.describe(seconds: sessionLifetimeSeconds)), cookies HttpOnly SameSite=Lax, Secure \(secureCookies ? "always" : "when X-Forwarded-Proto is https")",
            "failed logins: \(loginThrottle.freeFailures) free per user and per address, then locked out \(Int(loginThrottle.firstLockoutSeconds)) s doubling to \(Int(loginThrottle.maximumLockoutSeconds)) s",
            "streams: at most \(maxStreams) at once, restarts backing off up to \(streamMaxBackoffSeconds) s"
                + (configFile.map { "; \(Self.counted(cameras.count, "camera")) from \($0)" } ?? "")
                + (database == .none ? "" : "; replica \(effectiveReplicaName): each camera leased to one replica of the database"),
            "mqtt: \(mqtt.map(\.description) ?? "off")",
            database == .none
                ? "history: off (--db none)"
                : "history: \(database)\(database.isSQLite ? " (WAL)" : ""), thumbnails \(thumbnails ? "on" : "off"), \(historyRetention.summary)",
        ]
    }

    /// "1 image", "2 images".
    static func counted(_ count: Int, _ singular: String, plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
    }

    static func describe(seconds: Int) -> String {
        seconds % 3600 == 0 ? "\(seconds / 3600) h" : seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds) s"
    }

    static func describe(bytes: Int) -> String {
        if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 { return "\(bytes / (1024 * 1024)) MB" }
        if bytes >= 1024 * 1024 { return "\((Double(bytes) / 1_048_576 * 10).rounded() / 10) MB" }
        if bytes >= 1024 && bytes % 1024 == 0 { return "\(bytes / 1024) kB" }
        return "\(bytes) bytes"
    }
}

/// A configuration value that cannot work.
public enum ServerConfigurationError: Error, CustomStringConvertible, Sendable {
    case invalid(String)

    public var description: String {
        switch self {
        case let .invalid(message): message
        }
    }
}
