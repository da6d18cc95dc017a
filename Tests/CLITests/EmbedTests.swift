import Foundation
import Testing
import TestSupport

/// `resnet18 embed`: the 512 pooled features PyTorch's avgpool gives, as text or JSON.
@Suite(.serialized, .ownThread) struct EmbedTests {
    let weights = ["--weights", Fixtures.seededPth.path]

    @Test("embed --json gives PyTorch's avgpool features (within 1e-4) for every fixture photo, in one batch; the text form carries the same numbers")
    func featuresMatchPyTorch() async throws {
        let photos = Fixtures.photoNames.map { Fixtures.images.appendingPathComponent($0).path }
        let outcome = try await Command.run(["embed"] + photos + ["--json", "--batch", "6"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = try Command.jsonLines(outcome.stdout)
        #expect(lines.count == photos.count)
        for (line, name) in zip(lines, Fixtures.photoNames) {
            #expect((line["file"] as? String)?.hasSuffix(name) == true)
            let features = try #require(line["features"] as? [Double])
            let reference = try Fixtures.referenceFeatures(for: name)
            #expect(features.count == 512)
            let worst = zip(features, reference).map { abs($0 - Double($1)) }.max() ?? .infinity
            #expect(worst < 1e-4, "\(name): largest difference \(worst)")
            let norm = (line["norm"] as? Double) ?? 0
            #expect(abs(norm - features.reduce(0) { $0 + $1 * $1 }.squareRoot()) < 1e-6)
        }

        let text = try await Command.run(["embed", photos[1]] + weights)
        #expect(text.status == 0, "\(text.stderr)")
        let fields = text.stdout.trimmingCharacters(in: .newlines).split(separator: "\t")
        #expect(fields.count == 2 && fields[0] == photos[1])
        let numbers = fields.last.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
        let reference = try Fixtures.referenceFeatures(for: Fixtures.photoNames[1])
        #expect(numbers.count == 512 && zip(numbers, reference).allSatisfy { abs($0 - Double($1)) < 1e-4 })
    }

    @Test("embed: an unreadable file fails alone with exit 1; --batch 0 is a usage error naming the flag")
    func embedRefusals() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = folder.appendingPathComponent("broken.jpg")
        try Data("not a JPEG".utf8).write(to: broken)
        let outcome = try await Command.run(["embed", broken.path, Fixtures.images.appendingPathComponent("rocket.jpg").path, "--json"] + weights)
        #expect(outcome.status == 1)
        #expect(try Command.jsonLines(outcome.stdout).count == 1)
        #expect(outcome.stderr.contains("broken.jpg"), "\(outcome.stderr)")
        let zero = try await Command.run(["embed", broken.path, "--batch", "0"] + weights)
        #expect(zero.status == 64 && zero.stderr.contains("--batch"), "\(zero.stderr)")
    }
}
