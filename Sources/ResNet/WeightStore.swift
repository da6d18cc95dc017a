import CDNNL

/// Folded weights reordered once into each layout an execution plan asks for, shared by all plans.
final class WeightStore {
    private let engine: DNNLEngine
    private let weights: ResNet18Weights
    private var reordered: [String: [DNNLMemory]] = [:]
    private var biases: [String: DNNLMemory] = [:]

    init(engine: DNNLEngine, weights: ResNet18Weights) {
        self.engine = engine
        self.weights = weights
    }

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

    private func weightsMemory(key: String, values: [Float], dims: [Int], layout: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        if let existing = reordered[key]?.first(where: { $0.desc == layout }) { return existing }
        let userDesc = try MemoryDesc(dims: dims, type: dnnl_f32, tag: dnnl_abcd)
        let user = try DNNLMemory(userDesc, engine: engine)
        values.withUnsafeBytes { user.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let target = try DNNLMemory(layout, engine: engine)
        try reorder(from: user, to: target)
        reordered[key, default: []].append(target)
        return target
    }

    private func biasMemory(key: String, values: [Float]) throws(ResNetError) -> DNNLMemory {
        if let existing = biases[key] { return existing }
        let memory = try DNNLMemory(try MemoryDesc(dims: [values.count], type: dnnl_f32, tag: dnnl_a), engine: engine)
        values.withUnsafeBytes { memory.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        biases[key] = memory
        return memory
    }

    private func reorder(from source: DNNLMemory, to target: DNNLMemory) throws(ResNetError) {
        var pd: dnnl_primitive_desc_t?
        var src = source.desc.raw, dst = target.desc.raw
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &src, engine.engine, &dst, engine.engine, nil), "weights reorder")
        try DNNLPrimitive.runOnce(DNNLPrimitiveDesc(pd!), engine: engine, [(DNNLArg.src, source), (DNNLArg.dst, target)])
    }
}
