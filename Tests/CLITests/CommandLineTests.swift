import Foundation
import Testing
import TestSupport

/// The `resnet18` executable as a user runs it: arguments in, stdout, stderr and exit status out.
enum Command {
    struct Outcome: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The binary SwiftPM built beside this test bundle (or RESNET18_CLI_BINARY: to run the tests against another build).
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["RESNET18_CLI_BINARY"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [bundle, Fixtures.projectRoot.appendingPathComponent(".build/debug")] {
            let candidate = folder.appendingPathComponent("resnet18")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return bundle.appendingPathComponent("resnet18")
    }()

    /// Runs the tool to completion. `environment` replaces the weights-related variables of this process.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        try await offThePool { try runBlocking(arguments, environment: environment) }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> Outcome {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["RESNET18_WEIGHTS"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes to the end (concurrently, so a full stderr cannot block the child), then poll for exit:
        // corelibs-foundation's waitUntilExit can spin forever off the main thread.
        nonisolated(unsafe) var errorData = Data()
        let reader = Thread { errorData = errors.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning || !reader.isFinished { usleep(5_000) }
        return Outcome(status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
                       stderr: String(decoding: errorData, as: UTF8.self))
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }
}

@Suite(.serialized, .ownThread) struct CommandLineTests {
    let weights = ["--weights", Fixtures.seededPth.path]

    func photo(_ name: String) -> String { Fixtures.images.appendingPathComponent(name).path }

    func referenceTop5(_ photo: String) throws -> [Int] {
        try Fixtures.referenceTop5(for: photo).map(\.index)
    }

    @Test("classify --json prints one object per file with PyTorch's top-5, and a bad file fails alone with exit 1")
    func classifyJSON() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = folder.appendingPathComponent("broken.jpg")
        try Data("GIF89a, not a JPEG".utf8).write(to: broken)
        let outcome = try await Command.run(["classify", photo("chelsea.png"), broken.path, photo("rocket.jpg"), "--json", "--logits"] + weights)
        #expect(outcome.status == 1)
        let lines = try Command.jsonLines(outcome.stdout)
        #expect(lines.count == 2)
        for (line, name) in zip(lines, ["chelsea.png", "rocket.jpg"]) {
            #expect((line["file"] as? String)?.hasSuffix(name) == true)
            #expect(line["weights"] as? String == "resnet18-seeded.pth sha256:b0924803")
            let top = line["top"] as! [[String: Any]]
            #expect(top.map { $0["index"] as! Int } == (try referenceTop5(name)))
            #expect(top.allSatisfy { $0["wnid"] is String && $0["label"] is String && $0["probability"] is Double })
            #expect((line["logits"] as? [Double])?.count == 1000)
            #expect(line["milliseconds"] is Double)
        }
        let errorLines = outcome.stderr.split(separator: "\n").filter { $0.contains("broken.jpg") }
        #expect(errorLines.count == 1)
        #expect(errorLines.first?.contains("not a JPEG, PNG or WebP") == true, "\(outcome.stderr)")
    }

    @Test("classify walks folders recursively and prints a readable table")
    func classifyFolderTable() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let nested = folder.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.images.appendingPathComponent("coffee.png"), to: nested.appendingPathComponent("coffee.png"))
        try FileManager.default.copyItem(at: Fixtures.images.appendingPathComponent("rocket.jpg"), to: folder.appendingPathComponent("rocket.JPG"))
        try Data("notes".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let outcome = try await Command.run(["classify", folder.path, "--top", "2"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("a/b/coffee.png"))
        #expect(outcome.stdout.contains("rocket.JPG"))
        #expect(!outcome.stdout.contains("notes.txt"))
        #expect(outcome.stdout.contains("1. albatross"))  // coffee.png's top class under the seeded weights
        #expect(outcome.stdout.split(separator: "\n").filter { $0.contains(" %  (class ") }.count == 4)
    }

    @Test("without weights anywhere, every result and stderr say the weights are untrained")
    func untrainedSaysSo() async throws {
        let cache = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        let env = ["XDG_CACHE_HOME": cache.path, "HOME": cache.path]
        let json = try await Command.run(["classify", photo("chelsea.png"), "--json"], environment: env)
        #expect(json.status == 0)
        #expect(try Command.jsonLines(json.stdout).first?["weights"] as? String == "untrained")
        #expect(json.stderr.contains("untrained weights: the labels are meaningless"))
        let table = try await Command.run(["classify", photo("chelsea.png")], environment: env)
        #expect(table.stdout.contains("UNTRAINED WEIGHTS: these labels are meaningless"))
    }

    @Test("eval reports top-1 and top-5 over an ImageNet-style folder it is given")
    func evalFolder() async throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let classes = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.classes)) as! [[String: Any]]
        func wnid(_ index: Int) -> String { classes[index]["wnid"] as! String }
        // Four photos filed under the class the seeded network ranks first, one under its fifth, one under a class
        // outside its top-5: top-1 = 4/6, top-5 = 5/6.
        var placements: [(String, String)] = []
        for name in ["chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"] {
            placements.append((name, wnid(try referenceTop5(name)[0])))
        }
        placements.append(("chelsea-q90.jpg", wnid(try referenceTop5("chelsea-q90.jpg")[4])))
        let astronautTop5 = try referenceTop5("astronaut.png")
        placements.append(("astronaut.png", wnid((0..<1000).first { !astronautTop5.contains($0) }!)))
        for (name, folder) in placements {
            let directory = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Fixtures.images.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("not-a-wnid"), withIntermediateDirectories: true)
        let outcome = try await Command.run(["eval", root.path, "--json", "--batch", "4"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let result = try Command.jsonLines(outcome.stdout).first!
        #expect(result["images"] as? Int == 6)
        #expect(abs((result["top1"] as! Double) - 4.0 / 6) < 1e-9)
        #expect(abs((result["top5"] as! Double) - 5.0 / 6) < 1e-9)
        #expect(outcome.stderr.contains("not-a-wnid"))
        #expect(outcome.stderr.contains("evaluating"))
    }

    @Test("bench --json reports latency, throughput, GFLOP/s and the share of the measured peak")
    func benchJSON() async throws {
        let outcome = try await Command.run(["bench", "--batch", "1,2", "--runs", "3", "--threads", "1", "--json"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let rows = try Command.jsonLines(outcome.stdout)
        #expect(rows.map { $0["batch"] as? Int } == [1, 2])
        for row in rows {
            for key in ["median_ms", "p90_ms", "img_per_s", "gflops", "conv_peak_gflops"] {
                #expect((row[key] as? Double ?? 0) > 0, "\(key) in \(row)")
            }
            // A share the plan can reach (at most 400 % with Winograd, counted in direct operations), or none with
            // the reason: the peak was measured while the machine was busy.
            if let share = row["share_of_peak"] as? Double {
                #expect(share > 0 && share <= ((row["winograd"] as? Bool) == true ? 4 : 1.5), "\(row)")
            } else {
                #expect(row["peak_note"] as? String == "the machine was too busy to measure the convolution peak", "\(row)")
            }
            #expect(row["threads"] as? Int == 1)
        }
    }

    @Test("bench --layers times each step: every convolution of ResNet-18 once, with what runs it, in JSON and in the table")
    func benchLayers() async throws {
        let outcome = try await Command.run(["bench", "--batch", "1", "--runs", "2", "--threads", "1", "--json", "--layers"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let row = try #require(try Command.jsonLines(outcome.stdout).first)
        let steps = try #require(row["layers"] as? [[String: Any]])
        let names = steps.compactMap { $0["name"] as? String }
        let convolutions = ["conv1"] + (1...4).flatMap { layer in
            (layer > 1 ? ["layer\(layer).0.downsample.0"] : [])
                + [0, 1].flatMap { block in ["layer\(layer).\(block).conv1", "layer\(layer).\(block).conv2"] }
        }
        #expect(names.filter { $0.hasPrefix("layer") || $0 == "conv1" }.sorted() == convolutions.sorted(), "\(names)")
        // The max pooling is a step of its own, or part of the stem's where the project's kernel runs it.
        let stem = steps.first { $0["name"] as? String == "conv1" }?["implementation"] as? String ?? ""
        let poolings = stem.contains("stem_pool") ? 1 : 2
        #expect(names.filter { $0 == "pooling" }.count == poolings && names.last == "inner_product", "\(names)")
        for step in steps {
            #expect((step["implementation"] as? String ?? "").isEmpty == false, "\(step)")
            #expect((step["median_ms"] as? Double ?? -1) >= 0, "\(step)")
        }

        let table = try await Command.run(["bench", "--batch", "1", "--runs", "2", "--threads", "1", "--layers"] + weights)
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains("layer4.1.conv2") } && lines.last?.contains("each step waited for") == true, "\(table.stdout)")
    }

    @Test("serve refuses out-of-range options with a message naming the flag, and does not start")
    func serveRefusesBadOptions() async throws {
        let cases: [(option: [String], message: String)] = [
            (["--history-wait=-1"], "--history-wait must be from 0 to 600 seconds"),
            (["--history-max-rows", "0"], "--history-max-rows must be at least 1"),
            (["--max-batch", "0"], "--max-batch must be at least 1"),
            (["--request-timeout", "0"], "--request-timeout must be more than 0 seconds"),
            (["--thumbnails", "maybe"], "--thumbnails must be on or off"),
        ]
        for (option, message) in cases {
            let serve = try RunningCommand(["serve", "--port", "0", "--db", "none"] + option + weights)
            let said = await serve.wait(seconds: 60) { $0.stderr.contains(message) }
            let status = serve.stop()
            #expect(said && status != 0, "\(option): status \(status), stderr \(serve.stderr)")
            #expect(!serve.stdout.contains("listening") && !serve.stderr.contains("listening"), "\(option)")
        }
    }

    @Test("weights show names the file and checks it; a wrong file is refused naming the key")
    func weightsShow() async throws {
        let good = try await Command.run(["weights", "show"] + weights)
        #expect(good.status == 0)
        #expect(good.stdout.contains("resnet18-seeded.pth") && good.stdout.contains("classes:  1000"))
        let bad = try await Command.run(["weights", "show", "--weights", Fixtures.stemLegacyPth.path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("missing key"), "\(bad.stderr)")
    }

    @Test("int8 without calibration parameters says how to make them; with them it classifies")
    func int8Parameters() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = try await Command.run(["classify", photo("rocket.jpg"), "--precision", "int8"] + weights)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("resnet18 quantize"), "\(missing.stderr)")
        let parameters = folder.appendingPathComponent("seeded.int8.json").path
        let quantize = try await Command.run(["quantize", "--output", parameters] + weights)
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let classified = try await Command.run(["classify", photo("rocket.jpg"), "--precision", "int8", "--quantization", parameters,
                                          "--json"] + weights)
        #expect(classified.status == 0, "\(classified.stderr)")
        let top = try Command.jsonLines(classified.stdout).first?["top"] as? [[String: Any]]
        #expect(top?.first?["index"] as? Int == (try referenceTop5("rocket.jpg"))[0])
    }

    @Test("without AVX-512, --precision bf16 is refused in one line that names what to use instead",
          .enabled(if: !HostCPU.hasAVX512Core, "this CPU has AVX-512: bf16 runs"))
    func bf16RefusedWithoutAVX512() async throws {
        let outcome = try await Command.run(["classify", photo("rocket.jpg"), "--precision", "bf16"] + weights)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("bf16 needs a CPU with AVX-512"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("fp32"), "\(outcome.stderr)")
    }

    @Test("bf16 classifies through the CLI with PyTorch's top class, and bench names the precision",
          .enabled(if: HostCPU.hasAVX512Core, "oneDNN computes bf16 only with AVX-512"))
    func bf16Classify() async throws {
        let classified = try await Command.run(["classify", photo("rocket.jpg"), photo("chelsea.png"), "--precision", "bf16", "--json"] + weights)
        #expect(classified.status == 0, "\(classified.stderr)")
        let lines = try Command.jsonLines(classified.stdout)
        #expect(lines.count == 2)
        for (line, name) in zip(lines, ["rocket.jpg", "chelsea.png"]) {
            let top = line["top"] as? [[String: Any]]
            #expect(top?.first?["index"] as? Int == (try referenceTop5(name))[0], "\(name)")
        }
        let bench = try await Command.run(["bench", "--precision", "bf16", "--batch", "1", "--runs", "2", "--json"] + weights)
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try Command.jsonLines(bench.stdout).first
        #expect(report?["engine"] as? String == "resnet18-bf16")
        #expect((report?["weights_mb"] as? Double ?? 0) > 0 && (report?["arena_mb"] as? Double ?? 0) > 0)
    }
}
