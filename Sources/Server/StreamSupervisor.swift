import Foundation
import Imaging
import Monitoring
import Recognition
import ServiceLifecycle

/// The streams the service watches: each one a task running a `StreamMonitor`, its state kept here, alerts
/// fanned out to server-sent-event subscribers, webhooks and the history.
///
/// Streams are independent: one that fails or restarts disturbs no other, and their frames reach the engine
/// through the same batcher as HTTP requests (a full queue skips a frame rather than refusing a request).
actor StreamSupervisor {
    /// What one stream is and has seen.
    struct Entry {
        let id: String
        let request: StreamRequest
        let configuration: StreamConfiguration
        let created: Date
        var status = StreamStatus(state: .starting)
        /// The last failure's words (ffmpeg's last error line), kept after the stream runs again.
        var lastError: String?
        var frames = 0
        var restarts = 0
        var latest: ClassifiedFrame?
        var latestJPEG: [UInt8]?
        var events: [Alert] = []
        var alertCount = 0
        var processID: Int32?
        var task: Task<Void, Never>?
        let webhook: WebhookSender?
    }

    static let eventsKept = 50

    let recognizer: Recognizer
    let batcher: Batcher
    let maxStreams: Int
    let maxBackoff: Duration
    let recorder: (any AlertRecorder)?
    let mqtt: MQTTBridge?
    private let log: @Sendable (String) -> Void
    private var streams: [String: Entry] = [:]
    private var order: [String] = []
    private var subscribers: [UUID: AsyncStream<ServerSentEvent>.Continuation] = [:]
    private var stopping = false

    init(recognizer: Recognizer, batcher: Batcher, maxStreams: Int, maxBackoff: Duration = .seconds(30),
         recorder: (any AlertRecorder)? = nil, mqtt: MQTTBridge? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.recognizer = recognizer
        self.batcher = batcher
        self.maxStreams = maxStreams
        self.maxBackoff = maxBackoff
        self.recorder = recorder
        self.mqtt = mqtt
        self.log = log
    }

    /// Starts watching a source; refused when the request is invalid or `maxStreams` are already running.
    func add(_ request: StreamRequest) throws(APIError) -> StreamInfo {
        guard !stopping else { throw .shuttingDown("the server is shutting down and starts no streams") }
        let configuration = try request.configuration(labels: recognizer.labels, maxPixels: recognizer.decodeOptions.maxPixels,
                                                      maxBackoff: maxBackoff)
        let live = streams.values.filter { $0.status.isActive }.count
        guard live < maxStreams else {
            throw .tooManyStreams("\(live) streams are running, the most this server takes (--max-streams \(maxStreams)): delete one first (DELETE /v1/streams/{id})")
        }
        guard streams.count < maxStreams * 4 else {
            throw .tooManyStreams("\(streams.count) streams are listed: delete ended or failed ones first (DELETE /v1/streams/{id})")
        }
        var webhook: WebhookSender?
        if let url = request.webhook {
            let log = self.log
            webhook = try? WebhookSender(url: url, log: { log($0) })
        }
        var id: String
        repeat { id = String(UUID().uuidString.lowercased().prefix(8)) } while streams[id] != nil
        var entry = Entry(id: id, request: request, configuration: configuration, created: Date(), webhook: webhook)
        let monitor = StreamMonitor(configuration: configuration, labels: recognizer.labels) { [recognizer, batcher] image in
            try await batcher.classify([recognizer.prepare(image)], topK: 5, includeLogits: true)[0]
        }
        let streamID = id
        entry.task = Task {
            await monitor.run(onEvent: { await self.handle($0, for: streamID) },
                              onProcess: { await self.setProcess($0, for: streamID) })
        }
        streams[id] = entry
        order.append(id)
        log("stream \(id): watching \(configuration.source.redacted)")
        return info(entry)
    }

    /// Every stream, oldest first.
    func list() -> [StreamInfo] { order.compactMap { streams[$0] }.map(info) }

    func info(id: String) throws(APIError) -> StreamInfo {
        guard let entry = streams[id] else { throw Self.noSuchStream(id) }
        return info(entry)
    }

    /// The latest frame as a JPEG, if one came yet.
    func frameJPEG(id: String) throws(APIError) -> [UInt8] {
        guard let entry = streams[id] else { throw Self.noSuchStream(id) }
        guard let jpeg = entry.latestJPEG else {
            throw .noFrameYet("stream \(id) has no frame yet (status: \(entry.status.state.rawValue)\(entry.status.message.map { ": \($0)" } ?? "")); try again shortly")
        }
        return jpeg
    }

    /// The ffmpeg process reading a stream now (operators, fault tests).
    func processID(id: String) -> Int32? { streams[id]?.processID }

    /// Stops a stream (its ffmpeg is terminated) and forgets it.
    func remove(id: String) async throws(APIError) {
        guard let entry = streams.removeValue(forKey: id) else { throw Self.noSuchStream(id) }
        order.removeAll { $0 == id }
        entry.task?.cancel()
        await entry.task?.value
        log("stream \(id): removed")
        broadcast(ServerSentEvent(event: "removed", data: #"{"id":"\#(id)"}"#))
    }

    /// A live feed of alerts and status changes, for `GET /v1/events`; ends when the server stops.
    func subscribe() -> AsyncStream<ServerSentEvent> {
        let (stream, continuation) = AsyncStream<ServerSentEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        if stopping {
            continuation.finish()
            return stream
        }
        let key = UUID()
        subscribers[key] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(key) } }
        return stream
    }

    private func unsubscribe(_ key: UUID) { subscribers[key] = nil }

    /// Stops every stream and ends every event feed (graceful shutdown).
    func shutdown() async {
        stopping = true
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
        let tasks = streams.values.compactMap(\.task)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func setProcess(_ pid: Int32, for id: String) { streams[id]?.processID = pid }

    private func handle(_ event: StreamEvent, for id: String) async {
        // First, so that a removed stream's last state (stopped) goes out too.
        await mqtt?.publish(event, stream: id)
        guard var entry = streams[id] else { return }
        switch event {
        case let .frame(frame):
            entry.frames = frame.number
            entry.latest = frame
            entry.latestJPEG = try? JPEGEncoder.encode(frame.image.scaledDown(toFit: 640), quality: 80)
            streams[id] = entry
        case let .alert(alert, snapshot):
            entry.alertCount += 1
            entry.events.append(alert)
            if entry.events.count > Self.eventsKept { entry.events.removeFirst() }
            streams[id] = entry
            let line = alert.jsonLine(extra: ["stream": id])
            broadcast(ServerSentEvent(event: "alert", data: line))
            await entry.webhook?.send(line)
            if let recorder {
                do {
                    try await recorder.record(alert, snapshot: snapshot, rule: entry.configuration.rules[alert.rule],
                                              source: "stream:\(id)", streamID: id)
                } catch {
                    log("stream \(id): the alert of frame \(alert.frame) could not be recorded: \(error)")
                }
            }
        case let .status(status):
            if status.state == .restarting || status.state == .failed { entry.lastError = status.message }
            if status.state == .restarting { entry.restarts += 1 }
            entry.status = status
            streams[id] = entry
            log("stream \(id): \(status.state.rawValue)" + (status.message.map { ": \($0)" } ?? ""))
            if let data = try? String(decoding: JSONBody.encoder().encode(info(entry)), as: UTF8.self) {
                broadcast(ServerSentEvent(event: "status", data: data))
            }
        }
    }

    private func broadcast(_ event: ServerSentEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    private func info(_ entry: Entry) -> StreamInfo {
        StreamInfo(entry, weights: recognizer.weights)
    }

    private static func noSuchStream(_ id: String) -> APIError {
        .notFound("no stream \(String(id.prefix(40))): GET /v1/streams lists them")
    }
}

/// One message of `GET /v1/events` (`text/event-stream`).
struct ServerSentEvent: Sendable {
    let event: String
    /// One line of JSON.
    let data: String

    var text: String { "event: \(event)\ndata: \(data)\n\n" }
}

/// Runs beside the HTTP server; on shutdown it stops every stream's ffmpeg and ends the event feeds.
struct StreamSupervisorService: Service {
    let supervisor: StreamSupervisor

    func run() async throws {
        // Nothing to do but wait: streams run in tasks of their own, started by requests.
        try? await gracefulShutdown()
        await supervisor.shutdown()
    }
}
