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

    /// Floating-point operations of one image (2 per multiply-add).
    public static let flopsPerImage = ResNet18Architecture.flopsPerImage
    /// Elements of one input image: 3 × 224 × 224.
    public static let inputCount = 3 * ResNet18Architecture.inputSize * ResNet18Architecture.inputSize

    public init(weights: ResNet18Weights, options: EngineOptions = .init()) throws(ResNetError) {
        if options.precision == .int8 {
            guard let quantization = options.quantization else {
                throw .quantization("precision int8 needs calibration parameters for \(weights.identity): run `resnet18 quantize` to make them, or use fp32 or bf16")
            }
            try quantization.check(against: weights.identity)
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
        // OpenMP's thread count is a per-thread setting, and callers come from any thread.
        DNNLEngine.setThreads(threads)
        var done = 0
        while done < batch {
            // Without source weights, run the largest planned size that fits; otherwise plan this size.
            let size = store.hasSource || plans[batch - done] != nil
                ? batch - done
                : plans.keys.filter { $0 <= batch - done }.max()!
            let plan = try plan(batch: size)
            try plan.run(input: input.baseAddress! + done * Self.inputCount, output: output.baseAddress! + done * classCount,
                         arena: arena.pointer, scratch: scratch.pointer)
            done += size
        }
    }

    /// Bytes the engine holds: reordered weights (every layout a plan asked for), the shared activation arena
    /// and the shared scratchpad.
    public var memory: (weights: Int, arena: Int, scratchpad: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (store.byteCount, arena.byteCount, scratch.byteCount)
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
