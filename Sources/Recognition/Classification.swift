import ResNet

/// Where the time for one image went, in milliseconds.
public struct Timings: Sendable, Codable, Equatable {
    public var decode: Double = 0
    public var preprocess: Double = 0
    /// Waiting for a batch to fill (server only).
    public var queue: Double = 0
    /// The engine call (shared by the whole batch the image ran in).
    public var inference: Double = 0
    public var total: Double = 0

    public init(decode: Double = 0, preprocess: Double = 0, queue: Double = 0, inference: Double = 0, total: Double = 0) {
        self.decode = decode
        self.preprocess = preprocess
        self.queue = queue
        self.inference = inference
        self.total = total
    }
}

/// What the network says about one image.
public struct Classification: Sendable {
    public var top: [Prediction]
    /// All logits, when asked for.
    public var logits: [Float]?
    public var weights: WeightsIdentity
    public var timings: Timings
    /// How many images shared the engine call.
    public var batchSize: Int
    /// The 512 pooled features (the input of fc, torchvision's `avgpool` output), when asked for.
    public var features: [Float]? = nil
}

extension WeightsIdentity {
    /// How results name their weights: `resnet18-f37072fd.pth sha256:f37072fd`, or `untrained`.
    public var resultLabel: String { trained ? "\(name) sha256:\(sha256Prefix)" : "untrained" }
}
