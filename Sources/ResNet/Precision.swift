/// The arithmetic the engine runs in.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// float32 everywhere: what torchvision computes, within 1e-3 on the logits.
    case fp32
    /// bfloat16 activations and weights with float32 accumulation (AVX-512 BF16).
    case bf16
    /// uint8 activations, int8 weights (AVX-512 VNNI); needs calibration parameters.
    case int8
}

/// How an engine is built.
public struct EngineOptions: Sendable {
    /// OpenMP threads oneDNN uses; nil means all cores.
    public var threads: Int?
    public var precision: Precision
    /// Winograd on the 3x3 stride-1 convolutions where oneDNN has it.
    public var winograd: Bool
    /// Winograd only below 512 channels (layers 1-3): layer 4's transformed weights take 130 MB of the 215 MB
    /// Winograd holds for ImageNet ResNet-18 across batch sizes, for about 7 % of the speed at batch 1 and 10 % at 8.
    public var leanWinograd: Bool
    /// Activation ranges from `resnet18 quantize`; required by `.int8`, ignored otherwise.
    public var quantization: QuantizationParameters?

    public init(threads: Int? = nil, precision: Precision = .fp32, winograd: Bool = true, leanWinograd: Bool = false,
                quantization: QuantizationParameters? = nil) {
        self.leanWinograd = leanWinograd
        self.threads = threads
        self.precision = precision
        self.winograd = winograd
        self.quantization = quantization
    }
}
