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
    // The k best by one pass keeping a sorted list of k (a full sort of 1000 took 0.2 % of the server's CPU);
    // ties go to the lower index, as a stable sort by descending logit would have it.
    let k = max(0, min(k, logits.count))
    var best: [Int] = []
    best.reserveCapacity(k + 1)
    for index in logits.indices {
        guard k > 0, best.count < k || logits[index] > logits[best[k - 1]] else { continue }
        var slot = best.count
        while slot > 0 && logits[index] > logits[best[slot - 1]] { slot -= 1 }
        best.insert(index, at: slot)
        if best.count > k { best.removeLast() }
    }
    return best.map { index in
        let label = index < labels.count ? labels[index] : ClassLabel(index: index, wnid: nil, name: "class \(index)")
        return Prediction(index: index, wnid: label.wnid, label: label.name,
                          probability: exp(Double(logits[index] - maxLogit)) / sum)
    }
}
