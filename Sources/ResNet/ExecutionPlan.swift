import CDNNL

/// An activation tensor in a plan: its oneDNN memory (pointer bound at run time) and its shape.
struct Activation {
    let memory: DNNLMemory
    let channels: Int
    let height: Int
    let width: Int
}

/// ResNet-18 compiled for one batch size: primitives built once, run in order on one stream.
///
/// Activations keep the blocked layouts oneDNN picks (`format_tag_any`) from the first convolution to the
/// classifier; reorders happen only where a primitive asks for another layout (normally just the input).
/// Activation and scratchpad memories carry no buffer of their own: the engine binds them into its shared
/// arena before each run, so plans for several batch sizes cost no more memory than the largest one.
final class ExecutionPlan {
    let batch: Int
    private let engine: DNNLEngine
    private let store: WeightStore
    private let options: EngineOptions
    private var steps: [DNNLPrimitive] = []
    /// Activation memories and their byte offsets in the arena.
    private var arenaSlots: [(memory: DNNLMemory, offset: Int)] = []
    private(set) var arenaBytes = 0
    private(set) var scratchpadBytes = 0
    private let input: DNNLMemory
    private var output: DNNLMemory!
    private var scratchpad: DNNLMemory!
    /// The implementation oneDNN chose for each step, in order (for `bench` and tests).
    private(set) var implementations: [String] = []

    init(batch: Int, classCount: Int, engine: DNNLEngine, store: WeightStore, options: EngineOptions) throws(ResNetError) {
        self.batch = batch
        self.engine = engine
        self.store = store
        self.options = options
        let size = ResNet18Architecture.inputSize
        input = try DNNLMemory(try MemoryDesc(dims: [batch, 3, size, size], type: dnnl_f32, tag: dnnl_nchw),
                               engine: engine, pointer: nil)
        try build(classCount: classCount)
    }

    // MARK: Running

    /// Runs the network on `batch` NCHW images into `batch × classes` logits.
    func run(input inputPointer: UnsafePointer<Float>, output outputPointer: UnsafeMutablePointer<Float>,
             arena: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer) throws(ResNetError) {
        try input.setPointer(UnsafeMutableRawPointer(mutating: inputPointer))
        try output.setPointer(outputPointer)
        try scratchpad.setPointer(scratch)
        for slot in arenaSlots { try slot.memory.setPointer(arena + slot.offset) }
        for step in steps { try step.execute(on: engine) }
        try engine.wait()
    }

    // MARK: Building

    /// nChw16c for every activation after the stem's input. Measured on AVX-512 at batch 1 and 8: letting
    /// oneDNN choose (`any`) mixes brgconv's nhwc with Winograd's nChw16c and reorders between them
    /// (17.2 ms, batch 1); nhwc throughout rules Winograd out (17.4 ms); nChw16c throughout runs Winograd
    /// on every 3x3 stride-1 convolution and needs no reorder at all (13.0 ms).
    private let activationTag = dnnl_aBcd16b

    private func build(classCount: Int) throws(ResNetError) {
        let size = ResNet18Architecture.inputSize
        var x = Activation(memory: input, channels: 3, height: size, width: size)
        x = try convolution(ResNet18Architecture.stem, x, relu: true)
        x = try pooling(x, algorithm: dnnl_pooling_max, kernel: 3, stride: 2, padding: 1)
        for block in ResNet18Architecture.blocks {
            let identity: Activation
            if let downsample = block.downsample {
                identity = try convolution(downsample, x, relu: false)
            } else {
                identity = x
            }
            let inner = try convolution(block.first, x, relu: true)
            // The residual add and the block's ReLU ride on the second convolution: dst += conv(inner); relu.
            x = try convolution(block.second, inner, relu: true, accumulateInto: identity)
        }
        x = try pooling(x, algorithm: dnnl_pooling_avg_exclude_padding, kernel: x.height, stride: x.height, padding: 0)
        try classifier(x, classCount: classCount)

        let scratchDesc = try MemoryDesc(dims: [max(scratchpadBytes, 1)], type: dnnl_u8, tag: dnnl_a)
        scratchpad = try DNNLMemory(scratchDesc, engine: engine, pointer: nil)
        for step in steps { step.bind(DNNLArg.scratchpad, scratchpad) }
    }

    /// A memory for an activation of `desc`, placed in the arena.
    private func allocate(_ desc: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        let memory = try DNNLMemory(desc, engine: engine, pointer: nil)
        arenaSlots.append((memory, arenaBytes))
        arenaBytes += (desc.byteCount + 4095) & ~4095
        return memory
    }

    private func append(_ primitive: DNNLPrimitive) {
        steps.append(primitive)
        implementations.append(primitive.desc.implementation)
        scratchpadBytes = max(scratchpadBytes, primitive.desc.scratchpad.byteCount)
    }

    /// `x` in the layout `desc`, reordering into a new arena buffer when it is not already.
    private func ensureLayout(_ x: DNNLMemory, _ desc: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        if x.desc == desc { return x }
        let target = try allocate(desc)
        var pd: dnnl_primitive_desc_t?
        var src = x.desc.raw, dst = desc.raw
        let attr = try DNNLAttributes()
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &src, engine.engine, &dst, engine.engine, attr.handle), "activation reorder")
        let primitive = try DNNLPrimitive(DNNLPrimitiveDesc(pd!))
        primitive.bind(DNNLArg.src, x)
        primitive.bind(DNNLArg.dst, target)
        append(primitive)
        return target
    }

    /// conv + folded BatchNorm (+ `accumulateInto` as the residual) (+ ReLU), one primitive.
    private func convolution(_ spec: ConvSpec, _ x: Activation, relu: Bool,
                             accumulateInto residual: Activation? = nil) throws(ResNetError) -> Activation {
        let outHeight = (x.height + 2 * spec.padding - spec.kernel) / spec.stride + 1
        let outWidth = (x.width + 2 * spec.padding - spec.kernel) / spec.stride + 1
        let srcAny = try MemoryDesc(dims: [batch, spec.inChannels, x.height, x.width], type: dnnl_f32, tag: spec.inChannels == 3 ? dnnl_format_tag_any : activationTag)
        let weightsAny = try MemoryDesc(dims: [spec.outChannels, spec.inChannels, spec.kernel, spec.kernel],
                                        type: dnnl_f32, tag: dnnl_format_tag_any)
        let biasDesc = try MemoryDesc(dims: [spec.outChannels], type: dnnl_f32, tag: dnnl_a)
        // With a residual, the convolution must write where the identity already is, in its layout.
        let dstDesc: MemoryDesc
        if let residual {
            dstDesc = residual.memory.desc
        } else {
            dstDesc = try MemoryDesc(dims: [batch, spec.outChannels, outHeight, outWidth], type: dnnl_f32, tag: activationTag)
        }

        let attr = try DNNLAttributes()
        try attr.setPostOps(sum: residual != nil, relu: relu)
        let useWinograd = options.winograd && spec.kernel == 3 && spec.stride == 1
        let algorithms = useWinograd ? [dnnl_convolution_winograd, dnnl_convolution_direct] : [dnnl_convolution_direct]

        var chosen: DNNLPrimitiveDesc?
        for algorithm in algorithms where chosen == nil {
            var desc = dnnl_convolution_desc_t()
            var src = srcAny.raw, weights = weightsAny.raw, bias = biasDesc.raw, dst = dstDesc.raw
            let strides: [Int64] = [Int64(spec.stride), Int64(spec.stride)]
            let padding: [Int64] = [Int64(spec.padding), Int64(spec.padding)]
            guard dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, algorithm, &src, &weights, &bias, &dst,
                                                     strides, padding, padding) == dnnl_success else { continue }
            var pd: dnnl_primitive_desc_t?
            if dnnl_primitive_desc_create(&pd, &desc, attr.handle, engine.engine, nil) == dnnl_success, let pd {
                chosen = DNNLPrimitiveDesc(pd)
            }
        }
        guard let pd = chosen else { throw .engine("no convolution implementation for \(spec.conv) at batch \(batch)") }

        let src = try ensureLayout(x.memory, pd.src)
        let dst: DNNLMemory
        if let residual { dst = residual.memory } else { dst = try allocate(pd.dst) }
        let primitive = try DNNLPrimitive(pd)
        primitive.bind(DNNLArg.src, src)
        primitive.bind(DNNLArg.weights, try store.convolutionWeights(spec.conv, layout: pd.weights))
        primitive.bind(DNNLArg.bias, try store.convolutionBias(spec.conv))
        primitive.bind(DNNLArg.dst, dst)
        append(primitive)
        return Activation(memory: dst, channels: spec.outChannels, height: outHeight, width: outWidth)
    }

    private func pooling(_ x: Activation, algorithm: dnnl_alg_kind_t, kernel: Int, stride: Int, padding: Int) throws(ResNetError) -> Activation {
        let outHeight = (x.height + 2 * padding - kernel) / stride + 1
        let outWidth = (x.width + 2 * padding - kernel) / stride + 1
        var desc = dnnl_pooling_v2_desc_t()
        var src = x.memory.desc.raw
        var dst = try MemoryDesc(dims: [batch, x.channels, outHeight, outWidth], type: dnnl_f32, tag: dnnl_format_tag_any).raw
        let k: [Int64] = [Int64(kernel), Int64(kernel)], s: [Int64] = [Int64(stride), Int64(stride)]
        let p: [Int64] = [Int64(padding), Int64(padding)], dilation: [Int64] = [0, 0]
        try dnnlCheck(dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, algorithm, &src, &dst, s, k, dilation, p, p),
                      "pooling descriptor")
        var pd: dnnl_primitive_desc_t?
        let attr = try DNNLAttributes()
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attr.handle, engine.engine, nil), "pooling")
        let primitiveDesc = DNNLPrimitiveDesc(pd!)
        let out = try allocate(primitiveDesc.dst)
        let primitive = try DNNLPrimitive(primitiveDesc)
        primitive.bind(DNNLArg.src, x.memory)
        primitive.bind(DNNLArg.dst, out)
        append(primitive)
        return Activation(memory: out, channels: x.channels, height: outHeight, width: outWidth)
    }

    /// fc on the pooled [N, 512, 1, 1] tensor, in whatever layout pooling left it, into the caller's [N, classes].
    private func classifier(_ x: Activation, classCount: Int) throws(ResNetError) {
        var desc = dnnl_inner_product_desc_t()
        var src = x.memory.desc.raw
        var weights = try MemoryDesc(dims: [classCount, x.channels, 1, 1], type: dnnl_f32, tag: dnnl_format_tag_any).raw
        var bias = try MemoryDesc(dims: [classCount], type: dnnl_f32, tag: dnnl_a).raw
        let dstDesc = try MemoryDesc(dims: [batch, classCount], type: dnnl_f32, tag: dnnl_nc)
        var dst = dstDesc.raw
        try dnnlCheck(dnnl_inner_product_forward_desc_init(&desc, dnnl_forward_inference, &src, &weights, &bias, &dst),
                      "classifier descriptor")
        var pd: dnnl_primitive_desc_t?
        let attr = try DNNLAttributes()
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attr.handle, engine.engine, nil), "classifier")
        let primitiveDesc = DNNLPrimitiveDesc(pd!)
        output = try DNNLMemory(dstDesc, engine: engine, pointer: nil)
        let primitive = try DNNLPrimitive(primitiveDesc)
        primitive.bind(DNNLArg.src, x.memory)
        primitive.bind(DNNLArg.weights, try store.classifierWeights(layout: primitiveDesc.weights))
        primitive.bind(DNNLArg.bias, try store.classifierBias())
        primitive.bind(DNNLArg.dst, output)
        append(primitive)
    }
}
