import Foundation
import Testing
import TestSupport
@testable import Recognition

/// Photo bytes → decoder → torchvision preprocessing → engine → top-5, against PyTorch's answers.
@Suite struct PipelineTests {
    static let recognizer: Recognizer = {
        var configuration = RecognizerConfiguration()
        configuration.weightsPath = Fixtures.seededPth.path
        configuration.threads = 2
        return try! Recognizer.load(configuration)
    }()

    @Test("every fixture photo, read from its file, gets PyTorch's logits and top-5", arguments: Fixtures.photoNames)
    func photoMatchesPyTorch(photo: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent(photo)))
        let result = try Self.recognizer.classify(bytes, topK: 5, includeLogits: true)
        let reference = try Fixtures.referenceLogits(for: photo)
        let difference = zip(result.logits!, reference).map { abs($0 - $1) }.max()!
        #expect(difference < 1e-3, "\(photo): max abs logit difference \(difference)")
        let expected = try Fixtures.referenceTop5(for: photo)
        #expect(result.top.map(\.index) == expected.map(\.index))
        for (mine, theirs) in zip(result.top, expected) {
            #expect(abs(mine.probability - theirs.probability) < 1e-5)
        }
        #expect(result.top.first?.label == Labels.imageNet[expected[0].index].name)
        #expect(result.weights.name == "resnet18-seeded.pth")
        #expect(result.weights.trained && !result.weights.official)
    }

    @Test("a batch of photos in one engine call equals each photo alone")
    func batchEqualsSingles() throws {
        let prepared = try Fixtures.photoNames.map {
            try Self.recognizer.prepare([UInt8](Data(contentsOf: Fixtures.images.appendingPathComponent($0))))
        }
        let batch = try Self.recognizer.classify(prepared, topK: 5)
        #expect(batch.count == prepared.count)
        for (image, result) in zip(prepared, batch) {
            let alone = try Self.recognizer.classify([image], topK: 5)[0]
            #expect(result.top.map(\.index) == alone.top.map(\.index))
            #expect(result.batchSize == prepared.count)
        }
    }

    @Test("the built-in labels are torchvision's ImageNet classes, in order")
    func builtInLabels() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.classes)) as! [[String: Any]]
        #expect(Labels.imageNet.count == 1000)
        for (label, entry) in zip(Labels.imageNet.classes, json) {
            #expect(label.index == entry["index"] as? Int)
            #expect(label.wnid == entry["wnid"] as? String)
            #expect(label.name == entry["name"] as? String)
        }
        #expect(Labels.imageNet.index(ofWnid: "n01440764") == 0)
    }

    @Test("label files in JSON and plain text load; a head of another size is refused without a matching file")
    func customLabels() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("labels.txt")
        try "cat\ndog\n\nbird\n".write(to: text, atomically: true, encoding: .utf8)
        #expect(try Labels(contentsOf: text).classes.map(\.name) == ["cat", "dog", "bird"])
        let json = folder.appendingPathComponent("labels.json")
        try #"["a", "b"]"#.write(to: json, atomically: true, encoding: .utf8)
        #expect(try Labels(contentsOf: json).count == 2)

        var configuration = RecognizerConfiguration()
        configuration.weightsPath = Fixtures.seededPth.path
        configuration.labelsPath = text.path
        #expect { try Recognizer.load(configuration) } throws: { error in
            "\(error)".contains("1000 classes but the label list has 3")
        }
    }

    @Test("with no weights anywhere it runs untrained and says so")
    func untrainedWhenNoWeights() throws {
        let emptyCache = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: emptyCache) }
        var configuration = RecognizerConfiguration()
        configuration.environment = ["XDG_CACHE_HOME": emptyCache.path, "HOME": emptyCache.path]
        configuration.threads = 1
        let recognizer = try Recognizer.load(configuration)
        #expect(recognizer.weights.trained == false)
        #expect(recognizer.weightsOrigin == "none")
        #expect(recognizer.warnings.contains { $0.contains("untrained") && $0.contains("weights fetch") })
        let result = try recognizer.classify([UInt8](Data(contentsOf: Fixtures.images.appendingPathComponent("rocket.jpg"))))
        #expect(result.weights.resultLabel == "untrained")
    }

    @Test("weights are found by flag, then RESNET18_WEIGHTS, then the user cache")
    func weightsResolutionOrder() throws {
        let cache = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        let env = ["XDG_CACHE_HOME": cache.path, "RESNET18_WEIGHTS": "/env/x.pth"]
        #expect(WeightsLocation(explicitPath: "/flag/y.pth", environment: env).resolve()?.url.path == "/flag/y.pth")
        #expect(WeightsLocation(explicitPath: nil, environment: env).resolve()?.url.path == "/env/x.pth")
        let cacheOnly = WeightsLocation(explicitPath: nil, environment: ["XDG_CACHE_HOME": cache.path])
        #expect(cacheOnly.resolve() == nil)
        try FileManager.default.createDirectory(at: cacheOnly.cacheDirectory, withIntermediateDirectories: true)
        try Data([1]).write(to: cacheOnly.cachedOfficialFile)
        #expect(cacheOnly.resolve()?.url == cacheOnly.cachedOfficialFile)
        #expect(cacheOnly.cachedOfficialFile.path == cache.path + "/resnet18/resnet18-f37072fd.pth")
    }

    @Test("a file that is not ResNet-18 is refused naming the file and the key")
    func wrongCheckpointRefused() throws {
        #expect { try Recognizer.loadWeights(Fixtures.stemLegacyPth) } throws: { error in
            let message = "\(error)"
            return message.contains("resnet18-stem-legacy.pth") && message.contains("missing key")
        }
    }

    @Test("a corrupt image is refused with the decoder's message")
    func corruptImageRefused() throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent("rocket.jpg")))
        #expect(throws: RecognitionError.self) { try Self.recognizer.classify(Array(bytes.prefix(600))) }
        #expect(throws: RecognitionError.self) { try Self.recognizer.classify(Array("GIF89a not really".utf8)) }
    }
}
