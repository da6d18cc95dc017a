import ArgumentParser
import Foundation
import Logging
import Recognition
import Server

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the web page, /predict, /v1/classify, KServe v2 and /metrics over HTTP.",
        discussion: "Stops on SIGINT or SIGTERM after answering the requests in flight. Logs one line per request on stderr.")

    @Option(help: "Address to listen on (0.0.0.0 opens the service to the network).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(help: "Images per engine call, at most.")
    var maxBatch = 8

    @Option(name: .customLong("max-batch-delay-ms"), help: "Milliseconds the first image of a batch waits for images still being decoded to join it.")
    var maxBatchDelayMilliseconds = 2.0

    @Option(help: "Images that may wait for the engine before requests get 503.")
    var queueDepth = 64

    @Option(help: "Results kept by SHA-256 of the upload (0: no cache).")
    var cacheEntries = 1024

    @Option(name: .customLong("max-upload-mb"), help: "Largest request body, in megabytes.")
    var maxUploadMegabytes = 20.0

    @Option(name: .customLong("request-timeout"), help: "Seconds a request may take to arrive (slower clients are cut off); idle connections close after as long.")
    var requestTimeoutSeconds = 30.0

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @OptionGroup var engine: EngineOptionGroup

    var serverConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.maxBatch = maxBatch
        configuration.maxBatchDelayMilliseconds = maxBatchDelayMilliseconds
        configuration.queueDepth = queueDepth
        configuration.cacheEntries = cacheEntries
        configuration.maxUploadBytes = Int((maxUploadMegabytes * 1024 * 1024).rounded())
        configuration.requestTimeoutSeconds = requestTimeoutSeconds
        return configuration
    }

    func validate() throws {
        do {
            try serverConfiguration.validate()
        } catch {
            throw ValidationError(error.description)
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let recognizer = try engine.loadRecognizer()
        let configuration = serverConfiguration
        say("resnet18 serve")
        say("weights: \(recognizer.weights.description) [\(recognizer.weightsOrigin)]")
        say("labels: \(recognizer.labels.source), \(recognizer.labels.count) classes")
        say("engine: \(recognizer.engine.threads) threads, \(recognizer.engine.options.precision.rawValue), max pixels \(recognizer.decodeOptions.maxPixels)")
        for line in configuration.summary { say(line) }
        var logger = Logger(label: "resnet18.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let server = RecognitionServer(recognizer: recognizer, configuration: configuration, logger: logger)
        let shownHost = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        try await server.run { port in
            say("listening on http://\(shownHost):\(port)/")
        }
    }
}

/// A line on stdout, written at once (not left in a buffer when stdout is a pipe: scripts wait for "listening on").
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
