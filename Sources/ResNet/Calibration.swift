extension QuantizationParameters {
    /// Measures the activation ranges int8 needs by running the fp32 network on `images`.
    ///
    /// Each image is an NCHW tensor of 3 × 224 × 224 normalised floats, as `ResNet18Engine.logits` takes.
    public static func calibrate(weights: ResNet18Weights, images: [[Float]], threads: Int?) throws(ResNetError) -> QuantizationParameters {
        guard !images.isEmpty else { throw .badInput("calibration needs at least one image") }
        if let threads { DNNLEngine.setThreads(threads) }
        let engine = try DNNLEngine()
        let store = WeightStore(engine: engine, weights: weights)
        // Direct convolutions: Winograd's transforms would add their own rounding to the ranges measured. oneDNN's
        // stem: the one-pass kernels never write the stem convolution's output, whose range int8 needs.
        let plan = try ExecutionPlan(batch: 1, classCount: weights.classCount, engine: engine, store: store,
                                     options: EngineOptions(precision: .fp32, winograd: false, ownStem: false))
        let arena = AlignedBuffer(byteCount: plan.arenaBytes)
        let scratch = AlignedBuffer(byteCount: plan.scratchpadBytes)
        var logits = [Float](repeating: 0, count: weights.classCount)
        var maxima: [String: Float] = [:]
        var pointMaxima: [String: [Float]] = [:]
        let winogradReaders = Dictionary(grouping: ResNet18Architecture.int8WinogradInputs.keys,
                                         by: { ResNet18Architecture.int8WinogradInputs[$0]! })
        for (index, image) in images.enumerated() {
            guard image.count == ResNet18Engine.inputCount else {
                throw .badInput("calibration image \(index) has \(image.count) floats, expected 3 × 224 × 224")
            }
            maxima[Self.input] = image.reduce(maxima[Self.input] ?? 0) { max($0, abs($1)) }
            try image.withUnsafeBufferPointer { (input) throws(ResNetError) in
                try logits.withUnsafeMutableBufferPointer { (output) throws(ResNetError) in
                    try plan.run(input: input.baseAddress!, output: output.baseAddress!, arena: arena.pointer,
                                 scratch: scratch.pointer) { _, convolution, memory in
                        let values = memory.pointer.assumingMemoryBound(to: Float.self)
                        var largest = maxima[convolution] ?? 0
                        for offset in 0..<(memory.desc.byteCount / MemoryLayout<Float>.size) {
                            largest = max(largest, abs(values[offset]))
                        }
                        maxima[convolution] = largest
                        for reader in winogradReaders[convolution] ?? [] {
                            let dims = memory.desc.raw.dims
                            var points = pointMaxima[reader] ?? [Float](repeating: 0, count: 16)
                            foldWinogradPointMax(values, images: Int(dims.0), channels: Int(dims.1), side: Int(dims.2),
                                                 into: &points)
                            pointMaxima[reader] = points
                        }
                    }
                }
            }
        }
        return QuantizationParameters(weightsSHA256Prefix: weights.identity.sha256Prefix,
                                      calibrationImages: images.count, activationMax: maxima,
                                      winogradPointMax: pointMaxima)
    }
}
