import CDNNL
import CKernels

/// A 3×3 stride-1 convolution of layer 3 run in int8 as Winograd F(2×2, 3×3) by the project's kernel
/// (`CKernels/winograd_int8.c`), u8 nhwc in and out, with the bias, the residual sum and the ReLU.
///
/// Direct int8 convolution already runs at about 95 % of what the vector units retire; F(2×2) multiplies 2.25×
/// less. In 8 bits it holds the error bar only where the channels are many, with a scale per transform point from
/// calibration (`QuantizationParameters.winogradPointMax`): simulated (`bench/int8_winograd_error.py`), every layer
/// in it cost max abs logit error 0.14, layer 1 alone 0.11, layer 3 0.08 (bar 0.095). Layer 4 holds the error but
/// its transformed weights come from memory at every call (`ResNet18Architecture.int8WinogradInputs`).
final class Int8WinogradConvolution: KernelStep {
    private let source: DNNLMemory
    private let destination: DNNLMemory
    private let residual: DNNLMemory?
    private let spec: ConvSpec
    private let batch: Int
    private let side: Int
    private let weights: Int8WinogradWeights
    private let dequantize: [Float]
    private let pointMultipliers: [Int16]
    private let bias: [Float]
    private let residualSigned: Bool
    private let residualScale: Float
    private let threads: Int

    /// Whether the kernel runs this convolution on this CPU (AVX-512 VNNI).
    static func accepts(_ spec: ConvSpec) -> Bool {
        spec.kernel == 3 && spec.stride == 1 && spec.padding == 1
            && resnet18_winograd_int8_supported() != 0
            && resnet18_winograd_int8_accepts(Int32(spec.inChannels), Int32(spec.outChannels)) != 0
    }

    /// - Parameters:
    ///   - inputScale, outputScale: the u8 source's and destination's scales (stored integer = scale × value).
    ///   - pointMax: the input's range at each transform point (`QuantizationParameters.winogradPointMax`).
    ///   - floatBias: the folded bias, in real units.
    ///   - residual: the identity added before the ReLU, with its type's signedness and scale.
    init(_ spec: ConvSpec, batch: Int, side: Int, source: DNNLMemory, destination: DNNLMemory,
         weights: Int8WinogradWeights, floatBias: [Float], inputScale: Float, outputScale: Float, pointMax: [Float],
         residual: (memory: DNNLMemory, signed: Bool, scale: Float)?, threads: Int) {
        self.spec = spec
        self.batch = batch
        self.side = side
        self.source = source
        self.destination = destination
        self.weights = weights
        self.threads = threads
        // Input transform to s8: levels × multiplier / 4096, the point's largest value in levels going to 127.
        let multipliers = pointMax.map { range -> Int16 in
            let levels = range * inputScale
            return Int16(max(1, min(32767, levels > 0 ? (4096 * 127 / levels).rounded() : 32767)))
        }
        pointMultipliers = multipliers
        // A product at point p and output o is value × inputScale × (multiplier / 4096) × weightScale[p][o].
        var dequantize = [Float](repeating: 0, count: 16 * spec.outChannels)
        for point in 0..<16 {
            let inputUnits = inputScale * Float(multipliers[point]) / 4096
            for o in 0..<spec.outChannels {
                dequantize[point * spec.outChannels + o] = outputScale / (inputUnits * weights.scales[point * spec.outChannels + o])
            }
        }
        self.dequantize = dequantize
        bias = floatBias.map { $0 * outputScale }
        self.residual = residual?.memory
        residualSigned = residual?.signed ?? false
        residualScale = residual.map { outputScale / $0.scale } ?? 0
    }

    var scratchpadBytes: Int {
        resnet18_winograd_int8_scratch_bytes(Int32(batch), Int32(spec.inChannels), Int32(spec.outChannels), Int32(side),
                                             Int32(threads))
    }

    let implementation = "resnet18_wino_int8_2x3:avx512_vnni"

    var bound: [DNNLMemory] { [source, destination] + (residual.map { [$0] } ?? []) }

    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        let status = dequantize.withUnsafeBufferPointer { dequantize in
            pointMultipliers.withUnsafeBufferPointer { multipliers in
                bias.withUnsafeBufferPointer { bias in
                    weights.compensation.withUnsafeBufferPointer { compensation in
                        var conv = resnet18_winograd_int8_conv(
                            batch: Int32(batch), channels_in: Int32(spec.inChannels), channels_out: Int32(spec.outChannels),
                            side: Int32(side),
                            src: UnsafePointer(source.pointer.assumingMemoryBound(to: UInt8.self)),
                            dst: destination.pointer.assumingMemoryBound(to: UInt8.self),
                            weights: UnsafePointer(weights.values.pointer.assumingMemoryBound(to: Int8.self)),
                            compensation: compensation.baseAddress, dequantize: dequantize.baseAddress,
                            point_multipliers: multipliers.baseAddress, bias: bias.baseAddress,
                            residual: residual.map { UnsafeRawPointer($0.pointer) }, residual_signed: residualSigned ? 1 : 0,
                            residual_scale: residualScale, scratch: scratchpad, threads: Int32(threads))
                        return resnet18_winograd_int8_run(&conv)
                    }
                }
            }
        }
        guard status == 0 else {
            throw .engine("the int8 Winograd kernel refused \(spec.conv) at batch \(batch) (scratchpad not 64-byte aligned?)")
        }
    }
}
