import ArgumentParser
import Foundation
import Recognition
import Synchronization

struct Weights: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download or inspect the weights.",
        subcommands: [Fetch.self, Show.self])

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download torchvision's ImageNet ResNet-18 into the user cache, checking its SHA-256 prefix.")

        @Option(help: "Where to download from (a mirror of the official file).")
        var url = WeightsLocation.officialURL.absoluteString

        @Option(help: "The SHA-256 prefix the file must have.")
        var sha256Prefix = WeightsLocation.officialSHA256Prefix

        @Option(help: "Where to store it. Default: the user cache ($XDG_CACHE_HOME/resnet18 or ~/.cache/resnet18).")
        var output: String?

        func run() async throws {
            guard let source = URL(string: url), source.scheme != nil else { throw ValidationError("--url \(url) is not a URL") }
            let destination = output.map { URL(fileURLWithPath: $0) }
                ?? WeightsLocation(explicitPath: nil).cachedOfficialFile
            printError("downloading \(source.absoluteString) to \(destination.path)")
            let bar = FetchProgress()
            let digest: String
            do {
                digest = try await WeightsFetcher(source: source, expectedSHA256Prefix: sha256Prefix, destination: destination)
                    .fetch { received, expected in bar.update(received: received, expected: expected) }
            } catch {
                bar.abandon()
                throw error
            }
            bar.finish()
            print("stored \(destination.path) (sha256 \(digest))")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say which weights would be used and check them.")

        @Option(help: "Weights file (.pth or .safetensors).")
        var weights: String?

        func run() throws {
            let location = WeightsLocation(explicitPath: weights)
            guard let (url, origin) = location.resolve() else {
                print("no weights file: the engine would run untrained (labels meaningless)")
                print("looked at: --weights, $RESNET18_WEIGHTS, \(location.cachedOfficialFile.path)")
                print("run `resnet18 weights fetch` where there is a network, or copy \(WeightsLocation.officialFileName) there")
                return
            }
            let loaded = try Recognizer.loadWeights(url)
            print("file:     \(url.path) (from \(origin))")
            print("sha256:   \(loaded.identity.sha256Prefix)…")
            print("official: \(loaded.identity.official ? "yes, torchvision's ImageNet checkpoint" : "no (not \(WeightsLocation.officialFileName))")")
            print("classes:  \(loaded.classCount)")
            print("check:    every ResNet-18 key and shape present")
        }
    }
}

/// Download progress on stderr: in a terminal a line redrawn a few times a second, in a log a line at each tenth.
/// Sizes in MB (10^6 bytes) and the rate, averaged since the start, in MB/s (kB/s when slow); the last line, once
/// the whole file arrived, says 100 %.
final class FetchProgress: Sendable {
    private struct State {
        var lastShown: ContinuousClock.Instant?
        var lastDecile = 0
        var received: Int64 = 0
        var expected: Int64?
        var drawn = false
    }

    private let state = Mutex(State())
    private let interactive: Bool
    private let start = ContinuousClock.now

    init(interactive: Bool = isatty(STDERR_FILENO) != 0) {
        self.interactive = interactive
    }

    func update(received: Int64, expected: Int64?) {
        state.withLock { state in
            state.received = received
            state.expected = expected
            if interactive {
                if let lastShown = state.lastShown, ContinuousClock.now - lastShown < .milliseconds(200) { return }
                state.lastShown = ContinuousClock.now
                FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line(state)).utf8))
                state.drawn = true
            } else if let expected, expected > 0 {
                let decile = Int(received.multipliedReportingOverflow(by: 10).partialValue / expected)
                if decile > state.lastDecile && received < expected {
                    state.lastDecile = decile
                    printError(line(state))
                }
            }
        }
    }

    /// The whole file arrived: the last line, at 100 % (the last update may have been skipped by the throttle).
    func finish() {
        state.withLock { state in
            state.expected = state.expected ?? state.received
            if interactive {
                FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line(state) + "\n").utf8))
            } else {
                printError(line(state))
            }
            state.drawn = false
        }
    }

    /// The download failed: the bar's line is ended, so that the error starts a line of its own.
    func abandon() {
        state.withLock { state in
            if state.drawn { FileHandle.standardError.write(Data("\n".utf8)) }
            state.drawn = false
        }
    }

    private func line(_ state: State) -> String {
        Self.line(received: state.received, expected: state.expected, seconds: ProgressBar.seconds(since: start))
    }

    static func line(received: Int64, expected: Int64?, seconds: Double) -> String {
        var text = "downloading "
        if let expected, expected > 0 {
            let fraction = min(Double(received) / Double(expected), 1)
            let width = 30, filled = Int(fraction * Double(width))
            text += "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "] "
                + "\(megabytes(received)) of \(megabytes(expected)) MB, \(Int(fraction * 100)) %"
        } else {
            text += "\(megabytes(received)) MB"
        }
        return text + ", " + rate(bytesPerSecond: seconds > 0 ? Double(received) / seconds : 0)
    }

    static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f", Double(bytes) / 1e6)
    }

    static func rate(bytesPerSecond: Double) -> String {
        bytesPerSecond >= 1e6 ? String(format: "%.1f MB/s", bytesPerSecond / 1e6) : String(format: "%.0f kB/s", bytesPerSecond / 1e3)
    }
}
