import Foundation
import Testing
import TestSupport

/// `resnet18 train` and `--head`: a head from a folder of examples, its report, its use, and every way the folder
/// or the head file can be wrong. (Its agreement with scikit-learn is tests/head/test_sklearn.py.)
@Suite(.serialized, .ownThread) struct TrainTests {
    let weights = ["--weights", Fixtures.seededPth.path]

    /// Three categories of two fixture photos each.
    func examples(in folder: URL, _ layout: [String: [String]] = ["cat": ["chelsea.png", "chelsea-q90.jpg"],
                                                                  "space": ["astronaut.png", "rocket.jpg"],
                                                                  "things": ["coffee.png", "motorcycle_left.png"]]) throws -> URL {
        let root = folder.appendingPathComponent("examples")
        for (category, photos) in layout {
            let directory = root.appendingPathComponent(category)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for photo in photos {
                try FileManager.default.copyItem(at: Fixtures.images.appendingPathComponent(photo), to: directory.appendingPathComponent(photo))
            }
        }
        return root
    }

    @Test("train writes a head with its report; classify --head answers its categories beside the top-5; a head for other weights, truncated or edited is refused saying why")
    func trainAndUse() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try examples(in: folder)
        let head = folder.appendingPathComponent("scenes.json").path
        let trained = try await Command.run(["train", root.path, "--output", head, "--augment", "none", "--c", "1"] + weights)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("held-out (2-fold) accuracy"), "\(trained.stdout)")
        #expect(trained.stdout.contains("wrote \(head): head scenes, 3 categories, C = 1.0"), "\(trained.stdout)")
        #expect(trained.stderr.contains("not semantic"), "\(trained.stderr)")
        let file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: head))) as? [String: Any])
        #expect(file["categories"] as? [String] == ["cat", "space", "things"])
        let report = try #require(file["report"] as? [String: Any])
        #expect((report["confusion"] as? [[Int]])?.flatMap { $0 }.reduce(0, +) == 6)
        #expect(try !FileManager.default.contentsOfDirectory(atPath: folder.path).contains { $0.hasSuffix(".partial") })
        // Trained again into the same file: replaced.
        let again = try await Command.run(["train", root.path, "--output", head, "--augment", "none", "--c", "1"] + weights)
        #expect(again.status == 0, "\(again.stderr)")

        // Each photo's own category comes first for the head trained on it.
        let classified = try await Command.run(["classify", Fixtures.images.appendingPathComponent("rocket.jpg").path, "--json", "--head", head] + weights)
        #expect(classified.status == 0, "\(classified.stderr)")
        let line = try #require(try Command.jsonLines(classified.stdout).first)
        let custom = try #require((line["custom"] as? [[String: Any]])?.first)
        #expect(custom["head"] as? String == "scenes")
        let top = try #require(custom["top"] as? [[String: Any]])
        #expect(top.first?["label"] as? String == "space" && top.count == 3, "\(top)")
        #expect(abs(top.compactMap { $0["probability"] as? Double }.reduce(0, +) - 1) < 1e-9)
        #expect((line["top"] as? [[String: Any]])?.count == 5)

        // Other weights (the same network, another file): refused, naming both.
        let other = try await Command.run(["classify", Fixtures.images.appendingPathComponent("rocket.jpg").path, "--head", head,
                                           "--weights", Fixtures.seededSafetensors.path])
        #expect(other.status != 0)
        #expect(other.stderr.contains("was trained on the features of resnet18-seeded.pth sha256:b0924803"), "\(other.stderr)")

        // Truncated, then edited by hand.
        let text = try String(contentsOfFile: head, encoding: .utf8)
        let truncated = folder.appendingPathComponent("truncated.json").path
        try String(text.prefix(text.count / 2)).write(toFile: truncated, atomically: true, encoding: .utf8)
        let cut = try await Command.run(["classify", Fixtures.images.appendingPathComponent("rocket.jpg").path, "--head", truncated] + weights)
        #expect(cut.status != 0 && cut.stderr.contains("truncated"), "\(cut.stderr)")
        var object = file
        var rows = try #require(object["weights"] as? [[Double]])
        rows[0][0] += 1
        object["weights"] = rows
        let edited = folder.appendingPathComponent("edited.json").path
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: edited))
        let hand = try await Command.run(["classify", Fixtures.images.appendingPathComponent("rocket.jpg").path, "--head", edited] + weights)
        #expect(hand.status != 0 && hand.stderr.contains("checksum does not match"), "\(hand.stderr)")
    }

    @Test("a rule on a category of your own (HEAD/CATEGORY) alerts on a video where it appears; serve --head answers it beside the top-5 and counts it in /metrics")
    func customCategoryAlertsAndServes() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try examples(in: folder)
        let head = folder.appendingPathComponent("scenes.json").path
        let trained = try await Command.run(["train", root.path, "--output", head, "--augment", "flip", "--c", "10"] + weights)
        #expect(trained.status == 0, "\(trained.stderr)")

        // Three folders, three commands: train, then watch with a rule on the new category.
        let video = try await TestVideo.make([("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 2)], in: folder)
        let watched = try await Command.run(["watch", video.path, "--json", "--head", head, "--alert", "scenes/space",
                                             "--threshold", "0.8", "--window", "2/3", "--cooldown", "0", "--settle", "0"] + weights)
        #expect(watched.status == 0, "\(watched.stderr)")
        let alerts = try Command.jsonLines(watched.stdout)
        #expect(alerts.count == 1, "\(watched.stdout)")
        #expect(alerts.first?["label"] as? String == "scenes/space")
        #expect((alerts.first?["probability"] as? Double ?? 0) >= 0.8)
        let unknown = try await Command.run(["watch", video.path, "--head", head, "--alert", "scenes/van"] + weights)
        #expect(unknown.status != 0 && unknown.stderr.contains("scenes/space"), "\(unknown.stderr)")

        let server = try await ServeProcess.start(["--head", head])
        defer { server.stop() }
        #expect(server.printed.contains("head scenes: cat, space, things"), "\(server.printed)")
        let answer = try ClientSocket(port: server.port).request("POST", "/v1/classify", headers: ["Content-Type": "image/jpeg"],
                                                                 body: [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent("rocket.jpg"))))
        let result = try #require((try HostileRequestTests.json(answer)["results"] as? [[String: Any]])?.first)
        let custom = try #require((result["custom"] as? [[String: Any]])?.first)
        #expect(custom["head"] as? String == "scenes")
        #expect(((custom["top"] as? [[String: Any]])?.first?["label"] as? String) == "space", "\(custom)")
        let model = try HostileRequestTests.json(try ClientSocket(port: server.port).request("GET", "/v1/model"))
        #expect((model["heads"] as? [[String: Any]])?.first?["categories"] as? [String] == ["cat", "space", "things"], "\(model)")
        let metrics = HostileRequestTests.body(try ClientSocket(port: server.port).request("GET", "/metrics"))
        #expect(metrics.contains(#"resnet18_custom_top_total{category="space",head="scenes"} 1"#)
                || metrics.contains(#"resnet18_custom_top_total{head="scenes",category="space"} 1"#), "\(metrics)")
    }

    @Test("train refuses one category, an empty one and a name with control characters; skips and lists unreadable images; warns of an image in two categories; writes nothing when it refuses")
    func trainRefusals() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let head = folder.appendingPathComponent("head.json").path

        let single = try examples(in: folder.appendingPathComponent("one"), ["cat": ["chelsea.png", "chelsea-q90.jpg"]])
        let one = try await Command.run(["train", single.path, "-o", head] + weights)
        #expect(one.status != 0 && one.stderr.contains("at least 2 categories"), "\(one.stderr)")

        let withEmpty = try examples(in: folder.appendingPathComponent("empty"), ["cat": ["chelsea.png", "chelsea-q90.jpg"], "space": ["rocket.jpg", "astronaut.png"]])
        try FileManager.default.createDirectory(at: withEmpty.appendingPathComponent("van"), withIntermediateDirectories: true)
        let empty = try await Command.run(["train", withEmpty.path, "-o", head] + weights)
        #expect(empty.status != 0 && empty.stderr.contains("category van is empty"), "\(empty.stderr)")

        let control = try examples(in: folder.appendingPathComponent("control"), ["cat": ["chelsea.png", "chelsea-q90.jpg"], "gate\u{7}open": ["rocket.jpg", "astronaut.png"]])
        let bell = try await Command.run(["train", control.path, "-o", head] + weights)
        #expect(bell.status != 0 && bell.stderr.contains("control characters"), "\(bell.stderr)")
        #expect(!FileManager.default.fileExists(atPath: head))

        // An unreadable file is skipped and listed; the same photo in two categories is warned of.
        let messy = try examples(in: folder.appendingPathComponent("messy"), ["cat": ["chelsea.png", "chelsea-q90.jpg", "rocket.jpg"],
                                                                              "space": ["rocket.jpg", "astronaut.png", "coffee.png"]])
        try Data("GIF89a, not a photo".utf8).write(to: messy.appendingPathComponent("space/broken.jpg"))
        let trained = try await Command.run(["train", messy.path, "-o", head, "--augment", "none", "--json"] + weights)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("skipped") && trained.stderr.contains("broken.jpg"), "\(trained.stderr)")
        #expect(trained.stderr.contains("warning: the same image is in cat and space"), "\(trained.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any])
        #expect((report["skipped"] as? [String])?.first?.contains("broken.jpg") == true, "\(report)")
        #expect(FileManager.default.fileExists(atPath: head))
    }
}
