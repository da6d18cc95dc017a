import Foundation
import Testing
import TestSupport

/// Hostile weight files given with `--weights`: `serve` refuses each before it listens, says why, and runs nothing.
/// The files are made by tests/hostile/make_files.py --weights; the pickles would create /tmp/resnet18-pickle-ran-*.
@Suite(.serialized, .ownThread) struct HostileWeightsTests {
    static let folder = Fixtures.projectRoot.appendingPathComponent("tests/hostile/weights")

    struct Case: CustomStringConvertible, Sendable {
        let file: String
        let mentions: String
        /// The marker file the pickle creates when run.
        let marker: String?
        var description: String { file }
    }

    static let cases = [
        Case(file: "os-system.pth", mentions: "calls os.system", marker: "/tmp/resnet18-pickle-ran-os-system"),
        Case(file: "builtins-eval.pth", mentions: "calls builtins.eval", marker: "/tmp/resnet18-pickle-ran-builtins-eval"),
        Case(file: "posix-system.pth", mentions: "calls posix.system", marker: "/tmp/resnet18-pickle-ran-posix-system"),
        Case(file: "overlapping.pth", mentions: "overlap", marker: nil),
        Case(file: "deflate-bomb.pth", mentions: "is compressed (deflate)", marker: nil),
        Case(file: "lying.safetensors", mentions: "past the end", marker: nil),
    ]

    @Test("serve --weights refuses the file before listening, naming the problem", arguments: cases)
    func serveRefuses(_ hostile: Case) async throws {
        if let marker = hostile.marker { try? FileManager.default.removeItem(atPath: marker) }
        let path = Self.folder.appendingPathComponent(hostile.file).path
        let outcome = try await Command.run(["serve", "--port", "0", "--db", "none", "--weights", path], deadlineSeconds: 120)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains(hostile.mentions), "\(outcome.stderr)")
        #expect(outcome.stderr.contains(hostile.file))
        #expect(!outcome.stdout.contains("listening on"))
        if let marker = hostile.marker {
            #expect(outcome.stderr.contains("nothing was executed"))
            #expect(!FileManager.default.fileExists(atPath: marker), "the pickle ran: \(marker) exists")
        }
    }

    @Test("the pickles are live: Python's own unpickler runs them and creates the marker files")
    func picklesAreLive() throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else { return }
        let markers = Self.cases.compactMap(\.marker)
        for marker in markers { try? FileManager.default.removeItem(atPath: marker) }
        let script = """
            import pickle, sys, zipfile
            folder = sys.argv[1]
            pickle.loads(open(folder + "/os-system.pth", "rb").read())
            for name in ("builtins-eval", "posix-system"):
                pickle.loads(zipfile.ZipFile(folder + "/" + name + ".pth").read("archive/data.pkl"))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, Self.folder.path]
        try process.run()
        while process.isRunning { usleep(10_000) }
        for marker in markers {
            #expect(FileManager.default.fileExists(atPath: marker), "\(marker) was not created by Python")
            try? FileManager.default.removeItem(atPath: marker)
        }
    }
}

extension Command {
    /// Runs the tool; kills it if it is still running after `deadlineSeconds` (a refusal that never came would
    /// otherwise leave `serve` running for ever).
    static func run(_ arguments: [String], deadlineSeconds: Double) async throws -> Outcome {
        try await offThePool { try runBlocking(arguments, deadlineSeconds: deadlineSeconds) }
    }

    private static func runBlocking(_ arguments: [String], deadlineSeconds: Double) throws -> Outcome {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["RESNET18_WEIGHTS"] = nil
        process.environment = env
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let pid = process.processIdentifier
        nonisolated(unsafe) var finished = false
        let watchdog = Thread {
            let deadline = Date().addingTimeInterval(deadlineSeconds)
            while !finished && Date() < deadline { usleep(50_000) }
            if !finished { kill(pid, SIGKILL) }
        }
        watchdog.start()
        nonisolated(unsafe) var errorData = Data()
        let reader = Thread { errorData = errors.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning || !reader.isFinished { usleep(5_000) }
        finished = true
        return Outcome(status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
                       stderr: String(decoding: errorData, as: UTF8.self))
    }
}
