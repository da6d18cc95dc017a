import CDNNL
import CKernels

/// A 3×3 stride-1 convolution of layers 1-2 run as Winograd F(4×4, 3×3) in 16-bit integers by the project's kernel
/// (`CKernels/winograd_s16.c`), u8 nhwc in and out, with the bias, the residual sum and the ReLU.
///
/// 4× fewer multiplications than direct, made by VNNI's 16-bit pair products at half the int8 rate: 2× fewer
/// instructions. Without AVX-512 the kernel's AVX2 form runs (vpmaddwd + vpaddd, the same output): a Zen 3 core
/// multiplies 16-bit pairs at 1.5× its fp32 rate and u8 × s8 at 1.9× (`bench/cpu/multiply_rates.c`), so a quarter of
/// direct int8's products at the 16-bit rate wins there too. The u8 input tiles transform exactly (no calibration,
/// nothing rounded), and the weights keep typically 11-14 bits per transform point and output channel where direct
/// int8 keeps 7 per output channel, so the error is no worse than direct (`bench/int8_winograd_error.py`, float64:
/// max abs logit error 0.060 with layer 1 on it, 0.076 with layers 1-2 and layer 3 on the 8-bit F(2×2), 0.064 with
/// every 3×3 on it, against 0.081 all direct).
final class Int16WinogradConvolution: KernelStep {
    private let source: DNNLMemory
    private let destination: DNNLMemory
    private let residual: DNNLMemory?
    private let spec: ConvSpec
    private let batch: Int
    private let side: Int
    private let weights: Int16WinogradWeights
    private let dequantize: [Float]
    private let bias: [Float]
    private let residualSigned: Bool
    private let residualScale: Float
    private let threads: Int

    /// Whether the kernel runs this convolution on this CPU (AVX-512 VNNI, or AVX2 and FMA).
    static func accepts(_ spec: ConvSpec) -> Bool {
        spec.kernel == 3 && spec.stride == 1 && spec.padding == 1
            && resnet18_winograd_s16_supported() != 0
            && resnet18_winograd_s16_accepts(Int32(spec.inChannels), Int32(spec.outChannels)) != 0
    }

    /// Whether the int8 plan runs this convolution on the kernel: layers 1-2's stride-1 ones with VNNI (layer 3 has
    /// the 8-bit F(2×2) there), layers 1-3's in the AVX2 form (`ResNet18Architecture.int16WinogradConvolutionsAVX2`).
    static func runs(_ spec: ConvSpec) -> Bool {
        let chosen = resnet18_winograd_s16_form() == 2 ? ResNet18Architecture.int16WinogradConvolutions
                                                        : ResNet18Architecture.int16WinogradConvolutionsAVX2
        return chosen.contains(spec.conv) && accepts(spec)
    }

    /// - Parameters:
    ///   - inputScale, outputScale: the u8 source's and destination's scales (stored integer = scale × value).
    ///   - floatBias: the folded bias, in real units.
    ///   - residual: the identity added before the ReLU, with its type's signedness and scale.
    init(_ spec: ConvSpec, batch: Int, side: Int, source: DNNLMemory, destination: DNNLMemory,
         weights: Int16WinogradWeights, floatBias: [Float], inputScale: Float, outputScale: Float,
         residual: (memory: DNNLMemory, signed: Bool, scale: Float)?, threads: Int) {
        self.spec = spec
        self.batch = batch
        self.side = side
        self.source = source
        self.destination = destination
        self.weights = weights
        self.threads = threads
        // A product at point p and output o is value × inputScale × weightScale[p][o].
        dequantize = weights.scales.map { outputScale / (inputScale * $0) }
        bias = floatBias.map { $0 * outputScale }
        self.residual = residual?.memory
        residualSigned = residual?.signed ?? false
        residualScale = residual.map { outputScale / $0.scale } ?? 0
    }

    var scratchpadBytes: Int {
        resnet18_winograd_s16_scratch_bytes(Int32(batch), Int32(spec.inChannels), Int32(spec.outChannels), Int32(side),
                                            Int32(threads))
    }

    let implementation = resnet18_winograd_s16_form() == 2 ? "resnet18_wino_s16_4x3:avx512_vnni" : "resnet18_wino_s16_4x3:avx2"

    var bound: [DNNLMemory] { [source, destination] + (residual.map { [$0] } ?? []) }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        let status = dequantize.withUnsafeBufferPointer { dequantize in
            bias.withUnsafeBufferPointer { bias in
                var conv = resnet18_winograd_s16_conv(
                    batch: Int32(batch), channels_in: Int32(spec.inChannels), channels_out: Int32(spec.outChannels),
                    side: Int32(side),
                    src: UnsafePointer(source.pointer.assumingMemoryBound(to: UInt8.self)),
                    dst: destination.pointer.assumingMemoryBound(to: UInt8.self),
                    weights: UnsafePointer(weights.values.pointer.assumingMemoryBound(to: Int16.self)),
                    dequantize: dequantize.baseAddress, bias: bias.baseAddress,
                    residual: residual.map { UnsafeRawPointer($0.pointer) }, residual_signed: residualSigned ? 1 : 0,
                    residual_scale: residualScale, scratch: scratchpad, threads: Int32(threads))
                return resnet18_winograd_s16_run(&conv)
            }
        }
        guard status == 0 else {
            throw .engine("the 16-bit Winograd kernel refused \(spec.conv) at batch \(batch) (scratchpad not 64-byte aligned?)")
        }
    }
}
