import Foundation
import Imaging
import Monitoring
import Recognition
import Testing
import TestSupport

/// The seeded fixture weights and the rule every stream test uses: "streetcar" (astronaut.png's top-1 under the
/// seeded weights) above a threshold that astronaut's frames reach and chelsea's do not, in 2 of 3 frames.
enum StreamFixture {
    static let recognizer: Recognizer = {
        var configuration = RecognizerConfiguration()
        configuration.weightsPath = Fixtures.seededPth.path
        configuration.environment = [:]
        configuration.winograd = false
        return try! Recognizer.load(configuration)
    }()

    /// astronaut.png's top-1 and a threshold halfway between its probability and chelsea.png's 5th probability
    /// (so chelsea's frames, whose top-5 lacks the class, stay below it), from reference.json.
    static func rule() throws -> (label: String, index: Int, threshold: Double) {
        let astronaut = try Fixtures.referenceTop5(for: "astronaut.png")
        let chelsea = try Fixtures.referenceTop5(for: "chelsea.png")
        let top = astronaut[0]
        precondition(!chelsea.contains { $0.index == top.index })
        let label = Labels.imageNet[top.index].name
        return (label, top.index, (top.probability + chelsea[4].probability) / 2)
    }

    static func classify(_ image: RGBImage) throws -> Classification {
        try recognizer.classify([recognizer.prepare(image)], topK: 5, includeLogits: true)[0]
    }
}

/// Collects what a monitor reports.
actor EventLog {
    var alerts: [Alert] = []
    var suppressed: [Alert] = []
    var frames: [ClassifiedFrame] = []
    var statuses: [StreamStatus] = []
    var processes: [Int32] = []
    /// The number of the first frame of each run of ffmpeg.
    var runStarts: [Int] = []

    func add(_ event: StreamEvent) {
        switch event {
        case let .alert(alert, _): alerts.append(alert)
        case let .suppressed(alert): suppressed.append(alert)
        case let .frame(frame): frames.append(frame)
        case let .status(status):
            statuses.append(status)
            if status.state == .starting { runStarts.append(frames.count + 1) }
        }
    }

    func addProcess(_ pid: Int32) { processes.append(pid) }

    /// Waits (polling) until `condition` holds, at most `seconds`.
    func wait(seconds: Double = 60, until condition: @Sendable (EventLog) async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

@Suite(.serialized) struct StreamMonitorTests {
    @Test("frames ffmpeg decodes from a video file classify as their photos in reference.json, and the rule fires once per appearance")
    func fileFramesAndAlerts() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 3), ("astronaut.png", 3)], in: folder)
        let (label, index, threshold) = try StreamFixture.rule()
        var configuration = StreamConfiguration(source: try VideoSource(video.path))
        configuration.fps = 2
        configuration.rules = [try AlertRule(labels: [label], in: Labels.imageNet, threshold: threshold, window: "2/3",
                                             cooldownSeconds: 0, settleSeconds: 0)]
        let log = EventLog()
        let monitor = StreamMonitor(configuration: configuration, labels: Labels.imageNet) { try StreamFixture.classify($0) }
        await monitor.run { await log.add($0) }

        let frames = await log.frames
        let alerts = await log.alerts
        let statuses = await log.statuses
        #expect(statuses.last?.state == .ended, "\(statuses)")
        #expect(frames.count >= 20 && frames.count <= 24, "11 s at 2 fps, got \(frames.count)")
        #expect(frames.map(\.number) == Array(1...frames.count))
        let chelsea = try Fixtures.referenceTop5(for: "chelsea.png"), astronaut = try Fixtures.referenceTop5(for: "astronaut.png")
        for frame in frames {
            #expect(frame.image.width == 256 && frame.image.height == 256)
            let expected = frame.top[0].index == astronaut[0].index ? astronaut : chelsea
            #expect(frame.top.map(\.index) == expected.map(\.index), "frame \(frame.number)")
            for (got, want) in zip(frame.top, expected) {
                #expect(abs(got.probability - want.probability) < 1e-5)
            }
        }
        // Two astronaut segments: two alerts, each on the second astronaut frame of its segment (2 of 3).
        let astronautFrames = frames.filter { $0.top[0].index == index }.map(\.number)
        let segmentStarts = astronautFrames.filter { !astronautFrames.contains($0 - 1) }
        #expect(segmentStarts.count == 2)
        #expect(alerts.map(\.frame) == segmentStarts.map { $0 + 1 })
        #expect(alerts.allSatisfy { $0.label == label && $0.index == index && $0.probability >= threshold })
        #expect(alerts.allSatisfy { $0.weights == "resnet18-seeded.pth sha256:b0924803" && $0.trained })
    }

    @Test("an alert's time is when its frame was read from a live source, not when a lagging classification reached it")
    func alertTimeIsWhenTheFrameWasRead() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 1), ("astronaut.png", 4)], in: folder)
        let camera = TestCamera(video: video)
        defer { camera.stop() }
        let (label, _, threshold) = try StreamFixture.rule()
        var configuration = StreamConfiguration(source: try VideoSource(camera.url))
        configuration.rules = [try AlertRule(labels: [label], in: Labels.imageNet, threshold: threshold, window: "2/3")]
        let log = EventLog()
        // One second a frame at two frames a second: classification falls behind the camera.
        let monitor = StreamMonitor(configuration: configuration, labels: Labels.imageNet) { image in
            try await Task.sleep(for: .seconds(1))
            return try StreamFixture.classify(image)
        }
        let task = Task { await monitor.run { await log.add($0) } }
        #expect(await log.wait(seconds: 60) { await !$0.alerts.isEmpty })
        let reported = Date()
        task.cancel()
        await task.value

        let alert = try #require(await log.alerts.first)
        let frames = await log.frames
        let fired = try #require(frames.first { $0.number == alert.frame })
        #expect(alert.time == fired.time)
        // Frames carry the camera's pace (half a second apart), not the classifier's (a second).
        let times = frames.map(\.time)
        let span = try #require(times.last).timeIntervalSince(try #require(times.first))
        #expect(frames.count >= 3 && span / Double(frames.count - 1) < 0.8, "\(frames.count) frames over \(span) s")
        // The frame that fired was read well before the alert was reported.
        #expect(reported.timeIntervalSince(alert.time) > 1, "read \(alert.time), reported \(reported)")
    }

    @Test("killing the reading ffmpeg mid-stream restarts it with backoff, and every alert of the frames read comes exactly once")
    func killedFFmpegRestarts() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make(KilledStreamVideo.segments, in: folder)
        let camera = TestCamera(video: video, sessions: 2)
        defer { camera.stop() }
        let (label, index, threshold) = try StreamFixture.rule()
        var configuration = StreamConfiguration(source: try VideoSource(camera.url))
        configuration.rules = [try AlertRule(labels: [label], in: Labels.imageNet, threshold: threshold, window: "2/3",
                                             cooldownSeconds: 0, settleSeconds: 0)]
        configuration.backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(2))
        let log = EventLog()
        let monitor = StreamMonitor(configuration: configuration, labels: Labels.imageNet) { try StreamFixture.classify($0) }
        let task = Task { await monitor.run(onEvent: { await log.add($0) }, onProcess: { await log.addProcess($0) }) }

        // The first alert of the first session, then the reading ffmpeg is killed.
        #expect(await log.wait { await !$0.alerts.isEmpty })
        // The latest reader: an earlier one may have found the camera not yet listening.
        let reader = try #require(await log.processes.last)
        #expect(kill(reader, SIGKILL) == 0)
        // It restarts (the camera serves its second session from the start). How many appearances each run sees
        // depends on how far classification lags the live camera (frames it falls behind on are dropped): the
        // replay below checks that whatever was read alerted exactly as the rule says, once.
        #expect(await log.wait(seconds: 90) { log in
            let killed = await log.statuses.contains { $0.state == .restarting && ($0.message ?? "").contains("killed") }
            let processes = await log.processes.count
            return killed && processes >= 2
        })
        // Then the camera is gone for good: the stream keeps restarting with growing delays.
        #expect(await log.wait(seconds: 60) { await $0.statuses.filter { $0.state == .restarting }.count >= 4 })
        task.cancel()
        await task.value

        let statuses = await log.statuses
        let alerts = await log.alerts
        let frames = await log.frames
        #expect(statuses.last?.state == .stopped)
        let delays = statuses.compactMap(\.backoffSeconds)
        #expect(delays.contains { $0 > 0.5 }, "\(delays)")
        #expect(delays.allSatisfy { $0 <= 2 })
        // Exactly once: replaying the rule over the frames read, run by run (windows restart with the stream, and a
        // window of fewer than 3 frames cannot tell that the label went away), gives exactly the alerts reported.
        let runStarts = Set(await log.runStarts)
        var expected: [Int] = []
        var hits: [Bool] = [], holding = false
        for frame in frames {
            if runStarts.contains(frame.number) { hits = [] }
            hits.append(frame.top[0].index == index)
            if hits.count > 3 { hits.removeFirst() }
            let holds = hits.filter { $0 }.count >= 2
            if holds && !holding { expected.append(frame.number) }
            if holds || hits.count == 3 { holding = holds }
        }
        #expect(alerts.map(\.frame) == expected, "runs from frames \(runStarts.sorted())")
        #expect(alerts.allSatisfy { $0.index == index })
        // The run after the kill read frames too: the restart went on watching, and its alerts are in the replay.
        let starts = runStarts.filter { start in frames.contains { $0.number == start } }.sorted()
        #expect(starts.count >= 2, "runs from frames \(starts)")
        #expect(!alerts.isEmpty)
    }
}
