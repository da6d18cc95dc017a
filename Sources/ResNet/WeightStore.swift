import CDNNL
import CKernels

/// Folded weights reordered once into each layout an execution plan asks for, shared by all plans.
final class WeightStore {
    private let engine: DNNLEngine
    /// The folded f32 weights, needed only while plans are being built (see `releaseSource`).
    private var source: ResNet18Weights?
    private var weights: ResNet18Weights {
        guard let source else { preconditionFailure("a plan was built after the engine released its source weights") }
        return source
    }
    var hasSource: Bool { source != nil }
    /// Bytes held by the reordered weights and biases (every layout any plan asked for).
    private(set) var byteCount = 0
    private var reordered: [String: [DNNLMemory]] = [:]
    private var biases: [String: DNNLMemory] = [:]
    private var int8Scales: [String: [Float]] = [:]
    private var int8Winograd: [String: Int8WinogradWeights] = [:]
    private var int8Stem: Int8StemWeights?
    private var floatStem: AlignedBuffer?
    private var int16Winograd: [String: Int16WinogradWeights] = [:]
    private var floatWinograd: [String: AlignedBuffer] = [:]

    init(engine: DNNLEngine, weights: ResNet18Weights) {
        self.engine = engine
        self.source = weights
    }

    /// Drops the folded f32 weights, which only plan building reads: the reordered copies the plans use stay.
    func releaseSource() { source = nil }

    /// The convolution's weights in `layout`, reordered from OIHW the first time it is asked for.
    func convolutionWeights(_ name: String, layout: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        let conv = weights.convolutions[name]!
        let spec = conv.spec
        return try weightsMemory(key: name, values: conv.weights_oihw,
                                 dims: [spec.outChannels, spec.inChannels, spec.kernel, spec.kernel], layout: layout)
    }

    func convolutionBias(_ name: String) throws(ResNetError) -> DNNLMemory {
        try biasMemory(key: name, values: weights.convolutions[name]!.bias)
    }

    /// fc's weights as [classes, 512, 1, 1] in `layout`, so the classifier reads the pooled blocked tensor directly.
    func classifierWeights(layout: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        try weightsMemory(key: "fc", values: weights.fcWeights,
                          dims: [weights.classCount, ResNet18Architecture.featureCount, 1, 1], layout: layout)
    }

    func classifierBias() throws(ResNetError) -> DNNLMemory {
        try biasMemory(key: "fc", values: weights.fcBias)
    }

    /// A 3×3 convolution's weights transformed once for the AVX2 Winograd kernel
    /// (`resnet18_winograd_avx2_run_transformed`), the first time they are asked for: 36 × in × out floats, made from a
    /// copy in `layout` (the kernel's ABcd8b8a) that is not kept.
    func winogradTransformedWeights(_ name: String, layout: MemoryDesc) throws(ResNetError) -> AlignedBuffer {
        if let existing = floatWinograd[name] { return existing }
        let conv = weights.convolutions[name]!
        let spec = conv.spec
        let plain = try reorderedCopy(values: conv.weights_oihw, dims: [spec.outChannels, spec.inChannels, 3, 3], layout: layout)
        let floats = resnet18_winograd_avx2_transformed_floats(Int32(spec.inChannels), Int32(spec.outChannels))
        let transformed = AlignedBuffer(byteCount: floats * MemoryLayout<Float>.size)
        resnet18_winograd_avx2_transform_weights(plain.pointer.assumingMemoryBound(to: Float.self), Int32(spec.inChannels),
                                                 Int32(spec.outChannels), transformed.pointer.assumingMemoryBound(to: Float.self))
        floatWinograd[name] = transformed
        byteCount += transformed.byteCount
        return transformed
    }

    // MARK: int8

    /// A convolution's (or `fc`'s) f32 weights, their OIHW dims and bias.
    private func floatTensor(_ name: String) -> (weights: [Float], dims: [Int], bias: [Float]) {
        if name == "fc" {
            return (weights.fcWeights, [weights.classCount, ResNet18Architecture.featureCount, 1, 1], weights.fcBias)
        }
        let conv = weights.convolutions[name]!
        let spec = conv.spec
        return (conv.weights_oihw, [spec.outChannels, spec.inChannels, spec.kernel, spec.kernel], conv.bias)
    }

    /// A convolution's folded f32 bias, in real units.
    func floatBias(_ name: String) -> [Float] { floatTensor(name).bias }

    /// Per-output-channel symmetric scales of a convolution's (or `fc`'s) weights: 127 / max |w[o]|.
    func int8WeightScales(_ name: String) -> [Float] {
        if let scales = int8Scales[name] { return scales }
        let tensor = floatTensor(name)
        let perChannel = tensor.weights.count / tensor.dims[0]
        let scales = (0..<tensor.dims[0]).map { o -> Float in
            let row = tensor.weights[(o * perChannel)..<((o + 1) * perChannel)]
            let largest = row.reduce(Float(0)) { max($0, abs($1)) }
            return largest > 0 ? 127 / largest : 1
        }
        int8Scales[name] = scales
        return scales
    }

    /// The weights rounded to s8 with `int8WeightScales`, OIHW.
    private func int8Values(_ name: String) -> (values: [Int8], dims: [Int]) {
        let tensor = floatTensor(name)
        let scales = int8WeightScales(name)
        let perChannel = tensor.weights.count / tensor.dims[0]
        let values = tensor.weights.enumerated().map { index, w in
            Int8(max(-127, min(127, (w * scales[index / perChannel]).rounded())))
        }
        return (values, tensor.dims)
    }

    /// The weights rounded to s8 with `int8WeightScales`, in `layout`.
    func int8Weights(_ name: String, layout: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        let key = name + "#s8"
        if let existing = reordered[key]?.first(where: { $0.desc == layout }) { return existing }
        let (values, dims) = int8Values(name)
        let user = try DNNLMemory(try MemoryDesc(dims: dims, type: dnnl_s8, tag: dnnl_abcd), engine: engine)
        values.withUnsafeBytes { user.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let target = try DNNLMemory(layout, engine: engine)
        try reorder(from: user, to: target)
        reordered[key, default: []].append(target)
        byteCount += layout.byteCount
        return target
    }

    /// The bias in the accumulator's units (oneDNN 2.x adds it before the output scale): b[o] × sIn × sW[o].
    func int8Bias(_ name: String, inputScale: Float) throws(ResNetError) -> DNNLMemory {
        let values = zip(floatTensor(name).bias, int8WeightScales(name)).map { $0 * inputScale * $1 }
        return try biasMemory(key: name + "#int8", values: values)
    }

    /// A convolution's weights for `Int8WinogradConvolution`, transformed and quantized the first time they are asked for.
    func int8WinogradWeights(_ name: String) -> Int8WinogradWeights {
        if let existing = int8Winograd[name] { return existing }
        let tensor = floatTensor(name)
        let weights = Int8WinogradWeights(oihw: tensor.weights, channelsIn: tensor.dims[1], channelsOut: tensor.dims[0])
        int8Winograd[name] = weights
        byteCount += weights.byteCount
        return weights
    }

    /// A convolution's weights for `Int16WinogradConvolution`, transformed and rounded the first time they are asked for.
    func int16WinogradWeights(_ name: String) -> Int16WinogradWeights {
        if let existing = int16Winograd[name] { return existing }
        let tensor = floatTensor(name)
        let weights = Int16WinogradWeights(oihw: tensor.weights, channelsIn: tensor.dims[1], channelsOut: tensor.dims[0])
        int16Winograd[name] = weights
        byteCount += weights.byteCount
        return weights
    }

    /// The stem's s8 weights (`int8WeightScales`) packed for `Int8Stem`, the first time they are asked for.
    func int8StemWeights() -> Int8StemWeights {
        if let int8Stem { return int8Stem }
        let stem = ResNet18Architecture.stem.conv
        let weights = Int8StemWeights(oihw: int8Values(stem).values, scales: int8WeightScales(stem))
        int8Stem = weights
        byteCount += weights.byteCount
        return weights
    }

    /// The stem's f32 weights packed for `FloatStem` (either form: transformed to F(3×3, 4×4) over the input's
    /// phases), the first time they are asked for.
    func stemWeights() -> AlignedBuffer {
        if let floatStem { return floatStem }
        let packed = AlignedBuffer(byteCount: Int(RESNET18_STEM_WINOGRAD_WEIGHT_FLOATS) * MemoryLayout<Float>.size)
        resnet18_stem_winograd_pack_weights(floatTensor(ResNet18Architecture.stem.conv).weights,
                                            packed.pointer.assumingMemoryBound(to: Float.self))
        floatStem = packed
        byteCount += packed.byteCount
        return packed
    }

    private func weightsMemory(key: String, values: [Float], dims: [Int], layout: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        if let existing = reordered[key]?.first(where: { $0.desc == layout }) { return existing }
        let target = try reorderedCopy(values: values, dims: dims, layout: layout)
        reordered[key, default: []].append(target)
        byteCount += layout.byteCount
        return target
    }

    /// OIHW f32 `values` reordered into a new memory of `layout` (the store keeps the cached one: this keeps nothing).
    private func reorderedCopy(values: [Float], dims: [Int], layout: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        let userDesc = try MemoryDesc(dims: dims, type: dnnl_f32, tag: dnnl_abcd)
        let user = try DNNLMemory(userDesc, engine: engine)
        values.withUnsafeBytes { user.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let target = try DNNLMemory(layout, engine: engine)
        try reorder(from: user, to: target)
        return target
    }

    private func biasMemory(key: String, values: [Float]) throws(ResNetError) -> DNNLMemory {
        if let existing = biases[key] { return existing }
        let memory = try DNNLMemory(try MemoryDesc(dims: [values.count], type: dnnl_f32, tag: dnnl_a), engine: engine)
        values.withUnsafeBytes { memory.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        biases[key] = memory
        byteCount += values.count * MemoryLayout<Float>.size
        return memory
    }

    private func reorder(from source: DNNLMemory, to target: DNNLMemory) throws(ResNetError) {
        var pd: dnnl_primitive_desc_t?
        var src = source.desc.raw, dst = target.desc.raw
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &src, engine.engine, &dst, engine.engine, nil), "weights reorder")
        try DNNLPrimitive.runOnce(DNNLPrimitiveDesc(pd!), engine: engine, [(DNNLArg.src, source), (DNNLArg.dst, target)])
    }
}

/// A convolution's weights transformed for Winograd F(2×2, 3×3) and quantized to s8 per transform point and output
/// channel (`resnet18_winograd_int8_transform_weights`): 16 × in × out bytes, with the sums VNNI's unsigned inputs
/// need taken back out and the scales.
final class Int8WinogradWeights {
    let values: AlignedBuffer
    /// [16][out]: 128 × the sum of each point's and output channel's s8 weights.
    let compensation: [Int32]
    /// [16][out]: s8 value = scale × transformed weight.
    let scales: [Float]
    var byteCount: Int { values.byteCount + compensation.count * 4 + scales.count * 4 }

    init(oihw: [Float], channelsIn: Int, channelsOut: Int) {
        values = AlignedBuffer(byteCount: 16 * channelsIn * channelsOut)
        var compensation = [Int32](repeating: 0, count: 16 * channelsOut)
        var scales = [Float](repeating: 0, count: 16 * channelsOut)
        resnet18_winograd_int8_transform_weights(oihw, Int32(channelsIn), Int32(channelsOut),
                                                 values.pointer.assumingMemoryBound(to: Int8.self), &compensation, &scales)
        self.compensation = compensation
        self.scales = scales
    }
}

/// The stem's s8 weights in `Int8Stem`'s layout (`resnet18_stem_int8_pack_weights`), with the sums VNNI's unsigned
/// inputs need taken back out and the per-channel scales.
final class Int8StemWeights {
    let values: AlignedBuffer
    /// [64]: 128 × the sum of each output channel's s8 weights.
    let compensation: [Int32]
    /// [64]: s8 value = scale × weight.
    let scales: [Float]
    var byteCount: Int { values.byteCount + compensation.count * 4 + scales.count * 4 }

    init(oihw: [Int8], scales: [Float]) {
        values = AlignedBuffer(byteCount: Int(RESNET18_STEM_INT8_WEIGHT_BYTES))
        var compensation = [Int32](repeating: 0, count: 64)
        resnet18_stem_int8_pack_weights(oihw, values.pointer.assumingMemoryBound(to: Int8.self), &compensation)
        self.compensation = compensation
        self.scales = scales
    }
}

/// A convolution's weights transformed for Winograd F(4×4, 3×3) and rounded to 16-bit integers per transform point and
/// output channel (`resnet18_winograd_s16_transform_weights`): 36 × in × out × 2 bytes, and the scales.
final class Int16WinogradWeights {
    let values: AlignedBuffer
    /// [36][out]: integer = scale × transformed weight.
    let scales: [Float]
    var byteCount: Int { values.byteCount + scales.count * 4 }

    init(oihw: [Float], channelsIn: Int, channelsOut: Int) {
        values = AlignedBuffer(byteCount: 36 * channelsIn * channelsOut * 2)
        var scales = [Float](repeating: 0, count: 36 * channelsOut)
        resnet18_winograd_s16_transform_weights(oihw, Int32(channelsIn), Int32(channelsOut),
                                                values.pointer.assumingMemoryBound(to: Int16.self), &scales)
        self.scales = scales
    }
}
