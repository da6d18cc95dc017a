/// One convolution of ResNet-18 with the BatchNorm that follows it (`conv1`+`bn1`, `layer2.0.downsample.0`+`.1`, ...).
struct ConvSpec: Sendable {
    /// State-dict prefix of the convolution's weight, e.g. `layer1.0.conv1`.
    let conv: String
    /// State-dict prefix of its BatchNorm, e.g. `layer1.0.bn1`.
    let batchNorm: String
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    var padding: Int { kernel / 2 }
}

/// A BasicBlock: conv-bn-relu, conv-bn, plus the identity or a 1x1 downsample, then ReLU.
struct BlockSpec: Sendable {
    let first: ConvSpec
    let second: ConvSpec
    let downsample: ConvSpec?
}

/// torchvision's `resnet18`: the stem, four stages of two BasicBlocks, global pooling, `fc`.
enum ResNet18Architecture {
    static let featureCount = 512
    static let inputSize = 224

    static let stem = ConvSpec(conv: "conv1", batchNorm: "bn1", inChannels: 3, outChannels: 64, kernel: 7, stride: 2)

    static let blocks: [BlockSpec] = {
        var blocks: [BlockSpec] = []
        var channels = 64
        for (stage, width) in [64, 128, 256, 512].enumerated() {
            for index in 0..<2 {
                let prefix = "layer\(stage + 1).\(index)"
                let stride = (stage > 0 && index == 0) ? 2 : 1
                let downsample = (stride != 1 || channels != width)
                    ? ConvSpec(conv: "\(prefix).downsample.0", batchNorm: "\(prefix).downsample.1",
                               inChannels: channels, outChannels: width, kernel: 1, stride: stride)
                    : nil
                blocks.append(BlockSpec(
                    first: ConvSpec(conv: "\(prefix).conv1", batchNorm: "\(prefix).bn1",
                                    inChannels: channels, outChannels: width, kernel: 3, stride: stride),
                    second: ConvSpec(conv: "\(prefix).conv2", batchNorm: "\(prefix).bn2",
                                     inChannels: width, outChannels: width, kernel: 3, stride: 1),
                    downsample: downsample))
                channels = width
            }
        }
        return blocks
    }()

    /// The convolutions the int8 plan runs as Winograd F(2×2, 3×3) (`Int8WinogradConvolution`): layer 3's 3×3
    /// stride-1 ones, each keyed to the convolution whose output it reads (a block's `conv2` output is the block
    /// output), whose range per transform point calibration measures. Not layer 4: its transformed weights (16 bytes
    /// per pair of channels, too many for the cache) come from memory at every call, which made it slower than
    /// direct (bench/results/engine-plan.md).
    static let int8WinogradInputs: [String: String] = {
        var inputs: [String: String] = [:]
        var blockInput = stem.conv   // layer 1's first block reads the pooled stem output: never one of these
        for block in blocks {
            if block.first.stride == 1 && block.first.inChannels == 256 { inputs[block.first.conv] = blockInput }
            if block.second.inChannels == 256 { inputs[block.second.conv] = block.first.conv }
            blockInput = block.second.conv
        }
        return inputs
    }()

    /// The convolutions the int8 plan runs as Winograd F(4×4, 3×3) in 16 bits (`Int16WinogradConvolution`): the
    /// 3×3 stride-1 ones of layers 1 and 2, where the channels are few and the maps large.
    static let int16WinogradConvolutions: Set<String> = Set(blocks.flatMap { block in
        [block.first, block.second].filter { $0.stride == 1 && $0.inChannels <= 128 }.map(\.conv)
    })

    /// Where the 16-bit kernel runs in its AVX2 form (no VNNI, so no 8-bit F(2×2) for layer 3 either): layer 3's
    /// stride-1 convolutions too. On a Zen 3, alternating `bench --precision int8 --layers` runs put one of them at
    /// 3.4 ms at batch 8 against 5.7-5.8 for oneDNN's direct AVX2 int8 code, 0.64 against 0.70 at batch 1. Layer 4
    /// stays direct: its 16-bit transformed weights (19 MB a convolution) come from memory on every call, and the
    /// network ran 1.6× slower with them (bench/results/engine-plan.md).
    static let int16WinogradConvolutionsAVX2: Set<String> = Set(blocks.flatMap { block in
        [block.first, block.second].filter { $0.stride == 1 && $0.inChannels <= 256 }.map(\.conv)
    })

    /// Every convolution in execution order.
    static var convolutions: [ConvSpec] {
        [stem] + blocks.flatMap { [$0.first, $0.second] + ($0.downsample.map { [$0] } ?? []) }
    }

    /// Multiply-adds of one image through the network, counted as 2 FLOPs each.
    static let flopsPerImage: Double = {
        // The stem: 7x7 stride 2 to 112x112, then max-pooling to 56x56.
        var flops = 2.0 * Double(64 * 3 * 49 * 112 * 112)
        var size = 56
        for block in blocks {
            let outSize = size / block.first.stride
            let k1 = block.first
            flops += 2.0 * Double(k1.outChannels * k1.inChannels * 9 * outSize * outSize)
            let k2 = block.second
            flops += 2.0 * Double(k2.outChannels * k2.inChannels * 9 * outSize * outSize)
            if let ds = block.downsample {
                flops += 2.0 * Double(ds.outChannels * ds.inChannels * outSize * outSize)
            }
            size = outSize
        }
        flops += 2.0 * Double(1000 * featureCount)
        return flops
    }()
}
