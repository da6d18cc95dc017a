import CDNNL
import CKernels

/// ResNet-18's stem in fp32 on CPUs with AVX2 but no AVX-512, as one step on the project's kernel
/// (`CKernels/stem_avx2.c`): the 7×7 stride-2 convolution with its bias and ReLU and the 3×3 stride-2 max pooling,
/// from the caller's NCHW input into nChw8c.
///
/// oneDNN's stem is a convolution and a pooling primitive that reads the convolution's 112×112×64 output back from
/// memory; the kernel's products run at the same FMA peak, and it pools the stem rows while they are in cache: a lone
/// image 1-4 % faster on a Zen 2 CPU, a batch of 8 no faster beyond the machine's noise (docs/performance.md).
final class Avx2Stem: KernelStep {
    private let source: DNNLMemory
    private let destination: DNNLMemory
    private let batch: Int
    private let weights: AlignedBuffer
    private let bias: [Float]
    private let threads: Int

    /// Whether this CPU runs the kernel (AVX2 and FMA).
    static var supported: Bool { resnet18_stem_avx2_supported() != 0 }

    /// - Parameters:
    ///   - source: `batch` NCHW f32 images, 224×224, normalised.
    ///   - destination: f32 nChw8c `[batch, 64, 56, 56]`.
    ///   - weights: `resnet18_stem_avx2_pack_weights`'s layout.
    ///   - bias: the folded bias [64].
    init(batch: Int, source: DNNLMemory, destination: DNNLMemory, weights: AlignedBuffer, bias: [Float], threads: Int) {
        self.batch = batch
        self.source = source
        self.destination = destination
        self.weights = weights
        self.bias = bias
        self.threads = threads
    }

    var scratchpadBytes: Int { resnet18_stem_avx2_scratch_bytes(Int32(batch), Int32(threads)) }

    let implementation = "resnet18_stem_pool_f32:avx2"

    var bound: [DNNLMemory] { [source, destination] }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        let status = bias.withUnsafeBufferPointer { bias in
            var stem = resnet18_stem_avx2(
                batch: Int32(batch), src: UnsafePointer(source.pointer.assumingMemoryBound(to: Float.self)),
                weights: UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self)), bias: bias.baseAddress,
                dst: destination.pointer.assumingMemoryBound(to: Float.self), scratch: scratchpad, threads: Int32(threads))
            return resnet18_stem_avx2_run(&stem)
        }
        guard status == 0 else { throw .engine("the AVX2 stem kernel refused to run (scratchpad not 64-byte aligned?)") }
    }
}
