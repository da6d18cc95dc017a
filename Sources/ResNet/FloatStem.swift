import CDNNL
import CKernels

/// ResNet-18's stem in fp32 as one step on one of the project's kernels: the 7×7 stride-2 convolution with its bias
/// and ReLU and the 3×3 stride-2 max pooling, from the caller's NCHW input into the blocked layout the next layers
/// read. Both pool the stem rows while they are in cache, where oneDNN's pooling primitive reads the convolution's
/// 112×112×64 output (3.2 MB an image) back from memory.
///
/// The AVX2 form also runs the int8 plan's stem where the CPU has no VNNI (`u8Scale`): the same fp32 arithmetic,
/// the pooled values rounded to u8 nhwc at the stem output's int8 scale as they are written. On a Zen 3 it took
/// less time than oneDNN's s8 reorder, AVX2 int8 convolution and pooling together (engine-plan.md), and its only
/// rounding is the output's, where the int8 stem also rounds the input and the weights.
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
    private let u8Scale: Float?

    /// Whether this CPU runs `kernel`.
    static func supported(_ kernel: Kernel) -> Bool {
        switch kernel {
        case .winograd: resnet18_stem_winograd_supported() != 0
        case .winogradAVX2: resnet18_stem_winograd_avx2_supported() != 0
        }
    }

    /// - Parameters:
    ///   - source: `batch` NCHW f32 images, 224×224, normalised.
    ///   - destination: f32 `[batch, 64, 56, 56]`, nChw16c (64-byte aligned) for `.winograd`, nChw8c for
    ///     `.winogradAVX2`; with `u8Scale`, u8 nhwc.
    ///   - weights: the kernels' packing (`WeightStore.stemWeights`).
    ///   - bias: the folded bias [64].
    ///   - u8Scale: `.winogradAVX2` only: write u8 levels (value × scale, rounded, saturated at 255) instead of floats.
    init(_ kernel: Kernel, batch: Int, source: DNNLMemory, destination: DNNLMemory, weights: AlignedBuffer, bias: [Float],
         threads: Int, u8Scale: Float? = nil) {
        precondition(u8Scale == nil || kernel == .winogradAVX2, "only the AVX2 form writes u8")
        self.kernel = kernel
        self.batch = batch
        self.source = source
        self.destination = destination
        self.weights = weights
        self.bias = bias
        self.threads = threads
        self.u8Scale = u8Scale
    }

    var scratchpadBytes: Int { resnet18_stem_winograd_scratch_bytes(Int32(batch), Int32(threads)) }

    var implementation: String {
        switch kernel {
        case .winograd: "resnet18_stem_pool_wino_3x4:avx512"
        case .winogradAVX2: u8Scale == nil ? "resnet18_stem_pool_wino_3x4:avx2" : "resnet18_stem_pool_wino_3x4_u8:avx2"
        }
    }

    var bound: [DNNLMemory] { [source, destination] }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        let src = UnsafePointer(source.pointer.assumingMemoryBound(to: Float.self))
        let packed = UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self))
        let status = bias.withUnsafeBufferPointer { bias in
            var stem = resnet18_stem_winograd(batch: Int32(batch), src: src, weights: packed, bias: bias.baseAddress,
                                              dst: u8Scale == nil ? destination.pointer.assumingMemoryBound(to: Float.self) : nil,
                                              scratch: scratchpad, threads: Int32(threads))
            if let u8Scale {
                return resnet18_stem_winograd_avx2_run_u8(&stem, destination.pointer.assumingMemoryBound(to: UInt8.self), u8Scale)
            }
            return kernel == .winograd ? resnet18_stem_winograd_run(&stem) : resnet18_stem_winograd_avx2_run(&stem)
        }
        guard status == 0 else { throw .engine("the \(implementation) stem kernel refused to run (a buffer not 64-byte aligned?)") }
    }
}
