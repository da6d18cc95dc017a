/// How `resnet18 serve` listens, batches and limits: one struct fed by flags, printed once at start-up.
public struct ServerConfiguration: Sendable, Equatable {
    /// Address to bind (`127.0.0.1` keeps the service on this machine; `0.0.0.0` opens it to the network).
    public var host = "127.0.0.1"
    /// Port to bind; 0 picks a free one (the bound port is printed).
    public var port = 8080
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
    /// Top classes answered by `/v1/classify` when `top_k` is not given.
    public var defaultTopK = 5
    /// Seconds a client told 503 is asked to wait (`Retry-After`).
    public var retryAfterSeconds = 1
    /// Seconds a request may take to arrive, head and body (a slower client is cut off); also how long an idle
    /// kept-alive connection stays open.
    public var requestTimeoutSeconds = 30.0

    public init() {}

    /// Checks the values together; the message names the flag to fix.
    public func validate() throws(ServerConfigurationError) {
        guard (0...65535).contains(port) else { throw .invalid("--port must be between 0 and 65535, not \(port)") }
        guard maxBatch >= 1 else { throw .invalid("--max-batch must be at least 1") }
        guard maxBatchDelayMilliseconds >= 0 else { throw .invalid("--max-batch-delay-ms cannot be negative") }
        guard queueDepth >= 1 else { throw .invalid("--queue-depth must be at least 1") }
        guard cacheEntries >= 0 else { throw .invalid("--cache-entries cannot be negative (0 turns the cache off)") }
        guard maxUploadBytes >= 1 else { throw .invalid("--max-upload-mb must be more than 0") }
        guard requestTimeoutSeconds > 0 else { throw .invalid("--request-timeout must be more than 0 seconds") }
    }

    /// The lines printed at start-up.
    public var summary: [String] {
        [
            "listen: \(host):\(port == 0 ? "any free port" : String(port))",
            "batching: up to \(maxBatch) images per engine call, waiting at most \(maxBatchDelayMilliseconds) ms for more; queue depth \(queueDepth)",
            "result cache: \(cacheEntries == 0 ? "off" : "\(cacheEntries) entries")",
            "max upload: \(Self.describe(bytes: maxUploadBytes)); request timeout \(requestTimeoutSeconds) s",
        ]
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
