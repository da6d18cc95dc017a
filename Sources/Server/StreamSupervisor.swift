import Foundation
import Imaging
import Monitoring
import Recognition
import ServiceLifecycle
import Storage

/// The streams the service watches: each one a task running a `StreamMonitor`, its state kept here, alerts
/// fanned out to server-sent-event subscribers, webhooks and the history.
///
/// Streams are named (`/v1/streams/NAME`, history source `stream:NAME`) and, with a database, stored with their
/// whole request: they run again when the service restarts (`restore`), a disabled one stays stored but stopped.
/// Streams are independent: one that fails or restarts disturbs no other, and their frames reach the engine
/// through the same batcher as HTTP requests (a full queue skips a frame rather than refusing a request).
actor StreamSupervisor {
    /// What one stream is and has seen.
    struct Entry {
        let name: String
        var request: StreamRequest
        /// nil when a stored request no longer makes a stream here (its camera device is gone, a label unknown to
        /// these weights); the status says why.
        var configuration: StreamConfiguration?
        let created: Date
        var status = StreamStatus(state: .starting)
        /// The last failure's words (ffmpeg's last error line), kept after the stream runs again.
        var lastError: String?
        var frames = 0
        /// Frames read but dropped unclassified (classification fell behind the camera).
        var droppedFrames = 0
        var restarts = 0
        var latest: ClassifiedFrame?
        /// The latest frame as a JPEG, made when first asked for (most frames are never looked at).
        var latestJPEG: (frame: Int, jpeg: [UInt8])?
        var events: [Alert] = []
        /// The frames of the latest alerts (`eventsKept`), by alert id: what `snapshot_url` serves.
        var snapshots: [(id: String, jpeg: [UInt8])] = []
        var alertCount = 0
        /// Rising edges within a rule's cooldown, not alerted.
        var suppressedAlerts = 0
        var processID: Int32?
        var task: Task<Void, Never>?
        var webhook: WebhookSender?
        /// From the config file: shown, not changed or deleted through the API, not stored.
        var fromConfig = false
        /// When each rule last alerted, by the rule's summary (a changed rule starts afresh; an unchanged one
        /// carries on across changes of the stream and restarts of the service).
        var lastAlerts: [String: Date] = [:]
    }

    static let eventsKept = 50

    let recognizer: Recognizer
    let batcher: Batcher
    let maxStreams: Int
    let maxBackoff: Duration
    let recorder: (any AlertRecorder)?
    /// Where streams are kept across restarts; nil with `--db none` (they live in memory only).
    let store: StreamStore?
    /// The cameras of the config file, started by `restore`.
    let configured: [StreamRequest]
    let configFile: String?
    /// Publishes each stream's alerts and state to MQTT (`--mqtt`); nil without a broker.
    let mqtt: MQTTBridge?
    /// Where restored streams find when their rules last alerted; nil without a history.
    let history: HistoryStore?
    /// Heads whose categories rules may name (`HEAD/CATEGORY`); changed by `use(heads:)`.
    private(set) var heads: [LinearHead]
    private let log: @Sendable (String) -> Void
    private var streams: [String: Entry] = [:]
    private var order: [String] = []
    /// Names being added or changed (the database is written before the stream is started or changed).
    private var busy: Set<String> = []
    private var subscribers: [UUID: AsyncStream<ServerSentEvent>.Continuation] = [:]
    private var stopping = false

    /// With replicas on one database, which one watches each camera: this replica's name and the leases table
    /// (nil without a database: this process watches every stream).
    let replicaName: String
    let leases: StreamLeaseStore?
    /// How long a lease lasts unrenewed, and how often the holder renews it: a replica that dies loses its
    /// cameras `leaseSeconds` after its last heartbeat, and another takes them within a heartbeat after that.
    static let leaseSeconds: TimeInterval = 15
    static let heartbeatSeconds: TimeInterval = 5
    /// A holder stops acting (sending alerts) this long before its lease could expire unrenewed, so that a replica
    /// cut off from the database never alerts at the same time as the one that took over.
    static let leaseMarginSeconds: TimeInterval = 3
    /// The leases held here: their generation, and until when this replica may act on each.
    private var held: [String: (generation: Int64, trustedUntil: Date)] = [:]
    /// Streams other replicas watch, as their holders last described them.
    private var elsewhere: [String: StreamLease] = [:]
    /// When each stored stream running here was last changed, to notice changes made through another replica.
    private var storedVersions: [String: Date] = [:]
    private var heartbeat: Task<Void, Never>?

    init(recognizer: Recognizer, batcher: Batcher, maxStreams: Int, maxBackoff: Duration = .seconds(30),
         recorder: (any AlertRecorder)? = nil, store: StreamStore? = nil, configured: [StreamRequest] = [], configFile: String? = nil,
         mqtt: MQTTBridge? = nil, history: HistoryStore? = nil, heads: [LinearHead] = [],
         leases: StreamLeaseStore? = nil, replicaName: String = "",
         log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.leases = leases
        self.replicaName = replicaName
        self.history = history
        self.heads = heads
        self.configured = configured
        self.configFile = configFile
        self.recognizer = recognizer
        self.batcher = batcher
        self.maxStreams = maxStreams
        self.maxBackoff = maxBackoff
        self.recorder = recorder
        self.store = store
        self.mqtt = mqtt
        self.log = log
    }

    private func configuration(for request: StreamRequest) throws(APIError) -> StreamConfiguration {
        try request.configuration(labels: recognizer.labels, heads: heads, maxPixels: recognizer.decodeOptions.maxPixels, maxBackoff: maxBackoff)
    }

    private var running: Int { streams.values.filter { $0.status.isActive }.count }

    private func checkRoom() throws(APIError) {
        guard running < maxStreams else {
            throw .tooManyStreams("\(running) streams are running, the most this server takes (--max-streams \(maxStreams)): delete or disable one first (DELETE or PATCH /v1/streams/{name})")
        }
    }

    /// Starts watching a source (stored first, when there is a database); refused when the request is invalid,
    /// the name is taken, or `maxStreams` are already running.
    func add(_ request: StreamRequest) async throws(APIError) -> StreamInfo {
        guard !stopping else { throw .shuttingDown("the server is shutting down and starts no streams") }
        let configuration = try configuration(for: request)
        let name = request.name
        guard streams[name] == nil, !busy.contains(name) else { throw Self.nameTaken(name) }
        if request.isEnabled { try checkRoom() }
        guard streams.count < max(maxStreams, 1) * 4 else {
            throw .tooManyStreams("\(streams.count) streams are listed: delete ended, failed or disabled ones first (DELETE /v1/streams/{name})")
        }
        busy.insert(name)
        defer { busy.remove(name) }
        let created = Date()
        if let store {
            let stored: Bool
            do {
                stored = try await store.insert(StoredStream(name: name, requestJSON: try Self.json(request), enabled: request.isEnabled,
                                                             createdAt: created))
            } catch {
                throw Self.notStored(name, error)
            }
            // Another replica on the same database took the name.
            guard stored else { throw Self.nameTaken(name) }
        }
        guard !stopping else { throw .shuttingDown("the server is shutting down and starts no streams") }
        var entry = Entry(name: name, request: request, configuration: configuration, created: created)
        // A lease of that name still held elsewhere (a stream of the name deleted a moment ago): the heartbeat
        // takes it once its holder lets go.
        guard await acquire(name) else {
            entry.status = StreamStatus(state: .starting, message: "waiting for its lease: another replica still holds the name; taken within \(Int(Self.heartbeatSeconds)) s of its release")
            return info(entry)
        }
        storedVersions[name] = Self.stamp(created)
        start(&entry)
        streams[name] = entry
        order.append(name)
        log("stream \(name): \(request.isEnabled ? "watching" : "stored, disabled:") \(configuration.source.redacted)")
        return info(entry)
    }

    /// At start-up: starts the config file's cameras, then brings back the stored streams; the enabled ones run,
    /// up to `maxStreams`.
    func restore() async {
        defer { if leases != nil, !stopping { startHeartbeat() } }
        for request in configured where streams[request.name] == nil && !stopping {
            guard await acquire(request.name) else { continue }
            bringBack(request, created: Date(), fromConfig: true, lastAlerts: await lastAlerts(of: request.name))
        }
        guard let store else { return }
        let stored: [StoredStream]
        do {
            stored = try await store.all()
        } catch {
            log("streams: the stored streams could not be read, none was started: \(error)")
            return
        }
        for record in stored where !stopping {
            guard streams[record.name] == nil else {
                log("stream \(record.name): a camera of \(configFile ?? "the config file") has its name; the stored stream is not started (DELETE /v1/streams/\(record.name) is refused: rename one)")
                continue
            }
            do {
                let request = try JSONDecoder().decode(StreamRequest.self, from: Data(record.requestJSON.utf8))
                guard await acquire(record.name) else { continue }
                storedVersions[record.name] = record.updatedAt
                bringBack(request, created: record.createdAt, fromConfig: false, lastAlerts: await lastAlerts(of: request.name))
            } catch {
                log("stream \(record.name): its stored request cannot be read (\(error)); not started")
            }
        }
    }

    /// When the stream's rules last alerted before this start of the service, by rule summary, from the history's
    /// alert rows ("frame 42: tabby 0.7312 (rule 1: SUMMARY)").
    private func lastAlerts(of name: String) async -> [String: Date] {
        guard let history else { return [:] }
        let page: HistoryPage
        do {
            page = try await history.query(HistoryFilter(source: "stream:\(name)", alertsOnly: true), page: HistoryPageRequest(limit: 200))
        } catch {
            log("stream \(name): when its rules last alerted could not be read (\(error)); they start afresh")
            return [:]
        }
        var last: [String: Date] = [:]
        for entry in page.entries {
            guard let text = entry.record.alert, let open = text.range(of: " (rule "), text.hasSuffix(")"),
                  let colon = text[open.upperBound...].range(of: ": ") else { continue }
            let summary = String(text[colon.upperBound..<text.index(before: text.endIndex)])
            if entry.record.time > last[summary] ?? .distantPast { last[summary] = entry.record.time }
        }
        return last
    }

    private func bringBack(_ request: StreamRequest, created: Date, fromConfig: Bool, lastAlerts: [String: Date]) {
        var entry = Entry(name: request.name, request: request, configuration: nil, created: created)
        entry.fromConfig = fromConfig
        entry.lastAlerts = lastAlerts
        do {
            entry.configuration = try configuration(for: request)
            if request.isEnabled { try checkRoom() }
            start(&entry)
        } catch {
            entry.status = StreamStatus(state: .failed, message: "not started: \(error.description)")
            entry.lastError = entry.status.message
        }
        streams[request.name] = entry
        order.append(request.name)
        log("stream \(request.name): \(fromConfig ? "from \(configFile ?? "the config file")" : "restored"), \(entry.status.state.rawValue)"
            + (entry.status.message.map { ": \($0)" } ?? ""))
    }

    private func readOnly(_ name: String) -> APIError {
        .conflict("stream \(name) comes from the config file \(configFile ?? ""): change or remove it there and restart the service")
    }

    /// Every stream: those watched here, oldest first, then those other replicas watch, by name.
    func list() -> [StreamView] {
        order.compactMap { streams[$0] }.map { .local(info($0)) }
            + elsewhere.values.sorted { $0.name < $1.name }.map { .elsewhere(name: $0.name, holder: $0.holder, json: $0.infoJSON) }
    }

    /// Each camera's figures for `/metrics`.
    func metricSamples(now: Date = Date()) -> [StreamMetricSample] {
        order.compactMap { streams[$0] }.map { entry in
            StreamMetricSample(name: entry.name, up: entry.status.state == .running, frames: entry.frames, droppedFrames: entry.droppedFrames,
                               restarts: entry.restarts, alerts: entry.alertCount, suppressedAlerts: entry.suppressedAlerts,
                               lastFrameAgeSeconds: entry.latest.map { max(0, now.timeIntervalSince($0.time)) })
        }
    }

    /// `metricSamples` with each camera's MQTT connection.
    func metricSamplesWithMQTT(now: Date = Date()) async -> [StreamMetricSample] {
        var samples = metricSamples(now: now)
        guard let mqtt else { return samples }
        let connections = await mqtt.samples()
        for index in samples.indices { samples[index].mqtt = connections[samples[index].name] }
        return samples
    }

    func info(name: String) throws(APIError) -> StreamView {
        if let entry = streams[name] { return .local(info(entry)) }
        if let lease = elsewhere[name] { return .elsewhere(name: name, holder: lease.holder, json: lease.infoJSON) }
        throw Self.noSuchStream(name)
    }

    /// The latest frame as a JPEG, if one came yet.
    func frameJPEG(name: String) throws(APIError) -> [UInt8] {
        try checkNotElsewhere(name)
        guard var entry = streams[name] else { throw Self.noSuchStream(name) }
        guard let latest = entry.latest else {
            throw .noFrameYet("stream \(name) has no frame yet (status: \(entry.status.state.rawValue)\(entry.status.message.map { ": \($0)" } ?? "")); try again shortly")
        }
        if let made = entry.latestJPEG, made.frame == latest.number { return made.jpeg }
        guard let jpeg = try? JPEGEncoder.encode(latest.image.scaledDown(toFit: Self.pictureSide), quality: 80) else {
            throw .noFrameYet("stream \(name)'s latest frame could not be encoded; try again shortly")
        }
        entry.latestJPEG = (latest.number, jpeg)
        streams[name] = entry
        return jpeg
    }

    /// The frame of one of the stream's latest alerts, as a JPEG.
    func snapshotJPEG(name: String, alertID: String) throws(APIError) -> [UInt8] {
        try checkNotElsewhere(name)
        guard let entry = streams[name] else { throw Self.noSuchStream(name) }
        guard let snapshot = entry.snapshots.first(where: { $0.id == alertID }) else {
            throw .notFound("stream \(name) keeps the frames of its latest \(Self.eventsKept) alerts, and alert \(alertID) is not one of them; every alert's frame is in the history (/v1/history?alerts=true)")
        }
        return snapshot.jpeg
    }

    /// Where alert receivers fetch snapshots: `--public-url`, or the address the server listens on.
    private var baseURL = ""

    func setBaseURL(_ url: String) { baseURL = url }

    /// The alert's snapshot URL.
    func snapshotURL(stream: String, alertID: String) -> String {
        "\(baseURL)/v1/streams/\(stream)/alerts/\(alertID)/snapshot"
    }

    /// Longest side of the frames served (latest frame, alert snapshots).
    static let pictureSide = 640

    /// The ffmpeg process reading a stream now (operators, fault tests).
    func processID(name: String) -> Int32? { streams[name]?.processID }

    /// Changes a stream's rules, fps or whether it runs: stored first, then the stream starts again as changed
    /// (or stops, when disabled).
    func change(name: String, _ change: StreamChange) async throws(APIError) -> StreamView {
        guard !stopping else { throw .shuttingDown("the server is shutting down and changes no streams") }
        if streams[name] == nil, let lease = elsewhere[name] { return try await changeElsewhere(name, change, holder: lease.holder) }
        guard let entry = streams[name] else { throw Self.noSuchStream(name) }
        guard !entry.fromConfig else { throw readOnly(name) }
        guard !busy.contains(name) else { throw .conflict("stream \(name) is being changed: try again") }
        let request = change.applied(to: entry.request)
        let configuration = try configuration(for: request)
        if request.isEnabled && !entry.status.isActive { try checkRoom() }
        busy.insert(name)
        defer { busy.remove(name) }
        let changedAt = Date()
        if let store {
            let updated: Bool
            do {
                updated = try await store.update(name: name, requestJSON: try Self.json(request), enabled: request.isEnabled, at: changedAt)
            } catch {
                throw Self.notStored(name, error)
            }
            if !updated { log("stream \(name): not in the database any more; stored again on its next change") }
        }
        guard let current = await restart(name, request: request, configuration: configuration) else { throw Self.noSuchStream(name) }
        storedVersions[name] = Self.stamp(changedAt)
        log("stream \(name): changed (\(request.isEnabled ? "running" : "disabled"), fps \(StreamMonitor.format(configuration.fps)), \(configuration.rules.count) rules)")
        return .local(info(current))
    }

    /// Stops a stream's monitor and starts it again with this request and configuration; nil when the stream went
    /// away meanwhile.
    private func restart(_ name: String, request: StreamRequest, configuration: StreamConfiguration) async -> Entry? {
        let old = streams[name]?.task
        old?.cancel()
        await old?.value
        guard var stopped = streams[name] else { return nil }
        stopped.request = request
        stopped.configuration = configuration
        stopped.task = nil
        stopped.processID = nil
        start(&stopped)
        streams[name] = stopped
        broadcastStatus(stopped)
        return stopped
    }

    /// Sets the heads before `restore` (those switched on from the heads page, read from the database).
    func setHeads(_ heads: [LinearHead]) { self.heads = heads }

    /// Switches to other heads (a head trained on the page replacing its older self): refused, changing nothing,
    /// when a stream's rule names a category the new heads lack; otherwise every stream starts again on the new ones
    /// (its frames carry their categories; its rules keep when they last alerted), as a PATCH would restart it.
    func use(heads newHeads: [LinearHead]) async throws(APIError) {
        var configurations: [String: StreamConfiguration] = [:]
        for name in order {
            guard let entry = streams[name], entry.configuration != nil else { continue }
            do {
                configurations[name] = try entry.request.configuration(labels: recognizer.labels, heads: newHeads,
                                                                       maxPixels: recognizer.decodeOptions.maxPixels, maxBackoff: maxBackoff)
            } catch {
                throw .conflict("stream \(name) has a rule the new heads cannot answer (\(error.description)): change or delete that rule first (PATCH /v1/streams/\(name))")
            }
        }
        heads = newHeads
        for name in order {
            guard let entry = streams[name], let configuration = configurations[name] else { continue }
            _ = await restart(name, request: entry.request, configuration: configuration)
        }
        if !configurations.isEmpty { log("streams: \(configurations.count) started again with the heads \(newHeads.map(\.name).joined(separator: ", "))") }
    }

    /// Stops a stream (its ffmpeg is terminated) and forgets it, in the database too.
    func remove(name: String) async throws(APIError) {
        if streams[name] == nil, elsewhere[name] != nil { return try await removeElsewhere(name) }
        guard let existing = streams[name] else { throw Self.noSuchStream(name) }
        guard !existing.fromConfig else { throw readOnly(name) }
        guard !busy.contains(name) else { throw .conflict("stream \(name) is being changed: try again") }
        if let store {
            busy.insert(name)
            defer { busy.remove(name) }
            do { _ = try await store.delete(name: name) } catch { throw Self.notStored(name, error) }
        }
        guard streams[name] != nil else { throw Self.noSuchStream(name) }
        await dropLocal(name, release: true)
        log("stream \(name): removed")
        if let data = try? String(decoding: JSONSerialization.data(withJSONObject: ["id": name, "name": name], options: [.sortedKeys]), as: UTF8.self) {
            broadcast(ServerSentEvent(event: "removed", data: data))
        }
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

    /// Stops every stream and ends every event feed (graceful shutdown). The database keeps them.
    func shutdown() async {
        stopping = true
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
        heartbeat?.cancel()
        let tasks = streams.values.compactMap(\.task)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        // Another replica takes the cameras at its next heartbeat, not after the leases run out.
        if let leases {
            for (name, lease) in held {
                try? await leases.release(name: name, holder: replicaName, generation: lease.generation)
            }
            if !held.isEmpty { log("streams: \(held.count) leases released for the other replicas") }
            held.removeAll()
        }
    }

    /// Starts an entry's monitor when it is enabled; a disabled one gets status `disabled`.
    private func start(_ entry: inout Entry) {
        guard var configuration = entry.configuration else { return }
        for (position, rule) in configuration.rules.enumerated() {
            configuration.lastAlerts[position] = entry.lastAlerts[rule.summary]
        }
        let secret = entry.request.webhookSecret
        entry.webhook = entry.request.webhook.flatMap { [log] url in try? WebhookSender(url: url, secret: secret, log: { log($0) }) }
        guard entry.request.isEnabled else {
            entry.status = StreamStatus(state: .disabled, message: "enabled: false (PATCH {\"enabled\": true} runs it)")
            return
        }
        entry.status = StreamStatus(state: .starting)
        let withFeatures = !configuration.heads.isEmpty
        let monitor = StreamMonitor(configuration: configuration, labels: recognizer.labels) { [recognizer, batcher] image in
            try await batcher.classify([recognizer.prepare(image)], topK: 5, includeLogits: true, includeFeatures: withFeatures)[0]
        }
        let name = entry.name
        entry.task = Task {
            await monitor.run(onEvent: { await self.handle($0, for: name) },
                              onProcess: { await self.setProcess($0, for: name) })
        }
    }

    private func setProcess(_ pid: Int32, for name: String) { streams[name]?.processID = pid }

    private func handle(_ event: StreamEvent, for name: String) async {
        // A replica whose lease may have run out stays silent: the replica that takes over alerts instead.
        if case let .alert(alert, _) = event, leases != nil, (held[name]?.trustedUntil ?? .distantPast) < Date() {
            log("stream \(name): the alert of frame \(alert.frame) is not sent: this replica's lease was not renewed in time")
            return
        }
        // First, so that a removed stream's last state (stopped) goes out too.
        var alertExtra: [String: String] = [:]
        if case let .alert(alert, _) = event { alertExtra["snapshot_url"] = snapshotURL(stream: name, alertID: alert.id) }
        await mqtt?.publish(event, stream: name, extra: alertExtra)
        guard var entry = streams[name] else { return }
        switch event {
        case let .frame(frame):
            entry.frames = frame.number
            entry.droppedFrames = frame.dropped
            entry.latest = frame
            streams[name] = entry
        case let .alert(alert, snapshot):
            entry.alertCount += 1
            if let rules = entry.configuration?.rules, alert.rule < rules.count { entry.lastAlerts[rules[alert.rule].summary] = alert.time }
            entry.events.append(alert)
            if entry.events.count > Self.eventsKept { entry.events.removeFirst() }
            if let jpeg = try? JPEGEncoder.encode(snapshot.scaledDown(toFit: Self.pictureSide), quality: 85) {
                entry.snapshots.append((alert.id, jpeg))
                if entry.snapshots.count > Self.eventsKept { entry.snapshots.removeFirst() }
            }
            streams[name] = entry
            let line = alert.jsonLine(extra: alertExtra.merging(["stream": name]) { $1 })
            broadcast(ServerSentEvent(event: "alert", data: line))
            await entry.webhook?.send(line, eventID: alert.id)
            if let recorder, let rules = entry.configuration?.rules, alert.rule < rules.count {
                do {
                    try await recorder.record(alert, snapshot: snapshot, rule: rules[alert.rule],
                                              source: "stream:\(name)", streamID: name)
                } catch {
                    log("stream \(name): the alert of frame \(alert.frame) could not be recorded: \(error)")
                }
            }
        case .suppressed:
            entry.suppressedAlerts += 1
            streams[name] = entry
        case let .status(status):
            if status.state == .restarting || status.state == .failed { entry.lastError = status.message }
            if status.state == .restarting { entry.restarts += 1 }
            entry.status = status
            streams[name] = entry
            log("stream \(name): \(status.state.rawValue)" + (status.message.map { ": \($0)" } ?? ""))
            broadcastStatus(entry)
        }
    }

    private func broadcastStatus(_ entry: Entry) {
        if let data = try? String(decoding: JSONBody.encoder().encode(info(entry)), as: UTF8.self) {
            broadcast(ServerSentEvent(event: "status", data: data))
        }
    }

    private func broadcast(_ event: ServerSentEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    private func info(_ entry: Entry) -> StreamInfo {
        var info = StreamInfo(entry, weights: recognizer.weights)
        if leases != nil { info.holder = replicaName }
        return info
    }

    // MARK: Leases (replicas on one database)

    /// A time as the database keeps it (whole milliseconds), to compare with what it gives back.
    private static func stamp(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// Takes the stream's lease for this replica; true when it may run the stream (always without leases).
    private func acquire(_ name: String) async -> Bool {
        guard let leases else { return true }
        let now = Date()
        do {
            guard let generation = try await leases.acquire(name: name, holder: replicaName, now: now,
                                                            until: now.addingTimeInterval(Self.leaseSeconds)) else { return false }
            held[name] = (generation, now.addingTimeInterval(Self.leaseSeconds - Self.leaseMarginSeconds))
            elsewhere[name] = nil
            return true
        } catch {
            log("stream \(name): its lease could not be taken (\(error)); tried again at the next heartbeat")
            return false
        }
    }

    private func checkNotElsewhere(_ name: String) throws(APIError) {
        if streams[name] == nil, let lease = elsewhere[name] {
            throw .conflict("stream \(name) is watched by replica \(lease.holder): its frames are there (GET /v1/streams/\(name) here shows its state)")
        }
    }

    /// Stops a stream running here and forgets it (its lease given up when `release`).
    private func dropLocal(_ name: String, release: Bool) async {
        guard let entry = streams.removeValue(forKey: name) else { return }
        order.removeAll { $0 == name }
        entry.task?.cancel()
        await entry.task?.value
        storedVersions[name] = nil
        if let lease = held.removeValue(forKey: name), release, let leases {
            try? await leases.release(name: name, holder: replicaName, generation: lease.generation)
        }
    }

    /// A change asked of this replica for a stream another one watches: stored; its holder applies it at its next
    /// heartbeat.
    private func changeElsewhere(_ name: String, _ change: StreamChange, holder: String) async throws(APIError) -> StreamView {
        guard let store else { throw Self.noSuchStream(name) }
        let record: StoredStream?
        do { record = try await store.all().first { $0.name == name } } catch { throw Self.notStored(name, error) }
        guard let record, let stored = try? JSONDecoder().decode(StreamRequest.self, from: Data(record.requestJSON.utf8)) else {
            throw readOnly(name)
        }
        let request = change.applied(to: stored)
        _ = try configuration(for: request)
        do {
            _ = try await store.update(name: name, requestJSON: try Self.json(request), enabled: request.isEnabled)
        } catch {
            throw Self.notStored(name, error)
        }
        log("stream \(name): changed in the database; replica \(holder) applies it within \(Int(Self.heartbeatSeconds)) s")
        return .elsewhere(name: name, holder: holder, json: elsewhere[name]?.infoJSON)
    }

    /// A stream another replica watches, deleted through this one: gone from the database and its lease, its
    /// holder stops it at its next heartbeat.
    private func removeElsewhere(_ name: String) async throws(APIError) {
        guard let store, let leases else { throw Self.noSuchStream(name) }
        do {
            guard try await store.delete(name: name) else { throw readOnly(name) }
            try await leases.remove(name: name)
        } catch let error as APIError {
            throw error
        } catch {
            throw Self.notStored(name, error)
        }
        elsewhere[name] = nil
        log("stream \(name): removed (it was watched by another replica)")
    }

    private func startHeartbeat() {
        guard heartbeat == nil else { return }
        heartbeat = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(Self.heartbeatSeconds))
                guard let self, !Task.isCancelled else { return }
                await self.beat()
            }
        }
    }

    /// One heartbeat: renews the leases held here (stopping the streams whose lease was lost), applies changes
    /// and deletions made through other replicas, and takes over the streams whose holder stopped renewing.
    func beat() async {
        guard let leases, !stopping else { return }
        let now = Date()
        for (name, lease) in held {
            let json = streams[name].flatMap { try? String(decoding: JSONBody.encoder().encode(info($0)), as: UTF8.self) }
            do {
                if try await leases.renew(name: name, holder: replicaName, generation: lease.generation,
                                          until: now.addingTimeInterval(Self.leaseSeconds), infoJSON: json) {
                    if held[name]?.generation == lease.generation {
                        held[name]?.trustedUntil = now.addingTimeInterval(Self.leaseSeconds - Self.leaseMarginSeconds)
                    }
                } else {
                    log("stream \(name): its lease was taken over or removed; this replica stops watching it")
                    await dropLocal(name, release: false)
                }
            } catch {
                log("stream \(name): its lease could not be renewed (\(error)); alerts stop if it cannot be renewed in time")
            }
        }
        let stored: [StoredStream]
        let rows: [StreamLease]
        do {
            stored = try await store?.all() ?? []
            rows = try await leases.all()
        } catch {
            log("streams: the heartbeat could not read the database (\(error)); tried again in \(Int(Self.heartbeatSeconds)) s")
            return
        }
        let leaseOf = Dictionary(rows.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let storedByName = Dictionary(stored.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Changes and deletions made through another replica, for the streams running here.
        for name in order where !busy.contains(name) {
            guard let entry = streams[name], !entry.fromConfig else { continue }
            guard let record = storedByName[name] else {
                log("stream \(name): deleted through another replica; stopped")
                await dropLocal(name, release: true)
                continue
            }
            if record.updatedAt > storedVersions[name] ?? .distantPast,
               let request = try? JSONDecoder().decode(StreamRequest.self, from: Data(record.requestJSON.utf8)),
               let configuration = try? configuration(for: request) {
                storedVersions[name] = record.updatedAt
                _ = await restart(name, request: request, configuration: configuration)
                log("stream \(name): changed through another replica; started again as changed")
            }
        }
        // Every camera: the config file's and the stored ones. Those held elsewhere are listed; free ones taken.
        var candidates: [(request: StreamRequest, created: Date, fromConfig: Bool, updatedAt: Date)] =
            configured.map { ($0, now, true, now) }
        for record in stored {
            guard let request = try? JSONDecoder().decode(StreamRequest.self, from: Data(record.requestJSON.utf8)) else { continue }
            candidates.append((request, record.createdAt, false, record.updatedAt))
        }
        var others: [String: StreamLease] = [:]
        for candidate in candidates where streams[candidate.request.name] == nil && !busy.contains(candidate.request.name) && !stopping {
            let name = candidate.request.name
            if let lease = leaseOf[name], lease.holder != replicaName, lease.expiresAt > now {
                others[name] = lease
                continue
            }
            if candidate.request.isEnabled && running >= maxStreams { continue }  // no room here: another replica's
            busy.insert(name)
            let previous = leaseOf[name]?.holder
            if await acquire(name) {
                storedVersions[name] = candidate.updatedAt
                bringBack(candidate.request, created: candidate.created, fromConfig: candidate.fromConfig,
                          lastAlerts: await lastAlerts(of: name))
                if let previous, previous != replicaName { log("stream \(name): taken over from replica \(previous), whose lease ran out") }
            }
            busy.remove(name)
        }
        elsewhere = others
        // Leases of streams that no longer exist, left by a replica that died before it could let go.
        let names = Set(candidates.map(\.request.name))
        for lease in rows where !names.contains(lease.name) && lease.expiresAt < now {
            try? await leases.remove(name: lease.name)
        }
    }

    /// The request as the database keeps it.
    private static func json(_ request: StreamRequest) throws(APIError) -> String {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(request), as: UTF8.self)
        } catch {
            throw .internalError("the stream's request could not be encoded: \(error)")
        }
    }

    private static func noSuchStream(_ name: String) -> APIError {
        .notFound("no stream \(String(name.prefix(64))): GET /v1/streams lists them")
    }

    private static func nameTaken(_ name: String) -> APIError {
        .conflict("a stream named \(name) exists already: pick another name, or change it with PATCH /v1/streams/\(name)")
    }

    private static func notStored(_ name: String, _ error: any Error) -> APIError {
        .historyUnavailable("stream \(name) could not be stored in the database, so nothing was changed: \(error)")
    }
}

/// One message of `GET /v1/events` (`text/event-stream`).
struct ServerSentEvent: Sendable {
    let event: String
    /// One line of JSON.
    let data: String

    var text: String { "event: \(event)\ndata: \(data)\n\n" }
}

/// Runs beside the HTTP server: at start it brings back the stored streams; on shutdown it stops every stream's
/// ffmpeg and ends the event feeds.
struct StreamSupervisorService: Service {
    let supervisor: StreamSupervisor
    /// What the streams need first: the heads switched on from the page, which rules may name.
    var beforeRestore: @Sendable () async -> Void = {}

    func run() async throws {
        await beforeRestore()
        // The stored streams run again; the others are started by requests, in tasks of their own.
        await supervisor.restore()
        try? await gracefulShutdown()
        await supervisor.shutdown()
    }
}
