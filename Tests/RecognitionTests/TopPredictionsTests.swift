import Foundation
import Testing
@testable import Recognition

/// The top-k selection against a full stable sort: order, ties, probabilities.
struct TopPredictionsTests {
    @Test("the k best are a full sort's first k: descending logit, ties to the lower index, softmax probabilities",
          arguments: [0, 1, 3, 5, 17, 1000])
    func matchesAFullSort(k: Int) {
        var generator = SystemRandomNumberGenerator()
        // Whole numbers from a small range: many ties among 1000 logits.
        let logits = (0..<1000).map { _ in Float(Int.random(in: -40...40, using: &generator)) / 4 }
        let labels = Labels.imageNet
        let predictions = logits.withUnsafeBufferPointer { topPredictions(logits: $0, labels: labels, k: k) }
        let expected = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(k)
        #expect(predictions.map(\.index) == Array(expected))
        let maxLogit = logits.max()!
        let sum = logits.reduce(0.0) { $0 + exp(Double($1 - maxLogit)) }
        for prediction in predictions {
            #expect(abs(prediction.probability - exp(Double(logits[prediction.index] - maxLogit)) / sum) < 1e-12)
            #expect(prediction.label == labels[prediction.index].name)
        }
    }
}
