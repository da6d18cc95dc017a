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
    /// Winograd on the 3x3 stride-1 convolutions (fp32): oneDNN's on layers 1-3, the project's own kernel on
    /// layer 4 in batches of 4 or more (`WinogradConvolution`, no transformed weights kept).
    public var winograd: Bool
    /// Activation ranges from `resnet18 quantize`; required by `.int8`, ignored otherwise.
    public var quantization: QuantizationParameters?

    public init(threads: Int? = nil, precision: Precision = .fp32, winograd: Bool = true,
                quantization: QuantizationParameters? = nil) {
        self.threads = threads
        self.precision = precision
        self.winograd = winograd
        self.quantization = quantization
    }
}
