import Foundation

/// Softmax of logits in double precision (as `topPredictions`): every class's probability, for summing categories.
public func softmaxProbabilities(_ logits: [Float]) -> [Double] {
    guard let maxLogit = logits.max() else { return [] }
    let exps = logits.map { exp(Double($0 - maxLogit)) }
    let sum = exps.reduce(0, +)
    return exps.map { $0 / sum }
}
