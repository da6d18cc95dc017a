import ArgumentParser
import Foundation
import Recognition

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
            let digest = try await WeightsFetcher(source: source, expectedSHA256Prefix: sha256Prefix, destination: destination)
                .fetch { received, expected in bar.update(received: received, expected: expected) }
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

/// Download progress on stderr, throttled to a few updates a second.
final class FetchProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var bar: ProgressBar?
    private var lastShown = ContinuousClock.now - .seconds(1)

    func update(received: Int64, expected: Int64?) {
        lock.withLock {
            guard ContinuousClock.now - lastShown > .milliseconds(200) else { return }
            lastShown = ContinuousClock.now
            let total = Int(expected ?? max(received, 1))
            if bar == nil { bar = ProgressBar(total: total / 1024, title: "KiB") }
            bar?.update(Int(received) / 1024)
        }
    }

    func finish() {
        lock.withLock { bar = nil }
    }
}
