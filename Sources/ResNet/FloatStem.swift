import CDNNL
import CKernels

/// ResNet-18's stem in fp32 as one step on one of the project's kernels: the 7×7 stride-2 convolution with its bias
/// and ReLU and the 3×3 stride-2 max pooling, from the caller's NCHW input into the blocked layout the next layers
/// read. Both pool the stem rows while they are in cache, where oneDNN's pooling primitive reads the convolution's
/// 112×112×64 output (3.2 MB an image) back from memory.
final class FloatStem: KernelStep {
    enum Kernel {
        /// AVX-512 (`CKernels/stem_winograd.c`), into nChw16c: the convolution as Winograd F(3×3, 4×4) over the
        /// input's four phases. Direct, the stem makes 147 products an output value and oneDNN runs them at the FMA
        /// peak; the phases make it four stride-1 convolutions, which Winograd does in 48 (docs/design.md).
        case winograd
        /// AVX2 and FMA without AVX-512: `winograd`'s steps and weights 8 floats a vector (the same file), into
        /// nChw8c. On a Zen 3 the step took 1.5-1.7× the next convolution's time against 2.5-2.9× for the direct
        /// `CKernels/stem_avx2.c` it replaced (kept as the baseline `Avx2StemTests` checks; engine-plan.md).
        case winogradAVX2
    }

    private let kernel: Kernel
    private let source: DNNLMemory
    private let destination: DNNLMemory
    private let batch: Int
    private let weights: AlignedBuffer
    private let bias: [Float]
    private let threads: Int

    /// Whether this CPU runs `kernel`.
    static func supported(_ kernel: Kernel) -> Bool {
        switch kernel {
        case .winograd: resnet18_stem_winograd_supported() != 0
        case .winogradAVX2: resnet18_stem_winograd_avx2_supported() != 0
        }
    }

    /// - Parameters:
    ///   - source: `batch` NCHW f32 images, 224×224, normalised.
    ///   - destination: f32 `[batch, 64, 56, 56]`, nChw16c (64-byte aligned) for `.winograd`, nChw8c for the AVX2 ones.
    ///   - weights: the kernels' packing (`WeightStore.stemWeights`).
    ///   - bias: the folded bias [64].
    init(_ kernel: Kernel, batch: Int, source: DNNLMemory, destination: DNNLMemory, weights: AlignedBuffer, bias: [Float],
         threads: Int) {
        self.kernel = kernel
        self.batch = batch
        self.source = source
        self.destination = destination
        self.weights = weights
        self.bias = bias
        self.threads = threads
    }

    var scratchpadBytes: Int { resnet18_stem_winograd_scratch_bytes(Int32(batch), Int32(threads)) }

    var implementation: String {
        switch kernel {
        case .winograd: "resnet18_stem_pool_wino_3x4:avx512"
        case .winogradAVX2: "resnet18_stem_pool_wino_3x4:avx2"
        }
    }

    var bound: [DNNLMemory] { [source, destination] }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        let src = UnsafePointer(source.pointer.assumingMemoryBound(to: Float.self))
        let packed = UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self))
        let dst = destination.pointer.assumingMemoryBound(to: Float.self)
        let status = bias.withUnsafeBufferPointer { bias in
            var stem = resnet18_stem_winograd(batch: Int32(batch), src: src, weights: packed, bias: bias.baseAddress,
                                              dst: dst, scratch: scratchpad, threads: Int32(threads))
            return kernel == .winograd ? resnet18_stem_winograd_run(&stem) : resnet18_stem_winograd_avx2_run(&stem)
        }
        guard status == 0 else { throw .engine("the \(implementation) stem kernel refused to run (a buffer not 64-byte aligned?)") }
    }
}
