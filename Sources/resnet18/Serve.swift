import ArgumentParser
import Foundation
import Logging
import Monitoring
import Recognition
import ResNet
import Server
import Storage

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the web page, /predict, /v1/classify, KServe v2 and /metrics over HTTP.",
        discussion: """
            Stops on SIGINT or SIGTERM after answering the requests in flight. Logs one line per request on stderr. \
            --config FILE reads cameras and options from a YAML file (see docs/monitoring.md); flags override its options.
            """)

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "A YAML file of cameras (cameras: NAME: source, fps, rules, webhook) and serve options; `resnet18 config check FILE` checks it.",
        valueName: "file"))
    var configPath: String?

    @Option(help: "Address to listen on (0.0.0.0 opens the service to the network). Default: 127.0.0.1.")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one. Default: 8080.")
    var port: Int?

    @Option(name: .customLong("replica-name"), help: ArgumentHelp(
        "This replica's name among servers sharing one database: each camera is leased to one replica, and GET /v1/streams names it as the stream's holder. Default: HOST:PORT.",
        valueName: "name"))
    var replicaName: String?

    @Option(name: .customLong("grpc-port"), help: ArgumentHelp(
        "Port of the KServe v2 gRPC service (the Open Inference Protocol, as Triton's clients speak it); 0 turns it off. Default: 8081, or a free port when --port is 0.",
        valueName: "port"))
    var grpcPort: Int?

    @Option(name: .customLong("public-url"), help: ArgumentHelp(
        "The address alert receivers reach this service at (behind a proxy, say): the base of each alert's snapshot_url. Default: http://HOST:PORT as listening.",
        valueName: "url"))
    var publicURL: String?

    @Option(help: "Images per engine call, at most.")
    var maxBatch = 8

    @Option(name: .customLong("max-batch-delay-ms"), help: "Milliseconds the first image of a batch waits for images still being decoded to join it.")
    var maxBatchDelayMilliseconds = 2.0

    @Option(help: "Images that may wait for the engine before requests get 503 (default: 64, or four full batches for each engine call when that is more).")
    var queueDepth: Int?

    @Option(help: ArgumentHelp(
        "Engine calls that run at once, each on --threads threads over one copy of the weights (default: one per 8 cores; --threads then defaults to the cores shared out among them).",
        valueName: "count"))
    var engineCalls: Int?

    @Option(help: "Results kept by SHA-256 of the upload (0: no cache).")
    var cacheEntries = 1024

    @Option(name: .customLong("max-upload-mb"), help: "Largest request body, in megabytes.")
    var maxUploadMegabytes = 20.0

    @Option(help: "Most pixels one request may bring, summed over its images (decoding cost grows with pixels, not bytes).")
    var maxRequestPixels = 160_000_000

    @Flag(help: "Serve without login even on a non-loopback address (only behind something else that authenticates).")
    var noAuth = false

    @Option(name: .customLong("session-hours"), help: "How long a login lasts, in hours.")
    var sessionHours = 12.0

    @Flag(help: "Always mark cookies Secure (otherwise only when X-Forwarded-Proto says https).")
    var secureCookies = false

    @Option(help: "bcrypt cost users were added with (the decoy check for unknown names uses it too).")
    var bcryptCost: UInt8 = PasswordHasher.defaultCost

    @Option(help: "Camera streams (POST /v1/streams) watched at once, at most (0: none). Default: 4.")
    var maxStreams: Int?

    @Option(name: .customLong("stream-max-backoff"), help: "Longest wait, in seconds, between restarts of a stream whose source dropped. Default: 30.")
    var streamMaxBackoffSeconds: Int?

    @OptionGroup var mqttOptions: MQTTOptions

    @Option(name: .customLong("db"), help: ArgumentHelp(
        "Recognition history: a SQLite file path, postgres://user:password@host:port/database, or none.",
        discussion: "Default: history.sqlite in $XDG_DATA_HOME/resnet18 (else ~/.local/share/resnet18). Also RESNET18_DB.",
        valueName: "path|url|none"))
    var database: String?

    @Option(name: .customLong("history-max-age-days"), help: "Delete history rows older than this many days (default: keep).")
    var historyMaxAgeDays: Double?

    @Option(name: .customLong("history-max-rows"), help: "Keep only the newest this many history rows (default: keep all).")
    var historyMaxRows: Int?

    @Option(name: .customLong("history-wait"),
            help: "Seconds an answer waits for its history row's commit; past it, it goes out without history_id (the row is written later).")
    var historyWaitSeconds = 2.0

    @Option(help: ArgumentHelp("Keep a small JPEG of each image in the history: on or off (off for privacy). Default: on.", valueName: "on|off"))
    var thumbnails: String?

    @Option(name: .customLong("request-timeout"), help: "Seconds a request may take to arrive (slower clients are cut off); idle connections close after as long.")
    var requestTimeoutSeconds = 30.0

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Default: info.")
    var logLevel: String?

    /// The config file, read once per use (validate, then run).
    var configFile: ConfigFile? {
        get throws {
            guard let configPath else { return nil }
            do { return try ConfigFile.load(path: configPath) } catch { throw ValidationError(error.description) }
        }
    }

    /// The log level: the flag's, else the file's, else info.
    var level: String {
        get throws { try logLevel ?? configFile?.logLevel ?? "info" }
    }

    @OptionGroup var engine: EngineOptionGroup

    @OptionGroup var headOptions: HeadOptions

    /// Engine calls at once: `--engine-calls`, else one per 8 cores.
    var calls: Int {
        min(max(engineCalls ?? EngineOptions.defaultCalls(cores: ProcessInfo.processInfo.activeProcessorCount), 1), EngineOptions.maxCalls)
    }

    var serverConfiguration: ServerConfiguration {
        get throws {
            var configuration = ServerConfiguration()
            let file = try configFile
            configuration.host = host ?? file?.host ?? ProcessInfo.processInfo.environment["RESNET18_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
            configuration.port = port ?? file?.port ?? 8080
            let grpc = grpcPort ?? file?.grpcPort
            if let grpc, !(0...65535).contains(grpc) { throw ValidationError("--grpc-port must be from 0 (off) to 65535, not \(grpc)") }
            configuration.grpcPort = grpc.map { $0 == 0 ? nil : $0 } ?? (configuration.port == 0 ? 0 : 8081)
            configuration.publicURL = publicURL ?? file?.publicURL
            if let replicaName {
                guard (1...100).contains(replicaName.count), !replicaName.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }) else {
                    throw ValidationError("--replica-name takes 1 to 100 characters, no control characters")
                }
            }
            configuration.replicaName = replicaName
            configuration.cameras = file?.cameras ?? []
            configuration.configFile = file?.path
            configuration.maxBatch = maxBatch
            configuration.maxBatchDelayMilliseconds = maxBatchDelayMilliseconds
            // Four batches a call keep every call fed while the next ones decode; max-batch is checked below.
            configuration.queueDepth = queueDepth ?? max(64, 4 * min(max(maxBatch, 1), ServerConfiguration.largestBatch) * calls)
            configuration.cacheEntries = cacheEntries
            // Checked before the conversions, which trap on a number no Int holds (1e300, inf).
            guard maxUploadMegabytes.isFinite, maxUploadMegabytes <= 1_048_576 else {
                throw ValidationError("--max-upload-mb must be a number of megabytes up to 1048576, not \(maxUploadMegabytes)")
            }
            guard sessionHours.isFinite, abs(sessionHours) <= 8784 else {
                throw ValidationError("--session-hours must be at most 8784 (a year), not \(sessionHours)")
            }
            configuration.maxUploadBytes = Int((maxUploadMegabytes * 1024 * 1024).rounded())
            configuration.maxRequestPixels = maxRequestPixels
            configuration.requestTimeoutSeconds = requestTimeoutSeconds
            configuration.noAuth = noAuth
            configuration.sessionLifetimeSeconds = Int((sessionHours * 3600).rounded())
            configuration.secureCookies = secureCookies
            configuration.bcryptCost = bcryptCost
            configuration.maxStreams = maxStreams ?? file?.maxStreams ?? 4
            configuration.streamMaxBackoffSeconds = streamMaxBackoffSeconds ?? file?.streamMaxBackoffSeconds ?? 30
            if let argument = database ?? ProcessInfo.processInfo.environment["RESNET18_DB"].flatMap({ $0.isEmpty ? nil : $0 }) ?? file?.database {
                do {
                    configuration.database = try DatabaseLocation(argument: argument)
                } catch {
                    throw ValidationError(error.description)
                }
            } else {
                configuration.database = DatabaseLocation.defaultSQLite()
            }
            // --mqtt (or RESNET18_MQTT) wins over the file's mqtt:.
            configuration.mqtt = try mqttOptions.settings() ?? file?.mqtt
            configuration.historyMaxAgeDays = historyMaxAgeDays
            configuration.historyMaxRows = historyMaxRows
            configuration.historyWaitSeconds = historyWaitSeconds
            switch thumbnails?.lowercased() {
            case "on": configuration.thumbnails = true
            case "off": configuration.thumbnails = false
            case nil: configuration.thumbnails = file?.thumbnails ?? true
            case let other?: throw ValidationError("--thumbnails must be on or off, not \(other)")
            }
            return configuration
        }
    }

    func validate() throws {
        if let engineCalls {
            do { try EngineOptions.checkCalls(engineCalls, flag: "--engine-calls") } catch { throw ValidationError(error.description) }
        }
        do {
            try serverConfiguration.validate()
        } catch let error as ServerConfigurationError {
            throw ValidationError(error.description)
        }
        guard Logger.Level(rawValue: try level) != nil else {
            throw ValidationError("--log-level (or the config file's log_level) must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        ArgumentMasking.maskURLPasswords()
        var configuration = try serverConfiguration
        // Before the database, the weights and the configuration lines: a port in use is said first and alone.
        if PortProbe.inUse(host: configuration.host, port: configuration.port) {
            throw CommandFailure(PortProbe.inUseMessage(port: configuration.port))
        }
        if let grpcPort = configuration.grpcPort, grpcPort != 0, PortProbe.inUse(host: configuration.host, port: grpcPort) {
            throw CommandFailure("gRPC port \(grpcPort) is in use; choose another with --grpc-port (0 turns gRPC off)")
        }
        var logger = Logger(label: "resnet18.serve")
        logger.logLevel = Logger.Level(rawValue: try level) ?? .info
        // The database is opened (and migrated) before listening: a bad --db refuses to start, saying why.
        // It holds the history and the users, sessions and tokens.
        var database: Database?
        if configuration.database != .none {
            database = try await Database.open(configuration.database, logger: logger)
        }
        let credentials = database.map { DatabaseCredentialStore(database: $0) }
        if let credentials { try await FirstAdmin.createIfAsked(in: credentials, bcryptCost: configuration.bcryptCost, say: say) }
        // Before the weights are loaded: a refusal to start (no users on a public address) comes at once.
        let authentication: String
        do {
            authentication = try await RecognitionServer.checkAuthentication(configuration, credentialStore: credentials)
        } catch let error as AuthenticationError {
            throw CommandFailure(error.description)
        }
        var recognizerConfiguration = engine.configuration
        recognizerConfiguration.calls = calls
        let recognizer = try engine.execution.loadRecognizer(recognizerConfiguration, leanWinogradByDefault: true)
        // Heads: --head, else the config file's; each checked against the weights running.
        do {
            configuration.heads = headOptions.paths.isEmpty ? try configFile?.loadHeads(backbone: recognizer.weights) ?? []
                : try headOptions.load(for: recognizer)
        } catch let error as ConfigFileError {
            throw CommandFailure(error.description)
        }
        // The cameras' labels, sources and rules: a bad one refuses to start, naming its line.
        do {
            try configFile?.check(labels: recognizer.labels, heads: configuration.heads, maxPixels: recognizer.decodeOptions.maxPixels)
        } catch let error as ValidationError {
            throw CommandFailure(error.message)
        } catch let error as ConfigFileError {
            throw CommandFailure(error.description)
        }
        say("resnet18 serve")
        say("weights: \(recognizer.weights.description) [\(recognizer.weightsOrigin)]")
        say("labels: \(recognizer.labels.source), \(counted(recognizer.labels.count, "class", plural: "classes"))")
        let options = recognizer.engine.options
        let winograd = options.precision != .fp32 || !options.winograd ? "off" : options.leanWinograd ? "lean" : "on"
        let calls = recognizer.engine.calls == 1 ? "" : "\(recognizer.engine.calls) calls at once, each on "
        say("engine: \(calls)\(counted(recognizer.engine.threads, "thread")), \(options.precision.rawValue), Winograd \(winograd), max pixels \(recognizer.decodeOptions.maxPixels)")
        for line in configuration.summary { say(line) }
        for head in configuration.heads { say("head \(head.name): \(head.categories.joined(separator: ", "))") }
        say(authentication)
        let server = RecognitionServer(recognizer: recognizer, configuration: configuration, logger: logger,
                                       history: database.map { HistoryStore(database: $0) }, credentialStore: credentials)
        // The address as bound: 0.0.0.0 (every interface) is said as such, not as the loopback address.
        let shownHost = configuration.host.contains(":") && !configuration.host.hasPrefix("[") ? "[\(configuration.host)]" : configuration.host
        do {
            try await server.run(onListening: { port in
                say("listening on http://\(shownHost):\(port)/")
            }, onGRPCListening: { port in
                say("gRPC (KServe v2, inference.GRPCInferenceService) on \(shownHost):\(port)")
            })
        } catch where "\(error)".contains("Address already in use") {
            // Taken between the check above and the bind.
            throw CommandFailure(PortProbe.inUseMessage(port: configuration.port))
        }
    }
}

/// A line on stdout, written at once (not left in a buffer when stdout is a pipe: scripts wait for "listening on").
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
