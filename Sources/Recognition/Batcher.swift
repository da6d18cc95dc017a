import Foundation
import ResNet
import Synchronization

/// Why the batcher did not take images.
public enum BatcherError: Error, CustomStringConvertible, Sendable {
    /// The queue already holds `depth` images waiting for the engine.
    case queueFull(depth: Int)
    /// One request brought more images than the queue can ever hold.
    case tooManyImages(count: Int, depth: Int)
    /// The batcher is shutting down and takes no new work.
    case shuttingDown

    public var description: String {
        switch self {
        case let .queueFull(depth):
            "the server is busy: \(depth) images are already waiting for the engine; retry shortly"
        case let .tooManyImages(count, depth):
            "\(count) images in one request, but at most \(depth) can wait for the engine (--queue-depth): send fewer per request"
        case .shuttingDown:
            "the server is shutting down; retry on another instance or once it is back"
        }
    }
}

/// Coalesces images from concurrent requests into engine calls of up to `maxBatch` images.
///
/// Requests decode and preprocess on their own tasks, announcing their images first, then hand the prepared
/// images to `classify`. When the engine is free the run loop takes the queue: at once when it holds `maxBatch`
/// images or when no announced image is still being decoded; otherwise it waits for those, until the oldest
/// queued image has waited `maxDelay`. So a lone request never waits for company that is not coming.
/// The queue is bounded: past `queueDepth` images waiting or announced, new ones are refused at once with
/// `BatcherError.queueFull`, before any decoding work, instead of letting latency grow without limit.
///
/// The run loop is the engine's own thread (an engine call blocks for milliseconds per image, which must not hold
/// up the cooperative pool), one for each of the engine's lanes (`ResNet18Engine.calls`): each takes the next
/// batch when its call is done, so with several lanes batches run at once. The queue is state under one lock
/// rather than an actor's: a request's images reach the engine with one thread wake, and the answers are handed
/// back from the engine's thread as soon as the call returns. Through an actor, with the engine behind it, each
/// lone request took five hand-overs between threads and executors (docs/performance.md, "gRPC beside HTTP").
public final class Batcher: @unchecked Sendable {
    /// A finished engine call, for metrics.
    public struct BatchReport: Sendable {
        /// Images in the engine call.
        public let size: Int
        /// Images still waiting when the call started.
        public let waiting: Int
        /// Milliseconds the engine call took.
        public let inferenceMilliseconds: Double
        /// The engine's lane that ran it, and its threads (all lanes' for a wide call).
        public let lane: Int
        public let threads: Int
    }

    private struct Entry {
        let job: Int
        let slot: Int
        let image: PreparedImage
        let enqueued: ContinuousClock.Instant
    }

    private struct Job {
        let topK: Int
        let includeLogits: Bool
        let includeFeatures: Bool
        var results: [Classification?]
        var remaining: Int
        let continuation: CheckedContinuation<[Classification], any Error>
    }

    public let recognizer: Recognizer
    public let maxBatch: Int
    public let maxDelay: Duration
    public let queueDepth: Int
    private let onBatch: @Sendable (BatchReport) -> Void
    /// One thread for each lane of the engine.
    private let inferenceThreads: [InferenceThread]

    /// Guards everything below, and wakes the run loop when it changes.
    private let state = NSCondition()
    private var pending: [Entry] = []
    /// Images announced and still being decoded: worth waiting for.
    private var announced = 0
    private var jobs: [Int: Job] = [:]
    private var nextJob = 0
    private var stopping = false
    /// Until when the engine's thread, finding the queue empty, looks for work instead of sleeping (`expectWork`).
    private var expectedUntil = ContinuousClock.now
    /// Whether an engine thread is looking for expected work already (one is enough; the others sleep).
    private var watching = false
    /// Engine calls running now, and whether one of them is wide (on every lane's threads).
    private var running = 0
    private var wideRunning = false
    /// Counts the calls that queued images, so the engine's thread can watch for them without the lock.
    private let submissions = Atomic<Int>(0)

    /// - Parameters:
    ///   - maxBatch: images per engine call, at most.
    ///   - maxDelay: how long the first image of a batch waits for others to join it.
    ///   - queueDepth: images that may wait for the engine before new ones are refused.
    ///   - onBatch: called after each engine call (metrics), on the engine's thread.
    public init(recognizer: Recognizer, maxBatch: Int, maxDelay: Duration, queueDepth: Int,
                onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in }) {
        precondition(maxBatch >= 1 && queueDepth >= 1, "maxBatch and queueDepth must be at least 1")
        self.recognizer = recognizer
        self.maxBatch = maxBatch
        self.maxDelay = maxDelay
        self.queueDepth = queueDepth
        self.onBatch = onBatch
        inferenceThreads = (0..<recognizer.engine.calls).map { InferenceThread(name: "resnet18.call\($0)") }
        for (lane, thread) in inferenceThreads.enumerated() {
            thread.run { recognizer.engine.bindThreadsToCPUs(lane: lane) }
        }
    }

    deinit {
        for thread in inferenceThreads { thread.stop() }
    }

    private func locked<Value, Failure: Error>(_ body: () throws(Failure) -> Value) throws(Failure) -> Value {
        state.lock()
        defer { state.unlock() }
        return try body()
    }

    /// Images waiting for the engine now.
    public var waiting: Int { locked { pending.count } }

    /// Admits `count` images that are being decoded and will come to `classify(announced: true)`:
    /// a batch waits for them (up to `maxDelay`) instead of running without them. Refused (before the
    /// decoding work) when the queue, counting the images already on their way, has no room for them.
    public func announce(_ count: Int) throws(BatcherError) {
        try locked { () throws(BatcherError) in
            if let refusal = refusal(of: count, counting: announced) { throw refusal }
            announced += count
        }
    }

    /// Says that images are likely to come within `window` (a request's headers have arrived; its body is on its
    /// way): the engine's thread wakes now and watches for them until then, so that the thread wake (tens of
    /// microseconds on a VM) overlaps the body's arrival instead of following it. It yields the CPU as it watches.
    public func expectWork(within window: Duration = .milliseconds(2)) {
        locked {
            let until = ContinuousClock.now + window
            guard pending.isEmpty, until > expectedUntil else { return }
            expectedUntil = until
            state.broadcast()
        }
    }

    /// Takes back announced images that will not come (cache hits, images that failed to decode).
    public func withdraw(_ count: Int) {
        locked {
            announced = max(0, announced - count)
            state.broadcast()
        }
    }

    /// Classifies prepared images in whatever batches they join; results in the order given.
    /// Timings include the time each image waited in the queue. `announced`: these images were announced.
    public func classify(_ images: [PreparedImage], topK: Int, includeLogits: Bool = false, includeFeatures: Bool = false,
                         announced wasAnnounced: Bool = false) async throws -> [Classification] {
        try await withCheckedThrowingContinuation { continuation in
            state.lock()
            if wasAnnounced { announced = max(0, announced - images.count) }
            // Announced images were admitted already; they only find the door shut when the server is stopping.
            let refused = wasAnnounced ? (stopping ? .shuttingDown : nil) : refusal(of: images.count, counting: announced)
            if refused == nil && !images.isEmpty {
                let id = nextJob
                nextJob += 1
                jobs[id] = Job(topK: topK, includeLogits: includeLogits, includeFeatures: includeFeatures,
                               results: Array(repeating: nil, count: images.count), remaining: images.count,
                               continuation: continuation)
                let now = ContinuousClock.now
                for (slot, image) in images.enumerated() {
                    pending.append(Entry(job: id, slot: slot, image: image, enqueued: now))
                }
                submissions.add(1, ordering: .releasing)
            }
            // New work, or (refused, empty) what waited for these images need not wait any longer.
            state.broadcast()
            state.unlock()
            if let refused {
                continuation.resume(throwing: refused)
            } else if images.isEmpty {
                continuation.resume(returning: [])
            }
        }
    }

    private func refusal(of count: Int, counting onTheirWay: Int) -> BatcherError? {
        if stopping { return .shuttingDown }
        if count > queueDepth { return .tooManyImages(count: count, depth: queueDepth) }
        if pending.count + onTheirWay + count > queueDepth { return .queueFull(depth: queueDepth) }
        return nil
    }

    /// Classifies ready tensors (3×224×224 float32 each, normalised, as `PreparedImage.tensor`).
    public func classify(tensors: [[Float]], topK: Int, includeLogits: Bool = false) async throws -> [Classification] {
        let images = tensors.map {
            PreparedImage(tensor: $0, width: 224, height: 224, decodeMilliseconds: 0, preprocessMilliseconds: 0)
        }
        return try await classify(images, topK: topK, includeLogits: includeLogits)
    }

    /// Runs engine calls until `shutdown()`; then finishes the images already queued and returns.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (lane, thread) in inferenceThreads.enumerated() {
                group.addTask {
                    await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                        thread.run { [self] in
                            runLoop(lane: lane)
                            finished.resume()
                        }
                    }
                }
            }
        }
    }

    /// Stops taking new images; `run()` returns once the queued ones are done.
    public func shutdown() {
        locked {
            stopping = true
            state.broadcast()
        }
    }

    /// The run loop, on the engine's thread for `lane`.
    private func runLoop(lane: Int) {
        state.lock()
        while true {
            if pending.isEmpty {
                if stopping { break }
                let until = expectedUntil
                if until > .now && !watching {
                    // Work is expected (`expectWork`, not `announce`): watch for it without the lock, yielding to the
                    // threads bringing it.
                    watching = true
                    let seen = submissions.load(ordering: .acquiring)
                    state.unlock()
                    while submissions.load(ordering: .acquiring) == seen && ContinuousClock.now < until { sched_yield() }
                    state.lock()
                    watching = false
                    continue
                }
                state.wait()
                continue
            }
            if pending.count < maxBatch && announced > 0 && !stopping {
                // The first image waits at most maxDelay for the others on their way.
                let left = pending[0].enqueued + maxDelay - .now
                if left > .zero {
                    let (seconds, attoseconds) = left.components
                    _ = state.wait(until: Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18))
                    continue
                }
            }
            // With several lanes, a call that is all there is (no other call running, nothing else queued or on its
            // way) runs wide, on every lane's threads, so a lone request is as fast as with one lane; under load each
            // lane runs its own call on its own cores. Nothing starts beside a wide call.
            var wide = false
            if inferenceThreads.count > 1 {
                if wideRunning {
                    state.wait()
                    continue
                }
                wide = running == 0 && pending.count <= maxBatch && announced == 0
            }
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            // What was expected has come (or will find the thread awake after this call anyway).
            expectedUntil = .now
            running += 1
            wideRunning = wide
            runEngine(on: batch, lane: lane, wide: wide)
            running -= 1
            if wide {
                wideRunning = false
                state.broadcast()  // the lanes held back may start now
            }
        }
        // Another lane may be waiting for work that will now never come.
        state.broadcast()
        state.unlock()
    }

    /// Runs one engine call and answers the requests it finishes. Called and returns with `state` locked; the
    /// engine call and the answers run without it.
    private func runEngine(on batch: [Entry], lane: Int, wide: Bool) {
        // Jobs that failed in an earlier batch have no use for the rest of their images.
        let live = batch.filter { jobs[$0.job] != nil }
        guard !live.isEmpty else { return }
        let started = ContinuousClock.now
        let topK = live.map { jobs[$0.job]!.topK }.max()!
        let includeLogits = live.contains { jobs[$0.job]!.includeLogits }
        let includeFeatures = live.contains { jobs[$0.job]!.includeFeatures }
        let waiting = pending.count
        state.unlock()
        let outcome = Result { () throws(RecognitionError) in
            try recognizer.classify(live.map(\.image), topK: topK, includeLogits: includeLogits, includeFeatures: includeFeatures,
                                    lane: lane, wide: wide)
        }
        state.lock()
        var answers: [(CheckedContinuation<[Classification], any Error>, Result<[Classification], any Error>)] = []
        switch outcome {
        case let .success(results):
            for (entry, result) in zip(live, results) {
                if let done = deliver(result, for: entry, queueMilliseconds: (started - entry.enqueued).milliseconds) {
                    answers.append((done.continuation, .success(done.results)))
                }
            }
        case let .failure(error):
            for entry in live {
                if let job = jobs.removeValue(forKey: entry.job) {
                    answers.append((job.continuation, .failure(error)))
                }
            }
        }
        state.unlock()
        // Counted before anyone is answered, so that a client reading /metrics after its answer finds its batch.
        if case let .success(results) = outcome {
            onBatch(BatchReport(size: live.count, waiting: waiting, inferenceMilliseconds: results.first?.timings.inference ?? 0,
                                lane: lane, threads: wide ? recognizer.engine.wideThreads : recognizer.engine.threads))
        }
        for (continuation, answer) in answers {
            continuation.resume(with: answer)
        }
        state.lock()
    }

    /// Files one image's result with its job; the job's continuation and results once it has them all.
    private func deliver(_ result: Classification, for entry: Entry, queueMilliseconds: Double)
        -> (continuation: CheckedContinuation<[Classification], any Error>, results: [Classification])? {
        guard var job = jobs[entry.job] else { return nil }
        var result = result
        result.top = Array(result.top.prefix(job.topK))
        if !job.includeLogits { result.logits = nil }
        if !job.includeFeatures { result.features = nil }
        result.timings.queue = queueMilliseconds
        result.timings.total += queueMilliseconds
        job.results[entry.slot] = result
        job.remaining -= 1
        if job.remaining == 0 {
            jobs[entry.job] = nil
            return (job.continuation, job.results.map { $0! })
        }
        jobs[entry.job] = job
        return nil
    }
}

/// The one thread that makes every engine call of a lane. oneDNN's OpenMP team belongs to the thread that calls
/// it: from a dispatch queue, calls land on different worker threads, each starting a team of its own whose
/// spinning threads then compete with the next call (measured: 22 ms per image instead of 12).
private final class InferenceThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopped = false

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.qualityOfService = .userInitiated
        thread.start()
    }

    /// Runs `job` on the thread, after the jobs before it.
    func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once its jobs are done.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
