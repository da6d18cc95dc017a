import CDNNL
import CKernels

/// ResNet-18's stem in int8 as one step on the project's kernel (`CKernels/stem_int8.c`): the f32 input quantised
/// to s8, the 7×7 stride-2 convolution with its bias and ReLU, and the 3×3 stride-2 max pooling, into u8 nhwc.
///
/// oneDNN's int8 stem pads the image's 3 channels to VNNI's groups of 4 (a quarter of its products are zeros) and
/// runs as three primitives (quantising reorder, convolution, pooling) that pass the 112×112×64 stem output through
/// memory; here each output pixel's 147 taps are copied from the padded nhwc input into one 148-byte column (the
/// last byte meets a zero weight), and the stem rows are pooled while they are in cache.
final class Int8Stem: KernelStep {
    private let source: DNNLMemory
    private let destination: DNNLMemory
    private let batch: Int
    private let weights: Int8StemWeights
    private let inputScale: Float
    private let multipliers: [Float]
    private let bias: [Float]
    private let threads: Int

    /// Whether this CPU runs the kernel (AVX-512 VNNI).
    static var supported: Bool { resnet18_stem_int8_supported() != 0 }

    /// - Parameters:
    ///   - source: `batch` NCHW f32 images, 224×224, normalised.
    ///   - destination: u8 nhwc `[batch, 64, 56, 56]`, at `outputScale` (stored integer = scale × value).
    ///   - inputScale: the input's s8 scale.
    ///   - floatBias: the folded bias, in real units.
    init(batch: Int, source: DNNLMemory, destination: DNNLMemory, weights: Int8StemWeights, floatBias: [Float],
         inputScale: Float, outputScale: Float, threads: Int) {
        self.batch = batch
        self.source = source
        self.destination = destination
        self.weights = weights
        self.inputScale = inputScale
        multipliers = weights.scales.map { outputScale / (inputScale * $0) }
        bias = floatBias.map { $0 * outputScale }
        self.threads = threads
    }

    var scratchpadBytes: Int { resnet18_stem_int8_scratch_bytes(Int32(batch), Int32(threads)) }

    let implementation = "resnet18_stem_pool_int8:avx512_vnni"

    var bound: [DNNLMemory] { [source, destination] }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        let status = multipliers.withUnsafeBufferPointer { multipliers in
            bias.withUnsafeBufferPointer { bias in
                weights.compensation.withUnsafeBufferPointer { compensation in
                    var stem = resnet18_stem_int8(
                        batch: Int32(batch), src: UnsafePointer(source.pointer.assumingMemoryBound(to: Float.self)),
                        input_scale: inputScale,
                        weights: UnsafePointer(weights.values.pointer.assumingMemoryBound(to: Int8.self)),
                        compensation: compensation.baseAddress, multiplier: multipliers.baseAddress, bias: bias.baseAddress,
                        dst: destination.pointer.assumingMemoryBound(to: UInt8.self), scratch: scratchpad,
                        threads: Int32(threads))
                    return resnet18_stem_int8_run(&stem)
                }
            }
        }
        guard status == 0 else { throw .engine("the int8 stem kernel refused to run (scratchpad not 64-byte aligned?)") }
    }
}
