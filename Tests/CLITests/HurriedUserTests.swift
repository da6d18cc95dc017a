import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// The command line as a hurried new user meets it (issue 17): a missing path among good ones, an empty folder, label
/// files in the forms people have, progress on a terminal and in a log, a port already taken, `--version`, and
/// flags a subcommand has no use for.
@Suite(.serialized, .ownThread) struct HurriedUserTests {
    let weights = ["--weights", Fixtures.seededPth.path]

    func photo(_ name: String) -> String { Fixtures.images.appendingPathComponent(name).path }

    /// ImageNet's classes as the fixtures list them: WordNet id and name, in output order.
    func imageNetClasses() throws -> [(wnid: String, name: String)] {
        let classes = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.classes)) as! [[String: Any]]
        return classes.map { ($0["wnid"] as! String, $0["name"] as! String) }
    }

    @Test("classify good.jpg missing.jpg classifies the good one, prints one line for the missing one, exits 1")
    func missingPathAmongGoodOnes() async throws {
        let missing = "/nonexistent-\(UUID().uuidString)/missing.jpg"
        let outcome = try await Command.run(["classify", photo("chelsea.png"), missing, "--json"] + weights)
        #expect(outcome.status == 1, "\(outcome.stderr)")
        let lines = try Command.jsonLines(outcome.stdout)
        #expect(lines.count == 1)
        #expect((lines.first?["file"] as? String)?.hasSuffix("chelsea.png") == true)
        let about = outcome.stderr.split(separator: "\n").filter { $0.contains("missing.jpg") }
        #expect(about.count == 1, "\(outcome.stderr)")
        #expect(about.first?.contains("no such file or folder") == true, "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("Usage:"))
    }

    @Test("classify on a folder without images says none were found and which extensions are read, exit non-zero")
    func emptyFolder() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("notes".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let outcome = try await Command.run(["classify", folder.path] + weights)
        #expect(outcome.status != 0)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("\(folder.path): no images found"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains(".jpg") && outcome.stderr.contains(".png") && outcome.stderr.contains(".webp"))
    }

    @Test("eval on a missing folder says so in one line; eval with unreadable images exits 1 (and says \"1 image\")")
    func evalFailures() async throws {
        let missing = "/nonexistent-\(UUID().uuidString)"
        let outcome = try await Command.run(["eval", missing] + weights)
        #expect(outcome.status != 0)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(outcome.stderr)")
        #expect(lines.first == "Error: \(missing): no such folder", "\(outcome.stderr)")

        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let classes = try imageNetClasses()
        let top = try Fixtures.referenceTop5(for: "rocket.jpg")[0].index
        let folder = root.appendingPathComponent(classes[top].wnid)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.images.appendingPathComponent("rocket.jpg"), to: folder.appendingPathComponent("rocket.jpg"))
        try Data("not an image".utf8).write(to: folder.appendingPathComponent("broken.jpg"))
        let eval = try await Command.run(["eval", root.path] + weights)
        #expect(eval.status == 1, "\(eval.stderr)")
        #expect(eval.stdout.contains("1 image: top-1 100.00 %"), "\(eval.stdout)")
        #expect(eval.stdout.contains("1 image could not be read and is not counted"), "\(eval.stdout)")
        #expect(eval.stderr.contains("broken.jpg"))
    }

    /// Writes `text` to a file in `folder` and classifies rocket.jpg with it as --labels.
    func classifyWithLabels(_ text: String, in folder: URL, name: String = "labels.json") async throws -> Command.Outcome {
        let file = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return try await Command.run(["classify", photo("rocket.jpg"), "--json", "--labels", file.path] + weights)
    }

    @Test("--labels reads an object keyed by index (imagenet_classes.json) and PyTorch's imagenet_class_index.json")
    func labelObjects() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let classes = try imageNetClasses()
        let top = try Fixtures.referenceTop5(for: "rocket.jpg")[0].index
        func quoted(_ text: String) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description }

        // {"0": "tench, Tinca tinca", ...}, pretty-printed one class a line as json.dump(indent=...) writes it.
        let byIndex = "{\n" + classes.enumerated().map { "  \(quoted(String($0.offset))): \(quoted("custom \($0.offset) " + $0.element.name))" }
            .joined(separator: ",\n") + "\n}\n"
        let named = try await classifyWithLabels(byIndex, in: folder)
        #expect(named.status == 0, "\(named.stderr)")
        let first = (try Command.jsonLines(named.stdout).first?["top"] as? [[String: Any]])?.first
        #expect(first?["label"] as? String == "custom \(top) " + classes[top].name)

        // {"0": ["n01440764", "tench"], ...} on one line, keys in a shuffled order.
        let pairs = classes.enumerated().shuffled().map { "\(quoted(String($0.offset))): [\(quoted($0.element.wnid)), \(quoted("pt " + $0.element.name))]" }
        let pytorch = try await classifyWithLabels("{" + pairs.joined(separator: ", ") + "}", in: folder)
        #expect(pytorch.status == 0, "\(pytorch.stderr)")
        let pytorchFirst = (try Command.jsonLines(pytorch.stdout).first?["top"] as? [[String: Any]])?.first
        #expect(pytorchFirst?["label"] as? String == "pt " + classes[top].name)
        #expect(pytorchFirst?["wnid"] as? String == classes[top].wnid)
    }

    @Test("--labels: malformed JSON says so and where; a duplicate or missing index says which")
    func labelErrors() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let malformed = try await classifyWithLabels("{\n  \"0\": \"tench\",\n  \"1\": \"goldfish\"\n  \"2\": \"shark\"\n}\n", in: folder)
        #expect(malformed.status != 0)
        #expect(malformed.stderr.contains("is malformed JSON"), "\(malformed.stderr)")
        #expect(malformed.stderr.contains("line 4, column 3"), "\(malformed.stderr)")
        #expect(!malformed.stderr.contains("the label list has"), "\(malformed.stderr)")

        let duplicate = try await classifyWithLabels("{\"0\": \"tench\",\n\"1\": \"goldfish\",\n\"1\": \"shark\"}", in: folder)
        #expect(duplicate.status != 0)
        #expect(duplicate.stderr.contains("lists class 1 twice (lines 2 and 3)"), "\(duplicate.stderr)")

        let gap = try await classifyWithLabels("{\"0\": \"tench\", \"2\": \"shark\"}", in: folder)
        #expect(gap.status != 0)
        #expect(gap.stderr.contains("missing 1"), "\(gap.stderr)")
    }

    /// Terminal columns as the test counts them: CJK ideographs two, everything else here one.
    func columns(_ text: Substring) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ((0x4E00...0x9FFF).contains($1.value) ? 2 : 1) }
    }

    @Test("the table aligns CJK labels by display width: every percentage starts in the same column")
    func cjkTableAlignment() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Alternating wide and narrow names, so that every top-5 mixes them.
        let names = (0..<1000).map { $0 % 2 == 0 ? "虎斑猫\($0)" : "tabby cat \($0)" }
        let file = folder.appendingPathComponent("labels.txt")
        try names.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let outcome = try await Command.run(["classify", photo("chelsea.png"), photo("rocket.jpg"), "--labels", file.path] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let rows = outcome.stdout.split(separator: "\n").filter { $0.contains(" %  (class ") }
        #expect(rows.count == 10)
        let percentColumns = Set(rows.map { row in columns(row[..<row.range(of: " %  (class ")!.lowerBound]) })
        #expect(percentColumns.count == 1, "\(outcome.stdout)")
        #expect(rows.contains { $0.contains("虎斑猫") } && rows.contains { $0.contains("tabby cat") })
    }

    /// Copies of photos into a folder, `count` of them.
    func photoFolder(_ count: Int) throws -> URL {
        let folder = try Fixtures.temporaryDirectory()
        let names = ["chelsea.png", "rocket.jpg", "coffee.png", "astronaut.png", "motorcycle_left.png", "chelsea-q90.jpg"]
        for index in 0..<count {
            let name = names[index % names.count]
            try FileManager.default.copyItem(at: Fixtures.images.appendingPathComponent(name),
                                             to: folder.appendingPathComponent("\(index)-\(name)"))
        }
        return folder
    }

    @Test("with stderr not a terminal, classify prints no progress line per image: one summary at the end")
    func progressInALog() async throws {
        let folder = try photoFolder(4)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try await Command.run(["classify", folder.path, "--top", "1"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let progress = outcome.stderr.split(separator: "\n").filter { $0.contains("classifying") }
        #expect(progress.count == 1, "\(outcome.stderr)")
        #expect(progress.first?.hasPrefix("classifying: 4 images in ") == true, "\(outcome.stderr)")
    }

    @Test("in a terminal the progress bar is erased before each result: no line shows both")
    func progressInATerminal() throws {
        let folder = try photoFolder(4)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Python's pty.spawn gives the tool a terminal for stdout and stderr and copies all it writes to its stdout.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)",
                             Command.binary.path, "classify", folder.path, "--top", "1"] + weights
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { usleep(5_000) }
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        // What each line shows at the end: what follows its last carriage return, escape sequences left out.
        let shown = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map { line in
            String(line.split(separator: "\r", omittingEmptySubsequences: false).last ?? "")
                .replacingOccurrences(of: "\u{1B}[2K", with: "")
        }
        let results = shown.filter { $0.contains(" ms, weights: ") }
        #expect(results.count == 4, "\(text.debugDescription)")
        #expect(results.allSatisfy { !$0.contains("classifying [") }, "\(text.debugDescription)")
        #expect(shown.contains { $0.hasPrefix("classifying [") && $0.contains("4/4") }, "\(text.debugDescription)")
    }

    @Test("resnet18 --version prints the version")
    func version() async throws {
        let outcome = try await Command.run(["--version"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines).range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil,
                "\(outcome.stdout)")
    }

    @Test("flags that mean nothing to a subcommand are not offered: --labels, --max-pixels on bench; --precision on quantize")
    func flagsNotOffered() async throws {
        for arguments in [["bench", "--labels", "x.txt"], ["bench", "--max-pixels", "100"], ["bench", "--no-exif-orientation"],
                          ["quantize", "--precision", "int8"], ["quantize", "--no-winograd"]] {
            let outcome = try await Command.run(arguments + weights)
            #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("Unknown option '\(arguments[1])'"), "\(arguments): \(outcome.stderr)")
        }
        let help = try await Command.run(["bench", "--help"])
        #expect(help.stdout.contains("--precision") && !help.stdout.contains("--labels") && !help.stdout.contains("--max-pixels"))
    }

    @Test("bench says \"1 thread\", never \"1 threads\"")
    func benchGrammar() async throws {
        let outcome = try await Command.run(["bench", "--batch", "1", "--runs", "1", "--threads", "1", "--no-winograd"] + weights)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("batch 1 (1 thread, fp32)"), "\(outcome.stdout)")
        #expect(!outcome.stdout.contains("1 threads"))
    }

    @Test("a port in use is said first, in one line naming --port, before any configuration line")
    func portInUse() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(listener, raw, length) == 0, listen(listener, 4) == 0, getsockname(listener, raw, &length) == 0 else {
                    throw ClientSocket.Failure(description: "cannot listen on loopback")
                }
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let outcome = try await Command.run(["serve", "--port", String(port), "--db", "none"] + weights)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                == "Error: port \(port) is in use; choose another with --port", "\(outcome.stderr)")
        #expect(outcome.stdout.isEmpty, "\(outcome.stdout)")
    }

    @Test("serve --host 0.0.0.0 says it listens on 0.0.0.0, not on 127.0.0.1")
    func listensWhereBound() async throws {
        let serve = try RunningCommand(["serve", "--host", "0.0.0.0", "--port", "0", "--no-auth", "--db", "none"] + weights)
        let said = await serve.wait(seconds: 120) { $0.stdout.range(of: #"listening on http://0\.0\.0\.0:\d+/"#, options: .regularExpression) != nil }
        _ = serve.stop()
        #expect(said, "\(serve.stdout)\n\(serve.stderr)")
        #expect(!serve.stdout.contains("listening on http://127.0.0.1"))
    }

    @Test("user add says which database it wrote to; serve's hint names the --db it uses")
    func databaseNamed() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("my users.sqlite").path
        let serve = try RunningCommand(["serve", "--port", "0", "--db", db, "--threads", "1"] + weights)
        let listening = await serve.wait(seconds: 120) { $0.stdout.contains("listening on") }
        _ = serve.stop()
        #expect(listening, "\(serve.stderr)")
        #expect(serve.stdout.contains("`resnet18 user add NAME --role admin --db '\(db)'`"), "\(serve.stdout)")
        #expect(serve.stdout.contains("engine: 1 thread,"), "\(serve.stdout)")

        let add = try await UserCommandTests.run(["user", "add", "ada", "--role", "admin", "--password-stdin", "--bcrypt-cost", "4", "--db", db],
                                           input: "correct horse\n")
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("added admin ada to SQLite \(db)"), "\(add.stdout)")
    }

    /// A Python HTTP server on loopback serving one file at /good; it prints its port once listening.
    static let fileServer = #"""
    import http.server, sys
    data = open(sys.argv[1], "rb").read()
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            if self.path != "/good":
                self.send_response(404); self.end_headers(); return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data); self.wfile.flush()
            self.close_connection = True
    s = http.server.HTTPServer(("127.0.0.1", 0), H)
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    @Test("weights fetch ends its progress at 100 % and gives the rate with its unit")
    func fetchProgress() async throws {
        let server = Process()
        let output = Pipe()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", Self.fileServer, Fixtures.seededPth.path]
        server.standardOutput = output
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL) }
        let port = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try await Command.run(["weights", "fetch", "--url", "http://127.0.0.1:\(port)/good", "--sha256-prefix", "b0924803",
                                       "--output", folder.appendingPathComponent("w.pth").path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let last = outcome.stderr.split(separator: "\n").last { $0.hasPrefix("downloading [") }
        #expect(last?.contains(", 100 %, ") == true, "\(outcome.stderr)")
        #expect(last?.range(of: #"\d (MB|kB)/s$"#, options: .regularExpression) != nil, "\(outcome.stderr)")
        let size = (try FileManager.default.attributesOfItem(atPath: Fixtures.seededPth.path)[.size] as! NSNumber).intValue
        #expect(last?.contains(String(format: "%.1f of %.1f MB", Double(size) / 1e6, Double(size) / 1e6)) == true, "\(outcome.stderr)")
    }
}
