import Metrics
import Prometheus
import Recognition
import Storage
import Synchronization

/// The service's metrics: swift-metrics instruments backed by this server's own Prometheus registry
/// (not the process-wide `MetricsSystem`, so several servers in one process, as in tests, keep apart).
final class ServiceMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// Uploads answered from the result cache.
    let cacheHits: Metrics.Counter
    /// Uploads that had to be decoded and run.
    let cacheMisses: Metrics.Counter
    private let batchSizes: Metrics.Recorder
    private let inference: Metrics.Timer
    private let queueDepth: Metrics.Gauge
    private let batches: Metrics.Counter
    /// `resnet18_engine_calls_total`'s counter for each lane and thread count, made on first use and kept: making
    /// one through the factory looks it up in the registry by name and labels, on the engine's thread, while the
    /// batch's answers wait to go out.
    private let engineCalls = Mutex<[EngineCallsKey: Metrics.Counter]>([:])
    private struct EngineCallsKey: Hashable {
        let lane: Int
        let threads: Int
    }
    /// History rows committed to the database.
    let historyRowsCommitted: Metrics.Counter
    /// Failed history writes (the rows stay queued and are retried).
    let historyWriteFailures: Metrics.Counter
    /// History rows given up because too many were queued while the database failed.
    let historyRowsDropped: Metrics.Counter
    /// History rows deleted by retention.
    let historyRowsTrimmed: Metrics.Counter
    /// History rows waiting to be written.
    let historyQueuedRows: Metrics.Gauge

    init(maxBatch: Int) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["resnet18_batch_size"] = Self.batchBuckets(maxBatch: maxBatch)
        factory.durationHistogramBuckets["resnet18_http_request_duration_seconds"] = Self.latencyBuckets
        factory.durationHistogramBuckets["resnet18_inference_duration_seconds"] = Self.latencyBuckets
        self.factory = factory
        cacheHits = Metrics.Counter(label: "resnet18_cache_hits_total", factory: factory)
        cacheMisses = Metrics.Counter(label: "resnet18_cache_misses_total", factory: factory)
        batchSizes = Metrics.Recorder(label: "resnet18_batch_size", factory: factory)
        inference = Metrics.Timer(label: "resnet18_inference_duration_seconds", factory: factory)
        queueDepth = Metrics.Gauge(label: "resnet18_queue_depth", factory: factory)
        batches = Metrics.Counter(label: "resnet18_batches_total", factory: factory)
        historyRowsCommitted = Metrics.Counter(label: "resnet18_history_rows_committed_total", factory: factory)
        historyWriteFailures = Metrics.Counter(label: "resnet18_history_write_failures_total", factory: factory)
        historyRowsDropped = Metrics.Counter(label: "resnet18_history_rows_dropped_total", factory: factory)
        historyRowsTrimmed = Metrics.Counter(label: "resnet18_history_rows_trimmed_total", factory: factory)
        historyQueuedRows = Metrics.Gauge(label: "resnet18_history_queued_rows", factory: factory)
        queueDepth.record(0)
        historyQueuedRows.record(0)
    }

    /// The history writer's reports, as these metrics (and a log line per failure, written by the writer).
    var historyEvents: HistoryWriter.Events {
        HistoryWriter.Events(
            committed: { [historyRowsCommitted, historyQueuedRows] rows, _ in
                historyRowsCommitted.increment(by: Int64(rows))
                historyQueuedRows.record(0)
            },
            failed: { [historyWriteFailures, historyQueuedRows] _, queued in
                historyWriteFailures.increment()
                historyQueuedRows.record(queued)
            },
            dropped: { [historyRowsDropped] rows in historyRowsDropped.increment(by: Int64(rows)) },
            trimmed: { [historyRowsTrimmed] rows in historyRowsTrimmed.increment(by: Int64(rows)) })
    }

    /// Counts one answered request and its latency, by route pattern (not the raw path) and status.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        Metrics.Counter(label: "resnet18_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory)
            .increment()
        Metrics.Timer(label: "resnet18_http_request_duration_seconds",
                      dimensions: [("route", route), ("method", method)], factory: factory)
            .record(duration: duration)
    }

    /// Counts an image whose most probable category of a head (`--head`) is `category`.
    func recordCustom(head: String, category: String) {
        Metrics.Counter(label: "resnet18_custom_top_total", dimensions: [("head", head), ("category", category)], factory: factory)
            .increment()
    }

    /// Records one engine call.
    func recordBatch(_ report: Batcher.BatchReport) {
        batches.increment()
        let key = EngineCallsKey(lane: report.lane, threads: report.threads)
        let calls = engineCalls.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: "resnet18_engine_calls_total",
                                          dimensions: [("lane", String(report.lane)), ("threads", String(report.threads))],
                                          factory: factory)
            counters[key] = counter
            return counter
        }
        calls.increment()
        batchSizes.record(report.size)
        inference.recordNanoseconds(Int64(report.inferenceMilliseconds * 1_000_000))
        queueDepth.record(report.waiting)
    }

    /// Sets the queue depth gauge to what the batcher holds now.
    func recordQueueDepth(_ waiting: Int) {
        queueDepth.record(waiting)
    }

    /// The Prometheus text exposition of everything above.
    /// The registry's families, each with a `# HELP` line before its `# TYPE` (swift-metrics instruments carry no
    /// help text of their own).
    func exposition() -> String {
        var lines: [Substring] = []
        for line in registry.emitToString().split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.split(separator: " ").dropFirst(2).first, let help = Self.help[String(name)] {
                lines.append("# HELP \(name) \(help)")
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static let help: [String: String] = [
        "resnet18_custom_top_total": "Images answered whose most probable category of a head (--head) was this one, by head and category.",
        "resnet18_http_requests_total": "HTTP requests answered, by route, method and status.",
        "resnet18_http_request_duration_seconds": "Time from a request's head to its answer, by route.",
        "resnet18_queue_depth": "Images waiting for the engine when scraped.",
        "resnet18_batches_total": "Engine calls made.",
        "resnet18_engine_calls_total": "Engine calls made, by lane (--engine-calls) and the threads each ran on (all lanes' for a wide call).",
        "resnet18_batch_size": "Images per engine call.",
        "resnet18_inference_duration_seconds": "Time of one engine call (the whole batch).",
        "resnet18_cache_hits_total": "Uploads answered from the result cache.",
        "resnet18_cache_misses_total": "Uploads decoded and run through the engine.",
        "resnet18_history_rows_committed_total": "History rows written to the database.",
        "resnet18_history_write_failures_total": "History writes that failed (their rows stay queued and are retried).",
        "resnet18_history_rows_dropped_total": "History rows given up because too many were queued while the database failed.",
        "resnet18_history_rows_trimmed_total": "History rows deleted by retention.",
        "resnet18_history_queued_rows": "History rows waiting to be written.",
    ]

    private static func batchBuckets(maxBatch: Int) -> [Double] {
        var buckets: [Double] = []
        var size = 1
        while size < maxBatch {
            buckets.append(Double(size))
            size *= 2
        }
        buckets.append(Double(maxBatch))
        return buckets
    }

    private static let latencyBuckets: [Duration] = [1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 250, 500, 1000, 2500, 5000]
        .map { .milliseconds($0) }
}
