import Foundation

/// One of the top classes for an image.
public struct Prediction: Sendable, Codable, Equatable {
    public let index: Int
    public let wnid: String?
    public let label: String
    /// Softmax probability, 0...1.
    public let probability: Double
}

/// Softmax over logits and the k most probable classes, highest first (ties by lower index, as torch.topk on CPU).
public func topPredictions(logits: UnsafeBufferPointer<Float>, labels: Labels, k: Int) -> [Prediction] {
    guard let maxLogit = logits.max() else { return [] }
    var sum = 0.0
    for value in logits { sum += exp(Double(value - maxLogit)) }
    let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
    return order.prefix(max(0, min(k, logits.count))).map { index in
        let label = index < labels.count ? labels[index] : ClassLabel(index: index, wnid: nil, name: "class \(index)")
        return Prediction(index: index, wnid: label.wnid, label: label.name,
                          probability: exp(Double(logits[index] - maxLogit)) / sum)
    }
}
