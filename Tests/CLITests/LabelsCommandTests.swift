import Foundation
import Testing
import TestSupport

/// `resnet18 labels` and `classify --group`: classes and WordNet categories as a user names them.
@Suite(.serialized, .ownThread) struct LabelsCommandTests {
    let weights = ["--weights", Fixtures.seededPth.path]

    @Test("labels dog lists the 118 breeds with index, wnid and name under the category's lemmas")
    func labelsDog() async throws {
        let outcome = try await Command.run(["labels", "dog"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.first == "dog: category n02084071 (dog, domestic dog, Canis familiaris), 118 classes")
        #expect(lines.count == 119)
        #expect(lines[1] == "  151  n02085620  Chihuahua")
        #expect(lines.last == "  268  n02113978  Mexican hairless")
        #expect(outcome.stderr.isEmpty, "\(outcome.stderr)")
    }

    @Test("labels --json resolves categories by lemma (words joined, any case) and wnid, and classes by name or index")
    func labelsJSON() async throws {
        func resolve(_ words: [String]) async throws -> [String: Any] {
            let outcome = try await Command.run(["labels"] + words + ["--json"])
            #expect(outcome.status == 0, "\(words): \(outcome.stderr)")
            return try #require(try Command.jsonLines(outcome.stdout).first)
        }
        let cat = try await resolve(["Domestic", "Cat"])
        #expect(cat["kind"] as? String == "category" && cat["wnid"] as? String == "n02121808")
        let members = try #require(cat["classes"] as? [[String: Any]])
        #expect(members.map { $0["index"] as? Int } == [281, 282, 283, 284, 285])
        #expect(members.first?["wnid"] as? String == "n02123045" && members.first?["name"] as? String == "tabby")
        #expect((try await resolve(["n01503061"])["classes"] as? [Any])?.count == 59)
        #expect((try await resolve(["car"])["classes"] as? [Any])?.count == 10)
        let tabby = try await resolve(["281"])
        #expect(tabby["kind"] as? String == "class" && tabby["name"] as? String == "tabby")
        #expect(tabby["lemmas"] as? [String] == ["tabby", "tabby cat"])
        let alternatives = try #require(try await resolve(["cat"])["alternatives"] as? [[String: Any]])
        #expect(alternatives.map { $0["wnid"] as? String } == ["n02127808"])
    }

    @Test("an unknown name exits non-zero suggesting close names: doggo → dog; a tie lists its choices")
    func labelsUnknown() async throws {
        let doggo = try await Command.run(["labels", "doggo"])
        #expect(doggo.status != 0)
        #expect(doggo.stdout.isEmpty)
        #expect(doggo.stderr.contains("no class or category is called \"doggo\"") && doggo.stderr.contains("did you mean \"dog\""),
                "\(doggo.stderr)")
        let panda = try await Command.run(["labels", "panda"])
        #expect(panda.status != 0)
        #expect(panda.stderr.contains("giant panda (class 388, n02510455)"), "\(panda.stderr)")
        let cat = try await Command.run(["labels", "cat"])
        #expect(cat.status == 0)
        #expect(cat.stderr.contains("big cat, cat (n02127808, 6 classes)"), "\(cat.stderr)")
    }

    @Test("the categories are inside the binary: a copy alone in an empty folder, run from there, still knows dog")
    func binaryCarriesTheTable() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("resnet18")
        // Copied by a child `cp`, not FileManager: the tests run in parallel and spawn processes all the time, and a
        // child spawned while this process held the copy open for writing keeps that descriptor, so running the copy
        // failed with "Text file busy" on a loaded machine. A `cp` that has exited holds nothing.
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = [Command.binary.path, copy.path]
        try cp.run()
        cp.waitUntilExit()
        try #require(cp.terminationStatus == 0)
        let process = Process()
        process.executableURL = copy
        process.arguments = ["labels", "n02084071", "--json"]
        process.currentDirectoryURL = folder
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { usleep(5_000) }
        #expect(process.terminationStatus == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((object["classes"] as? [Any])?.count == 118)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["resnet18"])
    }

    @Test("classify --group reports each group's summed probability beside the top-5, in JSON and in the table")
    func classifyGroups() async throws {
        let photo = Fixtures.images.appendingPathComponent("chelsea.png").path
        let logits = try Fixtures.referenceLogits(for: "chelsea.png").map(Double.init)
        let largest = logits.max()!
        let total = logits.reduce(0) { $0 + exp($1 - largest) }
        let probability = { (indices: ClosedRange<Int>) in indices.reduce(0.0) { $0 + exp(logits[$1] - largest) / total } }
        let dog = probability(151...268), tabby = probability(281...281)

        let outcome = try await Command.run(["classify", photo, "--json", "--group", "dog", "--group", "tabby"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let line = try #require(try Command.jsonLines(outcome.stdout).first)
        #expect(line["logits"] == nil)
        #expect((line["top"] as? [Any])?.count == 5)
        let groups = try #require(line["groups"] as? [[String: Any]])
        #expect(groups.map { $0["name"] as? String } == ["dog", "tabby"])
        #expect(groups.map { $0["wnid"] as? String } == ["n02084071", "n02123045"])
        let probabilities = groups.compactMap { $0["probability"] as? Double }
        #expect(probabilities.count == 2)
        #expect(abs(probabilities[0] - dog) < 1e-4 && abs(probabilities[1] - tabby) < 1e-5, "\(probabilities) vs \(dog), \(tabby)")

        let table = try await Command.run(["classify", photo, "--group", "dog"] + weights)
        #expect(table.status == 0, "\(table.stderr)")
        let row = try #require(table.stdout.split(separator: "\n").first { $0.contains("category n02084071") })
        #expect(row.contains("dog") && row.contains("118 classes"), "\(row)")
        let percent = try #require(Double(row.split(separator: " ").first { Double($0) != nil } ?? ""))
        #expect(abs(percent - dog * 100) < 0.011, "\(row)")
    }

    @Test("classify --group with an unknown name fails before classifying, naming the closest group")
    func classifyUnknownGroup() async throws {
        let photo = Fixtures.images.appendingPathComponent("chelsea.png").path
        let outcome = try await Command.run(["classify", photo, "--group", "doggo"] + weights)
        #expect(outcome.status != 0)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("did you mean \"dog\""), "\(outcome.stderr)")
    }
}
