import Checkpoint
import Foundation

/// A convolution with its BatchNorm folded in: `w' = w·γ/√(σ²+ε)`, `b' = β − μ·γ/√(σ²+ε)`.
struct FoldedConv: Sendable {
    let spec: ConvSpec
    /// OIHW, float32.
    let weights_oihw: [Float]
    let bias: [Float]
}

/// Where a set of weights came from, named in every result.
public struct WeightsIdentity: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The file name (no folders), or `untrained` for the built-in deterministic weights.
    public let name: String
    /// The first 8 hex digits of the file's SHA-256 (torchvision names its files by them).
    public let sha256Prefix: String
    /// False for the built-in untrained weights, whose labels mean nothing.
    public let trained: Bool

    public init(name: String, sha256Prefix: String, trained: Bool) {
        self.name = name
        self.sha256Prefix = sha256Prefix
        self.trained = trained
    }

    public static let untrained = WeightsIdentity(name: "untrained", sha256Prefix: "00000000", trained: false)

    /// True for torchvision's ImageNet checkpoint, recognised by its SHA-256 prefix.
    public var official: Bool { trained && sha256Prefix == "f37072fd" }

    public var description: String { trained ? "\(name) (sha256 \(sha256Prefix))" : "untrained (no weights file: labels are meaningless)" }
}

/// ResNet-18's parameters, checked against the architecture and with BatchNorm folded, ready for an engine.
public struct ResNet18Weights: Sendable {
    let convolutions: [String: FoldedConv]
    /// fc, [classes, 512] row-major.
    let fcWeights: [Float]
    let fcBias: [Float]
    public let classCount: Int
    public let identity: WeightsIdentity

    /// torchvision's BatchNorm2d default.
    static let batchNormEpsilon = 1e-5

    /// Checks every key and shape of ResNet-18 and folds the BatchNorms.
    ///
    /// `num_batches_tracked` is ignored and a `module.` prefix (from `DataParallel`) is removed.
    /// The `fc` head may have any class count.
    public init(stateDict: StateDict, file: String, identity: WeightsIdentity) throws(ResNetError) {
        var tensors: [String: Tensor] = [:]
        for (key, tensor) in stateDict.tensors {
            let name = key.hasPrefix("module.") ? String(key.dropFirst("module.".count)) : key
            if name.hasSuffix("num_batches_tracked") { continue }
            tensors[name] = tensor
        }
        guard let fc = tensors["fc.weight"] else { throw .missingKey(file: file, key: "fc.weight") }
        guard fc.shape.count == 2, fc.shape[1] == ResNet18Architecture.featureCount, fc.shape[0] > 0 else {
            throw .shapeMismatch(file: file, key: "fc.weight", expected: [1000, 512], found: fc.shape)
        }
        let classes = fc.shape[0]
        var expected: [String: [Int]] = ["fc.weight": [classes, 512], "fc.bias": [classes]]
        for spec in ResNet18Architecture.convolutions {
            expected["\(spec.conv).weight"] = [spec.outChannels, spec.inChannels, spec.kernel, spec.kernel]
            for field in ["weight", "bias", "running_mean", "running_var"] {
                expected["\(spec.batchNorm).\(field)"] = [spec.outChannels]
            }
        }
        // Report the first problem in a stable order: architecture order for missing keys, sorted for extras.
        for spec in ResNet18Architecture.convolutions {
            for key in ["\(spec.conv).weight"] + ["weight", "bias", "running_mean", "running_var"].map({ "\(spec.batchNorm).\($0)" }) {
                guard let tensor = tensors[key] else { throw .missingKey(file: file, key: key) }
                if tensor.shape != expected[key]! {
                    throw .shapeMismatch(file: file, key: key, expected: expected[key]!, found: tensor.shape)
                }
            }
        }
        guard let fcBias = tensors["fc.bias"] else { throw .missingKey(file: file, key: "fc.bias") }
        guard fcBias.shape == [classes] else {
            throw .shapeMismatch(file: file, key: "fc.bias", expected: [classes], found: fcBias.shape)
        }
        if let extra = tensors.keys.sorted().first(where: { expected[$0] == nil }) {
            throw .unexpectedKey(file: file, key: extra)
        }

        var folded: [String: FoldedConv] = [:]
        for spec in ResNet18Architecture.convolutions {
            folded[spec.conv] = Self.fold(
                spec: spec,
                weights: tensors["\(spec.conv).weight"]!.floats,
                gamma: tensors["\(spec.batchNorm).weight"]!.floats,
                beta: tensors["\(spec.batchNorm).bias"]!.floats,
                mean: tensors["\(spec.batchNorm).running_mean"]!.floats,
                variance: tensors["\(spec.batchNorm).running_var"]!.floats)
        }
        self.convolutions = folded
        self.fcWeights = fc.floats
        self.fcBias = fcBias.floats
        self.classCount = classes
        self.identity = identity
    }

    init(convolutions: [String: FoldedConv], fcWeights: [Float], fcBias: [Float], identity: WeightsIdentity) {
        self.convolutions = convolutions
        self.fcWeights = fcWeights
        self.fcBias = fcBias
        self.classCount = fcBias.count
        self.identity = identity
    }

    static func fold(spec: ConvSpec, weights: [Float], gamma: [Float], beta: [Float], mean: [Float], variance: [Float]) -> FoldedConv {
        let perChannel = weights.count / spec.outChannels
        var w = weights
        var bias = [Float](repeating: 0, count: spec.outChannels)
        for o in 0..<spec.outChannels {
            let scale = Double(gamma[o]) / (Double(variance[o]) + batchNormEpsilon).squareRoot()
            bias[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
            for i in (o * perChannel)..<((o + 1) * perChannel) {
                w[i] = Float(Double(w[i]) * scale)
            }
        }
        return FoldedConv(spec: spec, weights_oihw: w, bias: bias)
    }

    /// Deterministic, untrained weights (He-normal convolutions, identity BatchNorm) for running without a file.
    ///
    /// Their labels are meaningless; every result made with them says so.
    public static func untrained(classCount: Int = 1000, seed: UInt64 = 18) -> ResNet18Weights {
        var random = SplitMix64(seed: seed)
        var convolutions: [String: FoldedConv] = [:]
        for spec in ResNet18Architecture.convolutions {
            let fanIn = Double(spec.inChannels * spec.kernel * spec.kernel)
            let std = (2.0 / fanIn).squareRoot()
            let count = spec.outChannels * spec.inChannels * spec.kernel * spec.kernel
            // The second conv of a block starts near zero, so that activations do not grow with depth.
            let damping = spec.conv.hasSuffix("conv2") ? 0.2 : 1.0
            let w = (0..<count).map { _ in Float(random.nextGaussian() * std * damping) }
            convolutions[spec.conv] = FoldedConv(spec: spec, weights_oihw: w, bias: [Float](repeating: 0, count: spec.outChannels))
        }
        let fcStd = (1.0 / Double(ResNet18Architecture.featureCount)).squareRoot()
        let fc = (0..<(classCount * ResNet18Architecture.featureCount)).map { _ in Float(random.nextGaussian() * fcStd) }
        return ResNet18Weights(convolutions: convolutions, fcWeights: fc, fcBias: [Float](repeating: 0, count: classCount),
                               identity: .untrained)
    }
}

/// A small, fast, reproducible PRNG (Steele, Lea, Flood 2014), so untrained weights are the same everywhere; also
/// what `bench` fills its synthetic inputs with, millions of values where the system's generator would make a
/// `getrandom` call for each.
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    mutating func nextUniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }

    /// Standard normal, by Box-Muller.
    mutating func nextGaussian() -> Double {
        let u = nextUniform(), v = nextUniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
