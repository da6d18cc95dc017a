import CDNNL
import CKernels

/// A 3×3 stride-1 convolution run by the project's own Winograd F(4×4, 3×3) kernel (`CKernels`): with AVX-512,
/// layer 4's small, wide maps in batches of 4 or more, layers 1 and 2 in batches of 8 or more; with AVX2 alone, where
/// oneDNN 2.6 has no Winograd at all, its 8-lane form (`winograd_avx2.c`) on the layers it is faster on
/// (`ExecutionPlan.runsOwnWinograd`).
///
/// oneDNN's Winograd keeps each convolution's weights transformed, four times their plain size; this kernel keeps
/// only the plain ABcd16b16a weights (shared with oneDNN's direct convolution in lean plans of batch 1 and 2) and
/// transforms them block by block as it runs, into the plan's scratchpad. Where the plan uses it, it was about as
/// fast as oneDNN's Winograd or faster, and faster than the direct convolution (bench/results/engine-plan.md).
///
/// With AVX2 alone, some convolutions keep their weights transformed once instead (`Weights.transformed`,
/// `ExecutionPlan.keepsTransformedWeights`): the same output bit for bit, without the transform on every call.
final class WinogradConvolution: KernelStep {
    /// The weights the kernel reads: plain (ABcd16b16a or ABcd8b8a), transformed as it runs, or transformed once
    /// (AVX2 form only: `resnet18_winograd_avx2_transform_weights`).
    enum Weights {
        case plain(DNNLMemory)
        case transformed(AlignedBuffer)
    }

    private let source: DNNLMemory
    private let destination: DNNLMemory
    private let weights: Weights
    private let bias: DNNLMemory
    private let spec: ConvSpec
    private let batch: Int
    private let side: Int
    private let accumulate: Bool
    private let relu: Bool
    private let threads: Int

    /// Which form of the kernel this CPU runs: AVX-512 on nChw16c, AVX2 on nChw8c (the plan's activation blocks).
    enum Form {
        case avx512, avx2

        static let current: Form? = resnet18_winograd_supported() != 0 ? .avx512
            : resnet18_winograd_avx2_supported() != 0 ? .avx2 : nil
    }

    /// The weights layout the kernel reads.
    static func weightsDesc(_ spec: ConvSpec) throws(ResNetError) -> MemoryDesc {
        try MemoryDesc(dims: [spec.outChannels, spec.inChannels, 3, 3], type: dnnl_f32,
                       tag: Form.current == .avx512 ? dnnl_ABcd16b16a : dnnl_ABcd8b8a)
    }

    /// Whether the kernel runs this convolution on this CPU at this batch size.
    static func accepts(_ spec: ConvSpec, batch: Int, side: Int) -> Bool {
        guard spec.kernel == 3 && spec.stride == 1 && spec.padding == 1, let form = Form.current else { return false }
        let (b, i, o, s) = (Int32(batch), Int32(spec.inChannels), Int32(spec.outChannels), Int32(side))
        switch form {
        case .avx512: return resnet18_winograd_accepts(b, i, o, s, s) != 0
        case .avx2: return resnet18_winograd_avx2_accepts(b, i, o, s, s) != 0
        }
    }

    init(_ spec: ConvSpec, batch: Int, side: Int, source: DNNLMemory, destination: DNNLMemory, weights: Weights,
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
        let (b, i, o, s, t) = (Int32(batch), Int32(spec.inChannels), Int32(spec.outChannels), Int32(side), Int32(threads))
        if case .transformed = weights { return resnet18_winograd_avx2_transformed_scratch_bytes(b, i, o, s, s, t) }
        return Form.current == .avx512 ? resnet18_winograd_scratch_bytes(b, i, o, s, s, t) : resnet18_winograd_avx2_scratch_bytes(b, i, o, s, s, t)
    }

    var implementation: String {
        if case .transformed = weights { return "resnet18_wino_4x3_transformed:avx2" }
        return Form.current == .avx512 ? "resnet18_wino_4x3_streamed:avx512" : "resnet18_wino_4x3_streamed:avx2"
    }

    var bound: [DNNLMemory] { [source, destination] }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        var conv = resnet18_winograd_conv(
            batch: Int32(batch), channels_in: Int32(spec.inChannels), channels_out: Int32(spec.outChannels),
            height: Int32(side), width: Int32(side),
            src: UnsafePointer(source.pointer.assumingMemoryBound(to: Float.self)),
            dst: destination.pointer.assumingMemoryBound(to: Float.self),
            weights: nil, bias: UnsafePointer(bias.pointer.assumingMemoryBound(to: Float.self)),
            accumulate: accumulate ? 1 : 0, relu: relu ? 1 : 0, scratch: scratchpad, threads: Int32(threads))
        let status: Int32
        switch weights {
        case .plain(let plain):
            conv.weights = UnsafePointer(plain.pointer.assumingMemoryBound(to: Float.self))
            status = Form.current == .avx512 ? resnet18_winograd_run(&conv) : resnet18_winograd_avx2_run(&conv)
        case .transformed(let transformed):
            status = resnet18_winograd_avx2_run_transformed(&conv, transformed.pointer.assumingMemoryBound(to: Float.self))
        }
        guard status == 0 else {
            throw .engine("the Winograd kernel refused \(spec.conv) at batch \(batch) (scratchpad not 64-byte aligned?)")
        }
    }
}
