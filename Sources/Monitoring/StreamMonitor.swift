import Foundation
import Imaging
import Recognition

/// How one stream is read and judged: one struct fed by flags (`watch`) or by the API (`POST /v1/streams`).
public struct StreamConfiguration: Sendable {
    public var source: VideoSource
    /// Frames per second taken from the source (ffmpeg's `fps` filter).
    public var fps: Double = 2
    public var rules: [AlertRule] = []
    /// When each rule (by position) last alerted before this monitor: a service restart or a change of the stream
    /// carries on from there (no alert again within the cooldown, nor while the condition keeps holding). Live
    /// sources only: a file's rules run on the video's own clock.
    public var lastAlerts: [Int: Date] = [:]
    /// Heads whose categories rules name (`HEAD/CATEGORY`): frames are then classified with their features.
    public var heads: [LinearHead] = []
    public var backoff = Backoff()
    /// A network source silent for this long ends ffmpeg, and the stream restarts.
    public var networkTimeoutSeconds = 10
    /// Frames bigger than this are refused (as photos are, `--max-pixels`).
    public var maxPixels = 40_000_000
    /// Frames of a live source waiting for the engine are at most this many seconds' worth (and 64 MB); older
    /// ones are dropped when classification falls behind.
    public var liveBufferSeconds = 10.0
    /// The ffmpeg program (looked up in PATH).
    public var ffmpeg = "ffmpeg"

    public init(source: VideoSource) {
        self.source = source
    }

    /// Checks what a user can get wrong.
    public func validate() throws(MonitoringError) {
        guard fps.isFinite, fps >= 0.01, fps <= 30 else {
            throw .badRule("fps must be between 0.01 and 30 frames per second, got \(fps)")
        }
    }
}

/// Runs a stream: ffmpeg decodes the source into frames, each frame is classified, the rules turn frames into
/// alerts. A live source whose ffmpeg exits (the camera dropped, the network failed, ffmpeg was killed) is
/// started again after a backoff delay; a file ends with its last frame.
///
/// Alerts fire once per rising edge: when a rule's condition (k of the last n frames) starts to hold, not on
/// every frame while it holds; it is armed again once the condition has stopped holding for the rule's settle
/// time, and an edge within the rule's cooldown of its last alert is suppressed (`StreamEvent.suppressed`). A
/// restart starts the rules' windows afresh, since the frames before and after a gap are not consecutive, but
/// does not re-arm them: a source that drops and comes back showing the same thing does not alert again. Every frame read from ffmpeg is
/// classified and judged before the end of a run is handled, so killing ffmpeg loses no alert whose frames were
/// read, and none is reported twice (`Alert.frame` numbers frames across restarts).
public struct StreamMonitor: Sendable {
    public let configuration: StreamConfiguration
    /// The classes the rules name (the recognizer's labels).
    public let labels: Labels
    /// Classifies a frame; the result must carry the logits (the rules read every class's probability).
    let classify: @Sendable (RGBImage) async throws -> Classification

    public init(configuration: StreamConfiguration, labels: Labels,
                classify: @escaping @Sendable (RGBImage) async throws -> Classification) {
        self.configuration = configuration
        self.labels = labels
        self.classify = classify
    }

    /// Runs until the file ends, the stream fails, or the task is cancelled. `onEvent` sees every frame, alert
    /// and change of status in order; `onProcess` learns each ffmpeg's process id.
    public func run(onEvent: @escaping @Sendable (StreamEvent) async -> Void,
                    onProcess: @escaping @Sendable (Int32) async -> Void = { _ in }) async {
        let configuration = self.configuration
        let labels = self.labels
        var windows = configuration.rules.enumerated().map { position, rule in
            RuleWindow(rule: rule, lastAlertSeconds: configuration.source.isLive ? configuration.lastAlerts[position]?.timeIntervalSince1970 : nil)
        }
        var backoff = configuration.backoff
        var frameNumber = 0
        var droppedBefore = 0
        while !Task.isCancelled {
            await onEvent(.status(StreamStatus(state: .starting)))
            let run: FFmpegRun
            do {
                run = try FFmpegRun(source: configuration.source, fps: configuration.fps, maxPixels: configuration.maxPixels,
                                    timeoutSeconds: configuration.networkTimeoutSeconds, executable: configuration.ffmpeg,
                                    queueCapacity: max(4, Int((configuration.fps * configuration.liveBufferSeconds).rounded(.up))))
            } catch {
                await onEvent(.status(StreamStatus(state: .failed, message: configuration.source.redacting(error.description))))
                return
            }
            await onProcess(run.processID)
            var delivered = 0
            var classifyFailure: String?
            await withTaskCancellationHandler {
                while let captured = await run.next() {
                    let image = captured.image
                    frameNumber += 1
                    delivered += 1
                    if delivered == 1 { await onEvent(.status(StreamStatus(state: .running))) }
                    let result: Classification
                    do {
                        result = try await classify(image)
                    } catch {
                        // A full queue skips this frame; anything else (the server stopping) ends the run.
                        if case BatcherError.queueFull = error { continue }
                        classifyFailure = "\(error)"
                        run.stop()
                        break
                    }
                    let time = captured.time
                    let probabilities = LabelResolver.extendedProbabilities(Self.softmax(result.logits ?? []), features: result.features,
                                                                            heads: configuration.heads)
                    // The rules' clock: when a live source's frame was read; a file's own time (read faster than that).
                    let seconds = configuration.source.isLive ? time.timeIntervalSince1970 : Double(frameNumber - 1) / configuration.fps
                    for position in windows.indices {
                        guard let outcome = windows[position].observe(probabilities: probabilities, atSeconds: seconds) else { continue }
                        let hit: RuleHit
                        switch outcome {
                        case let .fire(fired), let .suppressed(fired): hit = fired
                        }
                        // A class is named as the labels name it; a category by its lemma and wnid, with its most
                        // probable member as the index.
                        let known = hit.index < labels.count ? labels[hit.index] : nil
                        let category = hit.group.kind == .category || hit.group.kind == .custom
                        let alert = Alert(id: UUID().uuidString.lowercased(), time: time, source: configuration.source.redacted,
                                          label: category ? hit.group.name : known?.name ?? "class \(hit.index)",
                                          index: hit.index, wnid: category ? hit.group.wnid : known?.wnid,
                                          probability: hit.probability, frame: frameNumber,
                                          weights: result.weights.resultLabel, trained: result.weights.trained, rule: position,
                                          top: result.top)
                        if case .fire = outcome {
                            await onEvent(.alert(alert, snapshot: image))
                        } else {
                            await onEvent(.suppressed(alert))
                        }
                    }
                    await onEvent(.frame(ClassifiedFrame(number: frameNumber, time: time, image: image, top: result.top,
                                                         dropped: droppedBefore + run.dropped)))
                }
            } onCancel: {
                run.stop()
            }
            let outcome = await run.finish()
            droppedBefore += run.dropped
            if Task.isCancelled {
                await onEvent(.status(StreamStatus(state: .stopped, message: "stopped after \(frameNumber) frames")))
                return
            }
            if let classifyFailure {
                await onEvent(.status(StreamStatus(state: .failed, message: "classification failed: \(classifyFailure)")))
                return
            }
            if !configuration.source.isLive {
                if outcome.status == 0 && outcome.readError == nil {
                    await onEvent(.status(StreamStatus(state: .ended, message: "end of \(configuration.source.redacted) after \(frameNumber) frames")))
                } else {
                    await onEvent(.status(StreamStatus(state: .failed, message: configuration.source.redacting(outcome.summary))))
                }
                return
            }
            windows = windows.map { var window = $0; window.reset(); return window }
            if delivered > 0 { backoff.reset() }
            let delay = backoff.nextDelay()
            let seconds = delay.seconds
            await onEvent(.status(StreamStatus(state: .restarting,
                                               message: "\(configuration.source.redacting(outcome.summary)); restarting in \(Self.format(seconds)) s",
                                               retryAt: Date().addingTimeInterval(seconds), backoffSeconds: seconds)))
            try? await Task.sleep(for: delay)
        }
        await onEvent(.status(StreamStatus(state: .stopped, message: "stopped after \(frameNumber) frames")))
    }

    /// Softmax of logits, in double precision (as `topPredictions`).
    static func softmax(_ logits: [Float]) -> [Double] {
        guard let maxLogit = logits.max() else { return [] }
        let exps = logits.map { exp(Double($0 - maxLogit)) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    public static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}

extension Duration {
    /// This duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
