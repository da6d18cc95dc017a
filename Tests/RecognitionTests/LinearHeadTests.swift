import Foundation
@testable import Recognition
import ResNet
import Testing

@Suite struct LinearHeadTests {
    /// Two categories: the first favours feature 0, the second feature 1.
    func head() -> LinearHead {
        var parameters = [Double](repeating: 0, count: 2 * 513)
        parameters[0] = 2
        parameters[513 + 1] = 2
        return LinearHead(name: "gate", categories: ["open", "closed"], parameters: parameters,
                          backbone: WeightsIdentity(name: "w.pth", sha256Prefix: "12345678", trained: true), c: 1, reportJSON: "{}")
    }

    @Test("a head's probabilities are the softmax of its logits; features of the wrong size give none, and rules read zeros for them")
    func probabilities() {
        var features = [Float](repeating: 0, count: 512)
        features[0] = 1
        let p = head().probabilities(features: features)
        #expect(p.count == 2 && abs(p[0] - 1 / (1 + exp(-2))) < 1e-12 && abs(p[0] + p[1] - 1) < 1e-12)
        #expect(head().top(features: features).first?.label == "open")
        #expect(head().probabilities(features: []).isEmpty)
        #expect(head().probabilities(features: [1, 2, 3]).isEmpty)
        let extended = LabelResolver.extendedProbabilities([0.25, 0.75], features: [], heads: [head()])
        #expect(extended == [0.25, 0.75])
        let padded = LabelResolver.extendedProbabilities([0.25, 0.75], features: [Float](repeating: 0, count: 512), heads: [head(), head()])
        #expect(padded.count == 6 && abs(padded[2] - 0.5) < 1e-12)
    }

    @Test("HEAD/CATEGORY resolves to an index past the classes, case-insensitively; an unknown category lists the head's")
    func resolves() throws {
        let labels = Labels.imageNet
        let resolver = LabelResolver(labels: labels, heads: [head()])
        let match = try resolver.resolve("gate/Closed")
        #expect(match.group.kind == .custom && match.group.classes == [labels.count + 1] && match.group.name == "gate/closed")
        #expect(throws: LabelError.self) { try resolver.resolve("gate/ajar") }
        #expect(try resolver.resolve("tabby").group.kind == .class)
    }
}
