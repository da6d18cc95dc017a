import ArgumentParser
import Dispatch
import Foundation
import Imaging
import Monitoring
import Recognition
import Server
import Storage
import Synchronization

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify a camera or video stream frame by frame and alert when a label shows up.",
        discussion: """
            SOURCE is an rtsp://, rtsps://, http:// or https:// URL, a video file, or a V4L2 camera (/dev/video0), \
            decoded by ffmpeg. An alert fires when any --alert label reaches --threshold in K of the last N frames \
            (--window K/N), once when that starts to hold, not again until it has stopped holding for --settle \
            seconds and --cooldown seconds have passed since the alert (a restart of the source does not re-arm \
            it). A live source that drops is restarted with backoff; a file ends the command (exit 0). Stop with Ctrl-C.
            """)

    @Argument(help: "rtsp:// or http(s):// URL, video file, or /dev/videoN.")
    var source: String

    @Option(help: "Frames per second to classify.")
    var fps = 2.0

    @Option(name: .customLong("alert"), help: "A label to alert on: torchvision's class name, its index or WordNet id (repeatable).")
    var alerts: [String] = []

    @Option(help: "Probability (0 to 1) a label must reach in a frame.")
    var threshold = 0.5

    @Option(help: "K/N: the label must reach the threshold in K of the last N frames.")
    var window = "1/1"

    @Option(help: "Seconds after an alert during which the rule does not alert again.")
    var cooldown = AlertRule.defaultCooldownSeconds

    @Option(help: "Seconds the label must have stopped showing before the rule may alert again.")
    var settle = AlertRule.defaultSettleSeconds

    @Option(help: "POST each alert as JSON to this URL (retried with backoff).")
    var webhook: String?

    @Option(name: .customLong("webhook-secret"), help: ArgumentHelp(
        "Sign each webhook POST: X-ResNet18-Signature: sha256=HMAC-SHA256(body). Also RESNET18_WEBHOOK_SECRET (kept out of ps).",
        valueName: "secret"))
    var webhookSecret: String?

    /// The signing secret, from the flag or the environment.
    var signingSecret: String? {
        webhookSecret ?? ProcessInfo.processInfo.environment["RESNET18_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    @OptionGroup var mqttOptions: MQTTOptions

    @Option(help: "The camera's name in MQTT topics: a-z, 0-9, _ and - (default: from the source's host and path).")
    var name: String?

    @Option(name: .customLong("db"), help: ArgumentHelp(
        "Record each alert in the history: a SQLite file path or postgres://user:password@host:port/database.",
        valueName: "path|url"))
    var database: String?

    @Option(help: ArgumentHelp("Keep each alert's frame in the history: on or off.", valueName: "on|off"))
    var thumbnails = "on"

    @Flag(help: "One JSON object per line per alert on stdout, nothing else.")
    var json = false

    @Option(name: .customLong("max-backoff"), help: "Longest wait, in seconds, between restarts of a live source.")
    var maxBackoffSeconds = 30.0

    @OptionGroup var engine: EngineOptionGroup

    @OptionGroup var headOptions: HeadOptions

    func validate() throws {
        do {
            var configuration = StreamConfiguration(source: try VideoSource(source))
            configuration.fps = fps
            try configuration.validate()
            _ = try AlertRule.parseWindow(window)
            if let webhook { try WebhookSender.validate(webhook) }
            if webhookSecret != nil && webhook == nil {
                throw ValidationError("--webhook-secret signs webhook posts: give --webhook URL too")
            }
            if webhook != nil, let signingSecret { try WebhookSender.validate(secret: signingSecret) }
            _ = try mqttSettings
            if let name { try CameraName.validate(name) }
        } catch {
            throw ValidationError("\(error)")
        }
        if let database {
            do { _ = try DatabaseLocation(argument: database) } catch { throw ValidationError(error.description) }
        }
        guard ["on", "off"].contains(thumbnails) else { throw ValidationError("--thumbnails must be on or off") }
        for (flag, value) in [("--cooldown", cooldown), ("--settle", settle)] {
            guard value.isFinite, value >= 0, value <= AlertRule.maximumQuietSeconds else {
                throw ValidationError("\(flag) must be a number of seconds from 0 to 86400 (a day), not \(value)")
            }
        }
        guard maxBackoffSeconds >= 1, maxBackoffSeconds <= 86_400 else {
            throw ValidationError("--max-backoff must be from 1 to 86400 seconds (a day), not \(maxBackoffSeconds)")
        }
    }

    var mqttSettings: MQTTSettings? {
        get throws { try mqttOptions.settings() }
    }

    func run() async throws {
        ArgumentMasking.maskURLPasswords()
        let recognizer = try engine.loadRecognizer()
        let heads = try headOptions.load(for: recognizer)
        var configuration = StreamConfiguration(source: try VideoSource(source))
        configuration.heads = heads
        configuration.fps = fps
        configuration.maxPixels = recognizer.decodeOptions.maxPixels
        configuration.backoff = Backoff(initial: .seconds(1), maximum: .milliseconds(Int64(maxBackoffSeconds * 1000)))
        if !alerts.isEmpty {
            do {
                configuration.rules = [try AlertRule(labels: alerts, in: recognizer.labels, heads: heads, threshold: threshold, window: window,
                                                     cooldownSeconds: cooldown, settleSeconds: settle)]
            } catch {
                throw ValidationError(error.description)
            }
        }
        var recorder: AlertHistoryRecorder?
        var opened: Database?
        if let database {
            let location = try DatabaseLocation(argument: database)
            let store = HistoryStore(database: try await Database.open(location))
            opened = store.database
            recorder = AlertHistoryRecorder(thumbnails: thumbnails == "on") { _ = try await store.record($0) }
            printError("watch: recording alerts in \(location)")
        }
        let source = self.source
        let rules = configuration.rules
        let alertRecorder = recorder
        let webhook = try webhook.map { try WebhookSender(url: $0, secret: signingSecret, log: { printError("watch: \($0)") }) }
        let videoSource = configuration.source
        let publisher = try mqttSettings.map { settings in
            try MQTTPublisher(settings: settings, camera: name ?? CameraName.derived(from: videoSource), log: { printError("watch: \($0)") })
        }
        if let publisher {
            printError("watch: publishing to \(publisher.client.settings.redacted) as \(publisher.topics.alert), \(publisher.topics.state) and \(publisher.topics.availability)")
            await publisher.start()
        }
        let batcher = Batcher(recognizer: recognizer, maxBatch: 1, maxDelay: .zero, queueDepth: 4)
        let batcherTask = Task { await batcher.run() }
        let output = WatchOutput(json: json, rules: configuration.rules)
        let monitor = StreamMonitor(configuration: configuration, labels: recognizer.labels) { image in
            try await batcher.classify([recognizer.prepare(image)], topK: 5, includeLogits: true, includeFeatures: !heads.isEmpty)[0]
        }
        if !recognizer.weights.trained {
            printError("watch: UNTRAINED WEIGHTS: every label and alert below is meaningless (\"trained\": false in each alert)")
        }
        let finalState = StateBox()
        let watching = Task {
            await monitor.run { event in
                await publisher?.publish(event)
                if case let .alert(alert, snapshot) = event {
                    await webhook?.send(alert.jsonLine(), eventID: alert.id)
                    do {
                        try await alertRecorder?.record(alert, snapshot: snapshot, rule: rules[alert.rule],
                                                   source: "watch", streamID: source)
                    } catch {
                        printError("watch: the alert of frame \(alert.frame) could not be recorded: \(error)")
                    }
                }
                if case let .status(status) = event { finalState.set(status.state) }
                output.show(event)
            }
        }
        let stop = StopSignals { watching.cancel() }
        await watching.value
        stop.cancel()
        await webhook?.flush()
        await publisher?.stop(within: .seconds(10))
        batcher.shutdown()
        await batcherTask.value
        await opened?.close()
        if finalState.state == .failed { throw ExitCode(1) }
    }
}

/// SIGINT and SIGTERM end the watch cleanly (ffmpeg stopped, webhooks flushed) instead of killing it.
private final class StopSignals: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(_ stop: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
    }

    func cancel() { for source in sources { source.cancel() } }
}

/// The stream's last state, set by the event handler and read when the watch ends.
private final class StateBox: Sendable {
    private let value = Mutex(StreamState.starting)
    func set(_ state: StreamState) { value.withLock { $0 = state } }
    var state: StreamState { value.withLock { $0 } }
}

/// What `watch` prints: alerts (JSON lines, or a line of text), a live line per frame in the terminal, status on stderr.
private struct WatchOutput: Sendable {
    let json: Bool
    let rules: [AlertRule]
    let interactive = isatty(STDOUT_FILENO) != 0

    func show(_ event: StreamEvent) {
        switch event {
        case let .alert(alert, _):
            if json {
                write(alert.jsonLine() + "\n")
            } else {
                let rule = rules[alert.rule]
                let percent = String(format: "%.2f", alert.probability * 100)
                write((interactive ? "\r\u{1B}[K" : "") + "ALERT \(Alert.timestamp(alert.time)) frame \(alert.frame): \(alert.label) \(percent) % "
                      + "(≥ \(rule.threshold * 100) % in \(rule.k)/\(rule.n) frames)\(alert.trained ? "" : " [UNTRAINED WEIGHTS]")\n")
            }
        case let .suppressed(alert):
            let rule = rules[alert.rule]
            printError("watch: frame \(alert.frame): \(alert.label) \(String(format: "%.4f", alert.probability)) again within the "
                       + "\(StreamMonitor.format(rule.cooldownSeconds)) s cooldown of rule \(alert.rule + 1): not alerted")
        case let .frame(frame):
            guard !json else { return }
            let labels = frame.top.prefix(3).map { "\($0.label) \(String(format: "%.2f", $0.probability * 100)) %" }.joined(separator: ", ")
            let line = "frame \(frame.number) (\(frame.image.width)×\(frame.image.height)): \(labels)"
            write(interactive ? "\r\u{1B}[K" + line : line + "\n")
        case let .status(status):
            if interactive && !json { write("\n") }
            printError("watch: \(status.state.rawValue)" + (status.message.map { ": \($0)" } ?? ""))
        }
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
