import CThreadBinding
import Foundation

/// ResNet-18 on oneDNN: give it NCHW float32 images, get logits.
///
/// Thread-safe. The engine has `options.calls` lanes: each runs one call at a time with `threads` OpenMP threads,
/// and calls on different lanes run at once, over one copy of the weights. A lane has its own plans (one per batch
/// size and thread count, built once; a plan binds its buffers as it runs), its own activation arena, scratchpad
/// and oneDNN stream. A lane's call may also be wide, on `wideThreads` (every lane's threads), when the caller
/// knows the other lanes are idle. Calls without a lane go to lane 0.
public final class ResNet18Engine: @unchecked Sendable {
    public let classCount: Int
    public let identity: WeightsIdentity
    public let options: EngineOptions
    /// The threads oneDNN runs with in one call.
    public let threads: Int
    /// Calls that can run at once (lanes), each on `threads` threads.
    public var calls: Int { lanes.count }
    /// The threads of a wide call: all lanes' together.
    public var wideThreads: Int { threads * lanes.count }

    /// Guards the weight store and plan building, which every lane shares.
    private let buildLock = NSLock()
    private let store: WeightStore
    private let lanes: [Lane]

    private struct PlanKey: Hashable {
        let batch: Int
        let threads: Int
    }

    /// What one call at a time uses.
    private final class Lane {
        let lock = NSLock()
        let dnnl: DNNLEngine
        var plans: [PlanKey: ExecutionPlan] = [:]
        let arena = AlignedBuffer()
        let scratch = AlignedBuffer()
        /// The input of `logits(batch:into:fillingInput:)`: two images.
        let input = AlignedBuffer()

        init(dnnl: DNNLEngine) { self.dnnl = dnnl }
    }

    /// Floating-point operations of one image (2 per multiply-add).
    public static let flopsPerImage = ResNet18Architecture.flopsPerImage
    /// Elements of one input image: 3 × 224 × 224.
    public static let inputCount = 3 * ResNet18Architecture.inputSize * ResNet18Architecture.inputSize
    /// Features per image after global average pooling (the input of fc).
    public static let featureCount = 512

    public init(weights: ResNet18Weights, options: EngineOptions = .init()) throws(ResNetError) {
        if options.precision == .int8 {
            guard let quantization = options.quantization else {
                throw .quantization("precision int8 needs calibration parameters for \(weights.identity): run `resnet18 quantize` to make them, or use fp32 or bf16")
            }
            try quantization.check(against: weights.identity)
        }
        // oneDNN computes bf16 only with AVX-512; elsewhere it has no bf16 convolution at all, not even a slow one.
        if options.precision == .bf16 && !DNNLInstructionSet.avx512 {
            throw .unsupportedCPU("precision bf16 needs a CPU with AVX-512 (oneDNN runs \(DNNLInstructionSet.name) here): use fp32, or int8 with calibration parameters")
        }
        let calls = max(1, options.calls)
        threads = options.threads ?? max(1, DNNLEngine.maxThreads / calls)
        // The store reorders weights on a stream of its own, so that building a plan never shares a stream with a
        // lane's running call.
        let building = try DNNLEngine()
        store = WeightStore(engine: building, weights: weights)
        var lanes: [Lane] = []
        for _ in 0..<calls { lanes.append(Lane(dnnl: try DNNLEngine(sharingEngineOf: building))) }
        self.lanes = lanes
        classCount = weights.classCount
        identity = weights.identity
        self.options = options
    }

    /// Builds (or finds) every lane's plans for `batch` images (on `threads`, and on `wideThreads` with several
    /// lanes); done ahead to keep the first request fast. Returns the implementation of each step of the plan on
    /// `threads`.
    @discardableResult
    public func prepare(batch: Int) throws(ResNetError) -> [String] {
        var implementations: [String] = []
        for lane in lanes {
            lane.lock.lock()
            defer { lane.lock.unlock() }
            for threads in threadCounts.reversed() {
                implementations = try plan(batch: batch, threads: threads, in: lane).implementations
            }
        }
        return implementations
    }

    /// The thread counts a lane has plans for: `threads`, and `wideThreads` with more than one lane.
    private var threadCounts: [Int] { lanes.count > 1 ? [threads, wideThreads] : [threads] }

    /// The batch sizes worth a plan for batches of up to `maxBatch` images: 1, 2, 4, ... below it, and `maxBatch`.
    /// Other sizes run as a few calls of those (7 as 4 + 2 + 1).
    public static func plannedBatches(upTo maxBatch: Int) -> [Int] {
        Array(sequence(first: 1) { $0 * 2 }.prefix { $0 < maxBatch }) + [max(maxBatch, 1)]
    }

    /// Builds the plans for `batches`, then frees the folded source weights, which only plan building reads.
    ///
    /// Afterwards a batch size without a plan runs as several calls of the sizes that have one
    /// (batch 1 always has), so nothing is refused; it is only slower than a plan of its own.
    public func finishPreparing(batches: [Int]) throws(ResNetError) {
        for lane in lanes {
            lane.lock.lock()
            defer { lane.lock.unlock() }
            for threads in threadCounts {
                for batch in Set(batches + [1]) where batch > 0 { _ = try plan(batch: batch, threads: threads, in: lane) }
            }
        }
        buildLock.lock()
        store.releaseSource()
        buildLock.unlock()
    }

    /// Binds the OpenMP team of the calling thread to one CPU per thread, and names the thread `resnet18.callN` (as
    /// `top -H` shows it). For a long-lived thread that makes every call on lane `lane` (the server's); its team then
    /// stays where it is between calls. The team is a wide call's (`wideThreads`), starting at the lane's own CPUs
    /// (the `threads` after those of the lanes before it) and counting round, so a call on `threads` runs on the
    /// lane's CPUs and a wide one on all. A lone thread (one lane of one thread) is left to the scheduler.
    public func bindThreadsToCPUs(lane: Int = 0) {
        let lane = min(max(lane, 0), lanes.count - 1)
        resnet18_name_this_thread("resnet18.call\(lane)")
        lanes[lane].lock.lock()
        defer { lanes[lane].lock.unlock() }
        DNNLEngine.bindTeamToCPUs(threads: wideThreads, firstCPU: lane * threads)
    }

    /// Runs `batch` images (NCHW, 3×224×224 each, normalised) into `batch × classCount` logits, on lane `lane`.
    public func logits(nchw input: UnsafeBufferPointer<Float>, batch: Int,
                       into output: UnsafeMutableBufferPointer<Float>, lane laneIndex: Int = 0) throws(ResNetError) {
        guard batch > 0, input.count == batch * Self.inputCount else {
            throw .badInput("expected \(batch) × 3 × 224 × 224 floats, got \(input.count)")
        }
        guard output.count == batch * classCount else {
            throw .badInput("expected room for \(batch) × \(classCount) logits, got \(output.count)")
        }
        let lane = try lane(laneIndex)
        lane.lock.lock()
        defer { lane.lock.unlock() }
        try run(input: input.baseAddress!, batch: batch, into: output, in: lane)
    }

    /// Runs `batch` images that `fill` writes into the engine's own input buffer, a few at a time as the network
    /// reaches them: `fill(images, input)` writes images `images` of the batch (NCHW, 3×224×224 normalised floats
    /// each) at the start of `input`. The buffer holds two images whatever the batch (the stem runs two at a time),
    /// so callers that assemble a batch need no buffer of their own and the engine none of the batch's size.
    /// With `features`, also the 512 pooled features of each image (fc's input, torchvision's `avgpool` output
    /// flattened), `batch × 512` floats. `lane` (0 ..< `calls`) chooses the lane; calls on different lanes run at once.
    /// `wide`: on `wideThreads` instead of `threads`, for a caller that knows no other lane is running (or it would
    /// share their cores).
    public func logits(batch: Int, into output: UnsafeMutableBufferPointer<Float>, features: UnsafeMutableBufferPointer<Float>? = nil,
                       lane laneIndex: Int = 0, wide: Bool = false,
                       fillingInput fill: (_ images: Range<Int>, _ input: UnsafeMutableBufferPointer<Float>) -> Void) throws(ResNetError) {
        guard batch > 0 else { throw .badInput("a batch holds at least one image, got \(batch)") }
        guard output.count == batch * classCount else {
            throw .badInput("expected room for \(batch) × \(classCount) logits, got \(output.count)")
        }
        if let features, features.count != batch * Self.featureCount {
            throw .badInput("expected room for \(batch) × \(Self.featureCount) features, got \(features.count)")
        }
        let lane = try lane(laneIndex)
        lane.lock.lock()
        defer { lane.lock.unlock() }
        let threads = wide ? wideThreads : threads
        DNNLEngine.setThreads(threads)
        var done = 0
        while done < batch {
            let plan = try plan(batch: batch - done, threads: threads, in: lane)
            let floats = plan.imagesPerChunk * Self.inputCount
            lane.input.reserve(floats * MemoryLayout<Float>.stride)
            let staging = lane.input.pointer.bindMemory(to: Float.self, capacity: floats)
            let offset = done
            try plan.run(staging: staging, fill: { images, staging in
                fill((images.lowerBound + offset)..<(images.upperBound + offset),
                     UnsafeMutableBufferPointer(start: staging, count: images.count * Self.inputCount))
            }, output: output.baseAddress! + done * classCount, features: features.map { $0.baseAddress! + done * Self.featureCount },
               arena: lane.arena.pointer, scratch: lane.scratch.pointer)
            done += plan.batch
        }
    }

    /// Lane `index`, or an error naming the lanes there are.
    private func lane(_ index: Int) throws(ResNetError) -> Lane {
        guard lanes.indices.contains(index) else {
            throw .badInput("lane \(index) does not exist: this engine runs \(lanes.count) call(s) at once")
        }
        return lanes[index]
    }

    /// The engine call itself; the lane's lock is held.
    private func run(input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutableBufferPointer<Float>, in lane: Lane) throws(ResNetError) {
        // OpenMP's thread count is a per-thread setting, and callers come from any thread.
        DNNLEngine.setThreads(threads)
        var done = 0
        while done < batch {
            let plan = try plan(batch: batch - done, threads: threads, in: lane)
            try plan.run(input: input + done * Self.inputCount, output: output.baseAddress! + done * classCount,
                         arena: lane.arena.pointer, scratch: lane.scratch.pointer)
            done += plan.batch
        }
    }

    /// Bytes the engine holds: reordered weights (every layout a plan asked for, one copy for every lane), and
    /// the activation arenas and scratchpads of all lanes together.
    public var memory: (weights: Int, arena: Int, scratchpad: Int) {
        var arena = 0, scratchpad = 0
        for lane in lanes {
            lane.lock.lock()
            arena += lane.arena.byteCount
            scratchpad += lane.scratch.byteCount
            lane.lock.unlock()
        }
        buildLock.lock()
        defer { buildLock.unlock() }
        return (store.byteCount, arena, scratchpad)
    }

    /// One step of a plan and its median time: where a batch's time goes (`bench --layers`).
    public struct StepTime: Sendable {
        /// The convolution's name (`layer3.0.conv1`), or the oneDNN primitive's kind (`pooling`, `reorder`).
        public let name: String
        /// The implementation that runs it (`jit_wino_4x3:avx512_core`, `resnet18_wino_4x3_streamed:avx512`).
        public let implementation: String
        public let medianMilliseconds: Double
    }

    /// Each step of the plan for `batch` images with its median time over `runs` runs of `nchw` (after 3 warm-up
    /// runs), each step waited for before the next starts.
    public func stepTimes(nchw input: UnsafeBufferPointer<Float>, batch: Int, runs: Int) throws(ResNetError) -> [StepTime] {
        guard batch > 0, input.count == batch * Self.inputCount else {
            throw .badInput("expected \(batch) × 3 × 224 × 224 floats, got \(input.count)")
        }
        guard runs > 0 else { throw .badInput("step times need at least one run, got \(runs)") }
        let lane = lanes[0]
        lane.lock.lock()
        defer { lane.lock.unlock() }
        DNNLEngine.setThreads(threads)
        let plan = try plan(batch: batch, threads: threads, in: lane)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: batch * classCount)
        defer { output.deallocate() }
        var times = [[Double]](repeating: [], count: plan.stepNames.count)
        for run in 0..<(runs + 3) {
            let steps = try plan.runTimingSteps(input: input.baseAddress!, output: output, arena: lane.arena.pointer, scratch: lane.scratch.pointer)
            guard run >= 3 else { continue }
            for (index, time) in steps.enumerated() {
                times[index].append(Double(time.components.seconds) * 1000 + Double(time.components.attoseconds) / 1e15)
            }
        }
        return zip(plan.stepNames, plan.implementations).enumerated().map { index, step in
            let sorted = times[index].sorted()
            return StepTime(name: step.0, implementation: step.1, medianMilliseconds: sorted[sorted.count / 2])
        }
    }

    /// Convenience form of `logits(nchw:batch:into:)`.
    public func logits(nchw input: [Float], batch: Int) throws(ResNetError) -> [Float] {
        var output = [Float](repeating: 0, count: batch * classCount)
        try input.withUnsafeBufferPointer { (inputBuffer) throws(ResNetError) in
            try output.withUnsafeMutableBufferPointer { (outputBuffer) throws(ResNetError) in
                try logits(nchw: inputBuffer, batch: batch, into: outputBuffer)
            }
        }
        return output
    }

    /// The lane's plan for `batch` images on `threads` threads, built on first use (with the calling thread's
    /// OpenMP count set to `threads`, which the kernels size their work by); once the source weights are gone
    /// (`finishPreparing`) no plan can be built, and the largest planned size that fits stands in (batch 1 always
    /// has one), so that a later `finishPreparing` or `prepare` for other sizes changes nothing. The lane's lock is held.
    private func plan(batch: Int, threads: Int, in lane: Lane) throws(ResNetError) -> ExecutionPlan {
        if let plan = lane.plans[PlanKey(batch: batch, threads: threads)] { return plan }
        buildLock.lock()
        defer { buildLock.unlock() }
        guard store.hasSource else {
            guard let size = lane.plans.keys.filter({ $0.threads == threads && $0.batch <= batch }).map(\.batch).max() else {
                throw .engine("no plan for \(batch) image(s) on \(threads) thread(s) and the source weights are released: prepare batch 1 first")
            }
            return lane.plans[PlanKey(batch: size, threads: threads)]!
        }
        DNNLEngine.setThreads(threads)
        let plan = try ExecutionPlan(batch: batch, classCount: classCount, engine: lane.dnnl, store: store, options: options)
        lane.arena.reserve(plan.arenaBytes)
        lane.scratch.reserve(plan.scratchpadBytes)
        lane.plans[PlanKey(batch: batch, threads: threads)] = plan
        return plan
    }
}
