import Checkpoint
import Foundation
import Testing
import TestSupport
@testable import Recognition

/// A ResNet-18 whose `fc` has another class count, with the label file that names its classes.
@Suite struct CustomHeadTests {
    /// Writes `tensors` (float32) as a .safetensors file.
    static func writeSafetensors(_ tensors: [(String, [Int], [Float])], to url: URL) throws {
        var header: [String: Any] = [:]
        var data = Data()
        for (name, shape, values) in tensors {
            let begin = data.count
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [begin, data.count]]
        }
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(data)
        try file.write(to: url)
    }

    @Test("a 3-class head loads with a 3-name label file and gives the first 3 of PyTorch's logits")
    func threeClassHead() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let seeded = try StateDict(contentsOf: Fixtures.seededSafetensors)
        var tensors: [(String, [Int], [Float])] = []
        for (name, tensor) in seeded.tensors {
            switch name {
            case "fc.weight": tensors.append((name, [3, 512], Array(tensor.floats.prefix(3 * 512))))
            case "fc.bias": tensors.append((name, [3], Array(tensor.floats.prefix(3))))
            default: tensors.append((name, tensor.shape, tensor.floats))
            }
        }
        let weights = folder.appendingPathComponent("three-classes.safetensors")
        try Self.writeSafetensors(tensors, to: weights)
        let labels = folder.appendingPathComponent("labels.txt")
        try "tench\ngoldfish\nshark\n".write(to: labels, atomically: true, encoding: .utf8)

        var configuration = RecognizerConfiguration()
        configuration.weightsPath = weights.path
        configuration.labelsPath = labels.path
        configuration.threads = 2
        let recognizer = try Recognizer.load(configuration)
        #expect(recognizer.engine.classCount == 3)
        let result = try recognizer.classify([UInt8](Data(contentsOf: Fixtures.images.appendingPathComponent("chelsea.png"))),
                                             topK: 5, includeLogits: true)
        #expect(result.top.count == 3)
        #expect(Set(result.top.map(\.label)) == ["tench", "goldfish", "shark"])
        let reference = Array(try Fixtures.referenceLogits(for: "chelsea.png").prefix(3))
        let difference = zip(result.logits!, reference).map { abs($0 - $1) }.max()!
        #expect(difference < 1e-3, "max abs \(difference)")
        #expect(abs(result.top.map(\.probability).reduce(0, +) - 1) < 1e-9)
    }
}
