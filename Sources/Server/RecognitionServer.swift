import Hummingbird
import Logging
import Monitoring
import NIOCore
import Recognition
import ResNet
import ServiceLifecycle
import Storage

/// The HTTP service: the seeds' `/predict`, `/v1/classify`, KServe v2, `/metrics`, `/openapi.yaml` and the page,
/// over one batcher and one result cache.
public struct RecognitionServer: Sendable {
    public let recognizer: Recognizer
    public let configuration: ServerConfiguration
    public let logger: Logger
    /// The recognition history (opened by the caller, as `configuration.database` says); nil when it is off.
    public let history: HistoryStore?
    /// Users, sessions and tokens (in the same database); nil without one (then only an open loopback service can start).
    public let credentialStore: (any CredentialStore)?

    public init(recognizer: Recognizer, configuration: ServerConfiguration, logger: Logger = Logger(label: "resnet18.serve"),
                history: HistoryStore? = nil, credentialStore: (any CredentialStore)? = nil) {
        self.recognizer = recognizer
        self.configuration = configuration
        self.credentialStore = credentialStore
        self.logger = logger
        self.history = history
    }

    /// Whether the service may start as configured, and the start-up line saying how it is protected. Throws
    /// `AuthenticationError.noUsers` for a non-loopback address with no user and no `--no-auth`.
    public static func checkAuthentication(_ configuration: ServerConfiguration, credentialStore: (any CredentialStore)?) async throws -> String {
        let gate = AuthenticationGate(store: credentialStore, host: configuration.host, noAuth: configuration.noAuth,
                                      database: configuration.database)
        return await gate.summary(of: try await gate.start())
    }

    /// The Hummingbird application, a `Service`: run it in a `ServiceGroup`, or with `runService()`.
    /// Once it listens, `onListening` gets the bound port (the one chosen when `port` is 0); `onGRPCListening` the
    /// gRPC port, when `grpcPort` is set.
    public func makeApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in },
                                onGRPCListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let parts = assemble(onGRPCListening: onGRPCListening)
        let gate = parts.gate
        let router = Router()
        router.add(middleware: AccessMiddleware(metrics: parts.metrics, retryAfterSeconds: configuration.retryAfterSeconds))
        router.add(middleware: MethodNotAllowedMiddleware(routes: parts.routes.methodsByPath))
        router.add(middleware: AuthenticationMiddleware(gate: gate, credentials: parts.credentials))
        parts.routes.register(on: router)
        let logger = self.logger
        let streams = parts.streams
        let workshop = parts.workshop

        let requestTimeout = TimeAmount.nanoseconds(Int64(configuration.requestTimeoutSeconds * 1_000_000_000))
        var application = Application(
            responder: ClientAddressResponder(inner: router.buildResponder()),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(timeout: requestTimeout)], idleTimeout: requestTimeout)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "resnet18"),
            services: parts.services,
            onServerRunning: { [configuration] channel in
                let port = channel.localAddress?.port ?? configuration.port
                await streams.setBaseURL(configuration.snapshotBase(boundPort: port))
                await onListening(port)
            },
            logger: logger)
        let recognizer = self.recognizer
        let maxBatch = configuration.maxBatch
        application.beforeServerStarts {
            // Refuses to start on a non-loopback address without users (unless --no-auth) before anything else.
            try await gate.start()
            // The heads switched on from the page answer from the first request.
            await workshop?.restore()
            // Plans up front (the first requests should not pay for building them), then the engine drops the
            // source weights only plan building reads. Plans for batch 1, 2, 4, ... and --max-batch: other sizes
            // run as a few calls of those (3 as 2 + 1). Under load batches are full; a plan for every size
            // cost the int8 server 10 MB more (109 MB against 119 MB under 16 clients) for no throughput.
            try recognizer.engine.finishPreparing(batches: ResNet18Engine.plannedBatches(upTo: maxBatch))
            MemoryTrim.releaseFreePages()
        }
        return application
    }

    /// What the HTTP server serves and what runs beside it.
    struct Assembly {
        /// Every route, not yet on a router.
        let routes: RouteTable
        /// The batcher's loop and the history writer.
        let services: [any Service]
        let metrics: ServiceMetrics
        let gate: AuthenticationGate
        let credentials: CredentialService?
        let streams: StreamSupervisor
        let workshop: HeadWorkshop?
    }

    /// The batcher, cache, history writer and stream supervisor, and the routes over them.
    func assemble(onGRPCListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> Assembly {
        let metrics = ServiceMetrics(maxBatch: configuration.maxBatch)
        let batcher = Batcher(recognizer: recognizer, maxBatch: configuration.maxBatch,
                              maxDelay: .microseconds(Int64(configuration.maxBatchDelayMilliseconds * 1000)),
                              queueDepth: configuration.queueDepth,
                              onBatch: { metrics.recordBatch($0) })
        var pipeline = ClassifyPipeline(recognizer: recognizer, batcher: batcher,
                                        cache: ResultCache(capacity: configuration.cacheEntries),
                                        metrics: metrics, retryAfterSeconds: configuration.retryAfterSeconds,
                                        decodeBudget: DecodeBudget(capacityPixels: recognizer.decodeOptions.maxPixels),
                                        maxRequestPixels: max(configuration.maxRequestPixels, recognizer.decodeOptions.maxPixels))
        let heads = HeadRegistry(files: configuration.heads)
        pipeline.heads = heads
        var services: [any Service] = [BatcherService(batcher: batcher)]
        var writer: HistoryWriter?
        if let history {
            let historyWriter = HistoryWriter(store: history, retention: configuration.historyRetention,
                                              commitWait: .milliseconds(Int64((configuration.historyWaitSeconds * 1000).rounded())),
                                              recentThumbnails: max(configuration.cacheEntries, 64),
                                              events: metrics.historyEvents, logger: logger)
            pipeline.history = HistoryRecorder(writer: historyWriter, labels: recognizer.labels,
                                               thumbnails: configuration.thumbnails, recognizer: recognizer)
            services.append(HistoryWriterService(writer: historyWriter))
            writer = historyWriter
        }
        let uploads = UploadReader(limitBytes: configuration.maxUploadBytes)
        let logger = self.logger
        let streams = StreamSupervisor(recognizer: recognizer, batcher: batcher, maxStreams: configuration.maxStreams,
                                       maxBackoff: .seconds(configuration.streamMaxBackoffSeconds),
                                       recorder: writer.map { writer in
                                           AlertHistoryRecorder(thumbnails: configuration.thumbnails) { _ = await writer.submit($0) }
                                       }, store: history.map { StreamStore(database: $0.database) },
                                       configured: configuration.cameras.map(\.request), configFile: configuration.configFile,
                                       mqtt: configuration.mqtt.map { MQTTBridge(settings: $0, log: { logger.info("\($0)") }) },
                                       history: history, heads: configuration.heads,
                                       leases: history.map { StreamLeaseStore(database: $0.database) },
                                       replicaName: configuration.effectiveReplicaName,
                                       log: { logger.info("\($0)") })
        let workshop = history.map {
            HeadWorkshop(store: HeadStore(database: $0.database), registry: heads, streams: streams, weights: recognizer.weights,
                         log: { logger.info("\($0)") })
        }
        services.append(StreamSupervisorService(supervisor: streams, beforeRestore: { await workshop?.restore() }))

        let gate = AuthenticationGate(store: credentialStore, host: configuration.host, noAuth: configuration.noAuth,
                                      database: configuration.database)
        let credentials = credentialStore.map {
            CredentialService(store: $0, hasher: PasswordHasher(validatedCost: configuration.bcryptCost),
                              sessionLifetimeSeconds: configuration.sessionLifetimeSeconds)
        }

        let routes = RouteTable()
        PageRoutes().register(on: routes)
        LoginRoutes(gate: gate, credentials: credentials, throttle: LoginThrottle(policy: configuration.loginThrottle,
                                               shared: (credentialStore as? DatabaseCredentialStore).map { LoginFailureStore(database: $0.database) }),
                    sessionLifetimeSeconds: configuration.sessionLifetimeSeconds, secureCookies: configuration.secureCookies)
            .register(on: routes)
        TokenRoutes(credentials: credentials).register(on: routes)
        SeedRoutes(pipeline: pipeline, uploads: uploads).register(on: routes)
        ClassifyRoutes(pipeline: pipeline, uploads: uploads, defaultTopK: configuration.defaultTopK).register(on: routes)
        let kserve = KServeRoutes(pipeline: pipeline, uploads: uploads)
        kserve.register(on: routes)
        if let grpcPort = configuration.grpcPort {
            services.append(GRPCServerService(host: configuration.host, port: grpcPort, maxRequestBytes: configuration.maxUploadBytes,
                                              services: [InferenceGRPCService(kserve: kserve)],
                                              interceptors: [GRPCServerTiming(), GRPCAuthentication(gate: gate, credentials: credentials),
                                                             GRPCEngineWake(batcher: batcher)],
                                              onListening: onGRPCListening))
        }
        OperationRoutes(recognizer: recognizer, configuration: configuration, metrics: metrics, batcher: batcher,
                        streams: streams, heads: heads, historyEnabled: history != nil).register(on: routes)
        HistoryRoutes(store: history, writer: writer, similarity: history.map { SimilarityIndex(store: $0) }).register(on: routes)
        StreamRoutes(supervisor: streams, uploads: uploads).register(on: routes)
        HeadRoutes(workshop: workshop, pipeline: pipeline, uploads: uploads, history: history, registry: heads).register(on: routes)
        return Assembly(routes: routes, services: services, metrics: metrics, gate: gate, credentials: credentials, streams: streams,
                        workshop: workshop)
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting connections and lets in-flight requests finish.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in },
                    onGRPCListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onListening: onListening, onGRPCListening: onGRPCListening).runService()
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
                batcher.shutdown()
            }
        } onCancel: {
            batcher.shutdown()
        }
    }
}

/// Runs the history writer beside the HTTP server; on shutdown it writes the queued rows first.
/// (Services stop in reverse order: the HTTP server, listed after it, has finished its requests by then.)
struct HistoryWriterService: Service {
    let writer: HistoryWriter

    func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await writer.run()
            } onGracefulShutdown: {
                Task { await writer.stop() }
            }
        } onCancel: {
            Task { await writer.stop() }
        }
    }
}
