import CDNNL

/// An activation tensor in a plan: its oneDNN memory (pointer bound at run time) and its shape.
struct Activation {
    let memory: DNNLMemory
    let channels: Int
    let height: Int
    let width: Int
    /// For u8/s8 tensors, stored integer = scale × value; 1 for floating point.
    var scale: Float = 1
}

/// ResNet-18 compiled for one batch size: oneDNN primitives and the project's own kernels (`KernelStep`), built once,
/// run in order on one stream.
///
/// The plan, not oneDNN, sets the activations' layout: every convolution output is nChw16c in fp32 and bf16
/// (`activationTag`) and nhwc in int8 (`int8ActivationTag`), the layouts oneDNN's AVX-512 convolutions and the
/// project's kernels read and write; only the poolings' outputs and the stem's input are left to oneDNN
/// (`format_tag_any`). So the only reorder is the input's: in int8 the quantising one to s8 nhwc (none when
/// `Int8Stem` or `FloatStem` runs, which read the caller's f32 NCHW); in fp32 and bf16 none with AVX-512, where the
/// stem convolution reads the caller's NCHW. A primitive that wants another layout gets a reorder (`ensureLayout`).
/// Without AVX-512, oneDNN 2.6 has no fp32 convolution or pooling for nChw16c but its reference ones (`ref:any`):
/// the same logits, many times slower, and the stem's input is reordered to nhwc.
/// Activation and scratchpad memories carry no buffer of their own: the engine binds them into its shared
/// arena before each run, so plans for several batch sizes cost no more memory than the largest one. Within a
/// plan, activations whose lifetimes (first write to last read, in steps) do not overlap share arena bytes.
final class ExecutionPlan {
    let batch: Int
    private let engine: DNNLEngine
    private let store: WeightStore
    private let options: EngineOptions
    private var steps: [PlanStep] = []
    /// Activation buffers: their memories (a buffer may be viewed as several types), size and lifetime.
    private var buffers: [ArenaBuffer] = []
    /// Activation memories and their byte offsets in the arena, once `placeBuffers` has run.
    private var arenaSlots: [(memory: DNNLMemory, offset: Int)] = []
    private(set) var arenaBytes = 0
    private(set) var scratchpadBytes = 0
    private let input: DNNLMemory
    /// Views of a few images of the input (for the stem in chunks) and their byte offsets in it.
    private var inputViews: [(memory: DNNLMemory, offset: Int)] = []
    /// The steps at which the stem starts on a chunk, and the images of the input that chunk reads.
    private var chunkStarts: [Int: Range<Int>] = [:]
    /// Images of input the stem reads at a time: the batch, or `stemChunk` when the batch is larger.
    var imagesPerChunk: Int { min(batch, Self.stemChunk) }
    private var output: DNNLMemory!
    private var scratchpad: DNNLMemory!
    /// The pooled features (fc's input) copied out as f32 [batch, 512], run only when a caller asks for them:
    /// fc is the plan's last step, so the pooled activation is still in the arena after a run.
    private var featureCopy: (primitive: DNNLPrimitive, destination: DNNLMemory)?
    /// The implementation oneDNN chose for each step, in order (for `bench` and tests).
    private(set) var implementations: [String] = []
    /// What each step computes, in order: its convolution's name (`layer3.0.conv1`, `conv1` for the stem), or the
    /// oneDNN primitive's kind (`pooling`, `reorder`, `inner_product`).
    private(set) var stepNames: [String] = []
    /// Convolution steps by index: the convolution's name and the memory it writes (for calibration).
    private var convolutionOutputs: [Int: (name: String, memory: DNNLMemory)] = [:]

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
             features: UnsafeMutablePointer<Float>? = nil,
             arena: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer) throws(ResNetError) {
        try bindPointers(input: UnsafeMutableRawPointer(mutating: inputPointer), wholeBatch: true, output: outputPointer,
                         arena: arena, scratch: scratch)
        for step in steps { try step.execute(on: engine, scratchpad: scratch) }
        try copyFeatures(into: features)
        try engine.wait()
    }

    /// Runs like `run`, waiting for each step to finish before the next starts, and returns each step's time
    /// (`bench --layers`). The waits keep a step's work out of the next one's time; the whole takes a little longer.
    func runTimingSteps(input inputPointer: UnsafePointer<Float>, output outputPointer: UnsafeMutablePointer<Float>,
                        arena: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer) throws(ResNetError) -> [Duration] {
        try bindPointers(input: UnsafeMutableRawPointer(mutating: inputPointer), wholeBatch: true, output: outputPointer,
                         arena: arena, scratch: scratch)
        var times: [Duration] = []
        times.reserveCapacity(steps.count)
        for step in steps {
            let start = ContinuousClock.now
            try step.execute(on: engine, scratchpad: scratch)
            try engine.wait()
            times.append(ContinuousClock.now - start)
        }
        return times
    }

    /// Writes the pooled features of the run just made into `features` (batch × 512 floats), when given.
    private func copyFeatures(into features: UnsafeMutablePointer<Float>?) throws(ResNetError) {
        guard let features, let featureCopy else { return }
        try featureCopy.destination.setPointer(UnsafeMutableRawPointer(features))
        try featureCopy.primitive.execute(on: engine)
    }

    /// Runs like `run`, handing each convolution's output to `observe` right after it is written: buffers are
    /// reused in place, so a block's `conv2` output is already the block output (after add and ReLU) and is
    /// gone once a later step overwrites it.
    func run(input inputPointer: UnsafePointer<Float>, output outputPointer: UnsafeMutablePointer<Float>,
             arena: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer,
             observe: (_ step: Int, _ convolution: String, _ output: DNNLMemory) -> Void) throws(ResNetError) {
        try bindPointers(input: UnsafeMutableRawPointer(mutating: inputPointer), wholeBatch: true, output: outputPointer,
                         arena: arena, scratch: scratch)
        for (index, step) in steps.enumerated() {
            try step.execute(on: engine, scratchpad: scratch)
            if let (name, memory) = convolutionOutputs[index] {
                try engine.wait()
                observe(index, name, memory)
            }
        }
        try engine.wait()
    }

    /// Runs like `run`, but the input comes a chunk at a time: before the stem reads images `range`,
    /// `fill(range, staging)` writes them (NCHW, normalised) at the start of `staging`, which holds `imagesPerChunk`
    /// images. So a batch needs an input buffer of two images, not of the whole batch.
    func run(staging: UnsafeMutablePointer<Float>, fill: (_ images: Range<Int>, _ staging: UnsafeMutablePointer<Float>) -> Void,
             output outputPointer: UnsafeMutablePointer<Float>, features: UnsafeMutablePointer<Float>? = nil,
             arena: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer) throws(ResNetError) {
        try bindPointers(input: UnsafeMutableRawPointer(staging), wholeBatch: false, output: outputPointer,
                         arena: arena, scratch: scratch)
        for (index, step) in steps.enumerated() {
            if let images = chunkStarts[index] {
                try engine.wait()  // the previous chunk is done with the staging buffer
                fill(images, staging)
            }
            try step.execute(on: engine, scratchpad: scratch)
        }
        try copyFeatures(into: features)
        try engine.wait()
    }

    /// Points the plan's memories at this run's buffers: the input (with `wholeBatch`, each chunk's view at its
    /// images' offset in it; without, every view at its start, where the chunk being run is staged), the logits,
    /// the scratchpad and every activation at its offset in the arena.
    private func bindPointers(input pointer: UnsafeMutableRawPointer, wholeBatch: Bool, output outputPointer: UnsafeMutablePointer<Float>,
                              arena: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer) throws(ResNetError) {
        try input.setPointer(pointer)
        for view in inputViews { try view.memory.setPointer(pointer + (wholeBatch ? view.offset : 0)) }
        try output.setPointer(outputPointer)
        try scratchpad.setPointer(scratch)
        for slot in arenaSlots { try slot.memory.setPointer(arena + slot.offset) }
    }

    // MARK: Building

    /// nChw16c for every fp32 and bf16 activation after the input on AVX-512: the layout of oneDNN's AVX-512
    /// Winograd and of `WinogradConvolution`, which brgconv reads and writes too, so no activation is reordered.
    /// Letting oneDNN choose (`any`) mixed brgconv's nhwc with Winograd's nChw16c and reordered between them, and
    /// nhwc throughout ruled Winograd out: both were slower (bench/results/engine-plan.md).
    /// Without AVX-512, nChw8c: the block of oneDNN's AVX2 convolutions and poolings. With nChw16c there it finds
    /// only its reference convolution, hundreds of times slower.
    private let activationTag = DNNLInstructionSet.avx512 ? dnnl_aBcd16b : dnnl_aBcd8b

    /// int8 activations: u8 after a ReLU, s8 out of a downsample (no ReLU).
    /// nhwc (acdb), which brgconv:avx512_core_vnni reads and writes without reorders; with nChw16c oneDNN 2.6
    /// falls back to its reference int8 convolution.
    private let int8ActivationTag = dnnl_acdb

    /// The data type of floating-point activations and weights: f32, or bf16 with f32 accumulation (bias and
    /// logits stay f32).
    private var dataType: dnnl_data_type_t { options.precision == .bf16 ? dnnl_bf16 : dnnl_f32 }

    /// Images the stem and the max pooling take at a time in a larger batch.
    ///
    /// The stem's output is the largest activation of the network (64 × 112 × 112 per image), and with the whole
    /// batch at once it and the pooled tensor, alive together, set the arena's size. In chunks of two images only
    /// one chunk's stem output exists at a time, and layer 1 sets the size: at batch 8 less than half the arena, at
    /// the same speed (bench/results/engine-plan.md).
    static let stemChunk = 2

    private func build(classCount: Int) throws(ResNetError) {
        var x = try stemAndPooling()
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
        try prepareFeatureCopy(x)

        placeBuffers()
        let scratchDesc = try MemoryDesc(dims: [max(scratchpadBytes, 1)], type: dnnl_u8, tag: dnnl_a)
        scratchpad = try DNNLMemory(scratchDesc, engine: engine, pointer: nil)
        for case let .primitive(primitive) in steps { primitive.bind(DNNLArg.scratchpad, scratchpad) }
    }

    /// The input (quantised to s8 in int8), the stem convolution with its ReLU and the 3×3 max pooling,
    /// `stemChunk` images at a time when the batch is larger (each chunk pooled into its slice of the output).
    /// In int8 on a CPU with AVX-512 VNNI, the three are one step on the project's kernel (`Int8Stem`); in fp32
    /// with AVX-512 or AVX2, and in int8 with AVX2 alone, the convolution and the pooling are (`FloatStem`).
    private func stemAndPooling() throws(ResNetError) -> Activation {
        let size = ResNet18Architecture.inputSize
        let int8 = options.quantization != nil && options.precision == .int8
        let side = (size / 2 + 2 - 3) / 2 + 1  // after the stem's stride 2 and the pooling's
        var pooled: DNNLMemory?
        var pooledScale: Float = 1
        var start = 0
        while start < batch {
            let count = batch <= Self.stemChunk ? batch : min(Self.stemChunk, batch - start)
            let imageBytes = 3 * size * size * MemoryLayout<Float>.size
            chunkStarts[steps.count] = start..<(start + count)
            var x: Activation
            if count == batch {
                x = Activation(memory: input, channels: 3, height: size, width: size)
            } else {
                let view = try DNNLMemory(try MemoryDesc(dims: [count, 3, size, size], type: dnnl_f32, tag: dnnl_nchw),
                                          engine: engine, pointer: nil)
                inputViews.append((view, start * imageBytes))
                x = Activation(memory: view, channels: 3, height: size, width: size)
            }
            if let quantization = options.quantization, int8, options.ownStem, Int8Stem.supported {
                // Faster than oneDNN's reorder, convolution and pooling at batch 1 and 8 (`Int8Stem` says why;
                // bench/results/engine-plan.md).
                let scale = quantization.scale(of: ResNet18Architecture.stem.conv, unsigned: true)
                pooledScale = scale
                let slice = try pooledSlice(&pooled, type: dnnl_u8, tag: int8ActivationTag, side: side, start: start, count: count)
                let stem = Int8Stem(batch: count, source: x.memory, destination: slice, weights: store.int8StemWeights(),
                                    floatBias: store.floatBias(ResNet18Architecture.stem.conv),
                                    inputScale: quantization.scale(of: QuantizationParameters.input, unsigned: false),
                                    outputScale: scale, threads: DNNLEngine.maxThreads)
                append(.kernel(stem), convolution: ResNet18Architecture.stem.conv)
                start += count
                continue
            }
            if let quantization = options.quantization, int8, options.ownStem, !DNNLInstructionSet.avx512,
               FloatStem.supported(.winogradAVX2) {
                // Without VNNI (no `Int8Stem`): the fp32 Winograd stem's AVX2 form, its pooled output rounded to u8
                // as it is written; faster than oneDNN's int8 reorder, convolution and pooling on a Zen 3
                // (`FloatStem` says why; bench/results/engine-plan.md).
                let scale = quantization.scale(of: ResNet18Architecture.stem.conv, unsigned: true)
                pooledScale = scale
                let slice = try pooledSlice(&pooled, type: dnnl_u8, tag: int8ActivationTag, side: side, start: start, count: count)
                append(.kernel(FloatStem(.winogradAVX2, batch: count, source: x.memory, destination: slice,
                                         weights: store.stemWeights(), bias: store.floatBias(ResNet18Architecture.stem.conv),
                                         threads: DNNLEngine.maxThreads, u8Scale: scale)),
                       convolution: ResNet18Architecture.stem.conv)
                start += count
                continue
            }
            if !int8, options.precision == .fp32, options.ownStem {
                // Winograd over the input's phases: fewer products than a direct convolution (`FloatStem` says why;
                // docs/performance.md), pooled in cache; 16 floats a vector with AVX-512, 8 with AVX2 alone.
                let kernel: FloatStem.Kernel = DNNLInstructionSet.avx512 ? .winograd : .winogradAVX2
                if FloatStem.supported(kernel) {
                    let slice = try pooledSlice(&pooled, type: dnnl_f32, tag: activationTag, side: side, start: start, count: count)
                    append(.kernel(FloatStem(kernel, batch: count, source: x.memory, destination: slice,
                                             weights: store.stemWeights(),
                                             bias: store.floatBias(ResNet18Architecture.stem.conv), threads: DNNLEngine.maxThreads)),
                           convolution: ResNet18Architecture.stem.conv)
                    start += count
                    continue
                }
            }
            if let quantization = options.quantization, int8 {
                // The stem runs in int8 too, on the input quantised to s8: in f32 it took about a quarter of the int8
                // network's time, for a cosine to fp32 better only in the fourth decimal (bench/results/engine-plan.md).
                let scale = quantization.scale(of: QuantizationParameters.input, unsigned: false)
                let desc = try MemoryDesc(dims: [count, 3, size, size], type: dnnl_s8, tag: int8ActivationTag)
                x = Activation(memory: try reorder(x.memory, to: desc, scale: scale), channels: 3, height: size, width: size, scale: scale)
            }
            x = try convolution(ResNet18Architecture.stem, x, relu: true)
            // In int8 both poolings run on u8 and keep their input's scale, and fc takes u8 features to f32 logits:
            // faster than an f32 average pool and fc after a u8→f32 reorder, and within the int8 error bound either
            // way (bench/results/engine-plan.md).
            if count == batch { return try pooling(x, algorithm: dnnl_pooling_max, kernel: 3, stride: 2, padding: 1) }
            pooledScale = x.scale
            let slice = try pooledSlice(&pooled, type: x.memory.desc.dataType, tag: int8 ? int8ActivationTag : activationTag,
                                        side: side, start: start, count: count)
            _ = try pooling(x, algorithm: dnnl_pooling_max, kernel: 3, stride: 2, padding: 1, into: slice)
            start += count
        }
        return Activation(memory: pooled!, channels: 64, height: side, width: side, scale: pooledScale)
    }

    /// The slice of the pooled stem output (64 channels, `side` square, the whole batch) for images
    /// `start..<start + count`, allocating that output at the first chunk. Images are the outermost dimension of every
    /// activation layout, so a chunk's slice is contiguous.
    private func pooledSlice(_ pooled: inout DNNLMemory?, type: dnnl_data_type_t, tag: dnnl_format_tag_t, side: Int,
                             start: Int, count: Int) throws(ResNetError) -> DNNLMemory {
        if pooled == nil { pooled = try allocate(try MemoryDesc(dims: [batch, 64, side, side], type: type, tag: tag)) }
        if count == batch { return pooled! }
        let sliceDesc = try MemoryDesc(dims: [count, 64, side, side], type: type, tag: tag)
        return try view(of: pooled!, as: sliceDesc, byteOffset: start * (sliceDesc.byteCount / count))
    }

    /// A memory for an activation of `desc`, to be placed in the arena by `placeBuffers`.
    private func allocate(_ desc: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        let memory = try DNNLMemory(desc, engine: engine, pointer: nil)
        buffers.append(ArenaBuffer(views: [(memory, 0)], bytes: (desc.byteCount + 4095) & ~4095,
                                   firstStep: steps.count, lastStep: steps.count))
        return memory
    }

    /// Gives each buffer the lowest offset clear of every buffer alive at the same time, largest first.
    ///
    /// A fraction of one buffer per activation (bench/results/engine-plan.md): the stem's output and the pooled
    /// tensor are the largest pair alive together.
    private func placeBuffers() {
        var placed: [ArenaBuffer] = []
        for var buffer in buffers.sorted(by: { $0.bytes > $1.bytes }) {
            let overlapping = placed
                .filter { $0.firstStep <= buffer.lastStep && buffer.firstStep <= $0.lastStep }
                .sorted { $0.offset < $1.offset }
            var offset = 0
            for other in overlapping where offset + buffer.bytes > other.offset {
                offset = max(offset, other.offset + other.bytes)
            }
            buffer.offset = offset
            placed.append(buffer)
            arenaBytes = max(arenaBytes, offset + buffer.bytes)
            for view in buffer.views { arenaSlots.append((view.memory, offset + view.offset)) }
        }
    }

    private func append(_ primitive: DNNLPrimitive, convolution: String? = nil, output: DNNLMemory? = nil) {
        append(.primitive(primitive), convolution: convolution, output: output)
    }

    private func append(_ step: PlanStep, convolution: String? = nil, output: DNNLMemory? = nil) {
        if let convolution, let output { convolutionOutputs[steps.count] = (convolution, output) }
        // Every activation the step reads or writes lives at least until this step.
        for memory in step.bound {
            if let index = buffers.firstIndex(where: { $0.holds(memory) }) {
                buffers[index].lastStep = steps.count
            }
        }
        steps.append(step)
        implementations.append(step.implementation)
        stepNames.append(convolution ?? step.kind)
        scratchpadBytes = max(scratchpadBytes, step.scratchpadBytes)
    }

    /// A second view of an arena memory as `desc` (same bytes, another data type).
    private func alias(_ memory: DNNLMemory, as desc: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        try view(of: memory, as: desc, byteOffset: 0)
    }

    /// A view of part of an arena memory, `byteOffset` bytes in, as `desc`.
    private func view(of memory: DNNLMemory, as desc: MemoryDesc, byteOffset: Int) throws(ResNetError) -> DNNLMemory {
        guard let index = buffers.firstIndex(where: { $0.holds(memory) }) else {
            throw .engine("internal: a view of a memory outside the arena")
        }
        let view = try DNNLMemory(desc, engine: engine, pointer: nil)
        buffers[index].views.append((view, byteOffset))
        return view
    }

    /// `x` in the layout `desc`, reordering into a new arena buffer when it is not already.
    private func ensureLayout(_ x: DNNLMemory, _ desc: MemoryDesc) throws(ResNetError) -> DNNLMemory {
        if x.desc == desc { return x }
        return try reorder(x, to: desc, scale: 1)
    }

    /// A reorder of `x` into a new arena buffer of `desc`, multiplying by `scale` (quantising or dequantising).
    private func reorder(_ x: DNNLMemory, to desc: MemoryDesc, scale: Float) throws(ResNetError) -> DNNLMemory {
        let target = try allocate(desc)
        var pd: dnnl_primitive_desc_t?
        var src = x.desc.raw, dst = desc.raw
        let attr = try DNNLAttributes()
        if scale != 1 { try attr.setOutputScales([scale]) }
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
        if x.memory.desc.dataType == dnnl_u8 || x.memory.desc.dataType == dnnl_s8 {
            return try int8Convolution(spec, x, relu: relu, accumulateInto: residual)
        }
        let batch = x.memory.desc.images
        let outHeight = (x.height + 2 * spec.padding - spec.kernel) / spec.stride + 1
        let outWidth = (x.width + 2 * spec.padding - spec.kernel) / spec.stride + 1
        let srcAny = try MemoryDesc(dims: [batch, spec.inChannels, x.height, x.width], type: dataType,
                                    tag: spec.inChannels == 3 ? dnnl_format_tag_any : activationTag)
        let weightsAny = try MemoryDesc(dims: [spec.outChannels, spec.inChannels, spec.kernel, spec.kernel],
                                        type: dataType, tag: dnnl_format_tag_any)
        let biasDesc = try MemoryDesc(dims: [spec.outChannels], type: dnnl_f32, tag: dnnl_a)
        // With a residual, the convolution must write where the identity already is, in its layout.
        let dstDesc: MemoryDesc
        if let residual {
            dstDesc = residual.memory.desc
        } else {
            dstDesc = try MemoryDesc(dims: [batch, spec.outChannels, outHeight, outWidth], type: dataType, tag: activationTag)
        }

        let blockedOutput = try MemoryDesc(dims: [batch, spec.outChannels, outHeight, outWidth], type: dnnl_f32, tag: activationTag)
        if options.winograd && options.precision == .fp32 && Self.runsOwnWinograd(spec, batch: batch, lean: options.leanWinograd)
            && WinogradConvolution.accepts(spec, batch: batch, side: x.height)
            && dstDesc == blockedOutput {
            return try ownWinograd(spec, x, relu: relu, output: dstDesc, accumulateInto: residual)
        }

        let attr = try DNNLAttributes()
        try attr.setPostOps(sum: residual != nil, relu: relu)
        // oneDNN's Winograd on layer 4 only at batch 1 and 2 (its 2x3 variant), and not when lean: its transformed
        // weights there are several times the plain ones (50 MB for the 2x3, the 4x3's four times), and at batch 1
        // the 2x3 is faster than the direct convolution and the project's kernel (bench/results/engine-plan.md); from
        // batch 4 `WinogradConvolution` runs it. On AVX-512 layers 1-3 do not reach here.
        let useWinograd = options.winograd && options.precision == .fp32 && spec.kernel == 3 && spec.stride == 1
            && (spec.inChannels < 512 || (batch <= 2 && !options.leanWinograd))
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
        append(primitive, convolution: spec.conv, output: dst)
        return Activation(memory: dst, channels: spec.outChannels, height: outHeight, width: outWidth)
    }

    /// Whether `WinogradConvolution` runs a 3×3 convolution at this batch size, oneDNN otherwise.
    ///
    /// Layers 1-3 (64 to 256 channels) at every batch size. Layers 1 and 2 in blocks of tiles that stay in L2:
    /// alternating `bench --batch 1,2,4` runs measured the network 0.5-0.9 ms faster at batch 1 and about 1.5 ms at
    /// batch 2 than with oneDNN's 2x3 and 4x3 there, and `bench --batch 8` faster than with oneDNN's 4x3. Layer 3:
    /// oneDNN's 4x3 was no faster from batch 2 and kept 20 MB of transformed weights and a 25 MB scratchpad; at batch 1
    /// its 2x3 (13 MB) ran alike once the kernel fetched its weights ahead (bench/results/engine-plan.md).
    /// Layer 4 (512 channels) from batch 4: the kernel transforms its weights on every call, which pays off once a
    /// batch brings enough tiles to share them (at batch 1 and 2 oneDNN's 2x3 Winograd runs instead, about 0.15 ms a
    /// convolution faster at batch 1, at 3 its direct convolution), and oneDNN's Winograd would keep them transformed,
    /// four times their plain size. Lean plans, which keep no 2x3 copy, run it on the kernel at every batch size:
    /// faster than the direct convolution at batch 1 and 2 in alternating `bench --layers --lean-winograd` runs.
    ///
    /// With AVX2 alone (oneDNN 2.6 has no Winograd there, so the alternative is its direct convolution), the 8-lane
    /// kernel on every stride-1 3×3 at every batch size. Alternating `bench` runs on a Zen 2 measured batch 1 at 22.1
    /// ms direct, 20.1 with layer 1 on the kernel, 19.2 with layers 1-2, 18.1 with 1-3, and 19.0 with layer 4 too, so
    /// layer 4 ran direct at batch 1; since then the kernel fetches each weight row ahead, and on a Zen 3 layer 4's
    /// convolutions at batch 1 took 1.7-2.0 ms on it against 2.8-3.0 direct, the network 16.3-21.8 ms against
    /// 18.2-24.2 in four alternating pairs (bench/results/engine-plan.md). From batch 2 layer 4 gained on Zen 2 too
    /// (batch 8: 116.5 ms with layers 1-3, 98.4 with all four, 162.1 direct) (docs/performance.md).
    static func runsOwnWinograd(_ spec: ConvSpec, batch: Int, lean: Bool = false) -> Bool {
        if WinogradConvolution.Form.current == .avx2 { return true }
        return spec.inChannels <= 256 || batch >= 4 || lean
    }

    /// With AVX2 alone, whether the kernel reads this convolution's weights transformed once (kept: 36 × in × out
    /// floats, four times the plain ones, which are then not kept) rather than transforming them on every call: layers
    /// 1 and 2, at every batch size, for 7 MB. The output is the same bit for bit either way (same values, same
    /// multiply-adds in the same order), so an image's logits depend neither on its batch nor on this choice. Their
    /// blocks of tiles transformed all of a convolution's weights on every call and then waited for each other, a large
    /// part of their time at small batches; with few tiles (layer 2 at batches 1-3) the kernel also takes the products
    /// point by point over the whole transformed input. Layer 3 gains alone but not in the network at batch 1, where
    /// four times its weights' bytes come from memory on every call (keeping both copies would cost 28 MB); layer 4's
    /// would be 113 MB (bench/results/engine-plan.md).
    static func keepsTransformedWeights(_ spec: ConvSpec) -> Bool {
        WinogradConvolution.Form.current == .avx2 && spec.inChannels * spec.outChannels <= 128 * 128
    }

    /// conv + folded BatchNorm (+ residual) (+ ReLU) on `WinogradConvolution`, nChw16c in and out.
    private func ownWinograd(_ spec: ConvSpec, _ x: Activation, relu: Bool, output dstDesc: MemoryDesc,
                             accumulateInto residual: Activation?) throws(ResNetError) -> Activation {
        let source = try ensureLayout(x.memory, try MemoryDesc(dims: [batch, spec.inChannels, x.height, x.width], type: dnnl_f32,
                                                               tag: activationTag))
        let dst: DNNLMemory
        if let residual { dst = residual.memory } else { dst = try allocate(dstDesc) }
        let layout = try WinogradConvolution.weightsDesc(spec)
        let weights: WinogradConvolution.Weights = Self.keepsTransformedWeights(spec)
            ? .transformed(try store.winogradTransformedWeights(spec.conv, layout: layout))
            : .plain(try store.convolutionWeights(spec.conv, layout: layout))
        let step = WinogradConvolution(spec, batch: batch, side: x.height, source: source, destination: dst, weights: weights,
                                       bias: try store.convolutionBias(spec.conv), accumulate: residual != nil, relu: relu,
                                       threads: DNNLEngine.maxThreads)
        append(.kernel(step), convolution: spec.conv, output: dst)
        return Activation(memory: dst, channels: spec.outChannels, height: x.height, width: x.width)
    }

    /// The int8 form: u8/s8 source, s8 per-channel weights, f32 bias in accumulator units, and one output scale
    /// per channel taking the accumulator (units sIn·sW[o]) to the output's own scale.
    ///
    /// The residual sum reads the identity at its own scale, hence the post-op's scale sOut / sIdentity; an s8
    /// identity (a downsample's output) is read as s8 under a u8 output, since the ReLU makes the result unsigned.
    private func int8Convolution(_ spec: ConvSpec, _ x: Activation, relu: Bool,
                                 accumulateInto residual: Activation?) throws(ResNetError) -> Activation {
        guard let quantization = options.quantization else { throw .quantization("int8 plan without parameters") }
        let batch = x.memory.desc.images
        let outHeight = (x.height + 2 * spec.padding - spec.kernel) / spec.stride + 1
        let outWidth = (x.width + 2 * spec.padding - spec.kernel) / spec.stride + 1
        let outType = relu ? dnnl_u8 : dnnl_s8
        let outScale = quantization.scale(of: spec.conv, unsigned: relu)
        let weightScales = store.int8WeightScales(spec.conv)

        if options.winograd, x.memory.desc.dataType == dnnl_u8, relu,
           ResNet18Architecture.int8WinogradInputs[spec.conv] != nil,
           let pointMax = quantization.winogradPointMax(of: spec.conv), Int8WinogradConvolution.accepts(spec) {
            return try int8Winograd(spec, x, pointMax: pointMax, outScale: outScale, accumulateInto: residual)
        }
        if options.winograd, x.memory.desc.dataType == dnnl_u8, relu,
           Int16WinogradConvolution.runs(spec) {
            return try int8Winograd(spec, x, pointMax: nil, outScale: outScale, accumulateInto: residual)
        }
        let srcAny = try MemoryDesc(dims: [batch, spec.inChannels, x.height, x.width], type: x.memory.desc.dataType,
                                    tag: int8ActivationTag)
        let weightsAny = try MemoryDesc(dims: [spec.outChannels, spec.inChannels, spec.kernel, spec.kernel],
                                        type: dnnl_s8, tag: dnnl_format_tag_any)
        let biasDesc = try MemoryDesc(dims: [spec.outChannels], type: dnnl_f32, tag: dnnl_a)
        let dstDesc: MemoryDesc
        if let residual {
            dstDesc = residual.memory.desc.with(type: outType)
        } else {
            dstDesc = try MemoryDesc(dims: [batch, spec.outChannels, outHeight, outWidth], type: outType, tag: int8ActivationTag)
        }

        let attr = try DNNLAttributes()
        try attr.setOutputScales(weightScales.map { outScale / (x.scale * $0) })
        if let residual {
            let identityType = residual.memory.desc.dataType
            try attr.setPostOps(sum: true, relu: relu, sumScale: outScale / residual.scale,
                                sumType: identityType == outType ? dnnl_data_type_undef : identityType)
        } else {
            try attr.setPostOps(sum: false, relu: relu)
        }

        var desc = dnnl_convolution_desc_t()
        var src = srcAny.raw, weights = weightsAny.raw, bias = biasDesc.raw, dst = dstDesc.raw
        let strides: [Int64] = [Int64(spec.stride), Int64(spec.stride)]
        let padding: [Int64] = [Int64(spec.padding), Int64(spec.padding)]
        // Direct (layer 3 aside, above): oneDNN's int8 Winograd (jit_int8_wino) was faster, but its error took the
        // network's cosine to fp32 below the 0.999 bar (bench/results/engine-plan.md).
        try dnnlCheck(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src, &weights,
                                                         &bias, &dst, strides, padding, padding), "int8 \(spec.conv) descriptor")
        var created: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&created, &desc, attr.handle, engine.engine, nil),
                      "int8 \(spec.conv) at batch \(batch)")
        let pd = DNNLPrimitiveDesc(created!)

        let source = try ensureLayout(x.memory, pd.src)
        let output: DNNLMemory
        if let residual {
            output = residual.memory.desc == pd.dst ? residual.memory : try alias(residual.memory, as: pd.dst)
        } else {
            output = try allocate(pd.dst)
        }
        let primitive = try DNNLPrimitive(pd)
        primitive.bind(DNNLArg.src, source)
        primitive.bind(DNNLArg.weights, try store.int8Weights(spec.conv, layout: pd.weights))
        primitive.bind(DNNLArg.bias, try store.int8Bias(spec.conv, inputScale: x.scale))
        primitive.bind(DNNLArg.dst, output)
        append(primitive, convolution: spec.conv, output: output)
        return Activation(memory: output, channels: spec.outChannels, height: outHeight, width: outWidth, scale: outScale)
    }

    /// conv + folded BatchNorm (+ residual) + ReLU on `Int8WinogradConvolution` (F(2×2), given the transform
    /// points' ranges) or `Int16WinogradConvolution` (F(4×4), without), u8 nhwc in and out.
    private func int8Winograd(_ spec: ConvSpec, _ x: Activation, pointMax: [Float]?, outScale: Float,
                              accumulateInto residual: Activation?) throws(ResNetError) -> Activation {
        let batch = x.memory.desc.images
        let source = try ensureLayout(x.memory, try MemoryDesc(dims: [batch, spec.inChannels, x.height, x.width],
                                                               type: dnnl_u8, tag: int8ActivationTag))
        let outDesc = try MemoryDesc(dims: [batch, spec.outChannels, x.height, x.width], type: dnnl_u8, tag: int8ActivationTag)
        let output: DNNLMemory
        var identity: (memory: DNNLMemory, signed: Bool, scale: Float)?
        if let residual {
            let layout = try MemoryDesc(dims: [batch, spec.outChannels, x.height, x.width],
                                        type: residual.memory.desc.dataType, tag: int8ActivationTag)
            guard residual.memory.desc == layout else {
                throw .engine("internal: the identity of \(spec.conv) is not nhwc")
            }
            identity = (residual.memory, residual.memory.desc.dataType == dnnl_s8, residual.scale)
            output = residual.memory.desc == outDesc ? residual.memory : try alias(residual.memory, as: outDesc)
        } else {
            output = try allocate(outDesc)
        }
        if let pointMax {
            let step = Int8WinogradConvolution(spec, batch: batch, side: x.height, source: source, destination: output,
                                               weights: store.int8WinogradWeights(spec.conv), floatBias: store.floatBias(spec.conv),
                                               inputScale: x.scale, outputScale: outScale, pointMax: pointMax,
                                               residual: identity, threads: DNNLEngine.maxThreads)
            append(.kernel(step), convolution: spec.conv, output: output)
        } else {
            let step = Int16WinogradConvolution(spec, batch: batch, side: x.height, source: source, destination: output,
                                                weights: store.int16WinogradWeights(spec.conv), floatBias: store.floatBias(spec.conv),
                                                inputScale: x.scale, outputScale: outScale, residual: identity,
                                                threads: DNNLEngine.maxThreads)
            append(.kernel(step), convolution: spec.conv, output: output)
        }
        return Activation(memory: output, channels: spec.outChannels, height: x.height, width: x.width, scale: outScale)
    }

    /// A pooling of `x` into a new arena buffer, or into `output` (of the pooled shape) when given.
    private func pooling(_ x: Activation, algorithm: dnnl_alg_kind_t, kernel: Int, stride: Int, padding: Int,
                         into output: DNNLMemory? = nil) throws(ResNetError) -> Activation {
        let outHeight = (x.height + 2 * padding - kernel) / stride + 1
        let outWidth = (x.width + 2 * padding - kernel) / stride + 1
        var desc = dnnl_pooling_v2_desc_t()
        var src = x.memory.desc.raw
        var dst: dnnl_memory_desc_t
        if let output {
            dst = output.desc.raw
        } else {
            dst = try MemoryDesc(dims: [x.memory.desc.images, x.channels, outHeight, outWidth], type: x.memory.desc.dataType,
                                 tag: dnnl_format_tag_any).raw
        }
        let k: [Int64] = [Int64(kernel), Int64(kernel)], s: [Int64] = [Int64(stride), Int64(stride)]
        let p: [Int64] = [Int64(padding), Int64(padding)], dilation: [Int64] = [0, 0]
        try dnnlCheck(dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, algorithm, &src, &dst, s, k, dilation, p, p),
                      "pooling descriptor")
        var pd: dnnl_primitive_desc_t?
        let attr = try DNNLAttributes()
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attr.handle, engine.engine, nil), "pooling")
        let primitiveDesc = DNNLPrimitiveDesc(pd!)
        let out: DNNLMemory
        if let output { out = output } else { out = try allocate(primitiveDesc.dst) }
        let primitive = try DNNLPrimitive(primitiveDesc)
        primitive.bind(DNNLArg.src, x.memory)
        primitive.bind(DNNLArg.dst, out)
        append(primitive)
        return Activation(memory: out, channels: x.channels, height: outHeight, width: outWidth, scale: x.scale)
    }

    /// The reorder of the pooled [N, 512, 1, 1] activation (any layout and type) to f32 [N, 512]; u8 features
    /// (int8) are scaled back to real values.
    private func prepareFeatureCopy(_ x: Activation) throws(ResNetError) {
        let destinationDesc = try MemoryDesc(dims: [batch, x.channels, 1, 1], type: dnnl_f32, tag: dnnl_nchw)
        let destination = try DNNLMemory(destinationDesc, engine: engine, pointer: nil)
        var pd: dnnl_primitive_desc_t?
        var src = x.memory.desc.raw, dst = destinationDesc.raw
        let attr = try DNNLAttributes()
        if x.memory.desc.dataType == dnnl_u8 { try attr.setOutputScales([1 / x.scale]) }
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &src, engine.engine, &dst, engine.engine, attr.handle), "feature reorder")
        let primitive = try DNNLPrimitive(DNNLPrimitiveDesc(pd!))
        primitive.bind(DNNLArg.src, x.memory)
        primitive.bind(DNNLArg.dst, destination)
        featureCopy = (primitive, destination)
    }

    /// fc on the pooled [N, 512, 1, 1] tensor, in whatever layout pooling left it, into the caller's [N, classes].
    ///
    /// In int8 the pooled u8 features meet s8 weights, and the output scales 1 / (sIn·sW[o]) give f32 logits.
    private func classifier(_ x: Activation, classCount: Int) throws(ResNetError) {
        let int8 = x.memory.desc.dataType == dnnl_u8
        var desc = dnnl_inner_product_desc_t()
        var src = x.memory.desc.raw
        var weights = try MemoryDesc(dims: [classCount, x.channels, 1, 1], type: int8 ? dnnl_s8 : dataType,
                                     tag: dnnl_format_tag_any).raw
        var bias = try MemoryDesc(dims: [classCount], type: dnnl_f32, tag: dnnl_a).raw
        let dstDesc = try MemoryDesc(dims: [batch, classCount], type: dnnl_f32, tag: dnnl_nc)
        var dst = dstDesc.raw
        try dnnlCheck(dnnl_inner_product_forward_desc_init(&desc, dnnl_forward_inference, &src, &weights, &bias, &dst),
                      "classifier descriptor")
        var pd: dnnl_primitive_desc_t?
        let attr = try DNNLAttributes()
        if int8 { try attr.setOutputScales(store.int8WeightScales("fc").map { 1 / (x.scale * $0) }) }
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attr.handle, engine.engine, nil), "classifier")
        let primitiveDesc = DNNLPrimitiveDesc(pd!)
        output = try DNNLMemory(dstDesc, engine: engine, pointer: nil)
        let primitive = try DNNLPrimitive(primitiveDesc)
        primitive.bind(DNNLArg.src, x.memory)
        if int8 {
            primitive.bind(DNNLArg.weights, try store.int8Weights("fc", layout: primitiveDesc.weights))
            primitive.bind(DNNLArg.bias, try store.int8Bias("fc", inputScale: x.scale))
        } else {
            primitive.bind(DNNLArg.weights, try store.classifierWeights(layout: primitiveDesc.weights))
            primitive.bind(DNNLArg.bias, try store.classifierBias())
        }
        primitive.bind(DNNLArg.dst, output)
        append(primitive)
    }
}

/// An activation buffer of a plan: the steps from its first write to its last read, and its place in the arena.
private struct ArenaBuffer {
    /// The memories over this buffer's bytes, each at a byte offset into it.
    var views: [(memory: DNNLMemory, offset: Int)]
    let bytes: Int
    let firstStep: Int
    var lastStep: Int
    var offset = 0

    func holds(_ memory: DNNLMemory) -> Bool { views.contains { $0.memory === memory } }
}

/// One step of a plan: a oneDNN primitive, or one of the project's own kernels.
private enum PlanStep {
    case primitive(DNNLPrimitive)
    case kernel(any KernelStep)

    /// Runs the step; `scratchpad` is where the plan's scratchpad memory points for this run.
    func execute(on engine: DNNLEngine, scratchpad: UnsafeMutableRawPointer) throws(ResNetError) {
        switch self {
        case let .primitive(primitive): try primitive.execute(on: engine)
        case let .kernel(kernel): try kernel.execute(scratchpad: scratchpad)
        }
    }

    /// The memories the step reads or writes.
    var bound: [DNNLMemory] {
        switch self {
        case let .primitive(primitive): primitive.bound
        case let .kernel(kernel): kernel.bound
        }
    }

    var implementation: String {
        switch self {
        case let .primitive(primitive): primitive.desc.implementation
        case let .kernel(kernel): kernel.implementation
        }
    }

    /// The primitive's kind (`pooling`, `reorder`, ...); the project's kernels are named by what they compute.
    var kind: String {
        switch self {
        case let .primitive(primitive): primitive.desc.kind
        case let .kernel(kernel): kernel.implementation
        }
    }

    var scratchpadBytes: Int {
        switch self {
        case let .primitive(primitive): primitive.desc.scratchpad.byteCount
        case let .kernel(kernel): kernel.scratchpadBytes
        }
    }
}
