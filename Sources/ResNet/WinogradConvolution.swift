import CDNNL
import CKernels

/// A 3×3 stride-1 convolution run by the project's own Winograd F(4×4, 3×3) kernel (`CKernels`): layer 4's
/// small, wide maps in batches of 4 or more, layers 1 and 2 in batches of 8 or more (`ExecutionPlan.runsOwnWinograd`).
///
/// oneDNN's Winograd keeps each convolution's weights transformed, four times their plain size; this kernel keeps
/// only the plain ABcd16b16a weights (shared with oneDNN's direct convolution in lean plans of batch 1 and 2) and
/// transforms them block by block as it runs, into the plan's scratchpad. Where the plan uses it, it was about as
/// fast as oneDNN's Winograd or faster, and faster than the direct convolution (bench/results/engine-plan.md).
final class WinogradConvolution: KernelStep {
    private let source: DNNLMemory
    private let destination: DNNLMemory
    private let weights: DNNLMemory
    private let bias: DNNLMemory
    private let spec: ConvSpec
    private let batch: Int
    private let side: Int
    private let accumulate: Bool
    private let relu: Bool
    private let threads: Int

    /// The weights layout the kernel reads.
    static func weightsDesc(_ spec: ConvSpec) throws(ResNetError) -> MemoryDesc {
        try MemoryDesc(dims: [spec.outChannels, spec.inChannels, 3, 3], type: dnnl_f32, tag: dnnl_ABcd16b16a)
    }

    /// Whether the kernel runs this convolution on this CPU (AVX-512) at this batch size.
    static func accepts(_ spec: ConvSpec, batch: Int, side: Int) -> Bool {
        spec.kernel == 3 && spec.stride == 1 && spec.padding == 1
            && resnet18_winograd_supported() != 0
            && resnet18_winograd_accepts(Int32(batch), Int32(spec.inChannels), Int32(spec.outChannels), Int32(side), Int32(side)) != 0
    }

    init(_ spec: ConvSpec, batch: Int, side: Int, source: DNNLMemory, destination: DNNLMemory, weights: DNNLMemory,
         bias: DNNLMemory, accumulate: Bool, relu: Bool, threads: Int) {
        self.spec = spec
        self.batch = batch
        self.side = side
        self.source = source
        self.destination = destination
        self.weights = weights
        self.bias = bias
        self.accumulate = accumulate
        self.relu = relu
        self.threads = threads
    }

    /// Scratchpad bytes one run needs.
    var scratchpadBytes: Int {
        resnet18_winograd_scratch_bytes(Int32(batch), Int32(spec.inChannels), Int32(spec.outChannels), Int32(side), Int32(side),
                                        Int32(threads))
    }

    let implementation = "resnet18_wino_4x3_streamed:avx512"

    var bound: [DNNLMemory] { [source, destination] }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        var conv = resnet18_winograd_conv(
            batch: Int32(batch), channels_in: Int32(spec.inChannels), channels_out: Int32(spec.outChannels),
            height: Int32(side), width: Int32(side),
            src: UnsafePointer(source.pointer.assumingMemoryBound(to: Float.self)),
            dst: destination.pointer.assumingMemoryBound(to: Float.self),
            weights: UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self)),
            bias: UnsafePointer(bias.pointer.assumingMemoryBound(to: Float.self)),
            accumulate: accumulate ? 1 : 0, relu: relu ? 1 : 0, scratch: scratchpad, threads: Int32(threads))
        guard resnet18_winograd_run(&conv) == 0 else {
            throw .engine("the Winograd kernel refused \(spec.conv) at batch \(batch) (scratchpad not 64-byte aligned?)")
        }
    }
}
