import Foundation

/// ResNet-18 on oneDNN: give it NCHW float32 images, get logits.
///
/// Thread-safe: runs are serialised (oneDNN already uses every thread it was given for one run).
/// Plans are built once per batch size and share one activation arena and one scratchpad.
public final class ResNet18Engine: @unchecked Sendable {
    public let classCount: Int
    public let identity: WeightsIdentity
    public let options: EngineOptions
    /// The threads oneDNN runs with.
    public let threads: Int

    private let lock = NSLock()
    private let dnnl: DNNLEngine
    private let store: WeightStore
    private var plans: [Int: ExecutionPlan] = [:]
    private let arena = AlignedBuffer()
    private let scratch = AlignedBuffer()
    /// The input of `logits(batch:into:fillingInput:)`: two images.
    private let input = AlignedBuffer()

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
        threads = options.threads ?? DNNLEngine.maxThreads
        dnnl = try DNNLEngine()
        store = WeightStore(engine: dnnl, weights: weights)
        classCount = weights.classCount
        identity = weights.identity
        self.options = options
    }

    /// Builds (or finds) the plan for `batch` images; done ahead to keep the first request fast.
    @discardableResult
    public func prepare(batch: Int) throws(ResNetError) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        DNNLEngine.setThreads(threads)
        return try plan(batch: batch).implementations
    }

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
        lock.lock()
        defer { lock.unlock() }
        DNNLEngine.setThreads(threads)
        for batch in Set(batches + [1]) where batch > 0 { _ = try plan(batch: batch) }
        store.releaseSource()
    }

    /// Binds the OpenMP team of the calling thread to one CPU per thread. For a long-lived thread that makes
    /// every engine call (the server's); its team then stays where it is between calls.
    public func bindThreadsToCPUs() {
        lock.lock()
        defer { lock.unlock() }
        DNNLEngine.bindTeamToCPUs(threads: threads)
    }

    /// Runs `batch` images (NCHW, 3×224×224 each, normalised) into `batch × classCount` logits.
    public func logits(nchw input: UnsafeBufferPointer<Float>, batch: Int,
                       into output: UnsafeMutableBufferPointer<Float>) throws(ResNetError) {
        guard batch > 0, input.count == batch * Self.inputCount else {
            throw .badInput("expected \(batch) × 3 × 224 × 224 floats, got \(input.count)")
        }
        guard output.count == batch * classCount else {
            throw .badInput("expected room for \(batch) × \(classCount) logits, got \(output.count)")
        }
        lock.lock()
        defer { lock.unlock() }
        try run(input: input.baseAddress!, batch: batch, into: output)
    }

    /// Runs `batch` images that `fill` writes into the engine's own input buffer, a few at a time as the network
    /// reaches them: `fill(images, input)` writes images `images` of the batch (NCHW, 3×224×224 normalised floats
    /// each) at the start of `input`. The buffer holds two images whatever the batch (the stem runs two at a time),
    /// so callers that assemble a batch need no buffer of their own and the engine none of the batch's size.
    /// With `features`, also the 512 pooled features of each image (fc's input, torchvision's `avgpool` output
    /// flattened), `batch × 512` floats.
    public func logits(batch: Int, into output: UnsafeMutableBufferPointer<Float>, features: UnsafeMutableBufferPointer<Float>? = nil,
                       fillingInput fill: (_ images: Range<Int>, _ input: UnsafeMutableBufferPointer<Float>) -> Void) throws(ResNetError) {
        guard batch > 0 else { throw .badInput("a batch holds at least one image, got \(batch)") }
        guard output.count == batch * classCount else {
            throw .badInput("expected room for \(batch) × \(classCount) logits, got \(output.count)")
        }
        if let features, features.count != batch * Self.featureCount {
            throw .badInput("expected room for \(batch) × \(Self.featureCount) features, got \(features.count)")
        }
        lock.lock()
        defer { lock.unlock() }
        DNNLEngine.setThreads(threads)
        var done = 0
        while done < batch {
            let plan = try plan(for: batch - done)
            let floats = plan.imagesPerChunk * Self.inputCount
            input.reserve(floats * MemoryLayout<Float>.stride)
            let staging = input.pointer.bindMemory(to: Float.self, capacity: floats)
            let offset = done
            try plan.run(staging: staging, fill: { images, staging in
                fill((images.lowerBound + offset)..<(images.upperBound + offset),
                     UnsafeMutableBufferPointer(start: staging, count: images.count * Self.inputCount))
            }, output: output.baseAddress! + done * classCount, features: features.map { $0.baseAddress! + done * Self.featureCount },
               arena: arena.pointer, scratch: scratch.pointer)
            done += plan.batch
        }
    }

    /// The engine call itself; the lock is held.
    private func run(input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutableBufferPointer<Float>) throws(ResNetError) {
        // OpenMP's thread count is a per-thread setting, and callers come from any thread.
        DNNLEngine.setThreads(threads)
        var done = 0
        while done < batch {
            let plan = try plan(for: batch - done)
            try plan.run(input: input + done * Self.inputCount, output: output.baseAddress! + done * classCount,
                         arena: arena.pointer, scratch: scratch.pointer)
            done += plan.batch
        }
    }

    /// The plan for the next call on `remaining` images: a plan of that size, or without source weights the
    /// largest planned size that fits.
    private func plan(for remaining: Int) throws(ResNetError) -> ExecutionPlan {
        let size = store.hasSource || plans[remaining] != nil ? remaining : plans.keys.filter { $0 <= remaining }.max()!
        return try plan(batch: size)
    }

    /// Bytes the engine holds: reordered weights (every layout a plan asked for), the shared activation arena
    /// and the shared scratchpad.
    public var memory: (weights: Int, arena: Int, scratchpad: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (store.byteCount, arena.byteCount, scratch.byteCount)
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
        lock.lock()
        defer { lock.unlock() }
        DNNLEngine.setThreads(threads)
        let plan = try plan(batch: batch)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: batch * classCount)
        defer { output.deallocate() }
        var times = [[Double]](repeating: [], count: plan.stepNames.count)
        for run in 0..<(runs + 3) {
            let steps = try plan.runTimingSteps(input: input.baseAddress!, output: output, arena: arena.pointer, scratch: scratch.pointer)
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

    private func plan(batch: Int) throws(ResNetError) -> ExecutionPlan {
        if let plan = plans[batch] { return plan }
        let plan = try ExecutionPlan(batch: batch, classCount: classCount, engine: dnnl, store: store, options: options)
        arena.reserve(plan.arenaBytes)
        scratch.reserve(plan.scratchpadBytes)
        plans[batch] = plan
        return plan
    }
}
