import Hummingbird
import Logging
import NIOCore
import Recognition
import ServiceLifecycle

/// The HTTP service: the seeds' `/predict`, `/v1/classify`, KServe v2, `/metrics`, `/openapi.yaml` and the page,
/// over one batcher and one result cache.
public struct RecognitionServer: Sendable {
    public let recognizer: Recognizer
    public let configuration: ServerConfiguration
    public let logger: Logger

    public init(recognizer: Recognizer, configuration: ServerConfiguration, logger: Logger = Logger(label: "resnet18.serve")) {
        self.recognizer = recognizer
        self.configuration = configuration
        self.logger = logger
    }

    /// The Hummingbird application, a `Service`: run it in a `ServiceGroup`, or with `runService()`.
    /// Once it listens, `onListening` gets the bound port (the one chosen when `port` is 0).
    public func makeApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let metrics = ServiceMetrics(maxBatch: configuration.maxBatch)
        let batcher = Batcher(recognizer: recognizer, maxBatch: configuration.maxBatch,
                              maxDelay: .microseconds(Int64(configuration.maxBatchDelayMilliseconds * 1000)),
                              queueDepth: configuration.queueDepth,
                              onBatch: { metrics.recordBatch($0) })
        let pipeline = ClassifyPipeline(recognizer: recognizer, batcher: batcher,
                                        cache: ResultCache(capacity: configuration.cacheEntries),
                                        metrics: metrics, retryAfterSeconds: configuration.retryAfterSeconds)
        let uploads = UploadReader(limitBytes: configuration.maxUploadBytes)

        let router = Router()
        router.add(middleware: AccessMiddleware(metrics: metrics, retryAfterSeconds: configuration.retryAfterSeconds))
        router.add(middleware: MethodNotAllowedMiddleware(routes: Self.methodsByPath))
        SeedRoutes(pipeline: pipeline, uploads: uploads).register(on: router)
        ClassifyRoutes(pipeline: pipeline, uploads: uploads, defaultTopK: configuration.defaultTopK).register(on: router)
        KServeRoutes(pipeline: pipeline, uploads: uploads).register(on: router)
        OperationRoutes(recognizer: recognizer, configuration: configuration, metrics: metrics, batcher: batcher).register(on: router)

        let requestTimeout = TimeAmount.nanoseconds(Int64(configuration.requestTimeoutSeconds * 1_000_000_000))
        var application = Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(timeout: requestTimeout)], idleTimeout: requestTimeout)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "resnet18"),
            services: [BatcherService(batcher: batcher)],
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
        let recognizer = self.recognizer
        let maxBatch = configuration.maxBatch
        application.beforeServerStarts {
            // Plans for every batch size up front (the first requests should not pay for building them); then the
            // engine drops the source weights only plan building reads.
            try recognizer.engine.finishPreparing(batches: Array(1...maxBatch))
            MemoryTrim.releaseFreePages()
        }
        return application
    }

    /// Every route and its methods, as `/openapi.yaml` documents them.
    static let methodsByPath: [String: [HTTPRequest.Method]] = {
        var routes: [String: [HTTPRequest.Method]] = [
            "/": [.get], "/assets/page.css": [.get], "/assets/page.js": [.get],
            "/predict": [.post], "/v1/classify": [.post], "/v1/model": [.get],
            "/metrics": [.get], "/openapi.yaml": [.get],
            "/v2": [.get], "/v2/health/live": [.get], "/v2/health/ready": [.get],
        ]
        for model in ["/v2/models/{model}", "/v2/models/{model}/versions/{version}"] {
            routes[model] = [.get]
            routes[model + "/ready"] = [.get]
            routes[model + "/infer"] = [.post]
        }
        return routes
    }()

    /// Serves until SIGINT or SIGTERM, then stops accepting connections and lets in-flight requests finish.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onListening: onListening).runService()
    }
}

/// Runs the batcher's loop beside the HTTP server; on shutdown it finishes the queued images first.
struct BatcherService: Service {
    let batcher: Batcher

    func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await batcher.run()
            } onGracefulShutdown: {
                Task { await batcher.shutdown() }
            }
        } onCancel: {
            Task { await batcher.shutdown() }
        }
    }
}
