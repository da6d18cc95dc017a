import Recognition
import ResNet

/// Which weights produced a result: every JSON answer carries one.
struct WeightsBody: Encodable, Sendable {
    let name: String
    let sha256: String
    let trained: Bool
    let official: Bool

    init(_ identity: WeightsIdentity) {
        name = identity.name
        sha256 = identity.sha256Prefix
        trained = identity.trained
        official = identity.official
    }
}

/// The answer of `POST /v1/classify`.
struct ClassifyResponse: Encodable, Sendable {
    /// One per uploaded image, in upload order.
    struct ImageResult: Encodable, Sendable {
        let filename: String?
        let top: [Prediction]
        let weights: WeightsBody
        let cached: Bool
        let timings: Timings
        /// Images that shared the engine call (0 when cached).
        let batchSize: Int
        /// The history row of this recognition, once committed; absent when history is off or failing.
        let historyID: Int64?
        /// Each `group` asked for, with its summed probability; absent when none was asked for.
        let groups: [GroupProbability]?
        /// Each head's categories (`--head`); absent without heads.
        let custom: [CustomAnswer]?

        enum CodingKeys: String, CodingKey {
            case filename, top, weights, cached, timings, groups, custom
            case batchSize = "batch_size"
            case historyID = "history_id"
        }
    }

    let results: [ImageResult]
    let weights: WeightsBody
    /// Present when the weights are the untrained built-in ones: the labels mean nothing.
    let warning: String?

    init(_ classified: [Classified], uploads: [Upload], weights: WeightsIdentity, groups: ClassifyGroups? = nil) {
        results = zip(classified, uploads).map { item, upload in
            ImageResult(filename: upload.filename, top: item.classification.top,
                        weights: WeightsBody(item.classification.weights), cached: item.cached,
                        timings: item.classification.timings.rounded(),
                        batchSize: item.cached ? 0 : item.classification.batchSize, historyID: item.historyID,
                        groups: groups.flatMap { $0.isEmpty ? nil : item.classification.logits.map($0.probabilities) },
                        custom: item.custom.isEmpty ? nil : item.custom)
        }
        self.weights = WeightsBody(weights)
        warning = weights.trained ? nil : UntrainedWarning.text
    }
}

/// The answer of `POST /v1/embed`.
struct EmbedResponse: Encodable, Sendable {
    struct ImageResult: Encodable, Sendable {
        let filename: String?
        /// torchvision's `avgpool` output, flattened: 512 numbers.
        let features: [Float]
        /// Their Euclidean length (cosine similarity is the dot product over both norms).
        let norm: Double
        let top: [Prediction]
        let cached: Bool
        let timings: Timings
    }

    let results: [ImageResult]
    let dimensions: Int
    let weights: WeightsBody
    let warning: String?

    init(_ classified: [Classified], uploads: [Upload], weights: WeightsIdentity) {
        results = zip(classified, uploads).map { item, upload in
            let features = item.classification.features ?? []
            return ImageResult(filename: upload.filename, features: features,
                               norm: features.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot(),
                               top: item.classification.top, cached: item.cached, timings: item.classification.timings.rounded())
        }
        dimensions = ResNet18Engine.featureCount
        self.weights = WeightsBody(weights)
        warning = weights.trained ? nil : UntrainedWarning.text
    }
}

/// What answers say when the weights are untrained.
enum UntrainedWarning {
    static let text = "Untrained weights: the labels are meaningless. Start the server with --weights PATH "
        + "(or set RESNET18_WEIGHTS), or run `resnet18 weights fetch` for torchvision's ImageNet weights."
}

extension Timings {
    /// Milliseconds to three decimals, enough for people and stable in JSON.
    func rounded() -> Timings {
        func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        return Timings(decode: round(decode), preprocess: round(preprocess), queue: round(queue),
                       inference: round(inference), total: round(total))
    }
}
