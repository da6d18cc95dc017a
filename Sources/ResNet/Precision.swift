/// The arithmetic the engine runs in.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// float32 everywhere: what torchvision computes, within 1e-3 on the logits.
    case fp32
    /// bfloat16 activations and weights with float32 accumulation: AVX-512 needed (native with AVX-512 BF16).
    case bf16
    /// uint8 activations, int8 weights; needs calibration parameters. The project's kernels and oneDNN's fastest
    /// need AVX-512 VNNI; without it oneDNN's AVX2 int8 convolutions run instead.
    case int8
}

/// How an engine is built.
public struct EngineOptions: Sendable {
    /// OpenMP threads one engine call uses; nil means all cores shared out among the `calls`.
    public var threads: Int?
    /// Engine calls that can run at once, each on its own `threads` (lanes over one copy of the weights).
    public var calls: Int
    public var precision: Precision
    /// Winograd on the 3x3 stride-1 convolutions. fp32: oneDNN's on layers 1-3, the project's own kernel
    /// (`WinogradConvolution`, no transformed weights kept) on layer 4 in batches of 4 or more and on layers 1-2
    /// in batches of 8 or more. int8: the project's F(4x4) kernel in 16-bit integers on layers 1-2
    /// (`Int16WinogradConvolution`), and its 8-bit F(2x2) on layer 3 (`Int8WinogradConvolution`) when the parameters
    /// have its transform-point ranges. bf16: none.
    public var winograd: Bool
    /// No Winograd weights of their own on layer 4 for batches of 1 and 2: instead of oneDNN's 2x3, whose
    /// transformed weights are 50 MB, `WinogradConvolution` (which transforms the plain weights as it runs). Less
    /// memory for a slower lone image (bench/results/engine-plan.md).
    public var leanWinograd: Bool
    /// Activation ranges from `resnet18 quantize`; required by `.int8`, ignored otherwise.
    public var quantization: QuantizationParameters?
    /// The stem (the 7x7 convolution, its ReLU and the max pooling; in int8 the input's quantisation too) in one step
    /// on the project's kernel where the CPU has it: int8 with AVX-512 VNNI (`Int8Stem`), fp32 with AVX-512
    /// or with AVX2 alone and int8 with AVX2 alone (`FloatStem`); false, or on other CPUs and in bf16, oneDNN's
    /// primitives.
    public var ownStem: Bool

    public init(threads: Int? = nil, calls: Int = 1, precision: Precision = .fp32, winograd: Bool = true, leanWinograd: Bool = false,
                quantization: QuantizationParameters? = nil, ownStem: Bool = true) {
        self.calls = calls
        self.leanWinograd = leanWinograd
        self.ownStem = ownStem
        self.threads = threads
        self.precision = precision
        self.winograd = winograd
        self.quantization = quantization
    }
}

extension EngineOptions {
    /// Threads beyond which one call mostly waits: the smallest layers (7×7 maps) have a few hundred tiles of work at
    /// batch 1 and every layer ends at a barrier (docs/performance.md, "16 and 64 cores, on paper").
    public static let threadsWorthACall = 8

    /// The most calls an engine runs at once (each holds an arena and a scratchpad of its own).
    public static let maxCalls = 256

    /// Refuses a call count outside 1 ... `maxCalls`, naming `flag`.
    public static func checkCalls(_ calls: Int, flag: String) throws(ResNetError) {
        guard (1...maxCalls).contains(calls) else { throw .badInput("\(flag) must be from 1 to \(maxCalls), not \(calls)") }
    }

    /// How many calls a server should run at once on `cores` cores: one per `threadsWorthACall` cores, so each call
    /// has up to about 8 threads and all cores are used (a lone image still gets them all: the batcher runs it wide).
    /// One call on up to 15 cores: on 2 cores two lanes served no more requests and held a second arena (24 MB).
    public static func defaultCalls(cores: Int) -> Int {
        max(1, cores / threadsWorthACall)
    }
}
